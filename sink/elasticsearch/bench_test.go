package elasticsearch

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/record"
)

// corpusEvents decodes n records of the realistic corpus.
func corpusEvents(b testing.TB, n int) []*record.Event {
	lines := corpus.Lines(1, n)
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = string(l)
	}
	return lineEvents(b, "ctlive.docker", s)
}

// BenchmarkEncode measures appendRecord (action + document lines) over a
// realistic corpus; ns/record and allocs/record are per record.
func BenchmarkEncode(b *testing.B) {
	evs := corpusEvents(b, 10000)
	for _, bc := range []struct {
		name  string
		props map[string]string
	}{
		{"default", nil},
		{"id_off", map[string]string{"id": "off"}},
		{"static_index_tag_key", map[string]string{"index": "ctlive", "include_tag_key": "on"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newSink(b, bc.props)
			f := s.getFlush("ctlive.docker")
			f.body = make([]byte, 0, 8<<20)
			for _, ev := range evs { // warm buffers
				f.body = s.appendRecord(f.body, ev, f)
			}
			size := len(f.body)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				f.body = f.body[:0]
				for _, ev := range evs {
					f.body = s.appendRecord(f.body, ev, f)
				}
			}
			b.StopTimer()
			n := float64(b.N) * float64(len(evs))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
			b.ReportMetric(float64(size)/float64(len(evs)), "B/record")
		})
	}
}

// BenchmarkDeliver is a whole flush of 1,000 corpus records (encode, gzip,
// POST, parse the answer) against a local fake Elasticsearch that answers
// at once; it includes the fake server's work.
func BenchmarkDeliver(b *testing.B) {
	evs := corpusEvents(b, 1000)
	for _, compress := range []string{"gzip", "none"} {
		b.Run(fmt.Sprintf("compress=%s", compress), func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(leanBulk))
			b.Cleanup(srv.Close)
			s := newSink(b, map[string]string{"url": srv.URL, "compress": compress})
			batch := newBatch("ctlive.docker", evs)
			b.ReportAllocs()
			for b.Loop() {
				batch.Reset("ctlive.docker", evs)
				if err := s.Deliver(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/record")
		})
	}
}

// BenchmarkEncodeParts splits BenchmarkEncode/default into its parts, to
// show where a record's time goes (ns/op is per record).
func BenchmarkEncodeParts(b *testing.B) {
	evs := corpusEvents(b, 10000)
	s := newSink(b, nil)
	f := s.getFlush("ctlive.docker")
	buf := make([]byte, 0, 64<<10)
	parts := []struct {
		name string
		fn   func(ev *record.Event)
	}{
		{"id", func(ev *record.Event) { buf = f.appendID(buf[:0], ev) }},
		{"index", func(ev *record.Event) { buf = s.appendIndex(buf[:0], ev, f) }},
		{"time", func(ev *record.Event) { buf = appendTime(buf[:0], ev.Time()) }},
		{"members", func(ev *record.Event) { buf, _ = record.AppendJSONMembers(buf[:0], ev, DefaultTimeKey) }},
	}
	for _, p := range parts {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.fn(evs[i])
				if i++; i == len(evs) {
					i = 0
				}
			}
		})
	}
}

// leanBulk answers a bulk request as Elasticsearch does when all went well,
// doing as little as it can: it only counts the lines.
func leanBulk(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		body = zr
	}
	data, _ := io.ReadAll(body)
	n := bytes.Count(data, []byte("\n")) / 2
	io.WriteString(w, `{"took":1,"errors":false,"items":[`+
		strings.TrimSuffix(strings.Repeat(`{"create":{"status":201}},`, n), ",")+"]}")
}
