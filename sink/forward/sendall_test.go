package forward_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/fwdtest"
	"github.com/ctlive/ctlive-fluent-bit/sink/forward"
	"github.com/tinylib/msgp/msgp"
)

// messages builds n messages of 3 entries, each under its own tag.
func messages(n int) ([]forward.Message, []fwdtest.Event) {
	var msgs []forward.Message
	var want []fwdtest.Event
	for k := range n {
		tag := "ctlive.T" + string(rune('A'+k)) + ".newContact"
		entries, evs := batch(v2Entries, tag, tag, 3)
		msgs = append(msgs, forward.Message{Tag: tag, Entries: entries, Count: 3})
		want = append(want, evs...)
	}
	return msgs, want
}

func TestSendAllDeliversEveryMessageOverOneConnection(t *testing.T) {
	for _, ack := range []bool{true, false} {
		srv := fwdtest.Start(t, fwdtest.Options{})
		cl := newClient(t, srv, func(c *forward.Config) { c.DisableAck = !ack })
		msgs, want := messages(20)
		n, err := cl.SendAll(context.Background(), msgs)
		if err != nil || n != len(msgs) {
			t.Fatalf("ack %v: SendAll = %d, %v; want %d, nil", ack, n, err, len(msgs))
		}
		got, err := srv.WaitEvents(len(want), 5*time.Second)
		if err != nil || len(got) != len(want) {
			t.Fatalf("ack %v: %d events, %v", ack, len(got), err)
		}
		if st := cl.Stats(); st.Dials != 1 || st.Messages != 20 || st.Entries != 60 {
			t.Errorf("ack %v: stats %+v, want 1 dial, 20 messages, 60 entries", ack, st)
		}
		// And the connection stays usable.
		if n, err := cl.SendAll(context.Background(), msgs[:2]); err != nil || n != 2 || cl.Stats().Dials != 1 {
			t.Errorf("ack %v: a second SendAll = %d, %v, %d dials", ack, n, err, cl.Stats().Dials)
		}
	}
}

// rawServer accepts one connection, reads until it holds want messages,
// and answers with reply (the chunk ids of the messages, in order).
func rawServer(t *testing.T, want int, reply func(c net.Conn, ids [][]byte)) string {
	return rawServerAfter(t, 0, want, reply)
}

// rawServerAfter is rawServer after a first round of warm messages, each
// acked: the round under test runs on a connection already answered.
func rawServerAfter(t *testing.T, warm, want int, reply func(c net.Conn, ids [][]byte)) string {
	t.Helper()
	return serveOne(t, func(c net.Conn) {
		var buf []byte
		tmp := make([]byte, 64<<10)
		var ids [][]byte
		for len(ids) < want {
			n, err := c.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				rest, err := msgp.Skip(buf)
				if err != nil {
					break
				}
				msg := buf[:len(buf)-len(rest)]
				buf = rest
				if id := chunkOf(msg); id != nil {
					ids = append(ids, id)
				}
				if warm > 0 && len(ids) == warm {
					for _, id := range ids {
						c.Write(ackOf(id))
					}
					ids, warm = nil, 0
				}
			}
			if err != nil {
				return
			}
		}
		reply(c, ids)
	})
}

// serveOne accepts one TCP connection on loopback and hands it to serve,
// closing it after; it returns the tcp:// URL.
func serveOne(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c)
	}()
	return "tcp://" + ln.Addr().String()
}

// chunkOf returns the chunk option of a [tag, entries, options] message.
func chunkOf(msg []byte) []byte {
	_, b, err := msgp.ReadArrayHeaderBytes(msg)
	if err != nil {
		return nil
	}
	for range 2 {
		if b, err = msgp.Skip(b); err != nil {
			return nil
		}
	}
	n, b, err := msgp.ReadMapHeaderBytes(b)
	for range n {
		var k, v []byte
		if k, b, err = msgp.ReadStringZC(b); err != nil {
			return nil
		}
		if string(k) != "chunk" {
			if b, err = msgp.Skip(b); err != nil {
				return nil
			}
			continue
		}
		if v, _, err = msgp.ReadStringZC(b); err != nil {
			return nil
		}
		return append([]byte(nil), v...)
	}
	return nil
}

func ackOf(id []byte) []byte {
	b := msgp.AppendMapHeader(nil, 1)
	b = msgp.AppendString(b, "ack")
	return msgp.AppendStringFromBytes(b, id)
}

func clientFor(t *testing.T, url string) *forward.Client {
	t.Helper()
	return clientWithAckTimeout(t, url, 2*time.Second)
}

// The acks of messages written back to back arrive as the server writes
// them: all in one segment, or a byte at a time; each is matched to its
// message in order.
func TestSendAllReadsAcksHoweverTheyArrive(t *testing.T) {
	tests := []struct {
		name  string
		reply func(c net.Conn, ids [][]byte)
	}{
		{"all acks in one write", func(c net.Conn, ids [][]byte) {
			var b []byte
			for _, id := range ids {
				b = append(b, ackOf(id)...)
			}
			c.Write(b)
		}},
		{"a byte at a time", func(c net.Conn, ids [][]byte) {
			for _, id := range ids {
				for _, x := range ackOf(id) {
					c.Write([]byte{x})
					time.Sleep(100 * time.Microsecond)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msgs, _ := messages(12)
			cl := clientFor(t, rawServer(t, len(msgs), tc.reply))
			if n, err := cl.SendAll(context.Background(), msgs); err != nil || n != len(msgs) {
				t.Fatalf("SendAll = %d, %v; want %d, nil", n, err, len(msgs))
			}
		})
	}
}

// What was acked before a failure is delivered; the rest is not, and the
// error is retryable.
func TestSendAllCountsTheMessagesAckedBeforeAFailure(t *testing.T) {
	tests := []struct {
		name  string
		reply func(c net.Conn, ids [][]byte)
		want  int
	}{
		{"closed after two acks", func(c net.Conn, ids [][]byte) { c.Write(append(ackOf(ids[0]), ackOf(ids[1])...)) }, 2},
		{"the third ack is another chunk's", func(c net.Conn, ids [][]byte) {
			c.Write(append(append(ackOf(ids[0]), ackOf(ids[1])...), ackOf(ids[0])...))
			time.Sleep(time.Second)
		}, 2},
		{"no ack at all", func(c net.Conn, ids [][]byte) {}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msgs, _ := messages(5)
			cl := clientFor(t, rawServer(t, len(msgs), tc.reply))
			n, err := cl.SendAll(context.Background(), msgs)
			if n != tc.want || err == nil || !forward.IsRetryable(err) {
				t.Fatalf("SendAll = %d, %v; want %d and a retryable error", n, err, tc.want)
			}
			if !errors.Is(err, forward.ErrBadAck) {
				t.Errorf("error %v is not about the ack", err)
			}
		})
	}
}

func clientWithAckTimeout(t *testing.T, url string, d time.Duration) *forward.Client {
	t.Helper()
	ep, err := forward.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := forward.NewClient(forward.Config{Endpoint: ep, AckTimeout: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// Each ack gets the whole ack_timeout, and those that came before a stall
// are counted: their messages are not sent again (a trial that waited for
// a round's acks together lost both, README: Performance).
func TestSendAllGivesEachAckItsOwnTimeout(t *testing.T) {
	tests := []struct {
		name  string
		reply func(c net.Conn, ids [][]byte)
		want  int
	}{
		// Five acks take 2.5 s, more than the 2 s timeout, and each comes
		// 1.5 s before its own: a loaded CI machine's late timer is no
		// failure (600 ms against 1 s was, once, with fuzzers running).
		{"an ack every 500 ms", func(c net.Conn, ids [][]byte) {
			for _, id := range ids {
				time.Sleep(500 * time.Millisecond)
				c.Write(ackOf(id))
			}
			time.Sleep(time.Second)
		}, 5},
		{"two acks, then nothing on an open connection", func(c net.Conn, ids [][]byte) {
			c.Write(append(ackOf(ids[0]), ackOf(ids[1])...))
			time.Sleep(3 * time.Second)
		}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msgs, _ := messages(5)
			cl := clientWithAckTimeout(t, rawServerAfter(t, 3, len(msgs), tc.reply), 2*time.Second)
			if n, err := cl.SendAll(context.Background(), msgs[:3]); n != 3 || err != nil {
				t.Fatalf("the first round: SendAll = %d, %v", n, err)
			}
			n, err := cl.SendAll(context.Background(), msgs)
			if n != tc.want || (n == len(msgs)) != (err == nil) {
				t.Fatalf("SendAll = %d, %v; want %d", n, err, tc.want)
			}
		})
	}
}

// A reply that is no ack of ours, on a connection left open, is reported
// as what it is when it comes, not at the end of ack_timeout.
func TestSendAllReportsAWrongReplyWhenItComes(t *testing.T) {
	helo := msgp.AppendArrayHeader(nil, 2)
	helo = msgp.AppendString(helo, "HELO")
	helo = msgp.AppendMapHeader(helo, 1)
	helo = msgp.AppendString(helo, "nonce")
	helo = msgp.AppendString(helo, "0123456789abcdef")
	tests := []struct {
		name  string
		reply []byte
		want  error
	}{
		{"an HTTP answer", []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), forward.ErrBadAck},
		{"a HELO (shared_key)", helo, forward.ErrHandshakeRequired},
		{"the first ack twice", nil, forward.ErrBadAck},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msgs, _ := messages(5)
			cl := clientWithAckTimeout(t, rawServerAfter(t, 3, len(msgs), func(c net.Conn, ids [][]byte) {
				if tc.reply == nil {
					c.Write(append(ackOf(ids[0]), ackOf(ids[0])...))
				} else {
					c.Write(tc.reply)
				}
				time.Sleep(4 * time.Second)
			}), time.Second)
			if n, err := cl.SendAll(context.Background(), msgs[:3]); n != 3 || err != nil {
				t.Fatalf("the first round: SendAll = %d, %v", n, err)
			}
			start := time.Now()
			_, err := cl.SendAll(context.Background(), msgs)
			if !errors.Is(err, tc.want) {
				t.Fatalf("SendAll error %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("reported after %v, with ack_timeout 1s", d)
			}
		})
	}
}

func TestSendAllReportsAHELOSentOnAcceptAtOnce(t *testing.T) {
	url := serveOne(t, func(c net.Conn) {
		b := msgp.AppendArrayHeader(nil, 2)
		b = msgp.AppendString(b, "HELO")
		b = msgp.AppendMapHeader(b, 1)
		b = msgp.AppendString(b, "nonce")
		c.Write(msgp.AppendString(b, "0123456789abcdef"))
		io.Copy(io.Discard, c) // reads on, answers nothing
	})
	msgs, _ := messages(5)
	cl := clientWithAckTimeout(t, url, 5*time.Second)
	start := time.Now()
	if _, err := cl.SendAll(context.Background(), msgs); !errors.Is(err, forward.ErrHandshakeRequired) {
		t.Fatalf("SendAll error %v, want %v", err, forward.ErrHandshakeRequired)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("reported after %v, with ack_timeout 5s", d)
	}
}
