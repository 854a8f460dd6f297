package forward

import (
	"context"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/fwdtest"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
)

func engineDeliver(s *Sink, evs []*record.Event) (*sink.Batch, error) {
	b := new(sink.Batch)
	b.Reset("tail.0", evs)
	return b, s.Deliver(sink.OnEngineThread(context.Background()), b)
}

// waitAcks waits until the server has acked n messages in all; bounded.
func waitAcks(t *testing.T, srv *fwdtest.Server, n int) {
	t.Helper()
	for range 500 {
		if srv.Stats().Acks >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the server acked %d messages, want %d", srv.Stats().Acks, n)
}

// On the engine thread, in a loop into this Fluent Bit's own in_forward,
// the flush writes its messages and answers retry at once instead of
// waiting ack_timeout; the retry reads the acks that came in between and
// sends nothing again: each record is stored once.
func TestEngineThreadParksMessagesAndTheRetryCollectsTheirAcks(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	g := fwdtest.NewGate(t, srv.Addr())
	s := newSink(t, "url", g.URL())
	chunk := chunkOf("[socketIO] [AGM] newContact a", "[socketIO] [ACME] newContact b", "[socketIO] [AGM] endContact c")

	b, err := engineDeliver(s, events(t, chunk))
	if !IsParked(err) || sink.IsPermanent(err) {
		t.Fatalf("first attempt: err = %v, want the messages parked", err)
	}
	for i := range b.Events {
		if b.IsDone(i) {
			t.Fatalf("event %d counted as delivered before its ack", i)
		}
	}
	if s.client.Parked() != 3 {
		t.Fatalf("%d messages parked, want 3 (one per tag)", s.client.Parked())
	}

	g.Release() // the flush returned: in_forward reads and acks
	if _, err := srv.WaitEvents(3, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	waitAcks(t, srv, 3)

	b, err = engineDeliver(s, events(t, chunk)) // Fluent Bit's retry of the chunk
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	for i := range b.Events {
		if !b.IsDone(i) {
			t.Errorf("event %d not delivered by the retry", i)
		}
	}
	if got := srv.Stats().Messages; got != 3 {
		t.Errorf("the server got %d messages, want 3: the retry sent again", got)
	}
	if len(srv.Events()) != 3 || s.client.Parked() != 0 {
		t.Errorf("%d records stored, %d still parked; want 3 and 0", len(srv.Events()), s.client.Parked())
	}

	// Having seen acks come only between flushes, the next flush parks
	// without waiting for them.
	next := chunkOf("[socketIO] [AGM] newContact d")
	if _, err := engineDeliver(s, events(t, next)); !IsParked(err) {
		t.Fatalf("next flush: err = %v, want parked", err)
	}
}

// A parked message whose ack never comes is sent again by the retry: at
// least once, never lost.
func TestAParkedMessageWithoutAckIsSentAgain(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{Ack: fwdtest.AckNone})
	s := newSink(t, "url", srv.URL())
	chunk := chunkOf("[socketIO] [AGM] newContact a")
	for attempt := 1; attempt <= 2; attempt++ {
		if _, err := engineDeliver(s, events(t, chunk)); !IsParked(err) {
			t.Fatalf("attempt %d: err = %v, want parked", attempt, err)
		}
		if _, err := srv.WaitEvents(attempt, 10*time.Second); err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	if got := srv.Stats().Messages; got != 2 {
		t.Errorf("the server got %d messages, want 2", got)
	}
}

// Off the engine thread nothing changes: Send waits for the ack.
func TestWorkerThreadsWaitForTheAck(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	s := newSink(t, "url", srv.URL())
	b, err := deliver(s, events(t, chunkOf("[socketIO] [AGM] newContact a")))
	if err != nil || !b.IsDone(0) || s.client.Parked() != 0 {
		t.Fatalf("err = %v, done = %v, parked = %d", err, b.IsDone(0), s.client.Parked())
	}
}
