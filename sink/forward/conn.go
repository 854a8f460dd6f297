package forward

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// chunkIDLen is the base64 length of 16 bytes, padded: out_forward's token
// (plugins/out_forward/forward.h: FLB_FORWARD_CHUNK_TOKEN_SIZE is 25 with
// the NUL).
const chunkIDLen = 24

// maxAckBytes bounds how much we read while waiting for an ack. An ack for a
// 24-byte id is 30 bytes; out_forward reads into 512 bytes
// (forward.c:forward_read_ack), and so do we. An ack is a map of scalars
// ({"ack": id}, fw_prot.c:send_ack): nothing nested is read, so neither
// its size nor its depth is the server's to choose.
const maxAckBytes = 512

// aLongTimeAgo is a deadline that has passed: setting it interrupts
// blocked I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

// errUnexpectedData: an idle connection had bytes waiting that we did not
// ask for, so its stream position can no longer be trusted.
var errUnexpectedData = errors.New("unexpected data on idle connection")

// gzip writers hold ~1 MB of state each; share them between connections
// rather than keeping one per connection.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// conn is one pooled connection and the buffers reused by every message sent
// on it. It is used by one Send at a time.
type conn struct {
	nc       net.Conn
	lastUsed time.Time
	broken   bool // must not go back to the pool

	frame  []byte      // message head, then options, in one buffer
	bufs   net.Buffers // head, entries, options: written with one writev
	bufArr [3][]byte
	ids    [][chunkIDLen]byte // the chunk ids of a sendAll, in order
	parts  [][3]int           // a sendAll's message heads and options in frame
	ackN   int                // bytes of c.ack read but not yet consumed
	zbuf   bytes.Buffer       // gzip output
	rnd    [16]byte
	chunk  [chunkIDLen]byte
	ack    [maxAckBytes]byte
	ackOut [maxAckBytes]byte // the ack nextAck returned

	// liveness probe, see peek_*.go
	raw     syscall.RawConn
	peekFn  func(fd uintptr) bool
	peekBuf [16]byte
	peekN   int
	peekErr error
}

func newConn(nc net.Conn) *conn {
	c := &conn{nc: nc, frame: make([]byte, 0, 256)}
	c.initPeek()
	return c
}

// send writes one message and, unless acks are off, waits for its ack. It
// returns the step that failed. c.broken is set whenever the stream may be
// left in an unknown state.
func (c *conn) send(ctx context.Context, cfg *Config, tag string, entries []byte, count int) (string, error) {
	payload := entries
	gz := cfg.Compression == CompressionGzip
	if gz {
		var err error
		if payload, err = c.gzip(entries); err != nil {
			return "encode", err
		}
	}
	if uint64(len(payload)) > math.MaxUint32 {
		return "encode", fmt.Errorf("%w: %d bytes do not fit a msgpack bin", ErrMessageTooLarge, len(payload))
	}
	ack := !cfg.DisableAck

	// [tag, bin(payload), options]: head and options share c.frame; the
	// payload is never copied.
	b := msgp.AppendArrayHeader(c.frame[:0], 3)
	b = msgp.AppendString(b, tag)
	b = msgp.AppendBytesHeader(b, uint32(len(payload)))
	head := len(b)
	nopts := uint32(1)
	if ack {
		nopts++
	}
	if gz {
		nopts++
	}
	b = msgp.AppendMapHeader(b, nopts)
	if ack {
		c.newChunkID()
		b = msgp.AppendString(b, "chunk")
		b = msgp.AppendStringFromBytes(b, c.chunk[:])
	}
	b = msgp.AppendString(b, "size")
	b = msgp.AppendUint(b, uint(count))
	if gz {
		b = msgp.AppendString(b, "compressed")
		b = msgp.AppendString(b, "gzip")
	}
	c.frame = b
	if max := cfg.MaxMessageBytes; max > 0 && len(b)+len(payload) > max {
		return "encode", fmt.Errorf("%w: %d-byte message, limit %d", ErrMessageTooLarge, len(b)+len(payload), max)
	}

	// Deadlines bound each step; ctx cancellation (if ctx can be cancelled)
	// interrupts whatever step is in progress by moving the deadline into
	// the past. Each step re-checks ctx after setting its deadline, because
	// our SetDeadline could otherwise overwrite the interrupting one.
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(aLongTimeAgo) })
		defer func() {
			if !stop() {
				c.broken = true // the deadline was clobbered; don't reuse
			}
		}()
	}

	if err := c.nc.SetWriteDeadline(deadline(ctx, time.Now(), cfg.WriteTimeout)); err != nil {
		c.broken = true
		return "write", err
	}
	if err := ctx.Err(); err != nil {
		return "write", err
	}
	c.bufArr = [3][]byte{b[:head], payload, b[head:]}
	c.bufs = c.bufArr[:]
	_, err := c.bufs.WriteTo(c.nc)
	c.bufArr = [3][]byte{} // don't keep the caller's entries reachable
	if err != nil {
		c.broken = true
		// A server that wants the handshake sends HELO on accept and then
		// closes on our "PING"; name that rather than a bare EPIPE.
		if n, _, _ := c.peek(); n > 0 && isHELO(c.peekBuf[:n]) {
			return "write", ErrHandshakeRequired
		}
		return "write", ioError(ctx, err)
	}
	if !ack || cfg.ackLater {
		return "", nil
	}

	if err := c.nc.SetReadDeadline(deadline(ctx, time.Now(), cfg.AckTimeout)); err != nil {
		c.broken = true
		return "ack", err
	}
	if err := ctx.Err(); err != nil {
		c.broken = true
		return "ack", err
	}
	if err := c.readAck(ctx, cfg.AckTimeout); err != nil {
		c.broken = true
		return "ack", err
	}
	return "", nil
}

// sendAll writes msgs back to back with one writev and then reads their
// acks, in order (in_forward handles a connection's messages one after
// the other and acks each: fw_prot.c). It returns how many were acked
// before the first failure, and the step that failed. One write and one
// wait per flush instead of one per tag: the default tag splits a flush
// into dozens of messages, and each round trip parks the worker (issue:
// the re-injection loop's cost). Not for gzip: each message's compressed
// payload would need a buffer of its own.
func (c *conn) sendAll(ctx context.Context, cfg *Config, msgs []Message) (int, string, error) {
	ack := !cfg.DisableAck
	c.frame, c.ids, c.parts = c.frame[:0], c.ids[:0], c.parts[:0]
	for _, m := range msgs {
		start := len(c.frame)
		b := msgp.AppendArrayHeader(c.frame, 3)
		b = msgp.AppendString(b, m.Tag)
		b = msgp.AppendBytesHeader(b, uint32(len(m.Entries)))
		head := len(b)
		if ack {
			c.newChunkID()
			c.ids = append(c.ids, c.chunk)
			b = msgp.AppendMapHeader(b, 2)
			b = msgp.AppendString(b, "chunk")
			b = msgp.AppendStringFromBytes(b, c.chunk[:])
		} else {
			b = msgp.AppendMapHeader(b, 1)
		}
		b = msgp.AppendString(b, "size")
		b = msgp.AppendUint(b, uint(m.Count))
		c.frame = b
		if max := cfg.MaxMessageBytes; max > 0 && len(b)-start+len(m.Entries) > max {
			return 0, "encode", fmt.Errorf("%w: %d-byte message, limit %d", ErrMessageTooLarge, len(b)-start+len(m.Entries), max)
		}
		c.parts = append(c.parts, [3]int{start, head, len(b)})
	}
	c.bufs = c.bufs[:0]
	for k, m := range msgs {
		p := c.parts[k]
		c.bufs = append(c.bufs, c.frame[p[0]:p[1]], m.Entries, c.frame[p[1]:p[2]])
	}

	if ctx.Done() != nil { // see send: cancellation moves the deadline
		stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(aLongTimeAgo) })
		defer func() {
			if !stop() {
				c.broken = true
			}
		}()
	}
	if err := c.nc.SetWriteDeadline(deadline(ctx, time.Now(), cfg.WriteTimeout)); err != nil {
		c.broken = true
		return 0, "write", err
	}
	if err := ctx.Err(); err != nil {
		return 0, "write", err
	}
	bufs := c.bufs // WriteTo consumes the slice it is called on
	_, err := bufs.WriteTo(c.nc)
	clear(c.bufs) // don't keep the caller's entries reachable
	if err != nil {
		c.broken = true
		if n, _, _ := c.peek(); n > 0 && isHELO(c.peekBuf[:n]) {
			return 0, "write", ErrHandshakeRequired
		}
		return 0, "write", ioError(ctx, err)
	}
	if !ack {
		return len(msgs), "", nil
	}
	for k := range msgs {
		// Each ack gets the whole timeout: in_forward acks a message once
		// its records are in a chunk, one message after the other.
		if err := c.nc.SetReadDeadline(deadline(ctx, time.Now(), cfg.AckTimeout)); err != nil {
			c.broken = true
			return k, "ack", err
		}
		if err := ctx.Err(); err != nil {
			c.broken = true
			return k, "ack", err
		}
		b, err := c.nextAck(ctx, cfg.AckTimeout)
		if err == nil {
			err = checkAck(b, c.ids[k][:])
		}
		if err != nil {
			c.broken = true
			return k, "ack", err
		}
	}
	if c.ackN > 0 {
		c.broken = true // more than was asked for: out of step
	}
	return len(msgs), "", nil
}

// newChunkID fills c.chunk with base64 of 16 random bytes.
func (c *conn) newChunkID() {
	_, _ = rand.Read(c.rnd[:]) // never fails since Go 1.24
	base64.StdEncoding.Encode(c.chunk[:], c.rnd[:])
}

func (c *conn) gzip(entries []byte) ([]byte, error) {
	c.zbuf.Reset()
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&c.zbuf)
	_, err := zw.Write(entries)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	zw.Reset(io.Discard) // drop the reference to c.zbuf before pooling
	gzipWriters.Put(zw)
	return c.zbuf.Bytes(), err
}

// readAck reads exactly one msgpack object and checks it is
// {"ack": <our chunk id>} (forward.c:forward_read_ack does the same checks).
// Anything after it means the stream is out of step: the connection is
// not reused.
func (c *conn) readAck(ctx context.Context, timeout time.Duration) error {
	b, err := c.nextAck(ctx, timeout)
	if err != nil {
		return err
	}
	if c.ackN > 0 {
		c.broken = true
	}
	return checkAck(b, c.chunk[:])
}

// nextAck returns the next ack on the connection (a map of scalars, at most
// maxAckBytes), reading as much as it needs: acks of messages written back
// to back may arrive in one read, and one ack in several. The ack's bytes
// are valid until the next call.
func (c *conn) nextAck(ctx context.Context, timeout time.Duration) ([]byte, error) {
	for {
		buf := c.ack[:c.ackN]
		if msgp.NextType(buf) == msgp.ArrayType {
			// Not an ack: a HELO (once its first element is in), or garbage.
			if helo, short := startsHELO(buf); helo {
				return nil, ErrHandshakeRequired
			} else if !short {
				return nil, fmt.Errorf("%w: an array, not a map (% x)", ErrBadAck, head(buf))
			}
		} else if len(buf) > 0 {
			size, perr := ackSize(buf)
			if perr == nil {
				copy(c.ackOut[:], buf[:size])
				c.ackN = copy(c.ack[:], buf[size:])
				return c.ackOut[:size], nil
			}
			if !errors.Is(perr, msgp.ErrShortBytes) {
				return nil, fmt.Errorf("%w: %v (% x)", ErrBadAck, perr, head(buf))
			}
		}
		if c.ackN == len(c.ack) {
			return nil, fmt.Errorf("%w: no complete ack in %d bytes", ErrBadAck, c.ackN)
		}
		m, err := c.nc.Read(c.ack[c.ackN:])
		c.ackN += m
		if m > 0 {
			continue
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %w (%d bytes read)", ErrBadAck, errClosedBeforeAck, c.ackN)
		}
		if ctxDone(ctx) {
			return nil, ioError(ctx, err) // ctx's doing, say so
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("%w: none within %v (%d bytes read): %v", ErrBadAck, timeout, c.ackN, err)
		}
		return nil, err
	}
}

// errClosedBeforeAck: the server closed the connection without acking,
// as in_forward does with a message past its buffer_max_size.
var errClosedBeforeAck = errors.New("connection closed before the ack")

// ackSize returns the length of the ack at the start of b: a map whose
// keys and values are scalars. msgp.ErrShortBytes says more must be read;
// any other error, that no ack can start so.
func ackSize(b []byte) (int, error) {
	if msgp.NextType(b) != msgp.MapType {
		if len(b) == 0 {
			return 0, msgp.ErrShortBytes
		}
		return 0, errors.New("not a msgpack map")
	}
	pairs, rest, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return 0, err
	}
	for range 2 * int64(pairs) {
		switch t := msgp.NextType(rest); t {
		case msgp.MapType, msgp.ArrayType:
			return 0, errors.New("a nested value in the ack")
		case msgp.InvalidType:
			if len(rest) == 0 {
				return 0, msgp.ErrShortBytes
			}
			return 0, fmt.Errorf("not msgpack at byte %d", len(b)-len(rest))
		}
		// A scalar: Skip does not recurse into it.
		if rest, err = msgp.Skip(rest); err != nil {
			return 0, err
		}
	}
	return len(b) - len(rest), nil
}

func checkAck(b, chunk []byte) error {
	sz, rest, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return fmt.Errorf("%w: response is not a map (% x)", ErrBadAck, head(b))
	}
	for i := uint32(0); i < sz; i++ {
		var key []byte
		if msgp.NextType(rest) != msgp.StrType {
			if rest, err = msgp.Skip(rest); err == nil {
				rest, err = msgp.Skip(rest)
			}
			if err != nil {
				return fmt.Errorf("%w: %v", ErrBadAck, err)
			}
			continue
		}
		if key, rest, err = msgp.ReadStringZC(rest); err != nil {
			return fmt.Errorf("%w: %v", ErrBadAck, err)
		}
		if string(key) != "ack" {
			if rest, err = msgp.Skip(rest); err != nil {
				return fmt.Errorf("%w: %v", ErrBadAck, err)
			}
			continue
		}
		id, _, err := msgp.ReadStringZC(rest)
		if err != nil {
			return fmt.Errorf("%w: ack value is not a string: %v", ErrBadAck, err)
		}
		if !bytes.Equal(id, chunk) {
			return fmt.Errorf("%w: ack %q does not match chunk %q", ErrBadAck, id, chunk)
		}
		return nil
	}
	return fmt.Errorf("%w: response has no \"ack\" key", ErrBadAck)
}

// check tells whether an idle connection can be reused: still open and
// nothing unread waiting on it.
func (c *conn) check() error {
	// The last ack's read deadline may have passed while idle, and the
	// probe honours it.
	if err := c.nc.SetReadDeadline(time.Time{}); err != nil {
		return err
	}
	n, eof, err := c.peek()
	switch {
	case err != nil:
		return err
	case eof:
		return io.EOF
	case n > 0 && isHELO(c.peekBuf[:n]):
		return ErrHandshakeRequired
	case n > 0:
		return errUnexpectedData
	}
	return nil
}

// startsHELO reports whether b starts with ["HELO", ...], or may once more
// bytes come (short).
func startsHELO(b []byte) (helo, short bool) {
	_, rest, err := msgp.ReadArrayHeaderBytes(b)
	if err == nil {
		var s []byte
		if s, _, err = msgp.ReadStringZC(rest); err == nil {
			return string(s) == "HELO", false
		}
	}
	return false, errors.Is(err, msgp.ErrShortBytes)
}

// isHELO reports whether b starts with ["HELO", ...], the secure-forward
// greeting (fw_prot.c:send_helo).
func isHELO(b []byte) bool {
	if msgp.NextType(b) != msgp.ArrayType {
		return false // and no error value allocated for the common case
	}
	sz, rest, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil || sz < 1 {
		return false
	}
	s, _, err := msgp.ReadStringZC(rest)
	return err == nil && string(s) == "HELO"
}

// deadline is now+d, or ctx's deadline if that comes first.
func deadline(ctx context.Context, now time.Time, d time.Duration) time.Time {
	t := now.Add(d)
	if dl, ok := ctx.Deadline(); ok && dl.Before(t) {
		return dl
	}
	return t
}

// ctxDone reports whether ctx is cancelled or past its deadline.
func ctxDone(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// ioError reports ctx's error rather than the timeout it caused. The ctx
// deadline may be the one that fired a moment before ctx itself notices.
func ioError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	if dl, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
		return fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return err
}

func head(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}
