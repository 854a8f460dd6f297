//go:build linux && (amd64 || arm64)

package forward

import (
	"syscall"
	"unsafe"
)

// recvPeek is recv(fd, buf, MSG_PEEK|MSG_DONTWAIT) without asking for the
// peer address: syscall.Recvfrom would allocate one for unix sockets on
// every call.
func recvPeek(fd int, buf []byte) (int, error) {
	n, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(fd),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		uintptr(syscall.MSG_PEEK|syscall.MSG_DONTWAIT), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
