package parser

import (
	"fmt"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/hostile"
)

// BenchmarkParseShapes parses each adversarial line shape (internal/hostile)
// at 1 KB, 64 KB and 1 MB. The parser is linear when ns/byte stays flat
// across the sizes of a shape (issue #7: within 2x).
func BenchmarkParseShapes(b *testing.B) {
	p := New(Options{})
	for _, s := range hostile.Shapes {
		for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/%dKB", s.Name, size>>10), func(b *testing.B) {
				line := s.Line(size)
				var r Result
				b.SetBytes(int64(len(line)))
				for b.Loop() {
					p.Parse(line, &r)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(line)), "ns/byte")
			})
		}
	}
}
