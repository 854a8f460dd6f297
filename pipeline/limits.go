package pipeline

import (
	"strconv"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
)

// Bounds of the instance-wide keys that set the Go runtime (which every
// instance in the process shares).
const (
	// go_gc_percent: Go's default is 100. Below 25 the collector runs
	// after every few kilobytes a flush allocates and costs more CPU than
	// the work; above 10000 the heap goal is effectively unbounded: -1
	// (off) with go_memory_limit says that plainly.
	minGCPercent = 25
	maxGCPercent = 10000

	// go_memory_limit: below the plugin's live heap the collector runs
	// without pause: `go_memory_limit 1` made flushing 7.6 times slower
	// (issue #7). Measured with the stdout sink, flushing 2.5 MB chunks:
	// ~11 MB live after a collection, ~23 MB in use between collections
	// at Go's default go_gc_percent; the HTTP sinks add a request of up to
	// max_request_size and its gzip copy. 32M is the least that leaves one
	// flush room above that.
	minMemoryLimit = 32 * config.MB
	maxMemoryLimit = 1000 * config.GB
)

// readRuntime reads go_gc_percent (0 when unset) and go_memory_limit (0
// when unset).
func readRuntime(r *config.Reader) (gcPercent int, memoryLimit int64) {
	memoryLimit = r.Size("go_memory_limit", 0, minMemoryLimit, maxMemoryLimit)
	raw := r.Raw("go_gc_percent")
	if raw == "" {
		return 0, memoryLimit
	}
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil || n != -1 && (n < minGCPercent || n > maxGCPercent):
		r.Check(false, "go_gc_percent", raw, "must be -1 (collector off, with go_memory_limit) or a whole number from %d to %d",
			minGCPercent, maxGCPercent)
		return 0, memoryLimit
	case n == -1 && memoryLimit == 0:
		r.Check(false, "go_gc_percent", raw, "turns the collector off: set go_memory_limit too, or the heap grows without bound")
		return 0, memoryLimit
	}
	return n, memoryLimit
}
