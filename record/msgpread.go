package record

import (
	"encoding/binary"

	"github.com/tinylib/msgp/msgp"
)

// Fast paths for the msgpack shapes nearly every record is made of: keys
// are short strings and the line is a string. msgp's general readers cost
// ~50 instructions a call, and the encoders read each key several times.
// Anything else goes to msgp.

// strAt returns the length of the string header at b[0] and the string's
// length, or ok == false when b does not start with a complete fixstr,
// str8 or str16.
func strAt(b []byte) (header, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch c := b[0]; {
	case c&0xe0 == 0xa0:
		header, n = 1, int(c&0x1f)
	case c == 0xd9 && len(b) >= 2:
		header, n = 2, int(b[1])
	case c == 0xda && len(b) >= 3:
		header, n = 3, int(binary.BigEndian.Uint16(b[1:]))
	default:
		return 0, 0, false
	}
	return header, n, len(b)-header >= n
}

// readKey is msgp.ReadMapKeyZC. Keys are fixstr in practice: that case is
// written out here rather than through strAt, which measured ~1% of a JSON
// flush slower.
func readKey(b []byte) (key, rest []byte, err error) {
	if len(b) > 0 && b[0]&0xe0 == 0xa0 {
		if end := int(b[0]&0x1f) + 1; len(b) >= end {
			return b[1:end], b[end:], nil
		}
	}
	return msgp.ReadMapKeyZC(b)
}

// readString is msgp.ReadStringZC.
func readString(b []byte) (s, rest []byte, err error) {
	if h, n, ok := strAt(b); ok {
		return b[h : h+n], b[h+n:], nil
	}
	return msgp.ReadStringZC(b)
}

// skip is msgp.Skip.
func skip(b []byte) ([]byte, error) {
	if h, n, ok := strAt(b); ok {
		return b[h+n:], nil
	}
	if len(b) > 0 && (b[0] < 0x80 || b[0] >= 0xe0 || b[0] == 0xc0 || b[0] == 0xc2 || b[0] == 0xc3) {
		return b[1:], nil // fixint, nil, false, true
	}
	return msgp.Skip(b)
}

// ReadText returns the string or binary value at the start of b (its
// bytes, in place) and what follows it; ok is false when b holds something
// else or is malformed. The Enrich stage walks every text of a record with
// it.
func ReadText(b []byte) (text, rest []byte, ok bool) {
	if h, n, ok := strAt(b); ok {
		return b[h : h+n], b[h+n:], true
	}
	switch msgp.NextType(b) {
	case msgp.StrType:
		s, rest, err := msgp.ReadStringZC(b)
		return s, rest, err == nil
	case msgp.BinType:
		s, rest, err := msgp.ReadBytesZC(b)
		return s, rest, err == nil
	}
	return nil, b, false
}

// Skip returns what follows the msgpack value at the start of b.
func Skip(b []byte) ([]byte, error) { return skip(b) }

// skipNested is msgp.Skip for the value at the start of b, a map or array
// at level level of its record when it is one (see MaxDepth), that also
// reports whether a container in it nests deeper than MaxDepth. It
// recurses MaxDepth levels at most; a deeper container is skipped whole
// by msgp.Skip, whose recursion limit bounds the Go stack.
func skipNested(b []byte, level int) (rest []byte, deep bool, err error) {
	n, h, ok := containerAt(b)
	if !ok {
		rest, err = skip(b)
		return rest, false, err
	}
	if h == 0 {
		return b, false, msgp.ErrShortBytes
	}
	if level > MaxDepth {
		rest, err = msgp.Skip(b)
		return rest, true, err
	}
	b = b[h:]
	for ; n > 0; n-- {
		// Records are mostly short strings: those are skipped in place.
		if len(b) > 0 && b[0]&0xe0 == 0xa0 && len(b) > int(b[0]&0x1f) {
			b = b[1+int(b[0]&0x1f):]
			continue
		}
		if len(b) > 2 && b[0] == 0xd9 && len(b) >= 2+int(b[1]) { // str8: most lines
			b = b[2+int(b[1]):]
			continue
		}
		var d bool
		if b, d, err = skipNested(b, level+1); err != nil {
			return b, deep, err
		}
		deep = deep || d
	}
	return b, deep, nil
}

// containerAt reads the header of the map or array at the start of b: the
// values in it (a map's keys counted) and the header's length (0 when b
// is too short for it). ok is false when b starts with something else.
func containerAt(b []byte) (n uint64, h int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch c := b[0]; {
	case c&0xf0 == 0x80: // fixmap
		return 2 * uint64(c&0x0f), 1, true
	case c&0xf0 == 0x90: // fixarray
		return uint64(c & 0x0f), 1, true
	case c >= 0xdc && c <= 0xdf: // array16, array32, map16, map32
		h = 3 + 2*int(c&1)
		if len(b) < h {
			return 0, 0, true
		}
		if h == 3 {
			n = uint64(binary.BigEndian.Uint16(b[1:]))
		} else {
			n = uint64(binary.BigEndian.Uint32(b[1:]))
		}
		if c >= 0xde {
			n *= 2
		}
		return n, h, true
	}
	return 0, 0, false
}

// appendStr is msgp.AppendStringFromBytes for the added fields' values,
// most of them a fixstr or a str8: written out here, it costs about a third
// of msgp's general writer, which was a tenth of a forward flush.
func appendStr(dst, s []byte) []byte {
	switch n := len(s); {
	case n < 32:
		dst = append(dst, 0xa0|byte(n))
	case n < 256:
		dst = append(dst, 0xd9, byte(n))
	case n < 1<<16:
		dst = append(dst, 0xda, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, s...)
}
