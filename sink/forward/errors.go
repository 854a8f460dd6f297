package forward

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by Send after Close. It is retryable: the batch
	// was not delivered and Fluent Bit keeps it (the plugin is shutting down).
	ErrClosed = errors.New("forward: client is closed")

	// ErrHandshakeRequired means the server greeted us with HELO: it runs
	// with shared_key / security.users, which this client does not support.
	// Not retryable: it will not change until in_forward's config does.
	ErrHandshakeRequired = errors.New("forward: server requires the secure-forward handshake (HELO); " +
		"configure in_forward without shared_key, this client does not support it")

	// ErrMessageTooLarge means the message would exceed MaxMessageBytes
	// (in_forward's buffer_max_size, which drops the connection otherwise).
	// Not retryable as is: the caller must split the batch.
	ErrMessageTooLarge = errors.New("forward: message too large")

	// ErrInvalidArgument flags a bad Send call. Not retryable.
	ErrInvalidArgument = errors.New("forward: invalid argument")

	// ErrBadAck covers a missing, garbled or mismatched ack. Retryable; the
	// connection it came on is closed.
	ErrBadAck = errors.New("forward: bad ack")
)

// Error is what Send returns for every failure. It names the step that failed
// and whether sending the same batch again may succeed.
type Error struct {
	Op        string // "dial", "write", "ack", "encode", "send"
	Addr      string // endpoint URL
	Err       error
	permanent bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("forward: %s %s: %v", e.Op, e.Addr, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether sending the same batch again may succeed
// (Fluent Bit: FLB_RETRY rather than FLB_ERROR).
func (e *Error) Retryable() bool { return !e.permanent }

// IsRetryable reports whether err is worth retrying. Errors not produced by
// this package count as retryable: keeping data is the safer default.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Retryable()
	}
	return true
}

func (c *Client) fail(op string, err error) error {
	permanent := errors.Is(err, ErrHandshakeRequired) ||
		errors.Is(err, ErrMessageTooLarge) ||
		errors.Is(err, ErrInvalidArgument)
	return &Error{Op: op, Addr: c.addr, Err: err, permanent: permanent}
}
