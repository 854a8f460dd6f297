// Package hostile builds what an attacker would send the plugin, for the
// tests, fuzz targets and benchmarks that hold it to its bounds: records
// whose keys are maps nested in keys, values nested past Fluent Bit's
// depth, and log lines shaped to make a parser slow. It is test harness,
// never shipped, and depends on msgp alone so that any package's tests
// can use it.
package hostile

import (
	"bytes"
	"encoding/binary"
	"math"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// KeyChain returns the msgpack map {{{…{}:1}:1}:1}: depth maps, each the
// only key of the one around it (depth 1 is an empty map). Converted to
// JSON by re-escaping each key's text, it doubles per level (issue #7).
func KeyChain(depth int) []byte {
	if depth <= 0 {
		return nil
	}
	b := msgp.AppendMapHeader(nil, 0)
	for range depth - 1 {
		inner := b
		b = msgp.AppendMapHeader(nil, 1)
		b = append(b, inner...)
		b = msgp.AppendInt(b, 1)
	}
	return b
}

// ArrayChain returns [[[…]]]: depth arrays, each the only element of the
// one around it.
func ArrayChain(depth int) []byte {
	b := make([]byte, 0, depth+1)
	for range depth - 1 {
		b = append(b, 0x91)
	}
	if depth > 0 {
		b = append(b, 0x90)
	}
	return b
}

// Map returns a msgpack map of raw keys and values, in pairs.
func Map(kv ...[]byte) []byte {
	b := msgp.AppendMapHeader(nil, uint32(len(kv)/2))
	for _, x := range kv {
		b = append(b, x...)
	}
	return b
}

// Str is a msgpack string.
func Str(s string) []byte { return msgp.AppendString(nil, s) }

// Build returns a record map made from program, a fuzz target's input.
// Each byte chooses what comes next, so a fuzzer explores what random
// bytes would rarely reach as valid msgpack: keys of every type (maps
// nested in keys among them), nesting past Fluent Bit's 64 levels,
// strings that need escaping, invalid UTF-8, timestamps, and a "log" line
// that is CTLive-shaped, with payloads, or not. The record's size is
// linear in the program's (a chain is at most 300 levels).
func Build(program []byte) []byte {
	g := &gen{p: program, budget: 2048}
	n := g.next() % 8
	b := msgp.AppendMapHeader(nil, uint32(n)+1)
	b = msgp.AppendString(b, "log")
	b = g.line(b)
	for range n {
		b = g.key(b, 1)
		b = g.value(b, 1)
	}
	return b
}

type gen struct {
	p      []byte
	budget int // values left to write: bounds the record whatever the program
}

func (g *gen) next() int {
	if len(g.p) == 0 {
		return 0
	}
	c := g.p[0]
	g.p = g.p[1:]
	return int(c)
}

// text takes up to max bytes of the program as they are.
func (g *gen) text(max int) []byte {
	n := min(g.next()%(max+1), len(g.p))
	t := g.p[:n]
	g.p = g.p[n:]
	return t
}

// specials are bytes every encoder must escape or replace.
var specials = []string{`"`, `\`, "\x00", "\x1f", "\n", "\xff", "\xc3", "é", ".", "{", ":", "\u2028"}

func (g *gen) key(b []byte, depth int) []byte {
	if g.next()%3 == 0 {
		return g.value(b, depth) // a key of any type
	}
	return msgp.AppendStringFromBytes(b, g.text(12))
}

func (g *gen) value(b []byte, depth int) []byte {
	if g.budget--; g.budget <= 0 || depth > 300 {
		return msgp.AppendNil(b)
	}
	switch op := g.next() % 18; op {
	case 0:
		return msgp.AppendNil(b)
	case 1:
		return msgp.AppendBool(b, g.next()%2 == 0)
	case 2:
		return msgp.AppendInt64(b, int64(int8(g.next())))
	case 3:
		return msgp.AppendUint64(b, math.MaxUint64-uint64(g.next()))
	case 4:
		var f [8]byte
		copy(f[:], g.text(8))
		return msgp.AppendFloat64(b, math.Float64frombits(binary.BigEndian.Uint64(f[:])))
	case 5:
		return msgp.AppendFloat32(b, float32(g.next())/7)
	case 6:
		return msgp.AppendStringFromBytes(b, g.text(64))
	case 7:
		return msgp.AppendBytes(b, g.text(64))
	case 8:
		var s []byte
		for range g.next() % 16 {
			s = append(s, specials[g.next()%len(specials)]...)
		}
		return msgp.AppendStringFromBytes(b, s)
	case 9, 10:
		n := g.next() % 5
		if op == 9 {
			b = msgp.AppendMapHeader(b, uint32(n))
		} else {
			b = msgp.AppendArrayHeader(b, uint32(n))
		}
		for range n {
			if op == 9 {
				b = g.key(b, depth+1)
			}
			b = g.value(b, depth+1)
		}
		return b
	case 11:
		return append(b, KeyChain(g.next()%80+1)...)
	case 12:
		return append(b, ArrayChain(g.next()+45)...)
	case 13: // a msgpack timestamp (extension -1)
		return msgp.AppendTime(b, time.Unix(int64(g.next())<<30, int64(g.next())))
	case 14: // an extension of another type
		return append(b, 0xd4, byte(g.next()), byte(g.next()))
	case 15: // Fluent Bit's EventTime
		return append(b, 0xd7, 0, 0, 0, 0, byte(g.next()), 0, 0, 0, byte(g.next()))
	case 16:
		return g.line(b)
	default: // a chain of maps as values: {"a":{"a":…}}
		d := g.next()
		for range d {
			b = msgp.AppendMapHeader(b, 1)
			b = msgp.AppendStringFromBytes(b, g.text(3))
		}
		return msgp.AppendNil(b)
	}
}

// line writes a log line: CTLive-shaped or not, with payloads (some
// nested deep, some not JSON) and text from the program.
func (g *gen) line(b []byte) []byte {
	var l []byte
	if g.next()%4 != 0 {
		l = append(l, "ctlive | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] [AGM] newContact "...)
	}
	for range g.next() % 4 {
		switch g.next() % 4 {
		case 0:
			l = append(l, g.text(40)...)
		case 1:
			l = append(l, " response:"...)
			l = append(l, DeepJSON(g.next()%80)...)
		case 2:
			l = append(l, ` p:{"a.b":"\u00e9\"x","n":[1,2.5,null,true],"k":{"x.y":{}}}`...)
		case 3:
			l = append(l, " session 6f1c2b5e-9d3a-4c1b-8e2f-0a1b2c3d4e5f pwd=hunter2 mail a@b.cd"...)
		}
		l = append(l, ' ')
	}
	return msgp.AppendStringFromBytes(b, l)
}

// DeepJSON returns a JSON value nesting depth objects and arrays,
// alternately, around a string with a dotted key.
func DeepJSON(depth int) []byte {
	var b []byte
	for i := range depth {
		if i%2 == 0 {
			b = append(b, `{"k.`...)
			b = append(b, byte('a'+i%26))
			b = append(b, `":`...)
		} else {
			b = append(b, '[')
		}
	}
	b = append(b, `"leaf"`...)
	for i := depth - 1; i >= 0; i-- {
		if i%2 == 0 {
			b = append(b, '}')
		} else {
			b = append(b, ']')
		}
	}
	return b
}

// Entry is a chunk entry `[[time, metadata], record]` of the record that
// Build makes from program; when the program's first byte is odd, the
// metadata holds a chain of arrays as deep as that byte.
func Entry(program []byte) []byte {
	b := []byte{0x92, 0x92, 0xd7, 0x00, 0x69, 0x25, 0x7e, 0x20, 0, 0, 0, 0} // EventTime 2025-11-25T10:00:00Z
	if len(program) > 0 && program[0]&1 == 1 {
		b = append(b, Map(Str("m"), ArrayChain(int(program[0])))...)
	} else {
		b = msgp.AppendMapHeader(b, 0)
	}
	return append(b, Build(program)...)
}

// The factors by which the plugin's encoders may grow a record, and why;
// the fuzz targets of each encoder hold them to these on Entry's records.
// A byte of the line stands in at most five places of the output: the
// line itself, and the message, error, url and payload fields (each a
// part of the line; scopes, function and tenant repeat only the leading
// tokens). JSON writes a byte as at most 6 (\u00XX, or \ufffd for invalid
// UTF-8). Redaction replaces the shortest credentials by longer digests:
// at most 3.7 times the bytes, for `a@b.c,` masked as hmac:… (22 bytes for
// 6). A key that is not a string is escaped once more (7 a byte), but its
// bytes are in no field.
const (
	JSONFactor    = 5*6 + 2 // and a record's own JSON: 6, 7 in a key's text
	MsgpackFactor = 5*4 + 0 // redaction at most 3.7 a byte, in five places
	LokiFactor    = 5*7 + 2 // line_format json in a JSON push: the JSON escaped again, \u00XX as \\u00XX
	Slack         = 1024    // per record: field names, a date, an action line
)

// Nesting is how deep maps and arrays nest in the msgpack value at the
// start of b (a map or array of scalars is 1): what msgpack-c's unpacker
// holds on its stack, which Fluent Bit builds 64 deep.
func Nesting(b []byte) (int, error) {
	_, d, err := nesting(b)
	return d, err
}

func nesting(b []byte) ([]byte, int, error) {
	var n uint32
	var err error
	switch msgp.NextType(b) {
	case msgp.MapType:
		n, b, err = msgp.ReadMapHeaderBytes(b)
		n *= 2
	case msgp.ArrayType:
		n, b, err = msgp.ReadArrayHeaderBytes(b)
	default:
		b, err = msgp.Skip(b)
		return b, 0, err
	}
	inner := 0
	for ; n > 0 && err == nil; n-- {
		var d int
		b, d, err = nesting(b)
		inner = max(inner, d)
	}
	return b, inner + 1, err
}

// Seeds are programs for Build that a fuzz target starts from: nothing,
// keys nested in keys, a chain of arrays, a line with a deep payload,
// many keys nested in keys.
func Seeds() [][]byte {
	return [][]byte{
		{},
		{1, 2, 3, 11, 79},
		{0, 3, 3, 11, 60, 0, 12, 200},
		{5, 1, 1, 3, 1, 40, 1, 2, 3, 8, 15, 1},
		bytes.Repeat([]byte{9, 4, 0, 11, 70}, 20),
	}
}

// Int is a msgpack integer.
func Int(n int64) []byte { return msgp.AppendInt64(nil, n) }
