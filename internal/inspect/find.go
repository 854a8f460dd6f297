package inspect

import "bytes"

// finder finds where any of a few needles occurs. The `contact ID` pass
// looks for the contact's ID and for login lines in every byte of the
// input, so this is its hot loop: with AVX2 (find_simd.go) it tests 32
// positions at once for each needle's first and last byte, which rules out
// nearly every position at once, and compares the whole needle only where
// both match.
type finder struct {
	needles []needle
	maxLen  int
}

// needle is searched for exactly, or in any case (ASCII) when fold is set.
type needle struct {
	b    []byte
	fold bool
}

// newFinder searches for the exact needles and, in any case, the folded ones.
func newFinder(exact, folded [][]byte) *finder {
	f := &finder{}
	add := func(ns [][]byte, fold bool) {
		for _, n := range ns {
			if len(n) > 0 {
				if fold {
					n = lowerASCII(n)
				}
				f.needles = append(f.needles, needle{n, fold})
				f.maxLen = max(f.maxLen, len(n))
			}
		}
	}
	add(exact, false)
	add(folded, true)
	return f
}

// matchAt reports whether a needle starts at data[p].
func (f *finder) matchAt(data []byte, p int) bool {
	for _, n := range f.needles {
		if len(data)-p < len(n.b) {
			continue
		}
		if n.fold && equalFoldASCII(data[p:p+len(n.b)], n.b) || !n.fold && bytes.Equal(data[p:p+len(n.b)], n.b) {
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
			limit = min(len(data), best+len(n.b)) // only an earlier match can win
		}
		if from >= limit {
			continue
		}
		i := -1
		if n.fold {
			i = indexFold(data[from:limit], n.b)
		} else {
			i = bytes.Index(data[from:limit], n.b)
		}
		if i >= 0 {
			best = from + i
		}
	}
	return best
}

// indexFold finds lower (a lower-case needle) in s in any ASCII case.
func indexFold(s, lower []byte) int {
	c0 := lower[0]
	up := c0
	if 'a' <= c0 && c0 <= 'z' {
		up = c0 - 'a' + 'A'
	}
	for i := 0; i+len(lower) <= len(s); {
		j := bytes.IndexByte(s[i:len(s)-len(lower)+1], c0)
		if k := bytes.IndexByte(s[i:len(s)-len(lower)+1], up); k >= 0 && (j < 0 || k < j) {
			j = k
		}
		if j < 0 {
			return -1
		}
		i += j
		if equalFoldASCII(s[i:i+len(lower)], lower) {
			return i
		}
		i++
	}
	return -1
}

// lowerASCII lower-cases ASCII letters only: other bytes, valid UTF-8 or
// not, stay as they are.
func lowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// equalFoldASCII compares s with a lower-cased needle, ASCII letters in any
// case.
func equalFoldASCII(s, lower []byte) bool {
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
