package forward_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/fwdtest"
	"github.com/ctlive/ctlive-fluent-bit/sink/forward"
)

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)

// newClient connects a client to srv; mutate adjusts the config.
func newClient(t *testing.T, srv *fwdtest.Server, mutate func(*forward.Config)) *forward.Client {
	t.Helper()
	ep, err := forward.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := forward.Config{Endpoint: ep}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := forward.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type batchKind int

const (
	v1Entries  batchKind = iota // [EventTime, record]
	v2Entries                   // [[EventTime, metadata], record]
	intEntries                  // [int, record]
)

// batch builds n entries whose records carry label and their index, and the
// events the receiver should record for them under tag.
func batch(kind batchKind, tag, label string, n int) ([]byte, []fwdtest.Event) {
	var b []byte
	var want []fwdtest.Event
	for i := 0; i < n; i++ {
		ts := t0.Add(time.Duration(i) * time.Nanosecond)
		rec := map[string]any{"label": label, "i": int64(i), "msg": "user joined room"}
		ev := fwdtest.Event{Tag: tag, Time: ts, Record: rec}
		switch kind {
		case v1Entries:
			b = fwdtest.AppendEntry(b, ts, nil, rec)
		case v2Entries:
			meta := map[string]any{"tenant": "ACME", "seq": int64(i)}
			b = fwdtest.AppendEntry(b, ts, meta, rec)
			ev.Metadata = meta
		case intEntries:
			b = fwdtest.AppendEntryIntTime(b, ts.Unix(), rec)
			ev.Time, ev.IntegerTime = ts.Truncate(time.Second), true
		}
		want = append(want, ev)
	}
	return b, want
}

func TestSendDeliversEntriesIntact(t *testing.T) {
	cases := []struct {
		name string
		kind batchKind
		gzip bool
		unix bool
	}{
		{"v1 EventTime", v1Entries, false, false},
		{"v2 metadata", v2Entries, false, false},
		{"integer time", intEntries, false, false},
		{"gzip v1", v1Entries, true, false},
		{"gzip v2", v2Entries, true, false},
		{"unix socket", v2Entries, false, true},
		{"unix socket gzip", v1Entries, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := fwdtest.Start(t, fwdtest.Options{Unix: tc.unix})
			cl := newClient(t, srv, func(c *forward.Config) {
				if tc.gzip {
					c.Compression = forward.CompressionGzip
				}
			})
			b1, want1 := batch(tc.kind, "ctlive.ACME.message", "a", 3)
			b2, want2 := batch(tc.kind, "ctlive.ACME.join", "b", 5)
			for _, m := range []struct {
				tag string
				b   []byte
				n   int
			}{{"ctlive.ACME.message", b1, 3}, {"ctlive.ACME.join", b2, 5}} {
				if err := cl.Send(context.Background(), m.tag, m.b, m.n); err != nil {
					t.Fatalf("Send(%s): %v", m.tag, err)
				}
			}
			// Acked means recorded: no waiting needed.
			if got, want := srv.Events(), append(want1, want2...); !reflect.DeepEqual(got, want) {
				t.Fatalf("events\n%#v\nwant\n%#v", got, want)
			}
			wantMode, wantCompressed := fwdtest.ModePackedForward, ""
			if tc.gzip {
				wantMode, wantCompressed = fwdtest.ModeCompressedPackedForward, "gzip"
			}
			msgs := srv.Messages()
			if len(msgs) != 2 {
				t.Fatalf("%d messages, want 2", len(msgs))
			}
			for i, m := range msgs {
				if m.Mode != wantMode || m.StreamType != "bin" || m.Compressed != wantCompressed ||
					m.Size != m.Entries || m.Chunk == "" {
					t.Errorf("message %d: %+v; want %v, bin stream, size = entries, a chunk id", i, m, wantMode)
				}
			}
			if msgs[0].Chunk == msgs[1].Chunk {
				t.Errorf("both messages carry chunk id %q", msgs[0].Chunk)
			}
			if st := cl.Stats(); st.Messages != 2 || st.Entries != 8 || st.Dials != 1 || st.Failures != 0 {
				t.Errorf("stats %+v; want 2 messages, 8 entries over 1 connection", st)
			}
		})
	}
}

func TestSendWithoutAckOmitsChunkAndDoesNotWait(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{AckDelay: time.Hour})
	cl := newClient(t, srv, func(c *forward.Config) { c.DisableAck = true; c.AckTimeout = 50 * time.Millisecond })
	b, want := batch(v1Entries, "t", "x", 2)
	if err := cl.Send(context.Background(), "t", b, 2); err != nil {
		t.Fatal(err)
	}
	got, err := srv.WaitEvents(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events %#v", got)
	}
	if m := srv.Messages(); m[0].Chunk != "" || m[0].Size != 2 {
		t.Fatalf("message %+v; want no chunk id, size 2", m[0])
	}
}

func TestSendReusesOneConnectionPerSender(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	cl := newClient(t, srv, nil)
	b, _ := batch(v1Entries, "t", "x", 1)
	for i := 0; i < 20; i++ {
		if err := cl.Send(context.Background(), "t", b, 1); err != nil {
			t.Fatal(err)
		}
	}
	if st, sst := cl.Stats(), srv.Stats(); st.Dials != 1 || sst.Accepted != 1 || sst.Acks != 20 {
		t.Fatalf("client %+v, server %+v; want 20 acked messages on 1 connection", st, sst)
	}
}

func TestConcurrentSendersDeliverEverythingOnAtMostOneConnectionEach(t *testing.T) {
	const senders, perSender, entries = 4, 25, 10
	for _, gzip := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gzip), func(t *testing.T) {
			srv := fwdtest.Start(t, fwdtest.Options{})
			cl := newClient(t, srv, func(c *forward.Config) {
				if gzip {
					c.Compression = forward.CompressionGzip
				}
			})
			var wg sync.WaitGroup
			errs := make(chan error, senders*perSender)
			for g := 0; g < senders; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for m := 0; m < perSender; m++ {
						b, _ := batch(v2Entries, "t", fmt.Sprintf("g%d-m%d", g, m), entries)
						errs <- cl.Send(context.Background(), fmt.Sprintf("ctlive.T%d.event", g), b, entries)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]bool{}
			for _, ev := range srv.Events() {
				key := fmt.Sprintf("%s/%v/%v", ev.Tag, ev.Record["label"], ev.Record["i"])
				if seen[key] {
					t.Fatalf("duplicate event %s", key)
				}
				seen[key] = true
			}
			if len(seen) != senders*perSender*entries {
				t.Fatalf("%d distinct events, want %d", len(seen), senders*perSender*entries)
			}
			if st := cl.Stats(); st.Dials > senders || srv.Stats().Accepted > senders {
				t.Fatalf("%d dials, %d accepted for %d senders", st.Dials, srv.Stats().Accepted, senders)
			}
		})
	}
}

func TestSendFailsRetryablyOnAckProblemsThenRecoversOnAFreshConnection(t *testing.T) {
	cases := []struct {
		name string
		opts fwdtest.Options
	}{
		{"no ack", fwdtest.Options{Ack: fwdtest.AckNone}},
		{"wrong ack id", fwdtest.Options{Ack: fwdtest.AckWrongID}},
		{"garbage ack", fwdtest.Options{Ack: fwdtest.AckGarbage}},
		{"ack too late", fwdtest.Options{AckDelay: 2 * time.Second}},
		{"closed after read", fwdtest.Options{CloseAfterRead: true}},
	}
	const ackTimeout = 300 * time.Millisecond
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := fwdtest.Start(t, tc.opts)
			cl := newClient(t, srv, func(c *forward.Config) { c.AckTimeout = ackTimeout })
			b, want := batch(v1Entries, "t", "x", 2)

			start := time.Now()
			err := cl.Send(context.Background(), "t", b, 2)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if elapsed := time.Since(start); elapsed > ackTimeout+2*time.Second {
				t.Fatalf("Send took %v with a %v ack timeout", elapsed, ackTimeout)
			}
			var fe *forward.Error
			if !errors.As(err, &fe) || fe.Op != "ack" || !forward.IsRetryable(err) {
				t.Fatalf("error %v (%T); want a retryable *forward.Error from the ack step", err, err)
			}

			srv.SetOptions(fwdtest.Options{})
			if err := cl.Send(context.Background(), "t", b, 2); err != nil {
				t.Fatalf("Send after the server recovered: %v", err)
			}
			if d := cl.Stats().Dials; d != 2 {
				t.Fatalf("%d dials; the failed connection must be closed and a new one dialled", d)
			}
			evs := srv.Events()
			if last := evs[len(evs)-2:]; !reflect.DeepEqual(last, want) {
				t.Fatalf("last events %#v, want %#v", last, want)
			}
		})
	}
}

func TestSendAckErrorsAreSpecific(t *testing.T) {
	for _, mode := range []fwdtest.AckMode{fwdtest.AckNone, fwdtest.AckWrongID, fwdtest.AckGarbage} {
		srv := fwdtest.Start(t, fwdtest.Options{Ack: mode})
		cl := newClient(t, srv, func(c *forward.Config) { c.AckTimeout = 100 * time.Millisecond })
		b, _ := batch(v1Entries, "t", "x", 1)
		if err := cl.Send(context.Background(), "t", b, 1); !errors.Is(err, forward.ErrBadAck) {
			t.Errorf("ack mode %d: %v, want ErrBadAck", mode, err)
		}
	}
}

func TestServerGoingAwayFailsFastAndNothingIsLostAfterRestart(t *testing.T) {
	for _, unix := range []bool{false, true} {
		t.Run(fmt.Sprintf("unix=%v", unix), func(t *testing.T) {
			srv := fwdtest.Start(t, fwdtest.Options{Unix: unix})
			cl := newClient(t, srv, func(c *forward.Config) {
				c.ConnectTimeout, c.WriteTimeout, c.AckTimeout = time.Second, time.Second, time.Second
			})
			a, wantA := batch(v1Entries, "t", "A", 3)
			bb, wantB := batch(v1Entries, "t", "B", 3)
			c, wantC := batch(v1Entries, "t", "C", 3)
			if err := cl.Send(context.Background(), "t", a, 3); err != nil {
				t.Fatal(err)
			}

			srv.Stop()
			start := time.Now()
			err := cl.Send(context.Background(), "t", bb, 3)
			if err == nil || !forward.IsRetryable(err) {
				t.Fatalf("Send to a stopped server: %v; want a retryable error", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("Send to a stopped server took %v, beyond connect+write+ack timeouts", d)
			}

			srv.Restart()
			// The retry (what Fluent Bit does with FLB_RETRY) gets through.
			if err := cl.Send(context.Background(), "t", bb, 3); err != nil {
				t.Fatalf("retry after restart: %v", err)
			}
			if err := cl.Send(context.Background(), "t", c, 3); err != nil {
				t.Fatal(err)
			}
			want := append(append(wantA, wantB...), wantC...)
			if got := srv.Events(); !reflect.DeepEqual(got, want) {
				t.Fatalf("events\n%#v\nwant A, B, C once each", got)
			}
			if acc := srv.Stats().Accepted; acc != 2 {
				t.Fatalf("%d connections accepted, want 2 (one before, one after the restart)", acc)
			}
		})
	}
}

func TestIdleConnectionClosedByServerIsReplacedWithoutError(t *testing.T) {
	// in_forward closes all connections when it pauses under back-pressure,
	// and a restart does too; a stale pooled connection must not cost a
	// failed Send (nor, with acks off, a silently lost batch).
	for _, ack := range []bool{true, false} {
		t.Run(fmt.Sprintf("ack=%v", ack), func(t *testing.T) {
			srv := fwdtest.Start(t, fwdtest.Options{})
			cl := newClient(t, srv, func(c *forward.Config) { c.DisableAck = !ack })
			b, _ := batch(v1Entries, "t", "x", 1)
			if err := cl.Send(context.Background(), "t", b, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.WaitEvents(1, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			srv.Restart()
			if err := cl.Send(context.Background(), "t", b, 1); err != nil {
				t.Fatalf("Send after the idle connection was closed: %v", err)
			}
			if _, err := srv.WaitEvents(2, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if d := cl.Stats().Dials; d != 2 {
				t.Fatalf("%d dials, want 2", d)
			}
		})
	}
}

func TestIdleConnectionOlderThanMaxIdleTimeIsNotReused(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	cl := newClient(t, srv, func(c *forward.Config) { c.MaxIdleTime = 50 * time.Millisecond })
	b, _ := batch(v1Entries, "t", "x", 1)
	for i := 0; i < 2; i++ {
		if err := cl.Send(context.Background(), "t", b, 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := cl.Stats().Dials; d != 2 {
		t.Fatalf("%d dials, want 2", d)
	}
}

func TestWriteToAServerThatStopsReadingTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, 1)
	go func() {
		if nc, err := ln.Accept(); err == nil {
			held <- nc // accepted, never read
		}
	}()
	defer func() {
		select {
		case nc := <-held:
			nc.Close()
		default:
		}
	}()
	ep, _ := forward.ParseURL("tcp://" + ln.Addr().String())
	cl, err := forward.NewClient(forward.Config{Endpoint: ep, WriteTimeout: 300 * time.Millisecond, MaxMessageBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	big := make([]byte, 64<<20) // more than loopback socket buffers hold
	start := time.Now()
	err = cl.Send(context.Background(), "t", big, 1)
	var fe *forward.Error
	if !errors.As(err, &fe) || fe.Op != "write" || !forward.IsRetryable(err) {
		t.Fatalf("Send = %v; want a retryable write error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("write gave up after %v with a 300ms timeout", d)
	}
}

func TestSendHonoursContext(t *testing.T) {
	cases := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancelled while waiting for the ack", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline before the ack", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
		{"already cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := fwdtest.Start(t, fwdtest.Options{AckDelay: 10 * time.Second})
			cl := newClient(t, srv, nil)
			b, _ := batch(v1Entries, "t", "x", 1)
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			err := cl.Send(ctx, "t", b, 1)
			if !errors.Is(err, tc.want) || !forward.IsRetryable(err) {
				t.Fatalf("Send = %v; want retryable %v", err, tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("Send returned after %v", d)
			}
		})
	}
}

func TestCloseInterruptsSendsAndLaterSendsFailFast(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{AckDelay: 10 * time.Second})
	cl := newClient(t, srv, nil)
	b, _ := batch(v1Entries, "t", "x", 1)
	done := make(chan error, 1)
	go func() { done <- cl.Send(context.Background(), "t", b, 1) }()
	if _, err := srv.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cl.Close()
	select {
	case err := <-done:
		if !errors.Is(err, forward.ErrClosed) {
			t.Fatalf("in-flight Send = %v, want ErrClosed", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("in-flight Send still blocked 3s after Close")
	}
	err := cl.Send(context.Background(), "t", b, 1)
	if !errors.Is(err, forward.ErrClosed) || time.Since(start) > 3*time.Second {
		t.Fatalf("Send after Close = %v", err)
	}
	if err := cl.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestServerRequiringHandshakeIsReportedAsSuch(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{HELO: true})
	cl := newClient(t, srv, nil)
	b, _ := batch(v1Entries, "t", "x", 1)
	err := cl.Send(context.Background(), "t", b, 1)
	if !errors.Is(err, forward.ErrHandshakeRequired) || forward.IsRetryable(err) {
		t.Fatalf("Send = %v; want non-retryable ErrHandshakeRequired", err)
	}
}

func TestHandshakeIsDetectedEvenWithoutAcks(t *testing.T) {
	// Without acks nothing is read after a write, so the first batch is lost
	// to a HELO server; the greeting waiting on the idle connection must
	// then stop the next Send.
	srv := fwdtest.Start(t, fwdtest.Options{HELO: true})
	cl := newClient(t, srv, func(c *forward.Config) { c.DisableAck = true })
	b, _ := batch(v1Entries, "t", "x", 1)
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for !errors.Is(err, forward.ErrHandshakeRequired) && time.Now().Before(deadline) {
		err = cl.Send(context.Background(), "t", b, 1)
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(err, forward.ErrHandshakeRequired) {
		t.Fatalf("Send = %v; want ErrHandshakeRequired by now", err)
	}
}

func TestMessageTooLargeIsRejectedBeforeSending(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	var big []byte
	n := 0
	for len(big) < 5000 {
		big = fwdtest.AppendEntry(big, t0, nil, map[string]any{"pad": strings.Repeat("x", 100)})
		n++
	}
	cases := []struct {
		name string
		gzip bool
		max  int
	}{
		{"entries over the limit", false, len(big) - 1},
		{"entries fit, message does not", false, len(big) + 3},
		// in_forward also caps the decompressed size.
		{"gzip compresses under the limit, entries are over it", true, len(big) - 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newClient(t, srv, func(c *forward.Config) {
				c.MaxMessageBytes = tc.max
				if tc.gzip {
					c.Compression = forward.CompressionGzip
				}
			})
			err := cl.Send(context.Background(), "t", big, n)
			if !errors.Is(err, forward.ErrMessageTooLarge) || forward.IsRetryable(err) {
				t.Fatalf("Send = %v; want non-retryable ErrMessageTooLarge", err)
			}
		})
	}
	if len(srv.Messages()) != 0 {
		t.Fatalf("%d messages reached the server", len(srv.Messages()))
	}
}

func TestSendValidatesArguments(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	cl := newClient(t, srv, nil)
	b, _ := batch(v1Entries, "t", "x", 1)
	cases := []struct {
		name    string
		tag     string
		entries []byte
		count   int
	}{
		{"empty tag", "", b, 1},
		{"negative count", "t", b, -1},
		{"count without entries", "t", nil, 1},
		{"entries without count", "t", b, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := cl.Send(context.Background(), tc.tag, tc.entries, tc.count)
			if !errors.Is(err, forward.ErrInvalidArgument) || forward.IsRetryable(err) {
				t.Fatalf("Send = %v; want non-retryable ErrInvalidArgument", err)
			}
		})
	}
	if err := cl.Send(context.Background(), "t", nil, 0); err != nil {
		t.Fatalf("empty batch: %v; want a no-op", err)
	}
	if st := srv.Stats(); st.Accepted != 0 {
		t.Fatalf("%d connections for calls that send nothing", st.Accepted)
	}
}

func TestNewClientValidatesConfig(t *testing.T) {
	ep := forward.Endpoint{Network: "tcp", Address: "127.0.0.1:24224"}
	cases := []struct {
		name string
		cfg  forward.Config
		want string
	}{
		{"no endpoint", forward.Config{}, "network"},
		{"udp", forward.Config{Endpoint: forward.Endpoint{Network: "udp", Address: "x:1"}}, "network"},
		{"no address", forward.Config{Endpoint: forward.Endpoint{Network: "tcp"}}, "address"},
		{"negative ack timeout", forward.Config{Endpoint: ep, AckTimeout: -1}, "ack timeout"},
		{"negative idle conns", forward.Config{Endpoint: ep, MaxIdleConns: -1}, "idle conns"},
		{"unknown compression", forward.Config{Endpoint: ep, Compression: 7}, "compression"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := forward.NewClient(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewClient = %v; want an error about %s", err, tc.want)
			}
		})
	}
	cl, err := forward.NewClient(forward.Config{Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	got := cl.Config()
	if got.ConnectTimeout != forward.DefaultConnectTimeout || got.WriteTimeout != forward.DefaultWriteTimeout ||
		got.AckTimeout != forward.DefaultAckTimeout || got.MaxIdleConns != forward.DefaultMaxIdleConns ||
		got.MaxIdleTime != forward.DefaultMaxIdleTime || got.MaxMessageBytes != forward.DefaultMaxMessageBytes {
		t.Fatalf("defaults not applied: %+v", got)
	}
}

func TestParseCompression(t *testing.T) {
	cases := map[string]forward.Compression{"": forward.CompressionNone, "none": forward.CompressionNone, "GZIP": forward.CompressionGzip}
	for in, want := range cases {
		if got, err := forward.ParseCompression(in); err != nil || got != want {
			t.Errorf("ParseCompression(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := forward.ParseCompression("zstd"); err == nil {
		t.Error("zstd accepted")
	}
}

func TestSteadyStateSendDoesNotAllocate(t *testing.T) {
	// The receiver in Discard mode allocates nothing either, so any
	// allocation counted here is the client's.
	srv := fwdtest.Start(t, fwdtest.Options{Discard: true})
	cl := newClient(t, srv, nil)
	b, _ := batch(v2Entries, "t", "x", 100)
	ctx := context.Background()
	if err := cl.Send(ctx, "t", b, 100); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if err := cl.Send(ctx, "t", b, 100); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per Send, want 0", allocs)
	}
}
