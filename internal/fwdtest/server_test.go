package fwdtest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

const chunkID = "AAECAwQFBgcICQoLDA0ODw==" // base64 of bytes 0..15

var ts = time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC)

// rawClient speaks raw bytes to a Server.
type rawClient struct {
	t  *testing.T
	nc net.Conn
}

func dial(t *testing.T, s *Server) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout(s.Network(), s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc}
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns whatever arrives within d (nil on timeout) and the read error.
func (c *rawClient) read(d time.Duration) ([]byte, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 512)
	n, err := c.nc.Read(buf)
	return buf[:n], err
}

func ack(id string) []byte { return appendAck(nil, []byte(id)) }

func options(kv ...any) []byte {
	b := msgp.AppendMapHeader(nil, uint32(len(kv)/2))
	for i := 0; i < len(kv); i += 2 {
		b = msgp.AppendString(b, kv[i].(string))
		var err error
		if b, err = msgp.AppendIntf(b, kv[i+1]); err != nil {
			panic(err)
		}
	}
	return b
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func packed(tag string, stream, opts []byte, asStr bool) []byte {
	b := msgp.AppendArrayHeader(nil, 3)
	b = msgp.AppendString(b, tag)
	if asStr {
		b = msgp.AppendStringFromBytes(b, stream)
	} else {
		b = msgp.AppendBytes(b, stream)
	}
	return append(b, opts...)
}

func TestServerAcceptsEveryModeAndAcksChunks(t *testing.T) {
	rec1 := map[string]any{"msg": "one"}
	rec2 := map[string]any{"msg": "two", "n": int64(2)}
	meta := map[string]any{"tenant": "ACME"}
	stream := AppendEntry(AppendEntry(nil, ts, nil, rec1), ts.Add(time.Second), meta, rec2)
	want2 := []Event{
		{Tag: "t", Time: ts, Record: rec1},
		{Tag: "t", Time: ts.Add(time.Second), Metadata: meta, Record: rec2},
	}

	forward := msgp.AppendArrayHeader(nil, 3)
	forward = msgp.AppendString(forward, "t")
	forward = msgp.AppendArrayHeader(forward, 2)
	forward = append(forward, stream...)
	forward = append(forward, options("chunk", chunkID, "size", 2)...)

	message := msgp.AppendArrayHeader(nil, 4)
	message = msgp.AppendString(message, "t")
	message = AppendEventTime(message, ts)
	message, _ = msgp.AppendMapStrIntf(message, rec1)
	message = append(message, options("chunk", chunkID, "metadata", meta)...)

	messageNoOpts := msgp.AppendArrayHeader(nil, 3)
	messageNoOpts = msgp.AppendString(messageNoOpts, "t")
	messageNoOpts = msgp.AppendInt(messageNoOpts, 1700000000)
	messageNoOpts, _ = msgp.AppendMapStrIntf(messageNoOpts, rec1)

	cases := []struct {
		name    string
		frame   []byte
		mode    Mode
		stream  string
		want    []Event
		wantAck bool
	}{
		{"PackedForward bin", packed("t", stream, options("chunk", chunkID, "size", 2), false), ModePackedForward, "bin", want2, true},
		{"PackedForward str", packed("t", stream, options("size", 2), true), ModePackedForward, "str", want2, false},
		{"CompressedPackedForward", packed("t", gz(stream), options("chunk", chunkID, "size", 2, "compressed", "gzip"), false), ModeCompressedPackedForward, "bin", want2, true},
		{"CompressedPackedForward of two gzip members", packed("t", append(gz(stream[:len(stream)/2]), gz(stream[len(stream)/2:])...), options("compressed", "gzip"), false), ModeCompressedPackedForward, "bin", want2, false},
		{"Forward", forward, ModeForward, "", want2, true},
		{"Message with metadata option", message, ModeMessage, "", []Event{{Tag: "t", Time: ts, Metadata: meta, Record: rec1}}, true},
		{"Message without options", messageNoOpts, ModeMessage, "", []Event{{Tag: "t", Time: time.Unix(1700000000, 0).UTC(), IntegerTime: true, Record: rec1}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, Options{})
			c := dial(t, s)
			c.write(tc.frame)
			evs, err := s.WaitEvents(len(tc.want), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(evs, tc.want) {
				t.Fatalf("events\n%#v\nwant\n%#v", evs, tc.want)
			}
			msgs := s.Messages()
			if len(msgs) != 1 || msgs[0].Mode != tc.mode || msgs[0].StreamType != tc.stream || msgs[0].Entries != len(tc.want) {
				t.Fatalf("messages %+v, want one %v (%q) of %d entries", msgs, tc.mode, tc.stream, len(tc.want))
			}
			got, err := c.read(200 * time.Millisecond)
			if tc.wantAck {
				if !bytes.Equal(got, ack(chunkID)) {
					t.Fatalf("ack %x (%v), want %x", got, err, ack(chunkID))
				}
			} else if len(got) != 0 {
				t.Fatalf("unexpected reply %x without a chunk id", got)
			}
		})
	}
}

func TestServerRecordsViolationsAndDropsTheConnection(t *testing.T) {
	stream := AppendEntry(nil, ts, nil, map[string]any{"a": "b"})
	cases := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"nil heartbeat", msgp.AppendNil(nil), "want an array"},
		{"map instead of array", msgp.AppendMapHeader(nil, 0), "want an array"},
		{"one element", msgp.AppendString(msgp.AppendArrayHeader(nil, 1), "t"), "1 elements"},
		{"tag is bin", append(msgp.AppendBytes(msgp.AppendArrayHeader(nil, 2), []byte("t")), msgp.AppendBytes(nil, stream)...), "tag is"},
		{"empty tag", append(msgp.AppendString(msgp.AppendArrayHeader(nil, 2), ""), msgp.AppendBytes(nil, stream)...), "tag is empty"},
		{"second element is bool", msgp.AppendBool(msgp.AppendString(msgp.AppendArrayHeader(nil, 2), "t"), true), "second element"},
		{"size does not match", packed("t", stream, options("size", 2), false), `"size" is 2`},
		{"size is a string", packed("t", stream, options("size", "1"), false), `"size"`},
		{"chunk is bin", packed("t", stream, options("chunk", []byte(chunkID)), false), `"chunk" is []uint8`},
		{"chunk is not base64 of 16 bytes", packed("t", stream, options("chunk", "abc"), false), "not base64"},
		{"compressed zstd", packed("t", stream, options("compressed", "zstd"), false), `want "gzip"`},
		{"compressed but plain", packed("t", stream, options("compressed", "gzip"), false), "no gzip magic"},
		{"gzip without compressed option", packed("t", gz(stream), options("size", 1), false), "gzip magic"},
		{"options are nil", append(msgp.AppendBytes(msgp.AppendString(msgp.AppendArrayHeader(nil, 3), "t"), stream), msgp.AppendNil(nil)...), "options are"},
		{"packed with 4 elements", append(append(msgp.AppendBytes(msgp.AppendString(msgp.AppendArrayHeader(nil, 4), "t"), stream), options()...), options()...), "at most 3"},
		{"fluent_signal metrics", packed("t", stream, options("fluent_signal", 1), false), "fluent_signal"},
		{"metadata option in packed mode", packed("t", stream, options("metadata", map[string]any{}), false), "only read in Message mode"},
		{"entries stream truncated", packed("t", stream[:len(stream)-1], options(), false), "too few bytes"},
		{"option key is an int", append(msgp.AppendBytes(msgp.AppendString(msgp.AppendArrayHeader(nil, 3), "t"), stream), msgp.AppendInt(msgp.AppendInt(msgp.AppendMapHeader(nil, 1), 1), 1)...), "want str"},
		{"not msgpack", []byte{0xc1}, "not msgpack"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, Options{ExpectViolations: true})
			c := dial(t, s)
			c.write(tc.frame)
			if _, err := c.read(5 * time.Second); !errors.Is(err, io.EOF) {
				t.Fatalf("read after a violation: %v, want EOF (connection dropped)", err)
			}
			v := s.Violations()
			if len(v) != 1 || !strings.Contains(v[0], tc.want) {
				t.Fatalf("violations %q, want one mentioning %q", v, tc.want)
			}
			if n := len(s.Events()); n != 0 {
				t.Fatalf("%d events recorded from an invalid message", n)
			}
		})
	}
}

func TestServerDropsMessagesOverBufferMaxSize(t *testing.T) {
	s := Start(t, Options{ExpectViolations: true, MaxMessageBytes: 1000})
	var stream []byte
	for len(stream) < 2000 {
		stream = AppendEntry(stream, ts, nil, map[string]any{"pad": strings.Repeat("x", 100)})
	}
	c := dial(t, s)
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.nc.Write(packed("t", stream, options(), false)) // may fail once the server drops us
	if _, err := c.read(5 * time.Second); err == nil {
		t.Fatal("connection still open after an oversized message")
	}
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "buffer_max_size") {
		t.Fatalf("violations %q", v)
	}
}

func TestServerAckKnobs(t *testing.T) {
	frame := packed("t", AppendEntry(nil, ts, nil, map[string]any{"a": "b"}), options("chunk", chunkID, "size", 1), false)
	cases := []struct {
		name  string
		opts  Options
		check func(t *testing.T, got []byte, err error, elapsed time.Duration)
	}{
		{"no ack", Options{Ack: AckNone}, func(t *testing.T, got []byte, err error, _ time.Duration) {
			if len(got) != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("got %x, %v; want nothing until the deadline", got, err)
			}
		}},
		{"wrong id", Options{Ack: AckWrongID}, func(t *testing.T, got []byte, err error, _ time.Duration) {
			if bytes.Equal(got, ack(chunkID)) || !bytes.HasPrefix(got, ack(chunkID)[:5]) {
				t.Fatalf("got %x, want an ack for another id", got)
			}
		}},
		{"garbage", Options{Ack: AckGarbage}, func(t *testing.T, got []byte, err error, _ time.Duration) {
			if _, err := msgp.Skip(got); err == nil || len(got) == 0 {
				t.Fatalf("got %x, want non-msgpack bytes", got)
			}
		}},
		{"delayed", Options{AckDelay: 300 * time.Millisecond}, func(t *testing.T, got []byte, err error, elapsed time.Duration) {
			if !bytes.Equal(got, ack(chunkID)) || elapsed < 300*time.Millisecond {
				t.Fatalf("got %x after %v, want the ack after >= 300ms", got, elapsed)
			}
		}},
		{"close after read", Options{CloseAfterRead: true}, func(t *testing.T, got []byte, err error, _ time.Duration) {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("got %x, %v; want EOF", got, err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, tc.opts)
			c := dial(t, s)
			start := time.Now()
			c.write(frame)
			wait := 5 * time.Second // generous: a reply is expected
			if tc.opts.Ack == AckNone {
				wait = 300 * time.Millisecond // how long silence must last
			}
			got, err := c.read(wait)
			tc.check(t, got, err, time.Since(start))
			if tc.opts.CloseAfterRead {
				if st := s.Stats(); st.Dropped != 1 || len(s.Events()) != 0 {
					t.Fatalf("stats %+v, events %d: want 1 dropped, none recorded", st, len(s.Events()))
				}
			} else if len(s.Events()) != 1 {
				t.Fatalf("%d events, want 1 recorded before acking", len(s.Events()))
			}
		})
	}
}

func TestServerHELOGreetsThenCloses(t *testing.T) {
	s := Start(t, Options{HELO: true})
	c := dial(t, s)
	got, err := c.read(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sz, rest, err := msgp.ReadArrayHeaderBytes(got)
	if err != nil || sz != 2 {
		t.Fatalf("greeting %x is not a 2-element array", got)
	}
	if s, _, _ := msgp.ReadStringBytes(rest); s != "HELO" {
		t.Fatalf("greeting starts with %q, want HELO", s)
	}
	c.write([]byte{0x90})
	if _, err := c.read(5 * time.Second); !errors.Is(err, io.EOF) {
		t.Fatalf("after a failed handshake: %v, want EOF", err)
	}
}

func TestServerStopAndRestartKeepAddressAndEvents(t *testing.T) {
	for _, unix := range []bool{false, true} {
		name := map[bool]string{false: "tcp", true: "unix"}[unix]
		t.Run(name, func(t *testing.T) {
			s := Start(t, Options{Unix: unix})
			addr := s.Addr()
			frame := packed("t", AppendEntry(nil, ts, nil, map[string]any{"a": "b"}), options("size", 1), false)
			dial(t, s).write(frame)
			if _, err := s.WaitEvents(1, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			s.Stop()
			if nc, err := net.DialTimeout(s.Network(), addr, time.Second); err == nil {
				nc.Close()
				t.Fatal("dial succeeded while stopped")
			}
			s.Restart()
			if s.Addr() != addr {
				t.Fatalf("restarted on %s, want %s", s.Addr(), addr)
			}
			dial(t, s).write(frame)
			if _, err := s.WaitEvents(2, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st.Accepted != 2 {
				t.Fatalf("accepted %d connections, want 2", st.Accepted)
			}
		})
	}
}

func TestServerStopClosesOpenConnections(t *testing.T) {
	s := Start(t, Options{})
	c := dial(t, s)
	c.write([]byte{0x93}) // a message that never completes
	time.Sleep(50 * time.Millisecond)
	s.Stop()
	if _, err := c.read(5 * time.Second); !errors.Is(err, io.EOF) {
		t.Fatalf("read after Stop: %v, want EOF", err)
	}
}

func TestWaitEventsTimesOutWithAnError(t *testing.T) {
	s := Start(t, Options{})
	start := time.Now()
	evs, err := s.WaitEvents(1, 100*time.Millisecond)
	if err == nil || len(evs) != 0 {
		t.Fatalf("WaitEvents = %v, %v; want a timeout error", evs, err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Fatalf("returned after %v", d)
	}
}

func TestDiscardModeCountsAndAcks(t *testing.T) {
	s := Start(t, Options{Discard: true})
	c := dial(t, s)
	stream := AppendEntry(AppendEntry(nil, ts, nil, map[string]any{"a": "b"}), ts, nil, map[string]any{"a": "c"})
	for i := 0; i < 3; i++ {
		c.write(packed("t", stream, options("chunk", chunkID, "size", 2), false))
		got, err := c.read(5 * time.Second)
		if !bytes.Equal(got, ack(chunkID)) {
			t.Fatalf("reply %d: %x, %v", i, got, err)
		}
	}
	if st := s.Stats(); st.Messages != 3 || st.DiscardedEntries != 6 || len(s.Events()) != 0 {
		t.Fatalf("stats %+v, %d events", st, len(s.Events()))
	}
}
