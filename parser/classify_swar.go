//go:build !(goexperiment.simd && amd64)

package parser

func classify64(p *[blockSize]byte) (letters, alnum, trig, backslash uint64) {
	return classify64SWAR(p)
}

func uuidAt(b []byte, i int) int { return uuidAtSWAR(b, i) }

// wordPairs without SIMD lets every word start reach the trigram test.
func wordPairs(*[blockSize + 1]byte) uint64 { return ^uint64(0) }
