// Package pipeline is what one `ctlive` output instance does with a chunk:
// decode it, parse and enrich each record, route it by tenant and hand it to
// the instance's sink. It is plain Go; the cgo exports in plugin/ only read
// the configuration, keep the instance and call Flush, so everything here
// is tested and benchmarked without Fluent Bit.
package pipeline

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
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
	Stats sink.Stats

	parser   *parser.Parser
	opts     record.Options
	sink     sink.Sink
	sinkName string
	route    router
	progress progressMap
	flushes  sync.Pool
	ctx      context.Context
	cancel   context.CancelFunc
}

// SinkFactory builds a sink from the instance's properties.
type SinkFactory func(r *config.Reader, log *flblog.Logger) (sink.Sink, error)

// Sinks maps the `sink` key's values to their constructors.
var Sinks = map[string]SinkFactory{}

// DefaultSink is used when `sink` is not set.
const DefaultSink = "stdout"

// New reads and validates every property of the instance. It fails with
// one error naming each bad key, so the agent refuses to start with a line
// that says what to fix.
func New(name string, get config.Getter) (*Pipeline, error) {
	r := config.NewReader(get)
	level, err := flblog.ParseLevel(r.String("plugin_log_level", "info"))
	r.Errorf("plugin_log_level", err)
	p := &Pipeline{Name: name, Log: flblog.New(name, level)}

	p.opts = record.Options{
		LogKey:       r.String("log_key", "log"),
		NestUnder:    r.Raw("nest_under"),
		TimeFromLine: r.Bool("time_from_line", true),
	}
	mask, err := newMasker(r.List("mask"), r.Secret("mask_key"))
	r.Errorf("mask", err)
	if mask != nil {
		p.opts.Mask = mask
	}
	p.opts.Prepare()
	p.parser = parser.New(parser.Options{
		Components:   r.List("components"),
		KnownTenants: r.List("known_tenants"),
	})
	p.route = newRouter(r.List("tenants"), r.List("exclude_tenants"), r.Raw("default_tenant"))
	if gc := r.Int("go_gc_percent", 0, -1, 100000); gc != 0 {
		debug.SetGCPercent(gc) // process-wide: every instance shares one Go runtime
	}
	if limit := r.Size("go_memory_limit", 0); limit > 0 {
		debug.SetMemoryLimit(limit)
	}

	p.sinkName = strings.ToLower(r.String("sink", DefaultSink))
	factory, ok := Sinks[p.sinkName]
	if !ok {
		names := make([]string, 0, len(Sinks))
		for n := range Sinks {
			names = append(names, n)
		}
		r.Errorf("sink", fmt.Errorf("unknown sink %q (one of %s)", p.sinkName, strings.Join(sortStrings(names), ", ")))
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	s, err := factory(r, p.Log)
	if err == nil {
		err = r.Err()
	}
	if c, ok := s.(interface{ CheckOptions(*record.Options) error }); ok && err == nil {
		err = c.CheckOptions(&p.opts) // combinations of the sink's keys and ours
	}
	if err != nil {
		if s != nil {
			s.Close()
		}
		return nil, err
	}
	p.sink = s
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.flushes.New = func() any { return new(flushState) }
	return p, nil
}

// Describe summarises the instance for its start-up log line.
func (p *Pipeline) Describe() string {
	s := "sink=" + p.sinkName + " log_key=" + p.opts.LogKey
	if d := p.route.describe(); d != "" {
		s += " " + d
	}
	return s
}

// flushState is the memory one flush works in, reused across flushes.
type flushState struct {
	events []record.Event  // decoded entries, in chunk order
	batch  []*record.Event // those handed to the sink
	index  []int           // batch position -> chunk position
	b      sink.Batch
}

// Flush processes one chunk. data is Fluent Bit's buffer: nothing may keep
// a reference to it after Flush returns.
func (p *Pipeline) Flush(data []byte, tag string) (status Status) {
	defer func() {
		if v := recover(); v != nil {
			p.Stats.Panics.Add(1)
			p.Log.Errorf("recovered from a panic while flushing tag %q, chunk dropped: %v\n%s", tag, v, debug.Stack())
			status = Error
		}
	}()
	fs := p.flushes.Get().(*flushState)
	defer p.flushes.Put(fs)

	n, err := p.decode(fs, data, tag)
	if err != nil {
		p.Stats.CorruptChunk.Add(1)
		p.Log.Errorf("tag %q: chunk of %d bytes dropped: %v", tag, len(data), err)
		return Error
	}
	var key progressKey
	var done []bool
	if p.progress.pending() {
		key = keyOf(tag, data)
		done = p.progress.take(key)
	}
	fs.batch, fs.index = fs.batch[:0], fs.index[:0]
	for i := 0; i < n; i++ {
		ev := &fs.events[i]
		if done != nil && i < len(done) && done[i] {
			continue // delivered by an earlier attempt of this chunk
		}
		if !p.route.admit(ev) {
			p.Stats.NotRouted.Add(1)
			continue
		}
		fs.batch = append(fs.batch, ev)
		fs.index = append(fs.index, i)
	}
	if len(fs.batch) == 0 {
		return OK
	}
	b := &fs.b
	b.Reset(tag, fs.batch)
	b.Options, b.Log, b.Stats = &p.opts, p.Log, &p.Stats
	err = p.sink.Deliver(p.ctx, b)
	switch {
	case err == nil:
		if b.Rejected() == len(fs.batch) {
			return Error // nothing was accepted: let Fluent Bit count the chunk as failed
		}
		return OK
	case sink.IsPermanent(err):
		p.Log.Errorf("tag %q: %d records dropped: %v", tag, len(fs.batch), err)
		return Error
	default:
		p.Stats.Retries.Add(1)
		if done == nil {
			done = make([]bool, n)
		}
		pendingCount := 0
		for k, i := range fs.index {
			if b.IsDone(k) {
				done[i] = true
			} else {
				pendingCount++
			}
		}
		if key == (progressKey{}) {
			key = keyOf(tag, data)
		}
		p.progress.put(key, done)
		p.Log.Warnf("tag %q: %d of %d records not delivered, Fluent Bit will retry: %v", tag, pendingCount, len(fs.batch), err)
		return Retry
	}
}

// decode fills fs.events with the chunk's entries and returns their count.
func (p *Pipeline) decode(fs *flushState, data []byte, tag string) (int, error) {
	n := 0
	var e record.Entry
	for rest := data; len(rest) > 0; n++ {
		var err error
		if rest, err = e.Decode(rest); err != nil {
			return 0, fmt.Errorf("entry %d at byte %d: %w", n, len(data)-len(rest), err)
		}
		if n == len(fs.events) {
			fs.events = append(fs.events, record.Event{})
			fs.events = fs.events[:cap(fs.events)]
		}
		ev := &fs.events[n]
		ev.Fill(&e, tag, p.parser, &p.opts)
		if ev.IsRecord() {
			p.Stats.Records.Add(1)
			if ev.Shaped {
				p.Stats.Enriched.Add(1)
			}
		}
	}
	return n, nil
}

// Close stops in-flight deliveries and releases the sink. Called once, from
// FLBPluginExitCtx.
func (p *Pipeline) Close() error {
	p.cancel()
	err := p.sink.Close()
	s := &p.Stats
	p.Log.Infof("stopped: %d records (%d CTLive-shaped), %d delivered, %d rejected, %d not routed here, %d retries, %d corrupt chunks, %d panics",
		s.Records.Load(), s.Enriched.Load(), s.Delivered.Load(), s.Rejected.Load(), s.NotRouted.Load(),
		s.Retries.Load(), s.CorruptChunk.Load(), s.Panics.Load())
	return err
}
