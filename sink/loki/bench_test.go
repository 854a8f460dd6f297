package loki

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/klauspost/compress/gzip"
)

const benchBatch = 1000 // records per flush

// corpusBatches builds flushes of the realistic corpus, enriched as the
// pipeline does (not measured).
func corpusBatches(b *testing.B, n int) []*sink.Batch {
	b.Helper()
	ls := corpus.Lines(1, n)
	var out []*sink.Batch
	for i := 0; i < len(ls); i += benchBatch {
		var recs []rec
		for _, l := range ls[i:min(i+benchBatch, len(ls))] {
			recs = append(recs, rec{line: string(l)})
		}
		out = append(out, makeBatch(b, "ctlive.tail", recs))
	}
	return out
}

// BenchmarkEncode measures a flush from records to the bodies that would be
// posted: grouping, ordering and encoding ("encode"), then also compression
// ("+snappy" for protobuf, the only form Loki takes; "+gzip" BestSpeed for
// JSON, with a pooled writer). No network.
func BenchmarkEncode(b *testing.B) {
	batches := corpusBatches(b, 10*benchBatch)
	type bcase struct {
		name, enc, format, tenant string
		compress                  bool
	}
	var cases []bcase
	for _, enc := range []string{"protobuf", "json"} {
		for _, format := range []string{"raw", "json"} {
			z := map[string]string{"protobuf": "+snappy", "json": "+gzip"}[enc]
			cases = append(cases,
				bcase{enc + "/" + format + "/encode", enc, format, "", false},
				bcase{enc + "/" + format + "/encode" + z, enc, format, "", true})
		}
	}
	cases = append(cases, bcase{"protobuf/raw/encode/tenant_id=$tenant", "protobuf", "raw", "$tenant", false})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			s, _ := newSink(b, map[string]string{"encoding": tc.enc, "line_format": tc.format, "tenant_id": tc.tenant})
			var body, wire int64
			var zbuf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&zbuf, gzip.BestSpeed)
			s.sendHook = func(st *state, _ int32) (result, error) {
				body += int64(len(st.body))
				switch {
				case !tc.compress:
				case s.enc == Protobuf:
					st.zbuf = snappyEncode(st.zbuf, st.body)
					wire += int64(len(st.zbuf))
				default:
					zbuf.Reset()
					zw.Reset(&zbuf)
					zw.Write(st.body)
					zw.Close()
					wire += int64(zbuf.Len())
				}
				return sent, nil
			}
			ctx := context.Background()
			run := func(k int) {
				bt := batches[k%len(batches)]
				bt.Reset(bt.Tag, bt.Events)
				if err := s.Deliver(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			for k := range batches { // warm the pools
				run(k)
			}
			body, wire = 0, 0
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				run(i)
			}
			b.StopTimer()
			runtime.ReadMemStats(&m1)
			recs := float64(b.N * benchBatch)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/recs, "ns/record")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/recs, "allocs/record")
			b.ReportMetric(float64(body)/recs, "body-B/record")
			if tc.compress {
				b.ReportMetric(float64(wire)/recs, "wire-B/record")
			}
		})
	}
}

// BenchmarkDeliver adds the HTTP round trip to a local server that reads
// and discards the body.
func BenchmarkDeliver(b *testing.B) {
	batches := corpusBatches(b, 10*benchBatch)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	for _, enc := range []string{"protobuf", "json"} {
		b.Run(enc, func(b *testing.B) {
			s, _ := newSink(b, map[string]string{"url": srv.URL, "encoding": enc})
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bt := batches[i%len(batches)]
				bt.Reset(bt.Tag, bt.Events)
				if err := s.Deliver(ctx, bt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/record")
		})
	}
}
