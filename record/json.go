package record

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/tinylib/msgp/msgp"
)

// AppendJSONMembers appends the enriched record as JSON object members,
// without the braces, so a sink can put its own members first (`date`,
// `@timestamp`). An input key named reserved is left out, since the sink
// writes that member itself and JSON objects must not repeat a key. It
// returns false when it wrote nothing. JSON is written by hand: it runs once
// per record and must not allocate.
func AppendJSONMembers(dst []byte, ev *Event, reserved string) ([]byte, bool) {
	o := ev.layout
	if !ev.isMap {
		// Not a map: keep it searchable under the line's key.
		dst = appendJSONString(dst, o.LogKey)
		dst = append(dst, ':')
		dst, _ = appendJSONValue(dst, ev.Body, 0)
		return dst, true
	}
	start := len(dst)
	if ev.Shaped {
		forEachEntry(ev, o, func(raw []byte) { dst = appendJSONEntry(dst, raw, start, reserved) })
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
			dst = appendJSONEntry(dst, b[:len(b)-len(next)], start, reserved)
			b = next
		}
	}
	if ev.Shaped && ev.present != 0 {
		if len(dst) > start {
			dst = append(dst, ',')
		}
		if o.NestUnder != "" {
			dst = appendJSONString(dst, o.NestUnder)
			dst = append(dst, ':', '{')
			dst = appendFieldsJSON(dst, ev)
			dst = append(dst, '}')
		} else {
			dst = appendFieldsJSON(dst, ev)
		}
	}
	return dst, len(dst) > start
}

// appendJSONEntry writes one msgpack key/value pair as a JSON member.
func appendJSONEntry(dst, raw []byte, start int, reserved string) []byte {
	if reserved != "" {
		if k, _, err := readKey(raw); err == nil && string(k) == reserved {
			return dst
		}
	}
	if len(dst) > start {
		dst = append(dst, ',')
	}
	dst, rest := appendJSONKey(dst, raw)
	dst = append(dst, ':')
	dst, _ = appendJSONValue(dst, rest, 0)
	return dst
}

func appendFieldsJSON(dst []byte, ev *Event) []byte {
	r := &ev.Fields
	first := true
	for m := ev.present; m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, jsonKeys[i]...)
		switch i {
		case FieldScopes:
			dst = appendJSONStrings(dst, r.Scopes)
		case FieldStack:
			dst = appendJSONStrings(dst, r.Stack)
		case FieldPayload:
			dst = append(dst, '{')
			for k, p := range r.Payloads {
				if k > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONBytes(dst, p.Label)
				dst = append(dst, ':')
				dst = transcode(dst, p.JSON, jsonOut{})
			}
			dst = append(dst, '}')
		default:
			dst = appendJSONBytes(dst, ev.Value(i))
		}
	}
	return dst
}

// jsonKeys are the field names as `"name":`, encoded once.
var jsonKeys = func() (k [numFields][]byte) {
	for i, name := range FieldNames {
		k[i] = append(appendJSONString(nil, name), ':')
	}
	return
}()

func appendJSONStrings(dst []byte, ss [][]byte) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONBytes(dst, s)
	}
	return append(dst, ']')
}

// appendJSONKey writes a map key, whatever its msgpack type, as a JSON
// string and returns the bytes after it.
func appendJSONKey(dst, b []byte) ([]byte, []byte) {
	switch msgp.NextType(b) {
	case msgp.StrType, msgp.BinType:
		k, rest, err := readKey(b)
		if err == nil {
			return appendJSONBytes(dst, k), rest
		}
	}
	// A non-string key: render its JSON text as the key.
	mark := len(dst)
	dst, rest := appendJSONValue(dst, b, 0)
	text := string(dst[mark:])
	return appendJSONString(dst[:mark], text), rest
}

const maxDepth = 64 // deeper values are cut short rather than risk the stack

// appendJSONValue converts one msgpack value to JSON and returns the bytes
// after it. Malformed input renders as null; Entry.Decode has already
// checked the framing.
func appendJSONValue(dst, b []byte, depth int) ([]byte, []byte) {
	if depth > maxDepth {
		rest, _ := skip(b)
		return append(dst, "null"...), rest
	}
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
		n, rest, err := msgp.ReadMapHeaderBytes(b)
		if err == nil {
			dst = append(dst, '{')
			for i := uint32(0); i < n && len(rest) > 0; i++ {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst, rest = appendJSONKey(dst, rest)
				dst = append(dst, ':')
				dst, rest = appendJSONValue(dst, rest, depth+1)
			}
			return append(dst, '}'), rest
		}
	case msgp.ArrayType:
		n, rest, err := msgp.ReadArrayHeaderBytes(b)
		if err == nil {
			dst = append(dst, '[')
			for i := uint32(0); i < n && len(rest) > 0; i++ {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst, rest = appendJSONValue(dst, rest, depth+1)
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
		if rest, err := skip(b); err == nil {
			return append(dst, "null"...), rest
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

// AppendJSONValue converts one msgpack value (metadata, a record) to JSON.
func AppendJSONValue(dst, b []byte) []byte {
	dst, _ = appendJSONValue(dst, b, 0)
	return dst
}
