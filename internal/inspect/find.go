package inspect

import "bytes"

// finder finds where any of a few needles occurs. The `contact ID` pass
// looks for the contact's ID and for login lines in every byte of the
// input, so this is its hot loop: with AVX2 (find_simd.go) it tests 32
// positions at once for each needle's first and last byte, which rules out
// nearly every position at once, and compares the whole needle only where
// both match.
type finder struct {
	needles [][]byte
	maxLen  int
}

func newFinder(needles [][]byte) *finder {
	f := &finder{}
	for _, n := range needles {
		if len(n) > 0 {
			f.needles = append(f.needles, n)
			f.maxLen = max(f.maxLen, len(n))
		}
	}
	return f
}

// matchAt reports whether a needle starts at data[p].
func (f *finder) matchAt(data []byte, p int) bool {
	for _, n := range f.needles {
		if len(data)-p >= len(n) && data[p] == n[0] && bytes.Equal(data[p:p+len(n)], n) {
			return true
		}
	}
	return false
}

// indexPortable is index with the standard library's search, needle by
// needle.
func (f *finder) indexPortable(data []byte, from int) int {
	best := -1
	for _, n := range f.needles {
		limit := len(data)
		if best >= 0 {
			limit = min(len(data), best+len(n)) // only an earlier match can win
		}
		if from >= limit {
			continue
		}
		if i := bytes.Index(data[from:limit], n); i >= 0 {
			best = from + i
		}
	}
	return best
}
