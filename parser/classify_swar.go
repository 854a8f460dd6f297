//go:build !(goexperiment.simd && amd64)

package parser

// classifyBlock without SIMD lets every word start reach the trigram test
// (pairs all ones).
func classifyBlock(p *[blockSize + 1]byte) (letters, alnum, trig, backslash, pairs uint64) {
	letters, alnum, trig, backslash = classify64SWAR((*[blockSize]byte)(p[:blockSize]))
	return letters, alnum, trig, backslash, ^uint64(0)
}

func uuidAt(b []byte, i int) int { return uuidAtSWAR(b, i) }

// hasAVX2 is false in a build without the simd experiment: the tests ask.
const hasAVX2 = false
