// Package sink defines where enriched records go. Each downstream (stdout,
// forward, elasticsearch, loki) lives in its own package and implements
// Sink; the plugin picks one per output instance and binds it, at
// construction, to its keys, its logger and the record layout.
package sink

import (
	"context"
	"errors"
	"fmt"

	"github.com/ctlive/ctlive-fluent-bit/record"
)

// Sink delivers the records of one flush. Fluent Bit's workers call Deliver
// concurrently, so implementations are safe for concurrent use and keep no
// per-flush state outside the Batch.
type Sink interface {
	// Deliver sends b's events downstream. For each event that reached the
	// downstream it calls b.Done, for each the downstream refused for good
	// b.Reject. A non-nil error means the rest may pass later: the flush
	// returns FLB_RETRY, Fluent Bit keeps the chunk, and the retry skips the
	// events already done. Errors wrapped with Permanent fail the chunk.
	// The caller counts and logs what was delivered and rejected.
	Deliver(ctx context.Context, b *Batch) error
	// Close releases connections; Deliver is not called afterwards.
	Close() error
}

// Batch is one flush's events, in chunk order, group markers included.
// Events point into Fluent Bit's chunk buffer and the Enrich stage's
// memory: a sink must finish with them, or copy them, before Deliver
// returns.
type Batch struct {
	Tag    string
	Events []*record.Event

	done     []bool
	rejected int
	reasons  []Rejection
	classes  []ClassCount
	sent     int
	skipped  int
}

// ClassCount is how many records a flush refused for good for one class
// of reason.
type ClassCount struct {
	Class string
	N     int
}

// Classes of reasons, the label of ctlive_records_rejected_total: short
// and fixed, where a reason's text is neither.
const (
	TooLarge  = "too_large"  // above a size limit: max_message_size, HTTP 413
	BadTenant = "bad_tenant" // a tenant that cannot be an HTTP tenant ID
	// TenantCase: a tenant that a lower-cased name (an Elasticsearch
	// index) would merge with another tenant (agm with AGM).
	TenantCase = "tenant_case"
	Other      = "other"
)

// HTTPClass is the class of a refusal known only by its HTTP status.
func HTTPClass(status int) string { return fmt.Sprintf("http_%d", status) }

// Rejection is a record the downstream refused for good, and why.
type Rejection struct {
	Index  int
	Reason string
}

// MaxReasons bounds the reasons a Batch keeps: the rest are only counted.
const MaxReasons = 5

// Reset prepares a reused Batch for a new flush.
func (b *Batch) Reset(tag string, events []*record.Event) {
	b.Tag, b.Events, b.rejected, b.reasons = tag, events, 0, b.reasons[:0]
	b.classes, b.sent, b.skipped = b.classes[:0], 0, 0
	if cap(b.done) < len(events) {
		b.done = make([]bool, len(events))
	}
	b.done = b.done[:len(events)]
	clear(b.done)
}

// Done marks event i delivered (or, for a group marker, dealt with).
func (b *Batch) Done(i int) { b.done[i] = true }

// Reject marks event i as refused for good by the downstream: it is
// counted and reported, and never retried. Its class is Other.
func (b *Batch) Reject(i int, reason string) { b.RejectAs(i, Other, reason) }

// RejectAs is Reject with the reason's class (TooLarge, HTTPClass(400), an
// Elasticsearch error type): short, from a small set, it labels the count.
func (b *Batch) RejectAs(i int, class, reason string) {
	if b.done[i] {
		return
	}
	b.done[i] = true
	b.rejected++
	if len(b.reasons) < MaxReasons {
		b.reasons = append(b.reasons, Rejection{i, reason})
	}
	for k := range b.classes {
		if b.classes[k].Class == class {
			b.classes[k].N++
			return
		}
	}
	b.classes = append(b.classes, ClassCount{class, 1})
}

// Skip marks event i as not sent because it has no destination here (a
// Loki tenant_id that renders no value): it counts as not routed, like a
// record whose tenant is not routed to the instance, and is never retried.
func (b *Batch) Skip(i int) {
	if b.done[i] {
		return
	}
	b.done[i] = true
	b.skipped++
}

// Skipped is how many events this flush skipped.
func (b *Batch) Skipped() int { return b.skipped }

// RejectedBy counts this flush's rejections by class.
func (b *Batch) RejectedBy() []ClassCount { return b.classes }

// Sent records n bytes handed to the downstream: forward messages as
// written, HTTP request bodies before compression, stdout lines.
func (b *Batch) Sent(n int) { b.sent += n }

// SentBytes is what Sent added up.
func (b *Batch) SentBytes() int { return b.sent }

// IsDone reports whether event i was delivered or rejected.
func (b *Batch) IsDone(i int) bool { return b.done[i] }

// Rejected is how many events this flush rejected for good.
func (b *Batch) Rejected() int { return b.rejected }

// Reasons are the first MaxReasons rejections of the flush.
func (b *Batch) Reasons() []Rejection { return b.reasons }

// Delivered is how many records (not group markers) the downstream took.
func (b *Batch) Delivered() int {
	n := 0
	for i, ev := range b.Events {
		if b.done[i] && ev.IsRecord() {
			n++
		}
	}
	return n - b.rejected - b.skipped
}

type engineThreadKey struct{}

// OnEngineThread marks ctx for a flush that runs on Fluent Bit's engine
// thread (the output has no workers): that thread also serves this Fluent
// Bit's inputs, so an in_forward of the same process cannot answer before
// Deliver returns.
func OnEngineThread(ctx context.Context) context.Context {
	return context.WithValue(ctx, engineThreadKey{}, true)
}

// IsEngineThread reports whether ctx was marked with OnEngineThread.
func IsEngineThread(ctx context.Context) bool {
	on, _ := ctx.Value(engineThreadKey{}).(bool)
	return on
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
