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
// Each entry point here (classifyBlockAVX2, uuidAtAVX2) clears the 256-bit
// registers' upper halves (VZEROUPPER) before it returns to scalar Go code:
// Go does not, and the legacy-SSE instructions of the Go code after it
// (zeroing with X15, MOVQ into an XMM register) then pay an AVX-SSE
// transition each. On this project's build machine that made
// BenchmarkParse/without-payload 20-25% slower.
var hasAVX2 = archsimd.X86.AVX2()

func classifyBlock(p *[blockSize + 1]byte) (letters, alnum, trig, backslash, pairs uint64) {
	if hasAVX2 {
		return classifyBlockAVX2(p)
	}
	letters, alnum, trig, backslash = classify64SWAR((*[blockSize]byte)(p[:blockSize]))
	return letters, alnum, trig, backslash, ^uint64(0)
}

func classifyBlockAVX2(p *[blockSize + 1]byte) (letters, alnum, trig, backslash, pairs uint64) {
	lo := archsimd.LoadUint8x32((*[32]uint8)(p[:32]))
	hi := archsimd.LoadUint8x32((*[32]uint8)(p[32:64]))
	l0, a0, t0, b0 := classify32(lo.AsInt8x32())
	l1, a1, t1, b1 := classify32(hi.AsInt8x32())
	p0 := wordPairs32(lo, archsimd.LoadUint8x32((*[32]uint8)(p[1:33])))
	p1 := wordPairs32(hi, archsimd.LoadUint8x32((*[32]uint8)(p[33:65])))
	archsimd.ClearAVXUpperBits()
	return uint64(l0) | uint64(l1)<<32, uint64(a0) | uint64(a1)<<32, uint64(t0) | uint64(t1)<<32, uint64(b0) | uint64(b1)<<32,
		uint64(p0) | uint64(p1)<<32
}

func classify32(x archsimd.Int8x32) (letters, alnum, trig, backslash uint32) {
	// Constants loaded from splat (one instruction each; a broadcast is
	// three). Signed compares: bytes from 0x80 up are negative, below every
	// ASCII bound; OR-ing 0x20 folds upper case onto lower and moves no
	// other byte into a letter range.
	folded := x.Or(splatAt(sFold))
	isLetter := folded.Greater(splatAt(sBeforeA)).And(splatAt(sAfterZ).Greater(folded))
	isDigit := x.Greater(splatAt(sBefore0)).And(splatAt(sAfter9).Greater(x))
	isTrig := x.Equal(splatAt(sColon)).Or(x.Equal(splatAt(sUnderscore))).Or(x.Equal(splatAt(sEquals))).
		Or(x.Equal(splatAt(sPercent)))
	return isLetter.ToBits(), isLetter.Or(isDigit).ToBits(), isTrig.ToBits(), x.Equal(splatAt(sBackslash)).ToBits()
}

// splat holds the constant bytes of classify32 and uuidAtAVX2 32 times
// each, in the order of the s* indexes. Plain arrays, not vectors made at
// init: making those would run AVX2 instructions on a CPU without them.
var splat = func() (t [14][32]int8) {
	for k, c := range []int8{0x20, 'a' - 1, 'z' + 1, '0' - 1, '9' + 1, ':', '_', '=', '%', '\\', 'f' + 1, '-', 0x60, 0x70} {
		for i := range t[k] {
			t[k][i] = c
		}
	}
	return
}()

const (
	sFold = iota
	sBeforeA
	sAfterZ
	sBefore0
	sAfter9
	sColon
	sUnderscore
	sEquals
	sPercent
	sBackslash
	sAfterF
	sDash
	sHigh6
	sHigh7
	sNibbleBias = sHigh7 // 0x70: added to 0x00-0x0f stays below 0x80, the rest reach it
)

func splatAt(k int) archsimd.Int8x32 { return archsimd.LoadInt8x32(&splat[k]) }

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
	folded := x.Or(splatAt(sFold))
	hex := folded.Greater(splatAt(sBeforeA)).And(splatAt(sAfterF).Greater(folded)).
		Or(x.Greater(splatAt(sBefore0)).And(splatAt(sAfter9).Greater(x)))
	const dashes = 1<<8 | 1<<13 | 1<<18 | 1<<23
	ok := hex.ToBits() == ^uint32(dashes) && x.Equal(splatAt(sDash)).ToBits() == dashes
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

// wordPairs32 sets bit k when first[k] and second[k] (the byte after it)
// begin a word as wordPairGroups admit it (the tests' wordPair). A letter's groups
// are two VPSHUFB lookups, one per high nibble of its folded byte: an
// index pushed to 0x80 and above by a saturating add looks up zero, so no
// byte outside 0x60-0x7f has a group.
func wordPairs32(first, second archsimd.Uint8x32) uint32 {
	f := letterGroups(first, &pairTables[0], &pairTables[1])
	s := letterGroups(second, &pairTables[2], &pairTables[3])
	return ^f.And(s).Equal(archsimd.Uint8x32{}).ToBits()
}

func letterGroups(x archsimd.Uint8x32, t6, t7 *[32]uint8) archsimd.Uint8x32 {
	folded := x.Or(splatAt(sFold).AsUint8x32())
	bias := splatAt(sNibbleBias).AsUint8x32()
	i6 := folded.Xor(splatAt(sHigh6).AsUint8x32()).AddSaturated(bias).AsInt8x32()
	i7 := folded.Xor(splatAt(sHigh7).AsUint8x32()).AddSaturated(bias).AsInt8x32()
	return archsimd.LoadUint8x32(t6).PermuteOrZeroGrouped(i6).Or(archsimd.LoadUint8x32(t7).PermuteOrZeroGrouped(i7))
}
