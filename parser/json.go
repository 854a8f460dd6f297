package parser

import (
	"unicode/utf16"
	"unicode/utf8"

	jsoniter "github.com/json-iterator/go"
)

// The JSON seam: json-iterator is the project's JSON library, but its last
// release is from 2021, so every use of it stays in this file and can be
// swapped without touching the grammar.

var jsonAPI = jsoniter.ConfigCompatibleWithStandardLibrary

// skipJSON parses the JSON value at the start of b and returns its length,
// or 0 when it does not parse (truncated, malformed). scratch is reused
// between calls so that finding the value's extent does not allocate.
func skipJSON(b []byte, scratch *[]byte) (n int) {
	it := jsonAPI.BorrowIterator(b)
	defer func() {
		jsonAPI.ReturnIterator(it)
		if recover() != nil { // a library bug must cost one payload, never the agent
			n = 0
		}
	}()
	if *scratch == nil {
		*scratch = make([]byte, 0, 256) // a nil buffer means "not capturing" to json-iterator
	}
	out := it.SkipAndAppendBytes((*scratch)[:0])
	*scratch = out[:0]
	if it.Error != nil {
		return 0
	}
	if longDigitRun(out) {
		// json-iterator's skip refuses a number out of float64's range
		// written with an exponent (1e400) but takes one written out in
		// digits, which decoding then refuses: the value does not parse
		// either way (contract, payload).
		if _, err := decodeJSON(out); err != nil {
			return 0
		}
	}
	return len(out)
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
// surrogate pair): the characters themselves, wherever they stand, in a
// string or not. pos[k] is the index in raw where text[k]'s escape (or
// byte) starts. The plugin finds credentials in this reading too: a
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
		case 'u':
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

// hexRune reads `\uXXXX` (and a low surrogate's `\uXXXX` after a high
// one) at the start of b: the rune and the bytes read, or n == 0.
func hexRune(b []byte) (rune, int) {
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
	var r rune
	for _, c := range b[2:6] {
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
