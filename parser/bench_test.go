package parser

import (
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
)

// corpusLines splits a generated corpus (the source document's mix of use
// cases, several tenants and channels, ~1% multi-line exceptions) by whether
// a line carries a payload.
func corpusLines(payload bool) [][]byte {
	var out [][]byte
	for _, r := range corpus.Generate(1, 20000) {
		if r.Want.HasPayload == payload {
			out = append(out, []byte(r.Line))
		}
	}
	return out
}

func benchLines(b *testing.B, lines [][]byte) {
	p := New(Options{})
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	var r Result
	b.SetBytes(int64(size / len(lines))) // MB/s of log text
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Parse(lines[i%len(lines)], &r)
	}
}

// BenchmarkParse: ns/op is per line.
func BenchmarkParse(b *testing.B) {
	b.Run("without-payload", func(b *testing.B) { benchLines(b, corpusLines(false)) })
	b.Run("with-payload", func(b *testing.B) { benchLines(b, corpusLines(true)) })
}
