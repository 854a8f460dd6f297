package record

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/template"
	"github.com/tinylib/msgp/msgp"
)

// Payloads arrive as raw JSON that the parser's JSON seam has validated.
// Encoding them is on the hot path, so instead of decoding into Go maps the
// walker below streams tokens straight into MessagePack or JSON. It trusts
// the validation for structure but never indexes out of range on any input.

// emitter writes walker tokens in one output format.
type emitter interface {
	open(dst []byte, isMap bool) ([]byte, int)
	close(dst []byte, mark int, isMap bool, n uint32) []byte
	sep(dst []byte) []byte   // between members or elements
	colon(dst []byte) []byte // between a key and its value
	key(dst, raw []byte) []byte
	str(dst, raw []byte) []byte
	num(dst, raw []byte) []byte
	lit(dst, raw []byte) []byte // true, false, null
}

// transcode writes the JSON value at the start of src through out; the
// value stands at level level of its record (see MaxDepth).
func transcode(dst, src []byte, out emitter, level int) []byte {
	dst, _ = walk(dst, src, 0, out, level)
	return dst
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// walk emits the value at b[i:], at level level of its record, and returns
// the position after it. A map or array deeper than MaxDepth is kept as
// the string of its text.
func walk(dst, b []byte, i int, out emitter, level int) ([]byte, int) {
	i = skipWS(b, i)
	if i >= len(b) {
		return out.lit(dst, nullText), i
	}
	switch c := b[i]; {
	case c == '{' || c == '[':
		isMap := c == '{'
		if level > MaxDepth {
			end := valueEnd(b, i)
			return out.str(dst, b[i:end]), end // too deep: kept as text
		}
		dst, mark := out.open(dst, isMap)
		n := uint32(0)
		i++
		for {
			i = skipWS(b, i)
			if i >= len(b) || b[i] == '}' || b[i] == ']' {
				i++
				break
			}
			if b[i] == ',' {
				i++
				continue
			}
			if n > 0 {
				dst = out.sep(dst)
			}
			if isMap {
				var key []byte
				key, i = token(b, i)
				dst = out.key(dst, key)
				dst = out.colon(dst)
				i = skipWS(b, i)
				if i < len(b) && b[i] == ':' {
					i++
				}
			}
			start := i
			dst, i = walk(dst, b, i, out, level+1)
			if i == start { // no progress on malformed input: stop
				i = len(b)
			}
			n++
		}
		return out.close(dst, mark, isMap, n), i
	case c == '"':
		raw, end := token(b, i)
		return out.str(dst, raw), end
	case c == '-' || c >= '0' && c <= '9':
		raw, end := token(b, i)
		return out.num(dst, raw), end
	default:
		raw, end := token(b, i)
		if len(raw) == 0 {
			return out.lit(dst, nullText), i + 1
		}
		return out.lit(dst, raw), end
	}
}

var nullText = []byte("null")

// jsonDeeper reports whether the JSON value j nests maps and arrays more
// than levels deep (j itself, when it is one, is the first).
func jsonDeeper(j []byte, levels int) bool {
	// Each level takes two bytes, and an opening bracket: most payloads
	// are answered without a look at every byte.
	if len(j) <= 2*levels || bytes.Count(j, []byte{'{'})+bytes.Count(j, []byte{'['}) <= levels {
		return false
	}
	depth := 0
	for i := 0; i < len(j); i++ {
		switch j[i] {
		case '"':
			_, end := token(j, i)
			i = end - 1
		case '{', '[':
			if depth++; depth > levels {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// scalarEnd marks the bytes that end a number or literal.
var scalarEnd = func() (t [256]bool) {
	for _, c := range []byte(",:]} \t\r\n") {
		t[c] = true
	}
	return
}()

// token returns a scalar's text (a string's content without its quotes,
// escapes kept) and the position after it.
func token(b []byte, i int) ([]byte, int) {
	if i < len(b) && b[i] == '"' {
		j := i + 1
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' {
				j++
			}
			j++
		}
		if j > len(b) {
			j = len(b)
		}
		end := j + 1
		if end > len(b) {
			end = len(b)
		}
		return b[i+1 : j], end
	}
	j := i
	for j < len(b) && !scalarEnd[b[j]] {
		j++
	}
	return b[i:j], j
}

// valueEnd returns where the value at b[i] ends (brackets balanced, strings
// skipped).
func valueEnd(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			_, end := token(b, j)
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(b)
}

// unescape appends the decoded content of a JSON string's raw text.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			dst = append(dst, c)
			continue
		}
		i++
		switch raw[i] {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, n := hexRune(raw[i+1:])
			i += n
			if utf16.IsSurrogate(r) && i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if r2, n2 := hexRune(raw[i+3:]); n2 == 4 {
					if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
						r = pair
						i += 2 + n2
					}
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // \" \\ \/
			dst = append(dst, raw[i])
		}
	}
	return dst
}

func hexRune(b []byte) (rune, int) {
	if len(b) < 4 {
		return utf8.RuneError, len(b)
	}
	v, err := strconv.ParseUint(unsafe.String(unsafe.SliceData(b), 4), 16, 32)
	if err != nil {
		return utf8.RuneError, 4
	}
	return rune(v), 4
}

// msgpackOut writes MessagePack with minimal headers: a container's header
// is reserved at its largest and shrunk once the count is known.
type msgpackOut struct{}

func (msgpackOut) open(dst []byte, isMap bool) ([]byte, int) {
	return append(dst, 0, 0, 0, 0, 0), len(dst)
}

func (msgpackOut) close(dst []byte, mark int, isMap bool, n uint32) []byte {
	var hdr [5]byte
	var h []byte
	if isMap {
		h = msgp.AppendMapHeader(hdr[:0], n)
	} else {
		h = msgp.AppendArrayHeader(hdr[:0], n)
	}
	return shrinkHeader(dst, mark, h)
}

// shrinkHeader puts header h in the 5 bytes reserved at mark.
func shrinkHeader(dst []byte, mark int, h []byte) []byte {
	copy(dst[mark:], h)
	if gap := 5 - len(h); gap > 0 {
		copy(dst[mark+len(h):], dst[mark+5:])
		dst = dst[:len(dst)-gap]
	}
	return dst
}

func (msgpackOut) sep(dst []byte) []byte        { return dst }
func (msgpackOut) colon(dst []byte) []byte      { return dst }
func (m msgpackOut) key(dst, raw []byte) []byte { return m.str(dst, raw) }

func (msgpackOut) str(dst, raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return appendStr(dst, raw)
	}
	mark := len(dst)
	dst = append(dst, 0xdb, 0, 0, 0, 0) // str32, shrunk below
	dst = unescape(dst, raw)
	n := len(dst) - mark - 5
	var hdr [5]byte
	h := hdr[:0]
	switch {
	case n < 32:
		h = append(h, 0xa0|byte(n))
	case n < 256:
		h = append(h, 0xd9, byte(n))
	case n < 1<<16:
		h = append(h, 0xda)
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h = append(h, 0xdb)
		h = binary.BigEndian.AppendUint32(h, uint32(n))
	}
	return shrinkHeader(dst, mark, h)
}

func (msgpackOut) num(dst, raw []byte) []byte {
	s := unsafe.String(unsafe.SliceData(raw), len(raw))
	if !bytes.ContainsAny(raw, ".eE") {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return msgp.AppendInt64(dst, v)
		}
		if v, err := strconv.ParseUint(s, 10, 64); err == nil {
			return msgp.AppendUint64(dst, v)
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return msgp.AppendFloat64(dst, f)
	}
	return msgp.AppendStringFromBytes(dst, raw)
}

func (msgpackOut) lit(dst, raw []byte) []byte {
	switch string(raw) {
	case "true":
		return msgp.AppendBool(dst, true)
	case "false":
		return msgp.AppendBool(dst, false)
	case "null":
		return msgp.AppendNil(dst)
	}
	return msgp.AppendStringFromBytes(dst, raw)
}

// jsonOut re-emits compact JSON, with strings made valid UTF-8.
type jsonOut struct {
	dots bool // '.' in keys becomes '_' (JSON.ReplaceDots)
}

func (jsonOut) open(dst []byte, isMap bool) ([]byte, int) {
	if isMap {
		return append(dst, '{'), 0
	}
	return append(dst, '['), 0
}

func (jsonOut) close(dst []byte, _ int, isMap bool, _ uint32) []byte {
	if isMap {
		return append(dst, '}')
	}
	return append(dst, ']')
}

func (jsonOut) sep(dst []byte) []byte   { return append(dst, ',') }
func (jsonOut) colon(dst []byte) []byte { return append(dst, ':') }

func (j jsonOut) key(dst, raw []byte) []byte {
	mark := len(dst)
	dst = j.str(dst, raw)
	if j.dots {
		dotsToUnderscores(dst[mark:])
	}
	return dst
}

func (jsonOut) str(dst, raw []byte) []byte {
	plain := true
	for _, c := range raw {
		if !jsonSafe[c] { // escapes, quotes from malformed input, controls, non-ASCII
			plain = false
			break
		}
	}
	if plain {
		dst = append(dst, '"')
		dst = append(dst, raw...)
		return append(dst, '"')
	}
	return appendJSONBytes(dst, unescape(nil, raw)) // rare: escapes or non-ASCII
}

func (jsonOut) num(dst, raw []byte) []byte {
	if !isJSONNumber(raw) {
		return appendJSONBytes(dst, raw) // malformed input: keep the text
	}
	return append(dst, raw...)
}

// isJSONNumber: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(b []byte) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if !digits() {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(b)
}

func (jsonOut) lit(dst, raw []byte) []byte {
	switch string(raw) {
	case "true", "false", "null":
		return append(dst, raw...)
	}
	return appendJSONBytes(dst, raw)
}

// jsonFind returns the raw JSON value at path inside the JSON value b.
func jsonFind(b []byte, path []template.PathElem) ([]byte, bool) {
	i := skipWS(b, 0)
	for _, pe := range path {
		if i >= len(b) {
			return nil, false
		}
		switch {
		case b[i] == '{' && !pe.IsIndex:
			i = findMember(b, i+1, pe.Key)
		case b[i] == '[' && pe.IsIndex:
			i = findElement(b, i+1, pe.Index)
		default:
			return nil, false
		}
		if i < 0 {
			return nil, false
		}
	}
	if i >= len(b) {
		return nil, false
	}
	return b[i:valueEndAny(b, i)], true
}

func findMember(b []byte, i int, key string) int {
	for {
		i = skipWS(b, i)
		if i >= len(b) || b[i] == '}' {
			return -1
		}
		if b[i] == ',' {
			i++
			continue
		}
		k, end := token(b, i)
		i = skipWS(b, end)
		if i < len(b) && b[i] == ':' {
			i++
		}
		i = skipWS(b, i)
		if string(k) == key || bytes.IndexByte(k, '\\') >= 0 && string(unescape(nil, k)) == key {
			return i
		}
		i = valueEndAny(b, i)
	}
}

func findElement(b []byte, i, index int) int {
	for n := 0; ; n++ {
		i = skipWS(b, i)
		if i >= len(b) || b[i] == ']' {
			return -1
		}
		if n == index {
			return i
		}
		i = skipWS(b, valueEndAny(b, i))
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

// valueEndAny returns where the JSON value starting at b[i] ends.
func valueEndAny(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '{', '[':
		return valueEnd(b, i)
	default:
		_, end := token(b, i)
		return end
	}
}
