package corpus

import (
	"encoding/base64"
	"encoding/hex"
)

// rng is a splitmix64 generator. The corpus uses its own generator and only
// integer arithmetic (no floats, no math.Log) so that a seed yields the same
// bytes on every Go release and every architecture: the committed
// testdata/sample.log depends on it.
type rng struct{ s uint64 }

func newRNG(seed int64, stream uint64) *rng {
	r := &rng{s: uint64(seed)*0x9E3779B97F4A7C15 ^ stream*0xD1B54A32D192ED03}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns a value in [0, n); n must be positive and below 2^32.
func (r *rng) intn(n int) int {
	return int(((r.next() >> 32) * uint64(n)) >> 32)
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + int64(r.next()%uint64(hi-lo+1))
}

// permille reports true with probability p/1000.
func (r *rng) permille(p int) bool { return r.intn(1000) < p }

// expQuantiles[i] is -ln(1-(i+0.5)/64) in thousandths: picking one at random
// approximates an exponential variable of mean ~1000 without floating point.
var expQuantiles = [64]int64{8, 24, 40, 56, 73, 90, 107, 125, 143, 161, 179, 198, 217, 237, 257, 277, 298, 319, 341, 363, 386, 409, 433, 458, 483, 508, 535, 562, 589, 618, 647, 678, 709, 741, 774, 809, 845, 882, 920, 960, 1002, 1045, 1091, 1138, 1188, 1241, 1297, 1356, 1418, 1485, 1556, 1633, 1717, 1808, 1908, 2019, 2144, 2287, 2454, 2655, 2906, 3243, 3753, 4852}

// exp returns an approximately exponential duration (ns) of the given mean,
// so that arrivals are bursty like real traffic.
func (r *rng) exp(mean int64) int64 {
	q := expQuantiles[r.intn(len(expQuantiles))]
	// Spread within the quantile so that values are not all multiples.
	return mean*q/1000 + r.between(0, mean/64)
}

// pick returns one element of xs, chosen with the weights ws (same length).
func pickWeighted[T any](r *rng, xs []T, ws []int) T {
	total := 0
	for _, w := range ws {
		total += w
	}
	n := r.intn(total)
	for i, w := range ws {
		if n < w {
			return xs[i]
		}
		n -= w
	}
	return xs[len(xs)-1]
}

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

func (r *rng) fill(b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := r.next()
		for j := i; j < len(b) && j < i+8; j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
}

// uuid returns a random version 4 UUID in lower case, as Node's
// crypto.randomUUID prints it.
func (r *rng) uuid() string {
	var b [16]byte
	r.fill(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}

// opaque returns n random bytes in the given base64 alphabet, re-drawn until
// no word of it is a contract keyword: an opaque ID must never change a
// line's event, level or IDs by chance.
func (r *rng) opaque(enc *base64.Encoding, n int) string {
	b := make([]byte, n)
	for {
		r.fill(b)
		s := enc.EncodeToString(b)
		if !hasKeywordWord(s) {
			return s
		}
	}
}
