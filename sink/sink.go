// Package sink defines where enriched records go. Each downstream (stdout,
// forward, elasticsearch, loki) lives in its own package and implements
// Sink; the plugin picks one per output instance.
package sink

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/record"
)

// Sink delivers the records of one flush. Fluent Bit's workers call Deliver
// concurrently, so implementations are safe for concurrent use and keep no
// per-flush state outside the Batch.
type Sink interface {
	// Deliver sends b's events downstream. For each event that reached the
	// downstream, or that the downstream rejected for good, it calls b.Done
	// (or b.Reject). A non-nil error means the rest may pass later: the flush
	// returns FLB_RETRY, Fluent Bit keeps the chunk, and the retry skips the
	// events already done. Errors wrapped with Permanent fail the chunk.
	Deliver(ctx context.Context, b *Batch) error
	// Close releases connections; Deliver is not called afterwards.
	Close() error
}

// Batch is one flush's events, in chunk order, group markers included.
// Events point into Fluent Bit's chunk buffer: a sink must finish with
// them, or copy them, before Deliver returns.
type Batch struct {
	Tag     string
	Events  []*record.Event
	Options *record.Options
	Log     *flblog.Logger
	Stats   *Stats

	done     []bool
	rejected int
}

// Reset prepares a reused Batch for a new flush.
func (b *Batch) Reset(tag string, events []*record.Event) {
	b.Tag, b.Events, b.rejected = tag, events, 0
	if cap(b.done) < len(events) {
		b.done = make([]bool, len(events))
	}
	b.done = b.done[:len(events)]
	clear(b.done)
}

// Done marks event i delivered.
func (b *Batch) Done(i int) { b.done[i] = true }

// Reject marks event i as refused for good by the downstream: it is
// counted and reported, and never retried.
func (b *Batch) Reject(i int, reason string) {
	if b.done[i] {
		return
	}
	b.done[i] = true
	b.rejected++
	if b.Stats != nil {
		b.Stats.Rejected.Add(1)
	}
	if b.Log != nil && b.rejected <= maxRejectLogs {
		b.Log.Warnf("record %d of tag %q rejected for good, not retried: %s", i, b.Tag, reason)
	}
}

// maxRejectLogs bounds the warnings one flush writes; the rest are counted.
const maxRejectLogs = 5

// IsDone reports whether event i was delivered or rejected.
func (b *Batch) IsDone(i int) bool { return b.done[i] }

// Rejected is how many events this flush rejected for good.
func (b *Batch) Rejected() int { return b.rejected }

// Stats are an instance's counters, reported at exit and at debug level.
type Stats struct {
	Records      atomic.Int64 // log records received
	Enriched     atomic.Int64 // records that were CTLive-shaped
	Delivered    atomic.Int64 // records the downstream accepted
	Rejected     atomic.Int64 // records the downstream refused for good
	NotRouted    atomic.Int64 // records whose tenant is not routed to this instance
	Retries      atomic.Int64 // flushes answered with FLB_RETRY
	CorruptChunk atomic.Int64 // chunks that failed to decode
	Panics       atomic.Int64 // panics recovered at the cgo boundary
}

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks an error that no retry can fix (the flush returns
// FLB_ERROR). Everything else a sink returns is retried.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
