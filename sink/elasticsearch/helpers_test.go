package elasticsearch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/tinylib/msgp/msgp"
)

// t0 is the Fluent Bit time of test records; lines with a timestamp of
// their own replace it (TimeFromLine).
var t0 = time.Date(2025, 2, 27, 17, 0, 0, 0, time.UTC)

// kv is a record body with its keys in order.
type kv []any

func appendEventTime(b []byte, t time.Time) []byte {
	b = append(b, 0xd7, 0x00)
	b = binary.BigEndian.AppendUint32(b, uint32(t.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// appendEntry appends a Fluent Bit 2.x chunk entry [[time, {}], body].
// body is a kv (a map) or any other value msgp can write.
func appendEntry(b []byte, t time.Time, body any) []byte {
	b = append(b, 0x92, 0x92)
	b = appendEventTime(b, t)
	b = msgp.AppendMapHeader(b, 0)
	if m, ok := body.(kv); ok {
		b = msgp.AppendMapHeader(b, uint32(len(m)/2))
		for i := 0; i < len(m); i += 2 {
			b = msgp.AppendString(b, m[i].(string))
			b, _ = msgp.AppendIntf(b, m[i+1])
		}
		return b
	}
	b, _ = msgp.AppendIntf(b, body)
	return b
}

// groupStart is the entry Fluent Bit writes to open a log group.
func groupStart() []byte {
	b := []byte{0x92, 0x92, 0xd7, 0x00, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}
	b = msgp.AppendMapHeader(b, 0)
	return msgp.AppendMapHeader(b, 0)
}

var stage = enrich.MustNew(enrich.Defaults())

// decodeChunk turns a chunk into events, as the plugin does.
func decodeChunk(t testing.TB, tag string, chunk []byte) []*record.Event {
	t.Helper()
	evs, err := stage.DecodeChunk(chunk, tag)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return evs
}

// lineEvents makes one record {"log": line, "seq": i} per line, the i-th
// at t0 + i ms.
func lineEvents(t testing.TB, tag string, lines []string) []*record.Event {
	t.Helper()
	var chunk []byte
	for i, l := range lines {
		chunk = appendEntry(chunk, t0.Add(time.Duration(i)*time.Millisecond), kv{"log", l, "seq", i})
	}
	return decodeChunk(t, tag, chunk)
}

// numbered gives n distinct CTLive lines.
func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "ctlive | 2025-02-27T17:19:20.129613061Z [socketIO] [AGM] message " + strings.Repeat("x", i%7) + " n" + itoa(i)
	}
	return out
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func newBatch(tag string, evs []*record.Event) *sink.Batch {
	b := new(sink.Batch)
	b.Reset(tag, evs)
	return b
}

// undone is what the plugin hands the sink on a retry: the events not done.
func undone(b *sink.Batch) []*record.Event {
	var out []*record.Event
	for i, ev := range b.Events {
		if !b.IsDone(i) {
			out = append(out, ev)
		}
	}
	return out
}

// sinkLogs holds what each test sink logged: *Sink -> *flblog.Buffer.
var sinkLogs sync.Map

func newSink(t testing.TB, props map[string]string) *Sink {
	t.Helper()
	buf := new(flblog.Buffer)
	s, err := New(config.NewReader(config.MapGetter(props)), logTo(buf), stage.Layout())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	sinkLogs.Store(s, buf)
	t.Cleanup(func() { s.Close(); sinkLogs.Delete(s) })
	return s
}

// rejectLog reads back a delivery's rejections and what the sink logged.
type rejectLog struct {
	s *Sink
	b *sink.Batch
}

func watch(s *Sink, b *sink.Batch) rejectLog { return rejectLog{s, b} }

func (r rejectLog) rejectedSet() map[int]bool {
	out := map[int]bool{}
	for _, x := range r.b.Reasons() {
		out[x.Index] = true
	}
	return out
}

// log is the sink's log and the rejections' reasons, one per line.
func (r rejectLog) log() string {
	var b strings.Builder
	if buf, ok := sinkLogs.Load(r.s); ok {
		b.WriteString(buf.(*flblog.Buffer).String())
	}
	for _, x := range r.b.Reasons() {
		fmt.Fprintf(&b, "record %d rejected: %s\n", x.Index, x.Reason)
	}
	return b.String()
}

// logTo returns a logger writing into buf.
func logTo(buf *flblog.Buffer) *flblog.Logger {
	return flblog.NewWriter(buf, new(sync.Mutex), "es.0", flblog.Debug)
}

// bulkDoc is one action + document pair as a server received it.
type bulkDoc struct {
	Action map[string]map[string]any
	Doc    map[string]any
	Raw    string // the document line
}

func (d bulkDoc) Seq() int {
	v, _ := d.Doc["seq"].(float64)
	return int(v)
}

// parseNDJSON reads a bulk body; it fails on anything that is not pairs of
// JSON objects.
func parseNDJSON(t testing.TB, body []byte) []bulkDoc {
	t.Helper()
	var out []bulkDoc
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var d bulkDoc
		if err := json.Unmarshal(sc.Bytes(), &d.Action); err != nil {
			t.Errorf("action line %q: %v", sc.Text(), err)
			return out
		}
		if !sc.Scan() {
			t.Errorf("action without document")
			return out
		}
		d.Raw = sc.Text()
		dec := json.NewDecoder(strings.NewReader(d.Raw))
		if err := dec.Decode(&d.Doc); err != nil {
			t.Errorf("document line %q: %v", d.Raw, err)
		}
		out = append(out, d)
	}
	if !bytes.HasSuffix(body, []byte("\n")) {
		t.Errorf("bulk body does not end with a newline")
	}
	return out
}

// bulkRequest is what the fake server saw.
type bulkRequest struct {
	Path, RawQuery string
	Header         http.Header
	Size           int // decompressed body bytes
	Docs           []bulkDoc
}

// fakeES is a bulk endpoint whose answers the test scripts.
type fakeES struct {
	*httptest.Server
	t      testing.TB
	mu     sync.Mutex
	reqs   []bulkRequest
	answer func(n int, req bulkRequest) (status int, body string)
}

// allCreated answers every document 201, as Elasticsearch does.
func allCreated(_ int, req bulkRequest) (int, string) { return 200, itemsAnswer(req, nil) }

// itemsAnswer writes an Elasticsearch bulk answer; status(k) gives item k's
// status (nil: 201).
func itemsAnswer(req bulkRequest, status func(k int) int) string {
	var b strings.Builder
	errs := false
	var items []string
	for k := range req.Docs {
		st := 201
		if status != nil {
			st = status(k)
		}
		item := `{"create":{"_index":"i","_id":"x","status":` + itoa(st)
		if st >= 300 {
			errs = true
			item += `,"error":{"type":"err_` + itoa(st) + `","reason":"reason ` + itoa(st) + `"}`
		}
		items = append(items, item+"}}")
	}
	b.WriteString(`{"took":3,"errors":`)
	if errs {
		b.WriteString("true")
	} else {
		b.WriteString("false")
	}
	b.WriteString(`,"items":[` + strings.Join(items, ",") + "]}")
	return b.String()
}

func startFakeES(t testing.TB, answer func(n int, req bulkRequest) (int, string)) *fakeES {
	f := &fakeES{t: t, answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeES) serve(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			f.t.Errorf("gzip: %v", err)
			w.WriteHeader(400)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		f.t.Errorf("reading body: %v", err)
	}
	req := bulkRequest{Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Size: len(data), Docs: parseNDJSON(f.t, data)}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	status, answer := f.answer(n, req)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

func (f *fakeES) requests() []bulkRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bulkRequest(nil), f.reqs...)
}

// seqs lists the seq of every document the server received, in order.
func (f *fakeES) seqs() []int {
	var out []int
	for _, r := range f.requests() {
		for _, d := range r.Docs {
			out = append(out, d.Seq())
		}
	}
	return out
}

func configReader(props map[string]string) *config.Reader {
	return config.NewReader(config.MapGetter(props))
}
