//go:build goexperiment.simd && amd64

package record

import (
	"math/bits"
	"simd/archsimd"
)

var hasAVX2 = archsimd.X86.AVX2()

// cleanUntil skips 32 clean bytes per step with AVX2 (see the Makefile's
// GOEXPERIMENT): JSON encoding of the log line and its fields is most of a
// record's cost in the stdout and Elasticsearch sinks.
func cleanUntil(s []byte, i int) int {
	if !hasAVX2 {
		return cleanUntilSWAR(s, i)
	}
	if len(s) < 32 {
		if cap(s)-i < 32 {
			return cleanUntilSWAR(s, i)
		}
		// Most fields are short strings inside a bigger buffer (the chunk,
		// the line): read 32 bytes and ignore those past the string's end.
		if m := escapes32(s[i:cap(s)]) & (1<<(len(s)-i) - 1); m != 0 {
			return i + bits.TrailingZeros32(m)
		}
		return len(s)
	}
	for i+32 <= len(s) {
		if m := escapes32(s[i : i+32]); m != 0 {
			return i + bits.TrailingZeros32(m)
		}
		i += 32
	}
	if i < len(s) {
		// The last 32 bytes, ignoring those before i.
		tail := len(s) - 32
		if m := escapes32(s[tail:]) >> (i - tail); m != 0 {
			return i + bits.TrailingZeros32(m)
		}
	}
	return len(s)
}

// escapes32 flags the bytes of s[:32] that a JSON string cannot hold as
// they are. Signed compares: control characters and every byte from 0x80 up
// are below ' '. It clears the vector registers' upper halves before it
// returns (see parser/classify_simd.go: Go code after AVX2 code pays a
// transition).
func escapes32(s []byte) uint32 {
	x := archsimd.LoadUint8x32Slice(s).AsInt8x32()
	m := x.Less(archsimd.LoadInt8x32(&splat32[0])).
		Or(x.Equal(archsimd.LoadInt8x32(&splat32[1]))).
		Or(x.Equal(archsimd.LoadInt8x32(&splat32[2]))).ToBits()
	archsimd.ClearAVXUpperBits()
	return m
}

// splat32 holds escapes32's constants, ' ', '"' and '\\' 32 times each: a
// load is one instruction, a broadcast three. Plain arrays, not vectors made
// at init: that would run AVX2 instructions on every CPU.
var splat32 = func() (t [3][32]int8) {
	for k, c := range []int8{' ', '"', '\\'} {
		for i := range t[k] {
			t[k][i] = c
		}
	}
	return
}()
