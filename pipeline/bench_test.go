package pipeline

import (
	"io"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
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

// BenchmarkFlush: decode -> parse -> enrich -> encode for one chunk, through
// Flush exactly as FLBPluginFlushCtx calls it, with the stdout sink's JSON
// encoder writing to io.Discard. Reported per record.
func BenchmarkFlush(b *testing.B) {
	data, lineBytes := realisticChunk()
	p := newTest(b, stdout.NewWriter(io.Discard, "date", "double"))
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
}

// perRecord reports the per-record figures the performance targets use.
func perRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
