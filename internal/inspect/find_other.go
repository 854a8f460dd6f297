//go:build !(goexperiment.simd && amd64)

package inspect

// index returns the first position at or after from where a needle
// starts, or -1.
func (f *finder) index(data []byte, from int) int { return f.indexPortable(data, from) }
