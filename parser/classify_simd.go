//go:build goexperiment.simd && amd64

package parser

import (
	"encoding/binary"
	"simd/archsimd"
)

// With GOEXPERIMENT=simd (the Makefile builds so) and AVX2, a block is
// classified 32 bytes per instruction instead of eight bytes per handful:
// the body pass is most of a line's cost.
//
// Each entry point here (classify64AVX2, uuidAtAVX2) clears the 256-bit
// registers' upper halves (VZEROUPPER) before it returns to scalar Go code:
// Go does not, and the legacy-SSE instructions of the Go code after it
// (zeroing with X15, MOVQ into an XMM register) then pay an AVX-SSE
// transition each. On this project's build machine that made
// BenchmarkParse/without-payload 20-25% slower.
var hasAVX2 = archsimd.X86.AVX2()

func classify64(p *[blockSize]byte) (letters, alnum, trig, backslash uint64) {
	if hasAVX2 {
		return classify64AVX2(p)
	}
	return classify64SWAR(p)
}

func classify64AVX2(p *[blockSize]byte) (letters, alnum, trig, backslash uint64) {
	lo := archsimd.LoadUint8x32((*[32]uint8)(p[:32])).AsInt8x32()
	hi := archsimd.LoadUint8x32((*[32]uint8)(p[32:])).AsInt8x32()
	l0, a0, t0, b0 := classify32(lo)
	l1, a1, t1, b1 := classify32(hi)
	archsimd.ClearAVXUpperBits()
	return uint64(l0) | uint64(l1)<<32, uint64(a0) | uint64(a1)<<32, uint64(t0) | uint64(t1)<<32, uint64(b0) | uint64(b1)<<32
}

func classify32(x archsimd.Int8x32) (letters, alnum, trig, backslash uint32) {
	isLetter := between32(fold32(x), 'a', 'z')
	isTrig := x.Equal(archsimd.BroadcastInt8x32(':')).Or(x.Equal(archsimd.BroadcastInt8x32('_'))).Or(x.Equal(archsimd.BroadcastInt8x32('='))).
		Or(x.Equal(archsimd.BroadcastInt8x32('%')))
	return isLetter.ToBits(), isLetter.Or(between32(x, '0', '9')).ToBits(), isTrig.ToBits(),
		x.Equal(archsimd.BroadcastInt8x32('\\')).ToBits()
}

// between32 marks the bytes of x from lo to hi (ASCII bounds). The compares
// are signed: bytes from 0x80 up are negative, below every ASCII bound, so
// they are in no range.
func between32(x archsimd.Int8x32, lo, hi int8) archsimd.Mask8x32 {
	return x.Greater(archsimd.BroadcastInt8x32(lo - 1)).And(archsimd.BroadcastInt8x32(hi + 1).Greater(x))
}

// fold32 lower-cases the letters of x; no other byte lands in a letter range.
func fold32(x archsimd.Int8x32) archsimd.Int8x32 { return x.Or(archsimd.BroadcastInt8x32(0x20)) }

func uuidAt(b []byte, i int) int {
	if hasAVX2 {
		return uuidAtAVX2(b, i)
	}
	return uuidAtSWAR(b, i)
}

// uuidAtAVX2 tests the first 32 bytes of a UUID at once (hex digits but for
// the four dashes) and its last four in a uint64.
func uuidAtAVX2(b []byte, i int) int {
	if i < 0 || len(b)-i < 36 {
		return 0
	}
	x := archsimd.LoadUint8x32Slice(b[i : i+32]).AsInt8x32()
	hex := between32(fold32(x), 'a', 'f').Or(between32(x, '0', '9'))
	const dashes = 1<<8 | 1<<13 | 1<<18 | 1<<23
	ok := hex.ToBits() == ^uint32(dashes) && x.Equal(archsimd.BroadcastInt8x32('-')).ToBits() == dashes
	archsimd.ClearAVXUpperBits()
	if !ok {
		return 0
	}
	last := uint64(binary.LittleEndian.Uint32(b[i+32:])) | 0x30303030<<32 // four '0's fill the word
	if nonHex(last) != 0 {
		return 0
	}
	return i + 36
}
