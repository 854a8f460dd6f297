//go:build linux

package forward

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// minAckBytes is the smallest ack in_forward sends: {"ack": <24-character
// chunk id>} is a fixmap header, the fixstr "ack" and a fixstr of 24 bytes
// (fw_prot.c: send_ack).
const minAckBytes = 1 + 4 + 1 + chunkIDLen

// maxAckWait bounds the bytes waitAcks waits for (and peeks at): the acks
// of 136 messages. The acks of a larger round past these are read as they
// come, a wake-up each.
const maxAckWait = 4096

// waitAcks waits until the acks of n messages can all be queued on the
// connection (n times minAckBytes), or the stream ends or fails, or the
// read deadline passes, without consuming anything. It sets SO_RCVLOWAT
// for the wait, so that the kernel reports the socket readable once, when
// that much has arrived (TCP's poll and data-ready wake-ups honour it:
// net/ipv4/tcp.c, tcp_poll and tcp_data_ready), instead of once per ack:
// each of those wake-ups parked and woke the flushing goroutine (issue 11).
// A unix socket's poll ignores SO_RCVLOWAT (net/unix/af_unix.c:
// unix_poll), so there the wait would wake per arrival, as the reads do,
// and add a peek to each: it is left to the reads. The reads of the acks
// that follow the wait find them waiting. Nothing here is an error the
// caller must act on: the ack reads report what went wrong.
func (c *conn) waitAcks(n int) {
	want := min(n*minAckBytes, maxAckWait)
	if c.raw == nil || !c.tcp || n < 2 {
		return
	}
	if c.ackWait == nil {
		c.ackWait = make([]byte, maxAckWait)
	}
	if c.lowat(want) != nil {
		return
	}
	defer c.lowat(1)
	_ = c.raw.Read(func(fd uintptr) bool {
		for {
			m, err := recvPeek(int(fd), c.ackWait[:want])
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
				return false // nothing yet: wait for the poller
			case err == nil && m > 0 && m < want && !peerClosed(int(fd)):
				return false // some acks: wait for the rest
			}
			return true // all in, the end of the stream, or an error
		}
	})
}

// lowat sets SO_RCVLOWAT: how many queued bytes make the socket readable.
func (c *conn) lowat(n int) error {
	var serr error
	if err := c.raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n)
	}); err != nil {
		return err
	}
	return serr
}

// peerClosed reports whether the peer has shut the connection down or it
// failed, which a peek that finds data cannot tell: in_forward acks the
// messages it ingested and drops the connection at one it cannot, and
// those acks must then be read, not waited past.
func peerClosed(fd int) bool {
	fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(fds[:], 0)
	return err != nil || n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
}
