package pipeline

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/sink/stdout"
)

// realisticChunk is 1,000 generated CTLive records in Fluent Bit's chunk
// encoding, as tail + multiline hand them over (docker's stream key too).
func realisticChunk() ([]byte, int) {
	recs := corpus.Generate(1, 1000)
	var b []byte
	size := 0
	for i, r := range recs {
		b = flbhost.AppendV2(b, flbhost.EventTime(time.Unix(1764064800, int64(i))), flbhost.Map{},
			flbhost.Map{{Key: "log", Value: r.Line}, {Key: "stream", Value: "stdout"}})
		size += len(r.Line)
	}
	return b, size
}

// BenchmarkFlush: decode -> parse -> enrich -> encode for one chunk of 1,000
// records, through Flush exactly as FLBPluginFlushCtx calls it, with the
// encoded output going nowhere. "json" is the stdout sink's encoder (JSON
// lines, as for Elasticsearch), "msgpack" the forward sink's (entries as
// re-injected into Fluent Bit). Allocations are per chunk; ns/record is
// reported separately.
func BenchmarkFlush(b *testing.B) {
	data, lineBytes := realisticChunk()
	for _, tc := range []struct {
		name string
		sink sink.Sink
	}{
		{"json", stdout.NewWriter(io.Discard, "date", "double")},
		{"msgpack", &msgpackDiscard{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := newTest(b, tc.sink)
			b.SetBytes(int64(lineBytes))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if p.Flush(data, "tail.0") != OK {
					b.Fatal("flush failed")
				}
			}
			b.StopTimer()
			perRecord(b, 1000)
		})
	}
}

// msgpackDiscard encodes each event as the forward sink does, then drops it.
type msgpackDiscard struct{ buf []byte }

func (m *msgpackDiscard) Deliver(_ context.Context, b *sink.Batch) error {
	m.buf = m.buf[:0]
	for i, ev := range b.Events {
		m.buf = record.AppendMsgpack(m.buf, ev)
		b.Done(i)
	}
	return nil
}

func (m *msgpackDiscard) Close() error { return nil }

// perRecord reports the per-record figures the performance targets use.
func perRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
