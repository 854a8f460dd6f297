package pipeline

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/hostile"
	"github.com/ctlive/ctlive-fluent-bit/sink/stdout"
)

// BenchmarkFlushShapes flushes one record whose line has an adversarial
// shape (internal/hostile) at 1 KB, 64 KB and 1 MB, through decoding, the
// Enrich stage (redaction, with masking) and the JSON encoder. Flat
// ns/byte across the sizes of a shape is linear time (issue #7).
func BenchmarkFlushShapes(b *testing.B) {
	for _, s := range hostile.Shapes {
		for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/%dKB", s.Name, size>>10), func(b *testing.B) {
				data := flbhost.AppendV2(nil, flbhost.EventTime(time.Unix(1764064800, 0)), flbhost.Map{},
					flbhost.Map{{Key: "log", Value: string(s.Line(size))}, {Key: "copy", Value: string(s.Line(size / 2))}})
				p := newTest(b, stdout.NewWriter(io.Discard, "date", "double"),
					"mask", "userID, sessionID", "mask_key", "0123456789abcdef0123")
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if p.Flush(data, "tail.0") != OK {
						b.Fatal("flush failed")
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(data)), "ns/byte")
			})
		}
	}
}
