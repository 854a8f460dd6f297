package inspect

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
)

// benchLog is a generated raw log of ~35 MB shared by the benchmarks, or
// the file named by $CTLIVE_BENCH_LOG (make bench-inspect uses 100 MB and
// 1 GB files).
var benchLog = sync.OnceValues(func() (string, error) {
	if p := os.Getenv("CTLIVE_BENCH_LOG"); p != "" {
		return p, nil
	}
	dir, err := os.MkdirTemp("", "ctlive-inspect-bench")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "ctlive.log")
	return p, os.WriteFile(p, rawLog(corpus.Generate(9, 200000)), 0o644)
})

func benchFile(b *testing.B) (string, int64) {
	p, err := benchLog()
	if err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	return p, fi.Size()
}

// BenchmarkContacts: the `contacts` scan, per byte of raw log.
func BenchmarkContacts(b *testing.B) {
	p, size := benchFile(b)
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "one-core", 2: "two-cores"}[workers], func(b *testing.B) {
			b.SetBytes(size)
			var lines int64
			for b.Loop() {
				in, err := Open(p, 0)
				if err != nil {
					b.Fatal(err)
				}
				s, err := Aggregate([]*Input{in}, Query{Workers: workers})
				in.Close()
				if err != nil {
					b.Fatal(err)
				}
				lines = s.Records + s.NotCTLive
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*lines), "ns/record")
		})
	}
}

// BenchmarkStatePerContact: the heap a scan keeps per contact once done
// (live bytes after a collection, over contacts), the README's "≤ 300
// bytes per contact".
func BenchmarkStatePerContact(b *testing.B) {
	p, _ := benchFile(b)
	var perContact float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		in, err := Open(p, 0)
		if err != nil {
			b.Fatal(err)
		}
		s, err := Aggregate([]*Input{in}, Query{})
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perContact = float64(after.HeapAlloc-before.HeapAlloc) / float64(len(s.contacts))
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perContact, "B/contact")
}

// BenchmarkContactTimeline: `contact ID` on the same log, for the guide's
// New Contact example (its agent's login is found too).
func BenchmarkContactTimeline(b *testing.B) {
	p, size := benchFile(b)
	b.SetBytes(size)
	for b.Loop() {
		in, err := Open(p, 0)
		if err != nil {
			b.Fatal(err)
		}
		tl, err := ContactTimeline([]*Input{in}, "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", Query{})
		in.Close()
		if err != nil || len(tl.Contact.Agents) != 1 {
			b.Fatalf("%v %+v", err, tl)
		}
	}
}
