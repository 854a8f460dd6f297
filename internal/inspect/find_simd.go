//go:build goexperiment.simd && amd64

package inspect

import (
	"math/bits"
	"simd/archsimd"
)

var hasAVX2 = archsimd.X86.AVX2()

// index returns the first position at or after from where a needle
// starts, or -1. Up to three needles are tested in one pass; a missing
// needle repeats the first, which costs a little and needs no branch. A
// folded needle compares its edges with 0x20 set, which lower-cases
// letters (other bytes may then match too: every candidate is verified).
func (f *finder) index(data []byte, from int) int {
	if !hasAVX2 || len(f.needles) == 0 || len(f.needles) > 3 {
		return f.indexPortable(data, from)
	}
	pick := func(i int) needle {
		if i < len(f.needles) {
			return f.needles[i]
		}
		return f.needles[0]
	}
	a, b, c := pick(0), pick(1), pick(2)
	fa, la, ca, oa := edges(a)
	fb, lb, cb, ob := edges(b)
	fc, lc, cc, oc := edges(c)
	k := from
	for end := len(data) - f.maxLen + 1 - 32; k <= end; k += 32 {
		x := archsimd.LoadUint8x32((*[32]uint8)(data[k : k+32])).AsInt8x32()
		ya := archsimd.LoadUint8x32((*[32]uint8)(data[k+oa : k+oa+32])).AsInt8x32()
		yb := archsimd.LoadUint8x32((*[32]uint8)(data[k+ob : k+ob+32])).AsInt8x32()
		yc := archsimd.LoadUint8x32((*[32]uint8)(data[k+oc : k+oc+32])).AsInt8x32()
		m := x.Or(ca).Equal(fa).And(ya.Or(ca).Equal(la)).
			Or(x.Or(cb).Equal(fb).And(yb.Or(cb).Equal(lb))).
			Or(x.Or(cc).Equal(fc).And(yc.Or(cc).Equal(lc))).ToBits()
		if m == 0 {
			continue
		}
		// Go code after AVX2 code pays a transition unless the upper
		// halves are cleared (parser/classify_simd.go).
		archsimd.ClearAVXUpperBits()
		for m != 0 {
			p := k + bits.TrailingZeros32(m)
			if f.matchAt(data, p) {
				return p
			}
			m &= m - 1
		}
	}
	archsimd.ClearAVXUpperBits()
	return f.indexPortable(data, k)
}

// edges are a needle's first and last byte, the case bit to set before
// comparing (0x20 when folded), and the last byte's offset.
func edges(n needle) (first, last, fold archsimd.Int8x32, off int) {
	var c byte
	if n.fold {
		c = 0x20
	}
	return archsimd.BroadcastInt8x32(int8(n.b[0] | c)), archsimd.BroadcastInt8x32(int8(n.b[len(n.b)-1] | c)),
		archsimd.BroadcastInt8x32(int8(c)), len(n.b) - 1
}
