package forward

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// ackConn serves data step bytes per Read, then EOF, and counts what was
// read. Only Read is used by readAck.
type ackConn struct {
	net.Conn
	data []byte
	step int
	read int
}

func (a *ackConn) Read(p []byte) (int, error) {
	if len(a.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), a.step, len(a.data))
	copy(p, a.data[:n])
	a.data = a.data[n:]
	a.read += n
	return n, nil
}

const testChunk = "aGVsbG8gd29ybGQgY2h1bmsh" // 24 bytes, like a real chunk id

func readAckFrom(data []byte, step int) (err error, read int) {
	nc := &ackConn{data: data, step: max(step, 1)}
	c := &conn{nc: nc}
	copy(c.chunk[:], testChunk)
	err = c.readAck(context.Background(), time.Second)
	return err, nc.read
}

func ack(pairs ...any) []byte {
	b := msgp.AppendMapHeader(nil, uint32(len(pairs)/2))
	for _, v := range pairs {
		b, _ = msgp.AppendIntf(b, v)
	}
	return b
}

func TestReadAck(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want error // nil: accepted
	}{
		{"in_forward's ack", ack("ack", testChunk), nil},
		{"other keys around it", ack("x", int64(1), "ack", testChunk, "y", "z"), nil},
		{"followed by more bytes", append(ack("ack", testChunk), 0xc0), nil},
		{"another chunk's ack", ack("ack", "bm90IHRoaXMgY2h1bmsgYXQgYWxs"), ErrBadAck},
		{"no ack key", ack("x", testChunk), ErrBadAck},
		{"ack not a string", ack("ack", int64(7)), ErrBadAck},
		{"a nested value", ack("ack", testChunk, "x", map[string]any{"y": 1}), ErrBadAck},
		{"nesting 400 deep in 512 bytes", append([]byte{0x81, 0xa1, 'x'}, bytes.Repeat([]byte{0x91}, 400)...), ErrBadAck},
		{"an array", msgp.AppendArrayHeader(nil, 1), ErrBadAck},
		{"not msgpack", []byte{0xc1, 0, 0}, ErrBadAck},
		{"a map of 4 billion pairs", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0}, ErrBadAck},
		{"a string claiming 4 GB", []byte{0x81, 0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}, ErrBadAck},
		{"more than 512 bytes of ack", ack("x", strings.Repeat("a", 600), "ack", testChunk), ErrBadAck},
		{"nothing: the connection closes", nil, errClosedBeforeAck},
		{"half an ack, then the connection closes", ack("ack", testChunk)[:10], errClosedBeforeAck},
		{"a HELO", msgp.AppendString(msgp.AppendArrayHeader(nil, 3), "HELO"), ErrHandshakeRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, step := range []int{1, 7, maxAckBytes} {
				err, read := readAckFrom(tc.data, step)
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("step %d: err = %v, want %v", step, err, tc.want)
				}
				if read > maxAckBytes {
					t.Fatalf("step %d: read %d bytes", step, read)
				}
			}
		})
	}
}

// FuzzAck: whatever the server sends, readAck reads at most maxAckBytes,
// never panics, and accepts exactly what a plain decoding (refAck) calls
// an ack of our chunk: one map of scalars, within 512 bytes, whose first
// "ack" key holds the chunk id.
func FuzzAck(f *testing.F) {
	f.Add(ack("ack", testChunk), uint16(512))
	f.Add(ack("x", int64(1), "ack", testChunk), uint16(3))
	f.Add(ack("ack", testChunk, "x", []any{1}), uint16(1))
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0}, uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, step uint16) {
		err, read := readAckFrom(data, int(step))
		if read > maxAckBytes {
			t.Fatalf("read %d bytes", read)
		}
		if want := refAck(data); (err == nil) != want {
			t.Fatalf("readAck = %v; plain decoding says ack: %v", err, want)
		}
	})
}

// refAck decodes the first object of data, pair by pair, with msgp's
// generic reader.
func refAck(data []byte) bool {
	if len(data) > maxAckBytes {
		data = data[:maxAckBytes]
	}
	n, rest, err := msgp.ReadMapHeaderBytes(data)
	if err != nil {
		return false
	}
	found := false
	for range n {
		var k, v any
		if k, rest, err = msgp.ReadIntfBytes(rest); err != nil {
			return false
		}
		if v, rest, err = msgp.ReadIntfBytes(rest); err != nil {
			return false
		}
		for _, x := range []any{k, v} {
			switch x.(type) {
			case map[string]any, []any:
				return false // nothing nested
			}
		}
		if s, ok := k.(string); ok && s == "ack" && !found {
			found = true
			if id, ok := v.(string); !ok || id != testChunk {
				return false
			}
		}
	}
	return found
}
