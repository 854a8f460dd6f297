package pipeline

import "sync/atomic"

// Stats are an instance's counters, reported at exit. The pipeline alone
// counts: sinks only mark what they delivered or rejected in the Batch.
type Stats struct {
	Records      atomic.Int64 // log records received
	Enriched     atomic.Int64 // records that were CTLive-shaped
	Delivered    atomic.Int64 // records the downstream accepted
	Rejected     atomic.Int64 // records the downstream refused for good
	NotRouted    atomic.Int64 // records whose tenant is not routed to this instance
	Redacted     atomic.Int64 // credentials and personal data replaced (one per place)
	Retries      atomic.Int64 // flushes answered with FLB_RETRY
	CorruptChunk atomic.Int64 // chunks that failed to decode
	Panics       atomic.Int64 // panics recovered at the cgo boundary
}
