package parser

import (
	"encoding/binary"
	"math/bits"
)

// Byte classes, looked up once per byte on the hot path instead of chains of
// comparisons.
const (
	cAlnum   = 1 << iota // letters and digits: the contract's "word" characters
	cIdent               // letters, digits and '_': labels and ID runs
	cHex                 // hex digits
	cLogin               // an agent login: letters, digits and ._%+-@ (contract: userID)
	cSpace               // ASCII whitespace
	cService             // a compose service name: letters, digits and ._-
	cUpper               // A-Z
	cSep                 // what may stand between a context word and its UUID
	cLetter              // A-Z, a-z
)

var class [256]uint16

// alnum duplicates the cAlnum class as bools: the word loop tests it once per
// byte, and a plain load beats a load-and-mask there.
var alnum [256]bool

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		var k uint16
		isUpper := b >= 'A' && b <= 'Z'
		isLetter := isUpper || b >= 'a' && b <= 'z'
		isDigit := b >= '0' && b <= '9'
		if isLetter || isDigit {
			k |= cAlnum | cIdent | cLogin | cService
		}
		if isUpper {
			k |= cUpper
		}
		if isLetter {
			k |= cLetter
		}
		if b == '_' {
			k |= cIdent | cService | cLogin
		}
		if isDigit || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' {
			k |= cHex
		}
		switch b {
		case '.', '%', '+', '-', '@':
			k |= cLogin
		}
		switch b {
		case '.', '-':
			k |= cService
		}
		switch b {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			k |= cSpace
		}
		switch b {
		case ' ', '\t', '[', '"', '\'', ':', '=':
			k |= cSep
		}
		class[c] = k
		alnum[c] = k&cAlnum != 0
	}
}

func is(b byte, k uint16) bool { return class[b]&k != 0 }

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// wordEnd returns the end of the run of letters and digits that continues at
// b[j]. It tests eight bytes at a time: words are the bulk of every line.
func wordEnd(b []byte, j int) int {
	for j+8 <= len(b) {
		if m := nonAlnum(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
		j += 8
	}
	for j < len(b) && alnum[b[j]] {
		j++
	}
	return j
}

// identEnd returns the end of the run of letters, digits and '_' that
// continues at b[j], eight bytes at a time like wordEnd.
func identEnd(b []byte, j int) int {
	for j+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[j:])
		if m := nonAlnum(x) &^ byteIs(x, '_'); m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
		j += 8
	}
	for j < len(b) && is(b[j], cIdent) {
		j++
	}
	return j
}

// between sets the high bit of each byte of y from lo to hi (ASCII bounds,
// 0 < lo <= hi < 0x80), where y is a word x with its high bits cleared:
// every addition then stays below 0x100 per byte, so no carry crosses into
// the next byte. Only the high bits of the result mean anything, and the
// caller removes the bytes of x from 0x80 up (&^ x): the classes below
// share y and that last step.
func between(y uint64, lo, hi byte) uint64 {
	return (y + (0x80-uint64(lo))*ones) &^ (y + (0x7f-uint64(hi))*ones)
}

// Letter ranges are tested on y|0x20 (upper case folded to lower): that
// moves no other byte into a letter range.

// nonAlnum sets the high bit of each byte of x that is not an ASCII letter
// or digit.
func nonAlnum(x uint64) uint64 {
	y := x &^ highs
	return highs &^ ((between(y, '0', '9') | between(y|0x20*ones, 'a', 'z')) &^ x)
}

// nonHex sets the high bit of each byte of x that is not a hex digit.
func nonHex(x uint64) uint64 {
	y := x &^ highs
	return highs &^ ((between(y, '0', '9') | between(y|0x20*ones, 'a', 'f')) &^ x)
}

// nonDigit sets the high bit of each byte of x that is not an ASCII digit.
func nonDigit(x uint64) uint64 { return highs &^ (between(x&^highs, '0', '9') &^ x) }

// eqFold reports whether w equals the lower-case ASCII keyword kw, ignoring
// case. Keywords are letters only, so OR-ing 0x20 folds case without
// confusing any other byte for a letter.
func eqFold(w []byte, kw string) bool {
	if len(w) != len(kw) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i]|0x20 != kw[i] {
			return false
		}
	}
	return true
}

func hasSuffixFold(w []byte, kw string) bool {
	return len(w) >= len(kw) && eqFold(w[len(w)-len(kw):], kw)
}

func hasPrefixFold(w []byte, kw string) bool {
	return len(w) >= len(kw) && eqFold(w[:len(kw)], kw)
}

func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && is(b[i], cSpace) {
		i++
	}
	for j > i && is(b[j-1], cSpace) {
		j--
	}
	return b[i:j]
}

// nonEmpty turns an empty slice into nil: the contract never emits an empty
// field, and nil is how a Result says "not found".
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// wideBlank returns the length of a blank or quote written outside ASCII at
// b[u]: a no-break space (U+00A0, also as the JSON escape `\u00a0`) or a
// curly quote (U+2018, U+2019, U+201C, U+201D: the source document writes
// a session ID in “…”), else 0. The credential rules skip them where they
// skip ASCII blanks and quotes.
func wideBlank(b []byte, u int) int {
	if u+1 >= len(b) {
		return 0
	}
	switch b[u] {
	case 0xC2:
		if b[u+1] == 0xA0 {
			return 2
		}
	case 0xE2:
		if u+2 < len(b) && b[u+1] == 0x80 {
			switch b[u+2] {
			case 0x98, 0x99, 0x9C, 0x9D:
				return 3
			}
		}
	case '\\':
		if u+6 <= len(b) && b[u+1] == 'u' && string(b[u+2:u+4]) == "00" && b[u+4]|0x20 == 'a' && b[u+5] == '0' {
			return 6
		}
	}
	return 0
}
