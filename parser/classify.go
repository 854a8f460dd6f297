package parser

import "encoding/binary"

// blockSize is how many bytes classifyBlock describes at once: one bit each
// in a uint64.
const blockSize = 64

// classifyBlock (classify_simd.go, classify_swar.go) describes a block of
// the body, bit k for byte k: letters, letters-or-digits (the contract's
// word characters), the bytes the body pass must stop at, ':', '_', '=' and
// '%' (a JWT glued after a URL's percent-escape), backslashes, and the
// pairs: byte k and k+1 (the block holds one byte more) may begin a word
// the body pass acts on (wordPairGroups). It uses SIMD instructions where the
// build and the CPU allow; otherwise classify64SWAR, eight bytes at a time
// in a uint64, and every pair passes.

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

// wordPairGroups cover the first two letters of every word in wordStarts
// with eight groups of first letters × second letters, one bit each in a
// byte per letter: wordPairs32 (classify_simd.go) tests 32 word starts with a
// few vector lookups, and only the starts whose two letters share a group
// reach the trigram test. The groups let few pairs outside wordStarts pass
// (ed, eo, ix, iy, jn, ln, uo): most of a line's word starts are dropped
// before a data-dependent branch.
var wordPairGroups = [8]struct{ first, second string }{
	{"sfwb", "a"},  // save, failed, warn, basic
	{"nmsb", "e"},  // newcontact, messageid, session, bearer, begin
	{"ljeu", "on"}, // login, joincontact, endcontact, unhandled
	{"et", "r"},    // error, transcript
	{"a", "gu"},    // agentlogin, authorization
	{"ei", "yxd"},  // eyJ, exception, id
	{"s", "i"},     // sid
	{"c", "t"},     // ctlivetoken, ct7token
}

// pairTables are wordPairGroups as VPSHUFB tables over a letter's low
// nibble once folded to lower case: first letters 0x60-0x6f, then
// 0x70-0x7f, then the same for second letters; each 16-byte table twice,
// once per 128-bit lane.
var pairTables = func() (t [4][32]uint8) {
	for g, grp := range wordPairGroups {
		for k, letters := range []string{grp.first, grp.second} {
			for _, c := range []byte(letters) {
				tab := &t[2*k+int(c>>4)-6]
				tab[c&15] |= 1 << g
				tab[16+c&15] |= 1 << g
			}
		}
	}
	return
}()
