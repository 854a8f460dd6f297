package parser

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	jsoniter "github.com/json-iterator/go"
)

// The JSON seam: json-iterator is the project's JSON library, but its last
// release is from 2021, so every use of it stays in this file and can be
// swapped without touching the grammar.

var jsonAPI = jsoniter.ConfigCompatibleWithStandardLibrary

// skipJSON parses the JSON value at the start of b and returns its length,
// or 0 when it does not parse (truncated, malformed, or a number out of
// float64's range: see jsonExtent). scratch is reused between calls so that
// finding the value's extent does not allocate.
func skipJSON(b []byte, scratch *[]byte) int {
	if n, decodes := jsonExtent(b, scratch); decodes {
		return n
	}
	return 0
}

// jsonExtent returns the length of the JSON object or array at the start of
// b as JSON's grammar (RFC 8259) reads it, or 0, and whether it also decodes.
// A number out of float64's range (1e999, or 400 digits) is grammar that
// does not decode: such a value is no payload to emit (contract, payload),
// but it is a payload's value all the same, and no ID may be taken from
// inside it (contract, "Where IDs and the tenant may come from").
func jsonExtent(b []byte, scratch *[]byte) (n int, decodes bool) {
	if !opensJSON(b) {
		return 0, false // json-iterator would build an error's text to say so
	}
	it := jsonAPI.BorrowIterator(b)
	defer func() {
		jsonAPI.ReturnIterator(it)
		if recover() != nil { // a library bug must cost one payload, never the agent
			n, decodes = 0, false
		}
	}()
	if *scratch == nil {
		*scratch = make([]byte, 0, 256) // a nil buffer means "not capturing" to json-iterator
	}
	out := it.SkipAndAppendBytes((*scratch)[:0])
	*scratch = out[:0]
	if it.Error == nil {
		if looseMinus(out) && grammarExtent(b) != len(out) {
			// json-iterator's skip takes `-00`, `-.0` and `-+1`, which JSON's
			// grammar refuses: no payload to emit, but the value's extent
			// all the same, as for 1e999 below, so no ID or tenant is taken
			// from inside it.
			return len(out), false
		}
		if !longDigitRun(out) {
			return len(out), true
		}
		// json-iterator's skip takes a number out of range written out in
		// digits, which decoding then refuses.
		if _, err := decodeJSON(out); err == nil {
			return len(out), true
		}
	}
	// json-iterator refuses a number out of range (1e400) that the grammar
	// takes, and does not say where the value would have ended.
	return grammarExtent(b), false
}

// opensJSON reports whether b starts as a JSON object or array can: after
// '{' and blanks a string or '}', after '[' and blanks a value or ']'. A
// value refused here (`{x}`, `{ text: 'x' }`, `[a b]`) never reaches
// json-iterator, whose refusal costs a formatted error (~1 µs): a line of
// such values stays fast.
func opensJSON(b []byte) bool {
	if len(b) == 0 || b[0] != '{' && b[0] != '[' {
		return false
	}
	i := 1
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	if i == len(b) {
		return false
	}
	if b[0] == '{' {
		return b[i] == '"' || b[i] == '}'
	}
	switch c := b[i]; c {
	case '"', '{', '[', ']', '-', 't', 'f', 'n':
		return true
	default:
		return '0' <= c && c <= '9'
	}
}

// grammarExtent returns the length of the JSON object or array at the start
// of b by the grammar alone (RFC 8259; numbers are not converted, nesting is
// not limited), or 0. It is only asked about values json-iterator refused,
// which stops at 10,000 levels: a deeper value is still one payload's, and
// no ID may be taken from inside it. One pass; it allocates only past 4,096
// levels, a bit a level.
func grammarExtent(b []byte) int {
	var fixed [64]uint64
	inArray := fixed[:] // one bit per open container: array or object
	depth, i := 0, 0
	open := func(arr bool) {
		if depth/64 >= len(inArray) {
			inArray = append(inArray, make([]uint64, len(inArray))...)
		}
		if arr {
			inArray[depth/64] |= 1 << (depth % 64)
		} else {
			inArray[depth/64] &^= 1 << (depth % 64)
		}
		depth++
		i++
	}
	topIsArray := func() bool { return inArray[(depth-1)/64]>>((depth-1)%64)&1 != 0 }
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	if len(b) == 0 || b[0] != '{' && b[0] != '[' {
		return 0
	}
	// member: a key and its colon are next (in an object), then a value.
	member := func() bool {
		ws()
		if i >= len(b) || b[i] != '"' {
			return false
		}
		if i = grammarString(b, i); i < 0 {
			return false
		}
		ws()
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i++
		return true
	}
	wantValue := true // else: after a value
	for {
		if wantValue {
			ws()
			if i >= len(b) {
				return 0
			}
			switch c := b[i]; {
			case c == '{':
				open(false)
				ws()
				if i < len(b) && b[i] == '}' {
					break // empty: closed below
				}
				if !member() {
					return 0
				}
				continue
			case c == '[':
				open(true)
				ws()
				if i < len(b) && b[i] == ']' {
					break
				}
				continue
			case c == '"':
				if i = grammarString(b, i); i < 0 {
					return 0
				}
			case c == '-' || '0' <= c && c <= '9':
				if i = grammarNumber(b, i); i < 0 {
					return 0
				}
			case c == 't' && hasPrefixAt(b, i, "true"):
				i += 4
			case c == 'f' && hasPrefixAt(b, i, "false"):
				i += 5
			case c == 'n' && hasPrefixAt(b, i, "null"):
				i += 4
			default:
				return 0
			}
			wantValue = false
		}
		ws()
		if i >= len(b) {
			return 0
		}
		switch c := b[i]; {
		case c == ',':
			i++
			if !topIsArray() && !member() {
				return 0
			}
			wantValue = true
			continue
		case c == ']' && topIsArray(), c == '}' && !topIsArray():
			i++
			if depth--; depth == 0 {
				return i
			}
		default:
			return 0
		}
	}
}

func hasPrefixAt(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// grammarString returns the end of the JSON string starting at b[i] ('"'),
// or -1.
func grammarString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			if i++; i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 || !isHex4(b[i+1:i+5]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// grammarNumber returns the end of the JSON number starting at b[i], or -1.
func grammarNumber(b []byte, i int) int {
	digits := func() int {
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i - start
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i++; digits() == 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return -1
		}
	}
	return i
}

// looseMinus reports whether v holds `-0` then a digit, `-.` or `-+`,
// which json-iterator's skip takes (`[-00]`, `{"b":-01.5}`, `[-.0]`,
// `[-+1]`) though JSON's grammar does not (it refuses `01`, a number
// without digits before its point, and a second sign): the grammar reader
// then decides. A string holding one (`"-01"`) only costs that second look.
func looseMinus(v []byte) bool {
	for i := 0; ; {
		k := bytes.IndexByte(v[i:], '-')
		if k < 0 || i+k+2 >= len(v) {
			return false
		}
		i += k + 1
		if c := v[i]; c == '.' || c == '+' || c == '0' && '0' <= v[i+1] && v[i+1] <= '9' {
			return true
		}
	}
}

// float64Digits: float64's largest value has 309 digits before its point;
// a run of as many digits may be a number out of its range.
const float64Digits = 309

// longDigitRun reports whether v holds float64Digits digits or more in a
// row (in a number or a string: decoding then decides).
func longDigitRun(v []byte) bool {
	run := 0
	for _, c := range v {
		if '0' <= c && c <= '9' {
			if run++; run >= float64Digits {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// ValidJSON reports whether b is exactly one JSON value (surrounding
// whitespace allowed). scratch is reused between calls.
func ValidJSON(b []byte, scratch *[]byte) bool {
	n := skipJSON(b, scratch)
	return n > 0 && len(trimSpace(b[n:])) == 0
}

func decodeJSON(b []byte) (interface{}, error) {
	var v interface{}
	err := jsonAPI.Unmarshal(b, &v)
	return v, err
}

// Unescape appends to text what a reader sees in raw where it writes
// JSON-style escapes (`\n`, `\t`, `\"`, `\/`, `\\`, `\u0073`, a
// surrogate pair) or JavaScript's `\xHH` (Node's util.inspect writes an
// ANSI escape as `\x1B`): the characters themselves, wherever they stand,
// in a string or not. pos[k] is the index in raw where text[k]'s escape
// (or byte) starts. The plugin finds credentials in this reading too: a
// customer can write `\u0073ession` or `pass\u0077ord` in a payload that
// the encoders decode on the way out.
func Unescape(text []byte, pos []int32, raw []byte) ([]byte, []int32) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			text, pos = append(text, c), append(pos, int32(i))
			i++
			continue
		}
		var d byte
		switch raw[i+1] {
		case 'n':
			d = '\n'
		case 't':
			d = '\t'
		case 'r':
			d = '\r'
		case 'b':
			d = '\b'
		case 'f':
			d = '\f'
		case '"', '\\', '/', '\'':
			d = raw[i+1]
		case 'x', 'u': // \xHH is JavaScript's: Node's util.inspect writes control characters so (`\x1B[33m`)
			r, n := hexRune(raw[i:])
			if n == 0 {
				text, pos = append(text, c), append(pos, int32(i))
				i++
				continue
			}
			start := len(text)
			text = utf8.AppendRune(text, r)
			for range len(text) - start {
				pos = append(pos, int32(i))
			}
			i += n
			continue
		default:
			text, pos = append(text, c), append(pos, int32(i))
			i++
			continue
		}
		text, pos = append(text, d), append(pos, int32(i))
		i += 2
	}
	return text, pos
}

// hexRune reads `\xHH`, or `\uXXXX` (and a low surrogate's `\uXXXX` after a
// high one), at the start of b: the rune and the bytes read, or n == 0.
func hexRune(b []byte) (rune, int) {
	if len(b) >= 4 && b[1] == 'x' {
		r, ok := hexDigits(b[2:4])
		if !ok {
			return 0, 0
		}
		return r, 4
	}
	r, ok := hex4(b)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex4(b[6:]); ok && len(b) >= 12 {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r, 6
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	return hexDigits(b[2:6])
}

// hexDigits reads b, hex digits in either case, as a number.
func hexDigits(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
