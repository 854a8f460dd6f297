//go:build !(goexperiment.simd && amd64)

package record

func cleanUntil(s []byte, i int) int { return cleanUntilSWAR(s, i) }
