package parser

import "encoding/binary"

// blockSize is how many bytes classify64 describes at once: one bit each in
// a uint64.
const blockSize = 64

// classify64 (classify_simd.go, classify_swar.go) describes a block of the
// body, bit k for byte k: letters, letters-or-digits (the contract's word
// characters), and the bytes the body pass must stop at, ':', '_', '=' and
// '%' (a JWT glued after a URL's percent-escape). It
// uses SIMD instructions where the build and the CPU allow, eight bytes at a
// time in a uint64 otherwise.

func classify64SWAR(p *[blockSize]byte) (letters, alnum, trig, backslash uint64) {
	for k := 0; k < blockSize/8; k++ {
		x := binary.LittleEndian.Uint64(p[8*k:])
		l, a := lettersAlnum(x)
		t := byteIs(x, ':') | byteIs(x, '_') | byteIs(x, '=') | byteIs(x, '%')
		letters |= gatherHighs(l) << (8 * k)
		alnum |= gatherHighs(a) << (8 * k)
		trig |= gatherHighs(t) << (8 * k)
		backslash |= gatherHighs(byteIs(x, '\\')) << (8 * k)
	}
	return
}

// lettersAlnum sets the high bit of each byte of x that is a letter, and of
// each that is a letter or a digit.
func lettersAlnum(x uint64) (letters, alnum uint64) {
	y := x &^ highs
	letters = between(y|0x20*ones, 'a', 'z') & highs &^ x
	return letters, letters | between(y, '0', '9')&highs&^x
}

// gatherHighs packs the high bits of x's eight bytes into the low eight bits,
// byte k's into bit k.
func gatherHighs(x uint64) uint64 {
	return (x & highs) * 0x0002040810204081 >> 56
}
