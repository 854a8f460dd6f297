package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/sink/stdout"
)

// capture is a sink that keeps what it is given as JSON objects, and can be
// told to fail.
type capture struct {
	mu      sync.Mutex
	records []map[string]any
	// fail, when set, decides per call how many events to deliver before
	// returning err.
	fail func(call int) (deliver int, err error)
	call int
}

func (c *capture) Deliver(_ context.Context, b *sink.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.call++
	limit, err := len(b.Events), error(nil)
	if c.fail != nil {
		limit, err = c.fail(c.call)
	}
	for i, ev := range b.Events {
		if i >= limit {
			break
		}
		if !ev.IsRecord() {
			b.Done(i)
			continue
		}
		out, _ := record.AppendJSONMembers([]byte{'{'}, ev, "")
		var m map[string]any
		if e := json.Unmarshal(append(out, '}'), &m); e != nil {
			panic(e)
		}
		c.records = append(c.records, m)
		b.Done(i)
	}
	return err
}

func (c *capture) Close() error { return nil }

func (c *capture) field(name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.records {
		out = append(out, fmt.Sprint(r[name]))
	}
	return out
}

// newTest builds an instance whose sink is c.
func newTest(t testing.TB, c sink.Sink, props ...string) *Pipeline {
	t.Helper()
	name := fmt.Sprintf("test-%p", c)
	Sinks[name] = func(*config.Reader, *flblog.Logger, *record.Layout) (sink.Sink, error) { return c, nil }
	t.Cleanup(func() { delete(Sinks, name) })
	m := map[string]string{"sink": name, "plugin_log_level": "error"}
	for i := 0; i+1 < len(props); i += 2 {
		m[props[i]] = props[i+1]
	}
	p, err := New("ctlive.0", config.MapGetter(m))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func chunkOf(lines ...string) []byte {
	var b []byte
	for i, l := range lines {
		b = flbhost.AppendV2(b, flbhost.EventTime(time.Unix(1764064800, int64(i))), flbhost.Map{}, flbhost.Map{{Key: "log", Value: l}})
	}
	return b
}

func TestFlushEnrichesTheDocumentsLines(t *testing.T) {
	c := &capture{}
	p := newTest(t, c)
	lines := corpus.RealLineTexts()
	if got := p.Flush(chunkOf(lines...), "tail.0"); got != OK {
		t.Fatalf("flush = %v", got)
	}
	if len(c.records) != len(lines) {
		t.Fatalf("%d records out of %d", len(c.records), len(lines))
	}
	for i, r := range c.records {
		if r["log"] != lines[i] {
			t.Errorf("record %d: log changed to %q", i, r["log"])
		}
		if r["level"] != "info" {
			t.Errorf("record %d has no level: %v", i, r)
		}
	}
	want := map[string]string{"tenant": "TENANT1 AGM AGM AGM <nil> <nil> AGM AGM AGM AGM AGM"}
	if got := strings.Join(c.field("tenant"), " "); got != want["tenant"] {
		t.Errorf("tenants %s", got)
	}
	if p.Stats.Records.Load() != int64(len(lines)) || p.Stats.Enriched.Load() != int64(len(lines)) {
		t.Errorf("stats %d/%d", p.Stats.Records.Load(), p.Stats.Enriched.Load())
	}
}

func TestCorruptChunkIsAnErrorAndCounted(t *testing.T) {
	good := chunkOf("[socketIO] newContact")
	for name, data := range map[string][]byte{
		"truncated": good[:len(good)-2],
		"garbage":   {0xc1, 0xc1},
	} {
		c := &capture{}
		p := newTest(t, c)
		if got := p.Flush(data, "tail.0"); got != Error {
			t.Errorf("%s: flush = %v, want FLB_ERROR", name, got)
		}
		if len(c.records) != 0 || p.Stats.CorruptChunk.Load() != 1 {
			t.Errorf("%s: records %d, corrupt %d", name, len(c.records), p.Stats.CorruptChunk.Load())
		}
	}
}

func TestEmptyChunkIsOK(t *testing.T) {
	if got := newTest(t, &capture{}).Flush(nil, "x"); got != OK {
		t.Fatal(got)
	}
}

func TestTenantRouting(t *testing.T) {
	lines := []string{
		"[CT7PROTOCOL] [AGM] newContact",
		"[CT7PROTOCOL] [TENANT1] newContact",
		"[socketIO] room CHAT_DEFAULT_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c",
		"[socketIO] no tenant here",
		"plain text, not CTLive",
	}
	tests := []struct {
		name  string
		props []string
		want  string // tenants of the records that reach the sink
	}{
		{"no lists: everything", nil, "AGM TENANT1 DEFAULT <nil> <nil>"},
		{"allow-list only", []string{"tenants", "AGM, TENANT1"}, "AGM TENANT1"},
		{"names are compared exactly", []string{"tenants", "agm, TENANT1"}, "TENANT1"},
		{"exclude", []string{"exclude_tenants", "AGM"}, "TENANT1 DEFAULT <nil> <nil>"},
		{"a YAML block list, one name a line", []string{"exclude_tenants", "AGM\nTENANT1\n"}, "DEFAULT <nil> <nil>"},
		{"a block list with Windows line ends", []string{"tenants", "AGM\r\nTENANT1\r\n"}, "AGM TENANT1"},
		{"default tenant joins the allow-list", []string{"tenants", "OTHER", "default_tenant", "OTHER"}, "OTHER <nil>"},
		{"default tenant can be excluded", []string{"exclude_tenants", "OTHER", "default_tenant", "OTHER"}, "AGM TENANT1 DEFAULT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &capture{}
			p := newTest(t, c, tc.props...)
			if got := p.Flush(chunkOf(lines...), "tail.0"); got != OK {
				t.Fatalf("flush = %v", got)
			}
			if got := strings.Join(c.field("tenant"), " "); got != tc.want {
				t.Errorf("tenants reaching the sink: %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRetrySendsOnlyWhatWasNotDelivered(t *testing.T) {
	lines := make([]string, 10)
	for i := range lines {
		lines[i] = fmt.Sprintf("[socketIO] [AGM] newContact n%d", i)
	}
	c := &capture{fail: func(call int) (int, error) {
		switch call {
		case 1:
			return 4, errors.New("downstream went away")
		case 2:
			return 0, errors.New("still away")
		case 3:
			return 3, errors.New("back, then gone again")
		}
		return 1 << 30, nil
	}}
	p := newTest(t, c)
	data := chunkOf(lines...)
	for attempt, want := range []Status{Retry, Retry, Retry, OK} {
		if got := p.Flush(data, "tail.0"); got != want {
			t.Fatalf("attempt %d: %v, want %v", attempt+1, got, want)
		}
	}
	var seen []string
	for _, m := range c.field("message") {
		seen = append(seen, strings.TrimPrefix(m, "newContact "))
	}
	if got := strings.Join(seen, ","); got != "n0,n1,n2,n3,n4,n5,n6,n7,n8,n9" {
		t.Errorf("delivered %s: each record exactly once, in order", got)
	}
	if p.progress.pending() {
		t.Error("progress kept after the chunk was delivered")
	}
	// The same bytes under another tag are another chunk.
	c.records = nil
	p.Flush(data, "tail.1")
	if len(c.records) != 10 {
		t.Errorf("another tag's chunk sent %d records", len(c.records))
	}
}

// Chunks larger than a window go to the sink window by window; a failure
// in a later window keeps what the earlier ones delivered, and the retry
// sends each record exactly once.
func TestLargeChunksGoWindowByWindow(t *testing.T) {
	n := 2*window + 500
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("[socketIO] [AGM] newContact n%05d", i)
	}
	var calls []int
	c := &capture{fail: func(call int) (int, error) {
		if call == 2 {
			return 100, errors.New("gone in the second window")
		}
		return 1 << 30, nil
	}}
	p := newTest(t, funcSink(func(b *sink.Batch) error {
		calls = append(calls, len(b.Events))
		return c.Deliver(context.Background(), b)
	}))
	data := chunkOf(lines...)
	if got := p.Flush(data, "tail.0"); got != Retry {
		t.Fatalf("first attempt: %v", got)
	}
	if got := p.Flush(data, "tail.0"); got != OK {
		t.Fatalf("retry: %v", got)
	}
	if fmt.Sprint(calls) != fmt.Sprint([]int{window, window, window - 100, 500}) {
		t.Errorf("batches %v", calls)
	}
	msgs := c.field("message")
	if len(msgs) != n {
		t.Fatalf("%d records delivered, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if m != fmt.Sprintf("newContact n%05d", i) {
			t.Fatalf("record %d is %q: each exactly once, in order", i, m)
		}
	}
	if got := p.Stats.Records.Load(); got != int64(n) {
		t.Errorf("records counted %d times for %d: a retry must not count them again", got, n)
	}
}

// A log group that spans windows keeps its start marker in each window's
// batch, so the sink can frame the records.
func TestLogGroupsSpanWindows(t *testing.T) {
	var c []byte
	c = flbhost.AppendGroupStart(c, flbhost.Map{{Key: "resource", Value: "otel"}}, flbhost.Map{})
	lines := make([]string, window+10)
	for i := range lines {
		lines[i] = "[socketIO] [AGM] x"
	}
	c = append(c, chunkOf(lines...)...)
	c = flbhost.AppendGroupEnd(c)
	var starts []int
	p := newTest(t, funcSink(func(b *sink.Batch) error {
		n := 0
		for i, ev := range b.Events {
			if ev.Group == record.GroupStart {
				n++
			}
			b.Done(i)
		}
		starts = append(starts, n)
		return nil
	}))
	if got := p.Flush(c, "tail.0"); got != OK {
		t.Fatal(got)
	}
	if fmt.Sprint(starts) != "[1 1]" {
		t.Errorf("group starts per batch: %v", starts)
	}
}

type funcSink func(*sink.Batch) error

func (f funcSink) Deliver(_ context.Context, b *sink.Batch) error { return f(b) }
func (f funcSink) Close() error                                   { return nil }

func TestDeliveryOutcomes(t *testing.T) {
	data := chunkOf("[socketIO] [AGM] newContact", "[socketIO] [AGM] endContact")
	tests := []struct {
		name string
		sink funcSink
		want Status
	}{
		{"all delivered", func(b *sink.Batch) error {
			for i := range b.Events {
				b.Done(i)
			}
			return nil
		}, OK},
		{"some rejected for good", func(b *sink.Batch) error {
			b.Done(0)
			b.Reject(1, "mapping error")
			return nil
		}, OK},
		{"all rejected for good", func(b *sink.Batch) error {
			b.Reject(0, "bad")
			b.Reject(1, "bad")
			return nil
		}, Error},
		{"permanent error", func(b *sink.Batch) error { return sink.Permanent(errors.New("misconfigured")) }, Error},
		{"transient error", func(b *sink.Batch) error { return errors.New("connection refused") }, Retry},
		{"panic in the sink", func(b *sink.Batch) error { panic("bug") }, Error},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTest(t, tc.sink)
			if got := p.Flush(data, "tail.0"); got != tc.want {
				t.Errorf("flush = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfigurationErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"sink": "kafka"}, "unknown sink \"kafka\""},
		{map[string]string{"time_from_line": "perhaps"}, "time_from_line"},
		{map[string]string{"plugin_log_level": "loud"}, "plugin_log_level"},
		{map[string]string{"mask": "userID"}, "mask_key"},
		{map[string]string{"mask": "scopes", "mask_key": "0123456789abcdef"}, "cannot be masked"},
		{map[string]string{"mask": "userID", "mask_key": "short"}, "at least 16 bytes"},
		{map[string]string{"tenants": ",,,"}, "tenants"},
		{map[string]string{"exclude_tenants": " , "}, "exclude_tenants"},
		{map[string]string{"known_tenants": ","}, "known_tenants"},
		{map[string]string{"redact": "sometimes"}, "redact"},
		{map[string]string{"go_gc_percent": "x"}, "go_gc_percent"},
	}
	for _, tc := range tests {
		if _, err := New("ctlive.0", config.MapGetter(tc.props)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tc.props, err, tc.want)
		}
	}
}

func TestMaskedFieldsKeepCorrelating(t *testing.T) {
	c := &capture{}
	p := newTest(t, c, "mask", "userID,sessionID", "mask_key", "s3cret-s3cret-s3cret")
	p.Flush(chunkOf(
		"[socketIO] agentLogin USER_jdoe@example.com session ab4e7aff-8627-434a-a2ef-7e200363197e",
		"[socketIO] joinContact USER_jdoe@example.com",
	), "tail.0")
	u := c.field("userID")
	if len(u) != 2 || u[0] != u[1] || !strings.HasPrefix(u[0], "USER_hmac:") || strings.Contains(u[0], "jdoe") {
		t.Errorf("userIDs %v", u)
	}
	if s := c.field("sessionID")[0]; strings.Contains(s, "ab4e7aff") {
		t.Errorf("session %s", s)
	}
}

func TestConcurrentFlushesShareOneInstance(t *testing.T) {
	var out bytes.Buffer
	s := stdout.NewWriter(&lockedWriter{w: &out}, "date", "double")
	p := newTest(t, s)
	data := chunkOf(corpus.RealLineTexts()...)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if got := p.Flush(data, "tail.0"); got != OK {
					t.Errorf("flush = %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4*50*len(corpus.RealLineTexts()) {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("interleaved or invalid line %q", l)
		}
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
