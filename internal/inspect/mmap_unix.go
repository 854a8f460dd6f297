//go:build unix

package inspect

import (
	"os"
	"syscall"
	"unsafe"
)

// mapFile maps a plain file read-only: blocks are then views of the page
// cache, with no copy into buffers (reading, not parsing, is most of what
// `contact ID` does). nil when the file cannot be mapped.
func mapFile(f *os.File, size int64) []byte {
	if size <= 0 || int64(int(size)) != size {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	_ = syscall.Madvise(b, syscall.MADV_SEQUENTIAL) // a hint; reading works without it
	return b
}

func unmapFile(b []byte) { _ = syscall.Munmap(b) }

// releaseMapped drops the pages wholly inside b from the process once a
// block is parsed: they stay in the page cache, but the resident size
// then stays that of the blocks in flight rather than of the file.
func releaseMapped(b []byte) {
	page := uintptr(os.Getpagesize())
	if uintptr(len(b)) < 2*page {
		return
	}
	addr := uintptr(unsafe.Pointer(&b[0]))
	start := (page - addr%page) % page
	end := (addr + uintptr(len(b))) / page * page
	if end-addr > start {
		_ = syscall.Madvise(b[start:end-addr], syscall.MADV_DONTNEED)
	}
}
