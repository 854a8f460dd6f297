//go:build !linux

package forward

// waitAcks returns at once where SO_RCVLOWAT is not known to hold back
// poll's wake-ups: the acks are read as they come, a wake-up each.
func (c *conn) waitAcks(n int) {}
