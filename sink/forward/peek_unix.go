//go:build (linux && !(amd64 || arm64)) || darwin || freebsd || netbsd || openbsd || dragonfly

package forward

import "syscall"

func recvPeek(fd int, buf []byte) (int, error) {
	n, _, err := syscall.Recvfrom(fd, buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return n, err
}
