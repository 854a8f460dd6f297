package inspect

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// FuzzFinder: the search finds the first position where the exact needle,
// or the other with its ASCII letters in any case, starts, at every
// alignment.
func FuzzFinder(f *testing.F) {
	f.Add([]byte("ctlive  | 2025 [agentLogin] Session ID returned; CHAT_AGM_x LOGIN"), []byte("CHAT_AGM_x"), []byte("ogin"), 3)
	f.Add(bytes.Repeat([]byte("oooogiNOGIN"), 20), []byte("OGI"), []byte("ogin"), 0)
	f.Add(bytes.Repeat([]byte("@`@`@`ab"), 20), []byte("ab"), []byte("@`"), 1)
	f.Fuzz(func(t *testing.T, data, exact, folded []byte, from int) {
		if len(exact) == 0 || len(folded) == 0 || from < 0 || from > len(data) {
			return
		}
		fd := newFinder([][]byte{exact}, [][]byte{folded})
		want := -1
		for i := from; i < len(data) && want < 0; i++ {
			if bytes.HasPrefix(data[i:], exact) || len(data)-i >= len(folded) &&
				strings.EqualFold(asciiOnly(data[i:i+len(folded)]), asciiOnly(folded)) {
				want = i
			}
		}
		if got := fd.index(data, from); got != want {
			t.Fatalf("index(%q, %d) = %d, want %d", data, from, got, want)
		}
	})
}

// asciiOnly keeps ASCII bytes and writes others as escapes, so that
// strings.EqualFold folds ASCII letters and nothing else.
func asciiOnly(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c < 0x80 {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, "\\x%02x", c)
		}
	}
	return s.String()
}

// BenchmarkFinder: the vector search alone over the benchmark log, for the
// needles of `contact ID` (a contact ID and login lines).
func BenchmarkFinder(b *testing.B) {
	p, size := benchFile(b)
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	f := loginFinder([]byte("CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"))
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
