// Package pipeline is what one `ctlive` output instance does with a chunk:
// decode it (record), enrich each record (enrich: parse, tenant, route,
// redact), hand the routed ones to the instance's sink, and count what
// happened. It is plain Go; the cgo exports in plugin/ only read the
// configuration, keep the instance and call Flush, so everything here is
// tested and benchmarked without Fluent Bit.
package pipeline

import (
	"context"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/metrics"
	"github.com/ctlive/ctlive-fluent-bit/parser"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
)

// Status is a flush result, with Fluent Bit's values (FLB_ERROR is 0).
type Status int

const (
	Error Status = 0 // the chunk is dropped: retrying cannot help
	OK    Status = 1
	Retry Status = 2 // Fluent Bit keeps the chunk and flushes it again later
)

func (s Status) String() string {
	switch s {
	case OK:
		return "FLB_OK"
	case Retry:
		return "FLB_RETRY"
	}
	return "FLB_ERROR"
}

// Pipeline is one output instance. Flush is called concurrently by Fluent
// Bit's workers, so everything on its path is read-only after New or owned
// by the flush (pooled per call).
type Pipeline struct {
	Name  string
	Log   *flblog.Logger
	Stats Stats

	stage    *enrich.Stage
	sink     sink.Sink
	sinkName string
	progress progressMap
	flushes  sync.Pool
	ctx      context.Context
	cancel   context.CancelFunc

	engineWarned atomic.Bool
	engineCtx    context.Context // ctx marked with sink.OnEngineThread
	metrics      *metrics.Instance
	metricsAddr  string // where this process serves them, when this instance asked
}

// SinkFactory builds a sink from the instance's properties, bound to the
// instance's logger and record layout.
type SinkFactory func(r *config.Reader, log *flblog.Logger, l *record.Layout) (sink.Sink, error)

// Sinks maps the `sink` key's values to their constructors.
var Sinks = map[string]SinkFactory{}

// DefaultSink is used when `sink` is not set.
const DefaultSink = "stdout"

// Options are what the host tells New beyond the properties.
type Options struct {
	// RawEnv says the host hands the keys marked Env over raw, ${VAR}
	// unexpanded: it took the plugin's config map, whose entries for them
	// carry FLB_CONFIG_MAP_DYNAMIC_ENV. New then expands them itself and
	// refuses to start when one names an unset or empty variable.
	RawEnv bool
	// LookupEnv reads a variable for RawEnv; config.LookupEnv when nil.
	LookupEnv func(string) (string, bool)
}

// New reads and validates every property of the instance. It fails with
// one error naming each bad key, so the agent refuses to start with a line
// that says what to fix.
func New(name string, get config.Getter) (*Pipeline, error) {
	return NewWith(name, get, Options{})
}

// NewWith is New for a host described by opts.
func NewWith(name string, get config.Getter, opts Options) (*Pipeline, error) {
	get, unset := expandEnvKeys(get, opts)
	r := config.NewReader(get)
	for _, err := range unset {
		r.Add(err)
	}
	checkMisspelt(r, get)
	level, err := flblog.ParseLevel(r.String("plugin_log_level", "info"))
	r.Errorf("plugin_log_level", err)
	p := &Pipeline{Name: name, Log: flblog.New(name, level)}

	stage, err := enrich.New(enrich.Config{
		LogKey:         r.String("log_key", "log"),
		NestUnder:      r.Raw("nest_under"),
		TimeFromLine:   r.Bool("time_from_line", true),
		Components:     names(r, "components"),
		KnownTenants:   names(r, "known_tenants"),
		Tenants:        names(r, "tenants"),
		ExcludeTenants: names(r, "exclude_tenants"),
		DefaultTenant:  r.Raw("default_tenant"),
		Redact:         r.Bool("redact", true),
		Mask:           names(r, "mask"),
		MaskKey:        r.Secret("mask_key"),
	})
	r.Add(err)
	p.stage = stage
	gc, limit := readRuntime(r)

	p.metrics = metrics.NewInstance(name, r.Int("metrics_max_tenants", 50, 0, 10000))
	if addr := r.Raw("metrics_listen"); addr != "" {
		bound, err := metrics.Listen(addr)
		r.Errorf("metrics_listen", err)
		p.metricsAddr = bound
	}

	p.sinkName = strings.ToLower(r.String("sink", DefaultSink))
	checkBlank(r, p.sinkName)
	factory, ok := Sinks[p.sinkName]
	if !ok {
		known := slices.Sorted(maps.Keys(Sinks))
		r.Errorf("sink", fmt.Errorf("unknown sink %q (one of %s)", p.sinkName, strings.Join(known, ", ")))
	}
	if err := r.Err(); err != nil {
		p.metrics.Close()
		return nil, err
	}
	s, err := factory(r, p.Log, stage.Layout())
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		if s != nil {
			s.Close()
		}
		p.metrics.Close()
		return nil, err
	}
	p.sink = s
	// Process-wide (every instance shares one Go runtime), so only once the
	// instance is sure to start.
	if gc != 0 {
		debug.SetGCPercent(gc)
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.engineCtx = sink.OnEngineThread(p.ctx)
	p.flushes.New = func() any { return &flushState{tally: metrics.NewTally()} }
	return p, nil
}

// names reads a list key that names things (tenants, components, fields).
// A key that is set but names nothing (`tenants ,,,`, or blanks and line
// breaks from a variable) is refused: an allow-list that silently became
// empty would take every tenant.
func names(r *config.Reader, key string) []string {
	list := r.List(key)
	r.Check(len(list) > 0 || r.Given(key) == "", key, r.Given(key), "names nothing: leave the key out for none")
	return list
}

// Describe summarises the instance for its start-up log line.
func (p *Pipeline) Describe() string {
	d := "sink=" + p.sinkName + " " + p.stage.Describe()
	if p.metricsAddr != "" {
		d += " metrics=http://" + p.metricsAddr + metrics.Path
	}
	return d
}

// KeysOfOtherSinks says, one line each, which keys of get that only another
// sink reads are set (`index` with sink stdout): the plugin logs them at
// start. get is the getter the instance was made with.
func (p *Pipeline) KeysOfOtherSinks(get config.Getter) []string {
	return keysOfOtherSinks(get, p.sinkName)
}

// Redacts reports whether the instance replaces credentials (false only
// with `redact off`, which the plugin announces at start).
func (p *Pipeline) Redacts() bool { return p.stage.Redacts() }

// window is how many records one flush decodes, enriches and hands to the
// sink at a time. Fluent Bit's chunks reach ~2 MB (over 10,000 CTLive
// lines); working through them in windows bounds the plugin's memory and
// keeps a window's events in cache between parsing and encoding, at the
// cost of a few more requests per chunk.
const window = 4096

// flushState is the memory one flush works in, reused across flushes.
type flushState struct {
	work     enrich.Work     // what the window's events point into, beside the chunk
	events   []record.Event  // the window's entries, in chunk order
	batch    []*record.Event // those handed to the sink
	index    []int           // batch position -> chunk position (-1: a carried group start)
	done     []bool          // chunk position -> delivered (this attempt or an earlier one)
	group    record.Event    // the open log group's start marker, carried into the next window
	b        sink.Batch
	tally    *metrics.Tally // records by tenant and event, added to the metrics once per flush
	tallying bool           // a listener serves the metrics: keep the tally
}

// Thread is the kind of thread Fluent Bit flushes on.
type Thread int

const (
	// WorkerThread is an output worker ("flb-out-*"): the output has
	// `workers`.
	WorkerThread Thread = iota
	// EngineThread is Fluent Bit's engine thread ("flb-pipeline"), which
	// also runs every input: the output has no `workers`.
	EngineThread
)

// FlushOn is Flush, told which thread Fluent Bit called it on. The first
// flush on the engine thread is announced at warn level, once: it holds up
// every input while it runs, and a forward sink looping into this Fluent
// Bit's in_forward cannot get its acks there.
func (p *Pipeline) FlushOn(th Thread, data []byte, tag string) Status {
	if th != EngineThread {
		return p.flush(p.ctx, data, tag)
	}
	if p.engineWarned.CompareAndSwap(false, true) {
		p.Log.Warnf("%s", engineThreadWarning(p.sinkName))
	}
	return p.flush(p.engineCtx, data, tag)
}

func engineThreadWarning(sink string) string {
	msg := "flushing on Fluent Bit's engine thread because this output has no `workers`: each flush holds up every input until it returns"
	if sink == "forward" {
		msg += "; with sink forward into this Fluent Bit's own in_forward, which that same thread serves, an ack can only be read " +
			"after the flush returns, so each chunk is written, answered with a retry, and confirmed by that retry without being sent again: " +
			"a retry per chunk, and a chunk whose retries Fluent Bit has run out of (retry_limit) is not confirmed"
	}
	return msg + ". Set `workers 1` (or more) on this output"
}

// Flush processes one chunk. data is Fluent Bit's buffer: nothing may keep
// a reference to it after Flush returns.
func (p *Pipeline) Flush(data []byte, tag string) Status {
	return p.flush(p.ctx, data, tag)
}

func (p *Pipeline) flush(ctx context.Context, data []byte, tag string) (status Status) {
	start := time.Now()
	defer func() { p.metrics.FlushSeconds.UpdateDuration(start) }()
	defer func() {
		if v := recover(); v != nil {
			p.Stats.Panics.Add(1)
			p.metrics.Panics.Inc()
			p.Log.Errorf("recovered from a panic while flushing tag %q, chunk dropped: %v\n%s", tag, v, debug.Stack())
			status = Error
		}
	}()
	fs := p.flushes.Get().(*flushState)
	defer p.flushes.Put(fs)
	if fs.tallying = metrics.Serving(); fs.tallying {
		defer p.metrics.AddRecords(fs.tally)
	}

	fs.done = fs.done[:0]
	var key progressKey
	if p.progress.pending() {
		key = keyOf(tag, data)
		fs.done = append(fs.done, p.progress.take(key)...)
	}
	seen := len(fs.done) // entries an earlier attempt decoded, and counted
	earlier := doneCount(fs.done)
	inGroup, sent, rejected, delivered := false, 0, 0, 0
	var damage error // the chunk cannot be decoded past here
	damagedAt, dropped := 0, 0
	for rest, base := data, 0; len(rest) > 0; {
		n, next, truncated, err := p.decodeWindow(fs, rest, tag, max(seen-base, 0))
		if err != nil {
			// Deliver what decoded before the damage, as Fluent Bit's own
			// outputs do, then fail the chunk: retrying cannot mend it.
			damage, damagedAt, dropped = err, base+n, len(next)
			next = nil
		}
		if truncated > 0 {
			p.Log.Warnf("tag %q: %d records nest maps or arrays deeper than %d levels, as Fluent Bit cannot; written cut there (null)",
				tag, truncated, record.MaxDepth)
		}
		rest = next
		fs.batch, fs.index = fs.batch[:0], fs.index[:0]
		if inGroup { // records of a group that began in an earlier window
			fs.batch, fs.index = append(fs.batch, &fs.group), append(fs.index, -1)
		}
		for i := range n {
			ev := &fs.events[i]
			if ev.Group != record.NotGroup {
				inGroup = ev.Group == record.GroupStart
			}
			if base+i < len(fs.done) && fs.done[base+i] {
				continue // delivered by an earlier attempt of this chunk
			}
			if !ev.Routed {
				if base+i >= seen {
					p.Stats.NotRouted.Add(1)
					p.metrics.NotRouted.Inc()
				}
				continue
			}
			fs.batch, fs.index = append(fs.batch, ev), append(fs.index, base+i)
		}
		carried := len(fs.index) > 0 && fs.index[0] < 0
		if len(fs.batch) > 0 && !(carried && len(fs.batch) == 1) {
			b := &fs.b
			b.Reset(tag, fs.batch)
			err := p.sink.Deliver(ctx, b)
			p.count(b, fs.index, base, tag)
			if sink.IsPermanent(err) {
				p.Log.Errorf("tag %q: %d records dropped: %v", tag, len(fs.batch), err)
				return Error
			}
			for len(fs.done) < base+n {
				fs.done = append(fs.done, false)
			}
			for k, i := range fs.index {
				if i >= 0 && b.IsDone(k) {
					fs.done[i] = true
				}
			}
			sent, rejected, delivered = sent+len(fs.batch), rejected+b.Rejected(), delivered+b.Delivered()
			if err != nil {
				return p.retryLater(fs, key, tag, data, err)
			}
		}
		if i := lastGroupStart(fs.events[:n]); inGroup && i >= 0 {
			fs.group = fs.events[i] // copied: the window's memory is reused
		}
		base += n
	}
	if damage != nil {
		p.Stats.CorruptChunk.Add(1)
		p.metrics.Corrupt.Inc()
		p.Log.Errorf("tag %q: chunk of %d bytes damaged at entry %d: %d records before it delivered, the last %d bytes dropped: %v",
			tag, len(data), damagedAt, earlier+delivered, dropped, damage)
		return Error
	}
	if sent > 0 && rejected == sent {
		return Error // nothing was accepted: let Fluent Bit count the chunk as failed
	}
	return OK
}

// doneCount counts the records of a chunk that reached the downstream.
func doneCount(done []bool) int {
	n := 0
	for _, d := range done {
		if d {
			n++
		}
	}
	return n
}

// count adds a delivery's outcome to the statistics and logs the first
// records it rejected for good.
func (p *Pipeline) count(b *sink.Batch, index []int, base int, tag string) {
	p.Stats.Delivered.Add(int64(b.Delivered()))
	p.Stats.Rejected.Add(int64(b.Rejected()))
	p.metrics.Delivered.Add(b.Delivered())
	p.Stats.NotRouted.Add(int64(b.Skipped()))
	p.metrics.NotRouted.Add(b.Skipped())
	p.metrics.SentBytes.Add(b.SentBytes())
	for _, c := range b.RejectedBy() {
		p.metrics.Rejected(c.Class, c.N)
	}
	for _, r := range b.Reasons() {
		p.Log.Warnf("record %d of tag %q rejected for good, not retried: %s", index[r.Index], tag, r.Reason)
	}
	if n := b.Rejected() - len(b.Reasons()); n > 0 {
		p.Log.Warnf("%d more records of tag %q rejected for good", n, tag)
	}
}

// retryLater remembers what this attempt delivered and asks Fluent Bit to
// flush the chunk again.
func (p *Pipeline) retryLater(fs *flushState, key progressKey, tag string, data []byte, err error) Status {
	p.Stats.Retries.Add(1)
	p.metrics.Retries.Inc()
	if key == (progressKey{}) {
		key = keyOf(tag, data)
	}
	p.progress.put(key, append([]bool(nil), fs.done...))
	p.Log.Warnf("tag %q: delivery failed after %d records of the chunk, Fluent Bit will retry the rest: %v", tag, doneCount(fs.done), err)
	return Retry
}

// lastGroupStart returns the index of the window's last group start
// marker, or -1.
func lastGroupStart(evs []record.Event) int {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Group == record.GroupStart {
			return i
		}
	}
	return -1
}

// decodeWindow decodes up to window entries of data into fs.events and
// returns how many, what is left of data (from the damaged entry on, when
// err is set), and how many of the new records the encoders will cut at
// record.MaxDepth. The statistics count the records from the skip-th on:
// those before were counted by an earlier attempt of the chunk.
func (p *Pipeline) decodeWindow(fs *flushState, data []byte, tag string, skip int) (n int, rest []byte, truncated int, err error) {
	if len(fs.events) < window {
		fs.events = make([]record.Event, window)
	}
	fs.work.Reset() // the last window's events are delivered
	var e record.Entry
	for ; n < window && len(data) > 0; n++ {
		next, err := e.Decode(data)
		if err != nil {
			return n, data, truncated, err
		}
		data = next
		ev := &fs.events[n]
		redacted := fs.work.Redacted
		p.stage.Enrich(ev, &e, tag, &fs.work)
		if n >= skip && ev.IsRecord() { // counted once: a retry decodes the chunk again
			p.Stats.Records.Add(1)
			if d := fs.work.Redacted - redacted; d > 0 {
				p.Stats.Redacted.Add(d)
				p.metrics.Redacted.Add(int(d))
			}
			if ev.Fields.Shaped() && ev.Line != nil {
				p.Stats.Enriched.Add(1)
				p.metrics.Shaped.Inc()
			}
			if ev.Truncated() {
				p.Stats.Truncated.Add(1)
				p.metrics.Truncated.Inc()
				truncated++
			}
			if !fs.tallying {
				continue
			}
			// Fields are parsed for every line, routed here or not.
			event := metrics.None
			if ev.Line != nil && ev.Fields.Shaped() && ev.Fields.Event != parser.EventNone {
				event = ev.Fields.Event.String()
			}
			fs.tally.Add(ev.Tenant, event)
		}
	}
	return n, data, truncated, nil
}

// Close stops in-flight deliveries and releases the sink. Called once, from
// FLBPluginExitCtx.
func (p *Pipeline) Close() error {
	p.cancel()
	err := p.sink.Close()
	p.metrics.Close()
	s := &p.Stats
	p.Log.Infof("stopped: %d records (%d CTLive-shaped), %d delivered, %d rejected, %d not routed here, %d values redacted, %d retries, %d corrupt chunks, %d cut at %d levels, %d panics",
		s.Records.Load(), s.Enriched.Load(), s.Delivered.Load(), s.Rejected.Load(), s.NotRouted.Load(),
		s.Redacted.Load(), s.Retries.Load(), s.CorruptChunk.Load(), s.Truncated.Load(), record.MaxDepth, s.Panics.Load())
	return err
}
