package forward

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"
)

// On Fluent Bit's engine thread (an output without workers) the flush runs
// on the thread that also serves this Fluent Bit's in_forward. In the loop
// the plugin is made for (ctlive → forward → in_forward of the same
// process) the ack cannot come before the flush returns: waiting for it
// holds up every input for ack_timeout and delivers nothing.
//
// There, a message is written and, if its ack does not come within a short
// wait, its connection is parked with the ack still owed, and the flush is
// retried. Fluent Bit's event loop then runs, in_forward ingests the
// message and writes its ack; the retry builds the same message again
// (same records, same bytes), finds it parked, and reads that ack instead
// of sending again. A parked message whose ack never comes is sent again,
// as after any ack timeout: at least once, never lost.

const (
	// engineAckWait is how long the engine thread waits for an ack before
	// parking: an in_forward on another thread or host answers in well
	// under it; the one of this process never does.
	engineAckWait = 250 * time.Millisecond
	// collectWait bounds reading a parked message's ack on the retry: it
	// has had the whole retry delay to arrive.
	collectWait = 100 * time.Millisecond
	// maxParked bounds the connections held for owed acks; past it the
	// oldest is closed and its message will be sent again.
	maxParked = 64
	// parkedLife closes a parked connection that no retry came for.
	parkedLife = 10 * time.Minute
)

type messageKey [sha256.Size]byte

// keyOf identifies a message by its tag and entries: a retry of the same
// records builds the same bytes.
func keyOf(tag string, entries []byte) messageKey {
	h := sha256.New()
	h.Write([]byte(tag))
	h.Write([]byte{0})
	h.Write(entries)
	var k messageKey
	h.Sum(k[:0])
	return k
}

type parkedConn struct {
	c     *conn
	count int
	at    time.Time
}

type parking struct {
	mu    sync.Mutex
	conns map[messageKey]parkedConn
	// loop is set once an ack was found waiting on a retry: the receiver
	// answers only between flushes, so later flushes park at once.
	loop bool
}

// errParked is what a Deliver on the engine thread returns when messages
// were written and their acks are owed: retryable, and the retry collects
// them.
type errParked struct{ n int }

func (e errParked) Error() string {
	return fmt.Sprintf("forward: %d messages written on Fluent Bit's engine thread, which must return before an in_forward "+
		"of this Fluent Bit can ack them: the retry reads their acks without sending them again (set workers to avoid the round trip)", e.n)
}

// IsParked reports whether err says that messages await their acks.
func IsParked(err error) bool {
	var p errParked
	return errors.As(err, &p)
}

// SendOrPark is Send for the engine thread: it returns parked=true when the
// message was written but its ack did not come within a short wait (none
// when mayWait is false: a message of this flush was parked already); the
// connection then waits, with the ack owed, for a later SendOrPark of the
// same message. A message found parked is not sent again if its ack has
// arrived.
func (cl *Client) SendOrPark(ctx context.Context, tag string, entries []byte, count int, mayWait bool) (parked bool, err error) {
	if cl.cfg.DisableAck || count == 0 {
		return false, cl.Send(ctx, tag, entries, count)
	}
	key := keyOf(tag, entries)
	if p, ok := cl.unpark(key); ok {
		if cl.collect(ctx, p) {
			cl.messages.Add(1)
			cl.entries.Add(uint64(p.count))
			return false, nil
		}
		// No ack: in_forward may have dropped the message; send it again.
	}
	cl.parked.mu.Lock()
	wait := engineAckWait
	if cl.parked.loop || !mayWait {
		wait = 0
	}
	cl.parked.mu.Unlock()

	c, err := cl.get(ctx)
	if err != nil {
		cl.failures.Add(1)
		return false, cl.fail("dial", ioError(ctx, err))
	}
	cfg := cl.cfg
	cfg.ackLater = true
	if op, err := c.send(ctx, &cfg, tag, entries, count); err != nil {
		cl.discard(c)
		cl.failures.Add(1)
		return false, cl.fail(op, err)
	}
	if ready, err := c.waitReadable(wait); err != nil || ready {
		// The ack (or the end of the connection) came: read it as Send does.
		if err == nil {
			err = c.nc.SetReadDeadline(deadline(ctx, time.Now(), cl.cfg.AckTimeout))
		}
		if err == nil {
			err = c.readAck(ctx, cl.cfg.AckTimeout)
		}
		if err != nil {
			cl.discard(c)
			cl.failures.Add(1)
			return false, cl.fail("ack", err)
		}
		cl.put(c)
		cl.messages.Add(1)
		cl.entries.Add(uint64(count))
		return false, nil
	}
	cl.park(key, parkedConn{c: c, count: count, at: time.Now()})
	return true, nil
}

// collect reads the ack owed on a parked connection; false (and the
// connection closed) when it is not there.
func (cl *Client) collect(ctx context.Context, p parkedConn) bool {
	ready, err := p.c.waitReadable(collectWait)
	if err == nil && ready {
		err = p.c.nc.SetReadDeadline(deadline(ctx, time.Now(), collectWait))
		if err == nil {
			err = p.c.readAck(ctx, collectWait)
		}
		if err == nil {
			cl.parked.mu.Lock()
			cl.parked.loop = true
			cl.parked.mu.Unlock()
			cl.put(p.c)
			return true
		}
	}
	cl.discard(p.c)
	return false
}

func (cl *Client) park(key messageKey, p parkedConn) {
	cl.parked.mu.Lock()
	defer cl.parked.mu.Unlock()
	if cl.parked.conns == nil {
		cl.parked.conns = map[messageKey]parkedConn{}
	}
	if old, ok := cl.parked.conns[key]; ok {
		cl.discard(old.c)
	}
	// Too old, or the oldest of too many: closed, and its message will be
	// sent again if its retry ever comes.
	var oldest messageKey
	for k, q := range cl.parked.conns {
		if time.Since(q.at) > parkedLife {
			cl.discard(q.c)
			delete(cl.parked.conns, k)
		} else if o, ok := cl.parked.conns[oldest]; !ok || q.at.Before(o.at) {
			oldest = k
		}
	}
	if o, ok := cl.parked.conns[oldest]; ok && len(cl.parked.conns) >= maxParked {
		cl.discard(o.c)
		delete(cl.parked.conns, oldest)
	}
	cl.parked.conns[key] = p
}

func (cl *Client) unpark(key messageKey) (parkedConn, bool) {
	cl.parked.mu.Lock()
	defer cl.parked.mu.Unlock()
	p, ok := cl.parked.conns[key]
	if ok {
		delete(cl.parked.conns, key)
	}
	return p, ok
}

// Parked is how many messages await their acks.
func (cl *Client) Parked() int {
	cl.parked.mu.Lock()
	defer cl.parked.mu.Unlock()
	return len(cl.parked.conns)
}
