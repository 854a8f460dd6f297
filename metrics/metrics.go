// Package metrics exposes the counters of the plugin's output instances in
// the Prometheus text format on one HTTP listener per process (the Go
// plugin cannot add to Fluent Bit's own metrics). Every instance adds its
// series, labelled instance="ctlive.N", to one set when it starts and takes
// them out when it stops; the listener starts with the first instance that
// sets metrics_listen and serves every instance's series.
//
// The pipeline counts; this package only keeps what it is given. Updates
// are atomic adds on counters resolved once per instance, or once per
// flush for the per-tenant and per-reason series, never per record.
package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// set holds every instance's series. VictoriaMetrics/metrics writes each
// family's HELP and TYPE once (ExposeMetadata) and keeps nothing global
// besides its own default set, which is never served.
var set = vm.NewSet()

func init() { vm.ExposeMetadata(true) }

// Path is where the listener serves the metrics.
const Path = "/metrics"

var listener struct {
	sync.Mutex
	addr string // as configured
	ln   net.Listener
}

// Listen serves Path on addr (host:port) unless the process already does.
// One listener serves every instance: a second instance with the same
// address shares it, one with another address is refused. It returns the
// address actually bound (addr with port 0 picks one).
func Listen(addr string) (string, error) {
	listener.Lock()
	defer listener.Unlock()
	if listener.ln != nil {
		if addr == listener.addr || addr == listener.ln.Addr().String() {
			return listener.ln.Addr().String(), nil
		}
		return "", fmt.Errorf("this process already serves metrics on %s: one listener serves every instance, so set the same address (or none) on each", listener.ln.Addr())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc(Path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		set.WritePrometheus(w)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends only with the process
	listener.addr, listener.ln = addr, ln
	serving.Store(true)
	return ln.Addr().String(), nil
}

// serving: a listener serves the process's series. Until then nobody can
// read ctlive_records_total, so the flushes need not tally it.
var serving atomic.Bool

// Serving reports whether a listener serves the metrics: the per-record
// tally (ctlive_records_total) is kept only then.
func Serving() bool { return serving.Load() }

// Reason classes of records refused for good, and "other" past the cap.
const (
	Other = "other"
	None  = "none" // a record without tenant or event
)

// MaxReasons bounds an instance's reason series; more count as other.
const MaxReasons = 20

// FlushBuckets are the flush duration histogram's upper bounds, seconds:
// a flush of a chunk to stdout takes milliseconds, one that waits for a
// downstream up to its timeouts (ack_timeout, timeout: 30s).
var FlushBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Instance is one output instance's series.
type Instance struct {
	Shaped, Delivered, NotRouted, Retries, Redacted, Corrupt, Truncated, Panics, SentBytes *vm.Counter
	FlushSeconds                                                                           *vm.PrometheusHistogram

	label      string // instance="ctlive.0"
	maxTenants int

	mu      sync.Mutex
	names   map[string]bool // every series registered, to unregister at Close
	tenants map[string]bool // tenants with their own series
	reasons map[string]bool
	records map[[2]string]*vm.Counter // ctlive_records_total by tenant label and event
}

// NewInstance registers the series of the instance named name. Tenants past
// maxTenants distinct ones are counted as tenant="other".
func NewInstance(name string, maxTenants int) *Instance {
	m := &Instance{label: `instance="` + escape(name) + `"`, maxTenants: maxTenants,
		tenants: map[string]bool{}, reasons: map[string]bool{}, names: map[string]bool{},
		records: map[[2]string]*vm.Counter{}}
	counter := func(family string) *vm.Counter {
		n := family + "{" + m.label + "}"
		m.names[n] = true
		return set.GetOrCreateCounter(n)
	}
	m.Shaped = counter("ctlive_records_ctlive_shaped_total")
	m.Delivered = counter("ctlive_records_delivered_total")
	m.NotRouted = counter("ctlive_records_not_routed_total")
	m.Retries = counter("ctlive_flush_retries_total")
	m.Redacted = counter("ctlive_redacted_values_total")
	m.Corrupt = counter("ctlive_corrupt_chunks_total")
	m.Truncated = counter("ctlive_records_truncated_total")
	m.Panics = counter("ctlive_panics_total")
	m.SentBytes = counter("ctlive_sent_bytes_total")
	h := "ctlive_flush_duration_seconds{" + m.label + "}"
	m.names[h] = true
	m.FlushSeconds = set.GetOrCreatePrometheusHistogramExt(h, FlushBuckets)
	return m
}

// Tally counts one flush's records by tenant and event, in the order the
// tenants appear, to be added to the instance's series at once. It is
// reused across flushes.
type Tally struct {
	index map[string]int // tenant -> row
	rows  []tallyRow
	last  int // the row of the last record's tenant: a flush's records run in tenants
}

type tallyRow struct {
	tenant string
	events []eventCount // a few: the contract's event names and none
}

type eventCount struct {
	event string
	n     uint64
}

// NewTally returns an empty tally.
func NewTally() *Tally { return &Tally{index: map[string]int{}} }

// Add counts one record. event is one of the contract's event names or
// None: a row holds as many counts as there are names, searched in order,
// which costs less than a map per record.
func (t *Tally) Add(tenant []byte, event string) {
	i := t.last
	if i >= len(t.rows) || t.rows[i].tenant != string(tenant) {
		var ok bool
		if i, ok = t.index[string(tenant)]; !ok { // no allocation for the lookup
			i = len(t.rows)
			t.rows = append(t.rows, tallyRow{tenant: string(tenant)})
			t.index[t.rows[i].tenant] = i
		}
		t.last = i
	}
	row := &t.rows[i]
	for k := range row.events {
		if row.events[k].event == event {
			row.events[k].n++
			return
		}
	}
	row.events = append(row.events, eventCount{event: event, n: 1})
}

// AddRecords adds a flush's tally to ctlive_records_total{tenant, event}
// and empties it. Tenants get their own series in the order they first
// appear, up to maxTenants.
func (m *Instance) AddRecords(t *Tally) {
	for _, row := range t.rows {
		label := m.tenantLabel(row.tenant)
		for k, c := range row.events {
			if c.n == 0 {
				continue
			}
			m.recordsCounter(label, c.event).Add(int(c.n))
			row.events[k].n = 0
		}
	}
	if len(t.rows) > 4*m.maxTenants+16 {
		// A tally that met many tenants would otherwise keep them all.
		clear(t.index)
		t.rows = t.rows[:0]
	}
}

// Rejected adds n records refused for good for reason.
func (m *Instance) Rejected(reason string, n int) {
	m.mu.Lock()
	if !m.reasons[reason] && len(m.reasons) >= MaxReasons {
		reason = Other
	}
	m.reasons[reason] = true
	m.mu.Unlock()
	m.counter("ctlive_records_rejected_total", `reason="`+escape(reason)+`"`).Add(n)
}

// recordsCounter resolves a ctlive_records_total series once.
func (m *Instance) recordsCounter(tenantLabel, event string) *vm.Counter {
	m.mu.Lock()
	c := m.records[[2]string{tenantLabel, event}]
	m.mu.Unlock()
	if c == nil {
		c = m.counter("ctlive_records_total", `tenant="`+tenantLabel+`",event="`+escape(event)+`"`)
		m.mu.Lock()
		m.records[[2]string{tenantLabel, event}] = c
		m.mu.Unlock()
	}
	return c
}

func (m *Instance) tenantLabel(tenant string) string {
	if tenant == "" {
		return None
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.tenants[tenant] {
		if len(m.tenants) >= m.maxTenants {
			return Other
		}
		m.tenants[tenant] = true
	}
	return escape(tenant)
}

func (m *Instance) counter(family, labels string) *vm.Counter {
	n := family + "{" + m.label + "," + labels + "}"
	m.mu.Lock()
	defer m.mu.Unlock()
	m.names[n] = true
	return set.GetOrCreateCounter(n)
}

// Close takes the instance's series out of the set: an instance that
// starts again under the same name (hot reload) starts from zero, as a
// counter after a restart does.
func (m *Instance) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for n := range m.names {
		set.UnregisterMetric(n)
	}
	clear(m.names)
	clear(m.records)
}

// escape writes a label value as the text format wants it.
func escape(v string) string {
	if !strings.ContainsAny(v, "\\\"\n") {
		return v
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

// ErrNoListener is returned by Addr before any instance listens.
var ErrNoListener = errors.New("metrics: no listener")

// Addr is the address the process serves metrics on.
func Addr() (string, error) {
	listener.Lock()
	defer listener.Unlock()
	if listener.ln == nil {
		return "", ErrNoListener
	}
	return listener.ln.Addr().String(), nil
}
