//go:build goexperiment.simd && amd64

package inspect

import (
	"math/bits"
	"simd/archsimd"
)

var hasAVX2 = archsimd.X86.AVX2()

// index returns the first position at or after from where a needle
// starts, or -1. Up to three needles are tested in one pass; a missing
// needle repeats the first, which costs a little and needs no branch.
func (f *finder) index(data []byte, from int) int {
	if !hasAVX2 || len(f.needles) == 0 || len(f.needles) > 3 {
		return f.indexPortable(data, from)
	}
	pick := func(i int) []byte {
		if i < len(f.needles) {
			return f.needles[i]
		}
		return f.needles[0]
	}
	a, b, c := pick(0), pick(1), pick(2)
	fa, la, oa := edge(a[0]), edge(a[len(a)-1]), len(a)-1
	fb, lb, ob := edge(b[0]), edge(b[len(b)-1]), len(b)-1
	fc, lc, oc := edge(c[0]), edge(c[len(c)-1]), len(c)-1
	k := from
	for end := len(data) - f.maxLen + 1 - 32; k <= end; k += 32 {
		x := archsimd.LoadUint8x32((*[32]uint8)(data[k : k+32])).AsInt8x32()
		ya := archsimd.LoadUint8x32((*[32]uint8)(data[k+oa : k+oa+32])).AsInt8x32()
		yb := archsimd.LoadUint8x32((*[32]uint8)(data[k+ob : k+ob+32])).AsInt8x32()
		yc := archsimd.LoadUint8x32((*[32]uint8)(data[k+oc : k+oc+32])).AsInt8x32()
		m := x.Equal(fa).And(ya.Equal(la)).
			Or(x.Equal(fb).And(yb.Equal(lb))).
			Or(x.Equal(fc).And(yc.Equal(lc))).ToBits()
		for m != 0 {
			p := k + bits.TrailingZeros32(m)
			if f.matchAt(data, p) {
				return p
			}
			m &= m - 1
		}
	}
	return f.indexPortable(data, k)
}

func edge(c byte) archsimd.Int8x32 { return archsimd.BroadcastInt8x32(int8(c)) }
