package loki

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/klauspost/compress/snappy"
	"github.com/tinylib/msgp/msgp"
	"google.golang.org/protobuf/encoding/protowire"
)

// rec is a test record: a line and optional extra keys, at a time used when
// the line has none.
type rec struct {
	line  any // string, or nil for a record without the log key
	extra []any
	at    time.Time
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC)

// appendEventTime writes Fluent Bit's EventTime (msgpack ext 0, 8 bytes).
func appendEventTime(b []byte, t time.Time) []byte {
	b = append(b, 0xd7, 0x00)
	b = binary.BigEndian.AppendUint32(b, uint32(t.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// entryBytes builds `[[time, {}], {log: line, extra...}]`.
func entryBytes(r rec) []byte {
	at := r.at
	if at.IsZero() {
		at = t0
	}
	b := []byte{0x92, 0x92}
	b = appendEventTime(b, at)
	b = msgp.AppendMapHeader(b, 0)
	n := len(r.extra) / 2
	if r.line != nil {
		n++
	}
	b = msgp.AppendMapHeader(b, uint32(n))
	if r.line != nil {
		b = msgp.AppendString(b, "log")
		b, _ = msgp.AppendIntf(b, r.line)
	}
	for i := 0; i < len(r.extra); i += 2 {
		b = msgp.AppendString(b, r.extra[i].(string))
		b, _ = msgp.AppendIntf(b, r.extra[i+1])
	}
	return b
}

var stage = enrich.MustNew(enrich.Defaults())

// makeBatch decodes and enriches records as the pipeline does.
func makeBatch(tb testing.TB, tag string, recs []rec) *sink.Batch {
	tb.Helper()
	return makeBatchWith(tb, stage, tag, recs)
}

func makeBatchWith(tb testing.TB, st *enrich.Stage, tag string, recs []rec) *sink.Batch {
	tb.Helper()
	var w enrich.Work
	evs := make([]record.Event, len(recs))
	ptrs := make([]*record.Event, len(recs))
	for i, r := range recs {
		var e record.Entry
		raw := entryBytes(r)
		if rest, err := e.Decode(raw); err != nil || len(rest) != 0 {
			tb.Fatalf("record %d: decode: %v (%d bytes left)", i, err, len(rest))
		}
		st.Enrich(&evs[i], &e, tag, &w)
		ptrs[i] = &evs[i]
	}
	b := &sink.Batch{}
	b.Reset(tag, ptrs)
	return b
}

func lines(ls ...string) []rec {
	out := make([]rec, len(ls))
	for i, l := range ls {
		out[i] = rec{line: l}
	}
	return out
}

func newSink(tb testing.TB, props map[string]string) (*Sink, *flblog.Buffer) {
	tb.Helper()
	lb := &flblog.Buffer{}
	log := flblog.NewWriter(lb, &sync.Mutex{}, "ctlive.0", flblog.Info)
	s, err := New(config.NewReader(config.MapGetter(props)), log, stage.Layout())
	if err != nil {
		tb.Fatalf("New(%v): %v", props, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, lb
}

// --- a protobuf decoder for PushRequest, on protowire, strict about field
// numbers and wire types, so encoder mistakes cannot decode by accident.

type pbPair struct{ Name, Value string }

type pbEntry struct {
	Sec  int64
	Nsec int32
	Line string
	Meta []pbPair
}

type pbStream struct {
	Labels  string
	Entries []pbEntry
}

type fieldFunc func(num protowire.Number, typ protowire.Type, b []byte) (int, error)

func walk(b []byte, f fieldFunc) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		m, err := f(num, typ, b)
		if err != nil {
			return fmt.Errorf("field %d: %w", num, err)
		}
		b = b[m:]
	}
	return nil
}

func bytesField(typ protowire.Type, b []byte) ([]byte, int, error) {
	if typ != protowire.BytesType {
		return nil, 0, fmt.Errorf("wire type %d, want bytes", typ)
	}
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return nil, 0, protowire.ParseError(n)
	}
	return v, n, nil
}

func varintField(typ protowire.Type, b []byte) (uint64, int, error) {
	if typ != protowire.VarintType {
		return 0, 0, fmt.Errorf("wire type %d, want varint", typ)
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, protowire.ParseError(n)
	}
	return v, n, nil
}

func decodePushRequest(b []byte) ([]pbStream, error) {
	var streams []pbStream
	err := walk(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		if num != 1 {
			return 0, fmt.Errorf("unexpected PushRequest field")
		}
		v, n, err := bytesField(typ, b)
		if err != nil {
			return 0, err
		}
		var s pbStream
		err = walk(v, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
			v, n, err := bytesField(typ, b)
			if err != nil {
				return 0, err
			}
			switch num {
			case 1:
				s.Labels = string(v)
			case 2:
				e, err := decodeEntry(v)
				if err != nil {
					return 0, err
				}
				s.Entries = append(s.Entries, e)
			default:
				return 0, fmt.Errorf("unexpected StreamAdapter field")
			}
			return n, nil
		})
		streams = append(streams, s)
		return n, err
	})
	return streams, err
}

func decodeEntry(b []byte) (pbEntry, error) {
	var e pbEntry
	sawTime := false
	err := walk(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		v, n, err := bytesField(typ, b)
		if err != nil {
			return 0, err
		}
		switch num {
		case 1:
			sawTime = true
			return n, walk(v, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
				x, m, err := varintField(typ, b)
				switch {
				case err != nil:
					return 0, err
				case num == 1:
					e.Sec = int64(x)
				case num == 2:
					e.Nsec = int32(x)
				default:
					return 0, fmt.Errorf("unexpected Timestamp field")
				}
				return m, nil
			})
		case 2:
			e.Line = string(v)
		case 3:
			var p pbPair
			err := walk(v, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
				x, m, err := bytesField(typ, b)
				switch {
				case err != nil:
					return 0, err
				case num == 1:
					p.Name = string(x)
				case num == 2:
					p.Value = string(x)
				default:
					return 0, fmt.Errorf("unexpected LabelPairAdapter field")
				}
				return m, nil
			})
			if err != nil {
				return 0, err
			}
			e.Meta = append(e.Meta, p)
		default:
			return 0, fmt.Errorf("unexpected EntryAdapter field")
		}
		return n, nil
	})
	if err == nil && !sawTime {
		err = fmt.Errorf("entry without timestamp")
	}
	return e, err
}

// --- the JSON push body.

type jsonPush struct {
	Streams []struct {
		Stream map[string]string   `json:"stream"`
		Values [][]json.RawMessage `json:"values"`
	} `json:"streams"`
}

// toStreams converts a JSON push body to the protobuf shape so tests can
// compare both encodings alike.
func (j jsonPush) toStreams(tb testing.TB) []pbStream {
	tb.Helper()
	var out []pbStream
	for _, s := range j.Streams {
		names := make([]string, 0, len(s.Stream))
		for k := range s.Stream {
			names = append(names, k)
		}
		sort.Strings(names)
		var sel []string
		for _, k := range names {
			sel = append(sel, fmt.Sprintf("%s=%q", k, s.Stream[k]))
		}
		ps := pbStream{Labels: "{" + strings.Join(sel, ", ") + "}"}
		for _, v := range s.Values {
			if len(v) != 2 && len(v) != 3 {
				tb.Fatalf("value of %d elements", len(v))
			}
			var ts, line string
			if err := json.Unmarshal(v[0], &ts); err != nil {
				tb.Fatalf("timestamp %s is not a JSON string: %v", v[0], err)
			}
			if err := json.Unmarshal(v[1], &line); err != nil {
				tb.Fatalf("line %s: %v", v[1], err)
			}
			var e pbEntry
			e.Sec, e.Nsec = splitNanos(tb, ts)
			e.Line = line
			if len(v) == 3 {
				d := json.NewDecoder(bytes.NewReader(v[2]))
				tok, _ := d.Token() // '{', keeping key order
				if tok != json.Delim('{') {
					tb.Fatalf("metadata %s is not an object", v[2])
				}
				for d.More() {
					k, _ := d.Token()
					var val string
					if err := d.Decode(&val); err != nil {
						tb.Fatalf("metadata %s: %v", v[2], err)
					}
					e.Meta = append(e.Meta, pbPair{k.(string), val})
				}
			}
			ps.Entries = append(ps.Entries, e)
		}
		out = append(out, ps)
	}
	return out
}

func splitNanos(tb testing.TB, ts string) (int64, int32) {
	var sec, ns int64
	if len(ts) < 10 {
		tb.Fatalf("timestamp %q is not in nanoseconds", ts)
	}
	if _, err := fmt.Sscanf(ts[:len(ts)-9], "%d", &sec); err != nil {
		tb.Fatalf("timestamp %q: %v", ts, err)
	}
	if _, err := fmt.Sscanf(ts[len(ts)-9:], "%d", &ns); err != nil {
		tb.Fatalf("timestamp %q: %v", ts, err)
	}
	return sec, int32(ns)
}

// --- a fake push server.

type pushReq struct {
	Tenant          string
	HasTenant       bool
	ContentType     string
	ContentEncoding string
	Path            string
	Size            int // body bytes before compression
	Status          int // what the fake answered
	Streams         []pbStream
}

type fakeLoki struct {
	tb     testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []pushReq
	status func(r *pushReq) (int, string) // nil: 204
}

func startFake(tb testing.TB, status func(r *pushReq) (int, string)) *fakeLoki {
	tb.Helper()
	f := &fakeLoki{tb: tb, status: status}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f.srv.Listener = l
	f.srv.Start()
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLoki) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	pr := pushReq{
		Tenant:          r.Header.Get("X-Scope-OrgID"),
		ContentType:     r.Header.Get("Content-Type"),
		ContentEncoding: r.Header.Get("Content-Encoding"),
		Path:            r.URL.Path,
	}
	_, pr.HasTenant = r.Header["X-Scope-Orgid"]
	var err error
	switch {
	case pr.ContentType == "application/x-protobuf":
		if pr.ContentEncoding != "" {
			err = fmt.Errorf("protobuf with Content-Encoding %q", pr.ContentEncoding)
			break
		}
		var body []byte
		if body, err = snappy.Decode(nil, raw); err == nil {
			pr.Size = len(body)
			pr.Streams, err = decodePushRequest(body)
		}
	case strings.HasPrefix(pr.ContentType, "application/json"):
		body := raw
		if pr.ContentEncoding == "gzip" {
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(bytes.NewReader(raw)); err == nil {
				body, err = io.ReadAll(zr)
			}
		}
		if err == nil {
			pr.Size = len(body)
			var j jsonPush
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err = dec.Decode(&j); err == nil {
				pr.Streams = j.toStreams(f.tb)
			}
		}
	default:
		err = fmt.Errorf("unexpected Content-Type %q", pr.ContentType)
	}
	if err != nil {
		f.tb.Errorf("fake loki: bad request: %v", err)
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
		return
	}
	code, msg := http.StatusNoContent, ""
	if f.status != nil {
		code, msg = f.status(&pr)
	}
	pr.Status = code
	f.mu.Lock()
	f.reqs = append(f.reqs, pr)
	f.mu.Unlock()
	w.WriteHeader(code)
	io.WriteString(w, msg)
}

func (f *fakeLoki) requests() []pushReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]pushReq(nil), f.reqs...)
}

func (f *fakeLoki) url() string { return f.srv.URL }

// accepted counts each line in the requests answered 2xx.
func (f *fakeLoki) accepted() map[string]int {
	n := map[string]int{}
	for _, r := range f.requests() {
		if r.Status/100 != 2 {
			continue
		}
		for _, s := range r.Streams {
			for _, e := range s.Entries {
				n[e.Line]++
			}
		}
	}
	return n
}

func deliver(tb testing.TB, s *Sink, b *sink.Batch) error {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return s.Deliver(ctx, b)
}

func undone(b *sink.Batch) []int {
	var out []int
	for i := range b.Events {
		if !b.IsDone(i) {
			out = append(out, i)
		}
	}
	return out
}
