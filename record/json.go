package record

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/parser"
	"github.com/tinylib/msgp/msgp"
)

// AppendJSONMembers appends the enriched record as JSON object members,
// without the braces, so a sink can put its own members first (`date`,
// `@timestamp`). An input key named reserved is left out, since the sink
// writes that member itself and JSON objects must not repeat a key. It
// returns false when it wrote nothing. JSON is written by hand: it runs once
// per record and must not allocate.
//
// Whatever the record holds, the output is at most a constant factor of
// its size (see appendJSONKey for keys that are not strings, MaxDepth for
// nesting).
func AppendJSONMembers(dst []byte, ev *Event, reserved string) ([]byte, bool) {
	return JSON{Reserved: reserved}.AppendMembers(dst, ev)
}

// JSON says how AppendMembers writes a record.
type JSON struct {
	// Reserved is an input key to leave out: the sink writes it itself.
	Reserved string
	// ReplaceDots writes '.' in keys, at every depth, as '_': Fluent Bit's
	// es output's Replace_Dots (plugins/out_es/es.c, es_pack_map_content),
	// for Elasticsearch, which reads a dotted key as an object path
	// (`app` and `app.kubernetes.io/name` in one record cannot both map).
	ReplaceDots bool
}

// AppendMembers is AppendJSONMembers with j's options.
func (j JSON) AppendMembers(dst []byte, ev *Event) ([]byte, bool) {
	o := ev.layout
	var mode jsonMode
	if j.ReplaceDots {
		mode = replaceDots
	}
	if !ev.isMap {
		// Not a map: keep it searchable under the line's key.
		dst = appendJSONString(dst, o.LogKey)
		dst = append(dst, ':')
		dst, _ = appendJSONValue(dst, ev.Body, 1, mode)
		return dst, true
	}
	start := len(dst)
	if ev.Shaped {
		// Most fields and the line's own value are parts of the line: those
		// before its first byte that needs escaping (usually all of it) are
		// copied as they are, and the line is scanned once, not once a part.
		clean := ev.Line[:cleanUntil(ev.Line, 0)]
		forEachEntry(ev, o, func(raw []byte) { dst = appendJSONEntry(dst, raw, start, j.Reserved, mode, clean) })
		if ev.present != 0 {
			if len(dst) > start {
				dst = append(dst, ',')
			}
			if o.NestUnder != "" {
				dst = appendJSONKeyText(dst, o.NestUnder, mode)
				dst = append(dst, ':', '{')
				dst = appendFieldsJSON(dst, ev, mode, clean)
				dst = append(dst, '}')
			} else {
				dst = appendFieldsJSON(dst, ev, mode, clean)
			}
		}
	} else {
		b := ev.bodyFields
		for i := uint32(0); i < ev.bodyLen; i++ {
			next, err := skip(b)
			if err == nil {
				next, err = skip(next)
			}
			if err != nil {
				break
			}
			dst = appendJSONEntry(dst, b[:len(b)-len(next)], start, j.Reserved, mode, nil)
			b = next
		}
	}
	return dst, len(dst) > start
}

// jsonMode says how appendJSONValue writes.
type jsonMode uint8

const (
	// inKey: the value is part of a key that is not a string, whose JSON
	// text becomes the key. Keys inside it are written bare, as Fluent
	// Bit's msgpack2json writes every key, so that the text is escaped
	// once, not once per level.
	inKey jsonMode = 1 << iota
	// replaceDots: '.' in keys becomes '_' (JSON.ReplaceDots).
	replaceDots
)

// appendJSONEntry writes one msgpack key/value pair of a record's map as
// a JSON member. A string value that lies inside clean, a text known to need
// no escaping, is copied as it is.
func appendJSONEntry(dst, raw []byte, start int, reserved string, mode jsonMode, clean []byte) []byte {
	k, rest, err := readKey(raw)
	if err == nil && reserved != "" && string(k) == reserved {
		return dst
	}
	if len(dst) > start {
		dst = append(dst, ',')
	}
	if err == nil {
		mark := len(dst)
		dst = appendJSONBytes(dst, k)
		if mode&replaceDots != 0 {
			dotsToUnderscores(dst[mark:])
		}
	} else {
		dst, rest = appendJSONKey(dst, raw, 2, mode)
	}
	dst = append(dst, ':')
	if msgp.NextType(rest) == msgp.StrType {
		if s, _, err := readString(rest); err == nil {
			return appendJSONPart(dst, s, clean)
		}
	}
	dst, _ = appendJSONValue(dst, rest, 2, mode)
	return dst
}

// appendFieldsJSON writes the added fields; clean is the part of the line
// that needs no escaping (see appendJSONPart).
func appendFieldsJSON(dst []byte, ev *Event, mode jsonMode, clean []byte) []byte {
	r := &ev.Fields
	first := true
	for m := ev.present; m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonKeys[i].append(dst, 0)
		switch i {
		case FieldScopes:
			dst = appendJSONStrings(dst, r.Scopes, clean)
		case FieldStack:
			dst = appendJSONStrings(dst, r.Stack, clean)
		case FieldPayload:
			dst = appendPayloadsJSON(dst, r.Payloads, ev.layout.payloadLevel(), mode)
		case FieldEvent, FieldLevel:
			// The parser's names (eventBytes, levelBytes): letters only,
			// never escaped, and never inside the line's clean part.
			dst = appendQuoted(dst, ev.Value(i))
		default:
			dst = appendJSONPart(dst, ev.Value(i), clean)
		}
	}
	return dst
}

// jsonKeys are the field names as `"name":`, encoded once.
var jsonKeys = func() (k [numFields]fieldKey) {
	for i, name := range FieldNames {
		k[i] = newFieldKey(append(appendJSONString(nil, name), ':'))
	}
	return
}()

func appendJSONStrings(dst []byte, ss [][]byte, clean []byte) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONPart(dst, s, clean)
	}
	return append(dst, ']')
}

// appendJSONPart is appendJSONBytes for s, which may lie inside clean, a
// text known to need no escaping: then s is copied as it is.
func appendJSONPart(dst, s, clean []byte) []byte {
	if len(clean) > 0 && len(s) > 0 {
		d := uintptr(unsafe.Pointer(unsafe.SliceData(s))) - uintptr(unsafe.Pointer(unsafe.SliceData(clean)))
		if d <= uintptr(len(clean)) && int(d)+len(s) <= len(clean) {
			return appendQuoted(dst, s)
		}
	}
	return appendJSONBytes(dst, s)
}

// appendQuoted writes s, known to need no escaping, as a JSON string.
func appendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendJSONKey writes the map key at the start of b, a value at level
// level of its record, as a JSON string, and returns the bytes after it.
// A key that is not a string or binary (a number, a map) is written as
// the string of its JSON text, the text Fluent Bit's msgpack2json
// (src/flb_pack.c) writes bare, which would not be valid JSON: never
// dropped, and escaped once however deep keys nest in keys, so the output
// stays linear in the key's size.
func appendJSONKey(dst, b []byte, level int, mode jsonMode) ([]byte, []byte) {
	switch msgp.NextType(b) {
	case msgp.StrType, msgp.BinType:
		k, rest, err := readKey(b)
		if err == nil {
			mark := len(dst)
			dst = appendJSONBytes(dst, k)
			if mode&replaceDots != 0 {
				dotsToUnderscores(dst[mark:])
			}
			return dst, rest
		}
	}
	if mode&inKey != 0 {
		return appendJSONValue(dst, b, level, mode) // bare: the outer key escapes it
	}
	// The key's text goes at the end of dst, its escaped form after it,
	// which then moves into the text's place: no allocation, and the
	// escaper never reads what it writes.
	mark := len(dst)
	dst, rest := appendJSONValue(dst, b, level, mode|inKey)
	end := len(dst)
	dst = appendJSONBytes(dst, dst[mark:end])
	dst = dst[:mark+copy(dst[mark:], dst[end:])]
	if mode&replaceDots != 0 {
		dotsToUnderscores(dst[mark:])
	}
	return dst, rest
}

// appendJSONKeyText writes a key the plugin chooses (nest_under).
func appendJSONKeyText(dst []byte, k string, mode jsonMode) []byte {
	mark := len(dst)
	dst = appendJSONString(dst, k)
	if mode&replaceDots != 0 {
		dotsToUnderscores(dst[mark:])
	}
	return dst
}

// dotsToUnderscores replaces '.' in a written key: no escape holds one.
func dotsToUnderscores(b []byte) {
	for i := bytes.IndexByte(b, '.'); i >= 0; i = bytes.IndexByte(b, '.') {
		b[i] = '_'
		b = b[i+1:]
	}
}

// appendJSONValue converts the msgpack value at the start of b, at level
// level of its record (the record's map is 1, see MaxDepth), to JSON and
// returns the bytes after it. A map or array deeper than MaxDepth is
// written as null. Malformed input renders as null; Entry.Decode has
// already checked the framing.
func appendJSONValue(dst, b []byte, level int, mode jsonMode) ([]byte, []byte) {
	switch msgp.NextType(b) {
	case msgp.StrType:
		s, rest, err := readString(b)
		if err == nil {
			return appendJSONBytes(dst, s), rest
		}
	case msgp.BinType:
		// Fluent Bit itself renders binary values as strings.
		s, rest, err := msgp.ReadBytesZC(b)
		if err == nil {
			return appendJSONBytes(dst, s), rest
		}
	case msgp.MapType:
		if level > MaxDepth {
			break // null
		}
		n, rest, err := msgp.ReadMapHeaderBytes(b)
		if err == nil {
			dst = append(dst, '{')
			for i := uint32(0); i < n && len(rest) > 0; i++ {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst, rest = appendJSONKey(dst, rest, level+1, mode)
				dst = append(dst, ':')
				dst, rest = appendJSONValue(dst, rest, level+1, mode)
			}
			return append(dst, '}'), rest
		}
	case msgp.ArrayType:
		if level > MaxDepth {
			break // null
		}
		n, rest, err := msgp.ReadArrayHeaderBytes(b)
		if err == nil {
			dst = append(dst, '[')
			for i := uint32(0); i < n && len(rest) > 0; i++ {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst, rest = appendJSONValue(dst, rest, level+1, mode)
			}
			return append(dst, ']'), rest
		}
	case msgp.IntType:
		v, rest, err := msgp.ReadInt64Bytes(b)
		if err == nil {
			return strconv.AppendInt(dst, v, 10), rest
		}
	case msgp.UintType:
		v, rest, err := msgp.ReadUint64Bytes(b)
		if err == nil {
			return strconv.AppendUint(dst, v, 10), rest
		}
	case msgp.Float64Type, msgp.Float32Type:
		f, rest, err := msgp.ReadFloat64Bytes(b)
		if err == nil {
			return appendJSONFloat(dst, f), rest
		}
	case msgp.BoolType:
		v, rest, err := msgp.ReadBoolBytes(b)
		if err == nil {
			return strconv.AppendBool(dst, v), rest
		}
	case msgp.ExtensionType, msgp.TimeType:
		var e Entry
		if rest, err := e.decodeTime(b); err == nil && e.Group == NotGroup {
			// An EventTime inside a record: seconds, like Fluent Bit.
			return appendJSONFloat(dst, float64(e.Timestamp.UnixNano())/1e9), rest
		}
		if t, rest, err := msgp.ReadTimeBytes(b); err == nil {
			return appendJSONString(dst, t.UTC().Format(time.RFC3339Nano)), rest
		}
	}
	rest, err := skip(b)
	if err != nil {
		rest = nil
	}
	return append(dst, "null"...), rest
}

func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...) // JSON has no NaN or infinity
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// Hex digits for \u escapes.
const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes that go into a JSON string unescaped.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

// appendJSONBytes writes s as a JSON string. Invalid UTF-8 becomes U+FFFD:
// log lines are arbitrary bytes, and Elasticsearch rejects a whole document
// for one bad byte.
func appendJSONBytes(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = cleanUntil(s, i); i >= len(s) {
			break
		}
		c := s[i] // cleanUntil is exact: c needs escaping or is non-ASCII
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// cleanUntilSWAR returns the index of the first byte of s at or after i that
// is not plain ASCII safe in a JSON string (see escapeMask), or len(s). Log
// text is mostly plain ASCII: eight bytes at a time, then straight to the
// byte that needs a look. (cleanUntil: escape_simd.go, escape_swar.go.)
func cleanUntilSWAR(s []byte, i int) int {
	for i+8 <= len(s) {
		if m := escapeMask(binary.LittleEndian.Uint64(s[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	if i < len(s) {
		if len(s) >= 8 {
			// The tail: the last eight bytes, ignoring those before i
			// (escapeMask is exact per byte, so they cannot disturb the rest).
			tail := len(s) - 8
			if m := escapeMask(binary.LittleEndian.Uint64(s[tail:])) &^ (1<<(8*(i-tail)) - 1); m != 0 {
				return tail + bits.TrailingZeros64(m)/8
			}
			return len(s)
		}
		for i < len(s) && jsonSafe[s[i]] {
			i++
		}
	}
	return i
}

// escapeMask flags (high bit) the bytes of x that are control characters,
// '"', '\\' or non-ASCII. Every test is exact per byte (no borrow or carry
// crosses bytes), so the caller may ignore some bytes and trust the rest.
func escapeMask(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	is := func(c byte) uint64 { // exact: see parser.byteIs
		v := x ^ (uint64(c) * ones)
		return ^((v&low7 + low7) | v | low7)
	}
	// (x&0x7f)+0x60 reaches 0x80 exactly when the low seven bits are >= ' '.
	belowSpace := ^(x&low7 + 0x60*ones) & highs
	return belowSpace | x&highs | is('"') | is('\\')
}

func appendJSONString(dst []byte, s string) []byte {
	// A read-only view: converting would copy strings longer than 32 bytes.
	return appendJSONBytes(dst, unsafe.Slice(unsafe.StringData(s), len(s)))
}

// AppendJSONString is appendJSONBytes for sinks.
func AppendJSONString(dst []byte, s []byte) []byte { return appendJSONBytes(dst, s) }

// AppendJSONValue converts one msgpack value (metadata, a record) to JSON,
// the value counted as level 1 (see MaxDepth).
func AppendJSONValue(dst, b []byte) []byte {
	dst, _ = appendJSONValue(dst, b, 1, 0)
	return dst
}

// appendPayloadsJSON writes the payload field's object; its values stand
// at level level of the record.
func appendPayloadsJSON(dst []byte, ps []parser.Payload, level int, mode jsonMode) []byte {
	out := jsonOut{dots: mode&replaceDots != 0}
	dst = append(dst, '{')
	for k, p := range ps {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONBytes(dst, p.Label) // letters, digits and '_': no dot
		dst = append(dst, ':')
		dst = transcode(dst, p.JSON, out, level)
	}
	return append(dst, '}')
}
