//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package forward

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// initPeek prepares the liveness probe once per connection, so probing
// allocates nothing.
func (c *conn) initPeek() {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	c.raw = rc
	c.peekFn = func(fd uintptr) bool {
		for {
			c.peekN, c.peekErr = recvPeek(int(fd), c.peekBuf[:])
			if c.peekErr != syscall.EINTR {
				return true // never ask the poller to wait: this must not block
			}
		}
	}
}

// peek looks at the socket without consuming or blocking: n bytes are
// waiting (copied to c.peekBuf), or the peer has closed (eof), or neither.
func (c *conn) peek() (n int, eof bool, err error) {
	if c.raw == nil {
		return 0, false, nil // cannot tell; the ack will
	}
	if err := c.raw.Read(c.peekFn); err != nil {
		return 0, false, err
	}
	switch {
	case c.peekErr == syscall.EAGAIN || c.peekErr == syscall.EWOULDBLOCK:
		return 0, false, nil
	case c.peekErr != nil:
		return 0, false, c.peekErr
	case c.peekN == 0:
		return 0, true, nil
	}
	return c.peekN, false, nil
}

// waitReadable waits up to d for bytes (or the end of the stream) on c
// without consuming them.
func (c *conn) waitReadable(d time.Duration) (bool, error) {
	if c.raw == nil {
		return d > 0, nil // cannot look: let readAck wait
	}
	if err := c.nc.SetReadDeadline(time.Now().Add(d)); err != nil {
		return false, err
	}
	err := c.raw.Read(func(fd uintptr) bool {
		for {
			c.peekN, c.peekErr = recvPeek(int(fd), c.peekBuf[:])
			if c.peekErr != syscall.EINTR {
				// Wait for the poller only while nothing is there.
				return c.peekErr != syscall.EAGAIN && c.peekErr != syscall.EWOULDBLOCK
			}
		}
	})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}
