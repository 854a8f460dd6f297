package inspect

import (
	"bytes"
	"os"
	"testing"
)

// FuzzFinder: the vector search finds what bytes.Index finds, needle by
// needle, at every alignment.
func FuzzFinder(f *testing.F) {
	f.Add([]byte("ctlive  | 2025 [agentLogin] Session ID returned; CHAT_AGM_x login"), []byte("ogin"), []byte("CHAT_AGM_x"), 3)
	f.Add(bytes.Repeat([]byte("oooogin"), 20), []byte("ogin"), []byte("OGIN"), 0)
	f.Fuzz(func(t *testing.T, data, a, b []byte, from int) {
		if len(a) == 0 || len(b) == 0 || from < 0 || from > len(data) {
			return
		}
		fd := newFinder([][]byte{a, b})
		want := -1
		for i := from; i < len(data) && want < 0; i++ {
			if bytes.HasPrefix(data[i:], a) || bytes.HasPrefix(data[i:], b) {
				want = i
			}
		}
		if got := fd.index(data, from); got != want {
			t.Fatalf("index(%q, %d) = %d, want %d", data, from, got, want)
		}
	})
}

// BenchmarkFinder: the vector search alone over the benchmark log, for the
// needles of `contact ID` (a contact ID and login lines).
func BenchmarkFinder(b *testing.B) {
	p, size := benchFile(b)
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	f := newFinder(loginNeedles([]byte("CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c")))
	b.SetBytes(size)
	for b.Loop() {
		n := 0
		for p := f.index(data, 0); p >= 0; p = f.index(data, p+1) {
			n++
		}
		if n == 0 {
			b.Fatal("nothing found")
		}
	}
}
