//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package forward

import "time"

// Without a non-blocking peek, idle connections are reused unchecked; a dead
// one then fails the next Send with a retryable error (and, with acks off,
// may lose that batch).
func (c *conn) initPeek() {}

func (c *conn) peek() (n int, eof bool, err error) { return 0, false, nil }

// waitReadable cannot look without consuming here: a positive wait lets
// readAck do the waiting, no wait parks at once.
func (c *conn) waitReadable(d time.Duration) (bool, error) { return d > 0, nil }
