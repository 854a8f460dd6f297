package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults. The three timeouts bound every Send: at worst
// ConnectTimeout + WriteTimeout + AckTimeout (45s) before an error comes back.
const (
	// DefaultConnectTimeout: in_forward is local (loopback or unix socket),
	// where a connect either succeeds or is refused in well under a
	// millisecond. 5s only matters when SYNs are dropped (remote host,
	// in_forward's accept backlog full while it is paused) and keeps a Fluent
	// Bit worker from stalling for long; flb_upstream's net.connect_timeout
	// is 10s for remote peers.
	DefaultConnectTimeout = 5 * time.Second

	// DefaultWriteTimeout: a write only blocks when the server stops reading
	// with full socket buffers. A 6 MB message takes milliseconds locally and
	// well under 10s on any LAN; past that the server is stuck.
	DefaultWriteTimeout = 10 * time.Second

	// DefaultAckTimeout: in_forward acks after ingesting the data into its
	// chunk (fw_prot.c: send_ack after append_log), which may wait on
	// filesystem storage under load. Too short causes needless duplicates
	// (the batch is retried although it was ingested); too long stalls a
	// worker when in_forward has stopped reading. 30s favours no duplicates.
	DefaultAckTimeout = 30 * time.Second

	// DefaultMaxIdleConns caps the connections kept for reuse. There is one
	// connection per concurrent Send (Fluent Bit worker), so this is only a
	// ceiling against bursts; beyond it connections are closed after use.
	DefaultMaxIdleConns = 16

	// DefaultMaxIdleTime: idle connections older than this are closed instead
	// of reused, like flb_upstream's net.keepalive_idle_timeout (30s).
	DefaultMaxIdleTime = 30 * time.Second

	// DefaultMaxMessageBytes is in_forward's default buffer_max_size
	// (plugins/in_forward/fw_config.c: FLB_IN_FW_CHUNK_MAX_SIZE). A bigger
	// message makes in_forward drop the connection without an ack, forever.
	DefaultMaxMessageBytes = 6144000
)

// Compression selects the message mode.
type Compression int

const (
	// CompressionNone sends PackedForward.
	CompressionNone Compression = iota
	// CompressionGzip sends CompressedPackedForward ("compressed": "gzip").
	CompressionGzip
)

func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionGzip:
		return "gzip"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// ParseCompression maps a config value ("", "none", "off", "gzip") to a
// Compression.
func ParseCompression(s string) (Compression, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none", "off", "false":
		return CompressionNone, nil
	case "gzip":
		return CompressionGzip, nil
	}
	return CompressionNone, fmt.Errorf("forward: unsupported compression %q; want none or gzip", s)
}

// Config configures a Client. Zero values mean the defaults above.
type Config struct {
	// Endpoint is required; see ParseURL.
	Endpoint Endpoint

	ConnectTimeout time.Duration
	WriteTimeout   time.Duration
	AckTimeout     time.Duration

	// DisableAck stops asking for acks. Faster, but a batch written into a
	// connection that in_forward then closes is lost without an error.
	DisableAck bool

	Compression Compression

	MaxIdleConns int
	MaxIdleTime  time.Duration

	// MaxMessageBytes bounds both the encoded message and, with gzip, the
	// uncompressed entries (in_forward checks both against buffer_max_size).
	// Zero means DefaultMaxMessageBytes; negative means no limit.
	MaxMessageBytes int

	// ackLater makes a send return once the message is written; the caller
	// reads the ack (park.go).
	ackLater bool
}

func (cfg Config) normalized() (Config, error) {
	switch cfg.Endpoint.Network {
	case "tcp", "unix":
	default:
		return cfg, fmt.Errorf("forward: endpoint network %q: want tcp or unix (use ParseURL)", cfg.Endpoint.Network)
	}
	if cfg.Endpoint.Address == "" {
		return cfg, errors.New("forward: endpoint address is empty")
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"connect timeout", &cfg.ConnectTimeout, DefaultConnectTimeout},
		{"write timeout", &cfg.WriteTimeout, DefaultWriteTimeout},
		{"ack timeout", &cfg.AckTimeout, DefaultAckTimeout},
		{"max idle time", &cfg.MaxIdleTime, DefaultMaxIdleTime},
	}
	for _, d := range durations {
		if *d.v < 0 {
			return cfg, fmt.Errorf("forward: %s must not be negative (got %v)", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.MaxIdleConns < 0 {
		return cfg, fmt.Errorf("forward: max idle conns must not be negative (got %d)", cfg.MaxIdleConns)
	}
	if cfg.MaxIdleConns == 0 {
		cfg.MaxIdleConns = DefaultMaxIdleConns
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.Compression != CompressionNone && cfg.Compression != CompressionGzip {
		return cfg, fmt.Errorf("forward: unsupported compression %v", cfg.Compression)
	}
	return cfg, nil
}

// Stats are cumulative counters of a Client.
type Stats struct {
	Dials    uint64 // connections established
	Messages uint64 // messages delivered (acked, or written when acks are off)
	Entries  uint64 // entries in delivered messages, as counted by callers
	Failures uint64 // Send calls that returned an error
}

// Client sends PackedForward messages over a small pool of persistent
// connections. It is safe for concurrent use: each Send holds one connection
// exclusively, so there are as many connections as concurrent senders.
type Client struct {
	cfg    Config
	addr   string
	dialer net.Dialer

	mu     sync.Mutex
	idle   []*conn // LIFO: the most recently used is the most likely alive
	all    map[*conn]struct{}
	closed bool

	dials, messages, entries, failures atomic.Uint64

	parked parking // messages written on the engine thread, awaiting their acks
}

// NewClient validates cfg and returns a Client. It does not connect: the
// first Send does, so Fluent Bit can start before in_forward listens.
func NewClient(cfg Config) (*Client, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	return &Client{
		cfg:    cfg,
		addr:   cfg.Endpoint.String(),
		dialer: net.Dialer{Timeout: cfg.ConnectTimeout},
		all:    make(map[*conn]struct{}),
	}, nil
}

// Config returns the effective configuration, defaults filled in.
func (cl *Client) Config() Config { return cl.cfg }

// Stats returns a snapshot of the counters.
func (cl *Client) Stats() Stats {
	return Stats{
		Dials:    cl.dials.Load(),
		Messages: cl.messages.Load(),
		Entries:  cl.entries.Load(),
		Failures: cl.failures.Load(),
	}
}

// Send delivers one PackedForward message carrying count entries under tag.
// entries is the concatenation of msgpack entries ([time, record] or
// [[time, metadata], record]); it is written as is and not retained.
//
// With acks on, Send returns nil only after the server acknowledged this
// message's chunk id. On any failure the connection used is closed and the
// error is an *Error; IsRetryable tells whether to retry the batch. ctx
// cancellation and deadlines interrupt Send on top of the configured timeouts.
// Sending no entries (count 0, empty entries) is a no-op.
func (cl *Client) Send(ctx context.Context, tag string, entries []byte, count int) error {
	err := cl.send(ctx, tag, entries, count)
	if err != nil {
		cl.failures.Add(1)
	}
	return err
}

func (cl *Client) send(ctx context.Context, tag string, entries []byte, count int) error {
	switch {
	case tag == "":
		return cl.fail("send", fmt.Errorf("%w: empty tag", ErrInvalidArgument))
	case count < 0, count > 0 && len(entries) == 0, count == 0 && len(entries) > 0:
		return cl.fail("send", fmt.Errorf("%w: %d entries in %d bytes", ErrInvalidArgument, count, len(entries)))
	case count == 0:
		return nil
	}
	// in_forward limits the uncompressed entries too, so this holds for gzip.
	if max := cl.cfg.MaxMessageBytes; max > 0 && len(entries) > max {
		return cl.fail("send", fmt.Errorf("%w: %d bytes of entries, limit %d", ErrMessageTooLarge, len(entries), max))
	}
	if err := ctx.Err(); err != nil {
		return cl.fail("send", err)
	}

	c, err := cl.get(ctx)
	if err != nil {
		return cl.fail("dial", ioError(ctx, err))
	}
	if op, err := c.send(ctx, &cl.cfg, tag, entries, count); err != nil {
		if errors.Is(err, ErrMessageTooLarge) && !c.broken {
			cl.put(c) // nothing was written; the connection is fine
		} else {
			cl.discard(c)
		}
		if cl.isClosed() {
			err = fmt.Errorf("%w during send: %v", ErrClosed, err)
		}
		return cl.fail(op, hintTooLarge(err, len(entries)))
	}
	cl.put(c)
	cl.messages.Add(1)
	cl.entries.Add(uint64(count))
	return nil
}

// Message is one PackedForward message of a SendAll.
type Message struct {
	Tag     string
	Entries []byte // msgpack entries, concatenated; not retained
	Count   int    // how many entries
}

// SendAll delivers msgs over one connection: written back to back, then
// acked in order (see conn.sendAll). It returns how many of them, from the
// first, were delivered (acked, or written when acks are off); err says
// why the rest were not, as Send's would. With gzip compression the
// messages are sent one by one.
func (cl *Client) SendAll(ctx context.Context, msgs []Message) (int, error) {
	n, err := cl.sendAll(ctx, msgs)
	if err != nil && cl.cfg.Compression == CompressionNone {
		cl.failures.Add(1) // Send counts its own
	}
	return n, err
}

func (cl *Client) sendAll(ctx context.Context, msgs []Message) (int, error) {
	if cl.cfg.Compression != CompressionNone {
		for k, m := range msgs {
			if err := cl.Send(ctx, m.Tag, m.Entries, m.Count); err != nil {
				return k, err
			}
		}
		return len(msgs), nil
	}
	for _, m := range msgs {
		switch {
		case m.Tag == "":
			return 0, cl.fail("send", fmt.Errorf("%w: empty tag", ErrInvalidArgument))
		case m.Count <= 0 || len(m.Entries) == 0:
			return 0, cl.fail("send", fmt.Errorf("%w: %d entries in %d bytes", ErrInvalidArgument, m.Count, len(m.Entries)))
		case cl.cfg.MaxMessageBytes > 0 && len(m.Entries) > cl.cfg.MaxMessageBytes:
			return 0, cl.fail("send", fmt.Errorf("%w: %d bytes of entries, limit %d", ErrMessageTooLarge, len(m.Entries), cl.cfg.MaxMessageBytes))
		}
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, cl.fail("send", err)
	}
	c, err := cl.get(ctx)
	if err != nil {
		return 0, cl.fail("dial", ioError(ctx, err))
	}
	n, op, err := c.sendAll(ctx, &cl.cfg, msgs)
	for _, m := range msgs[:n] {
		cl.messages.Add(1)
		cl.entries.Add(uint64(m.Count))
	}
	if err != nil {
		if errors.Is(err, ErrMessageTooLarge) && !c.broken {
			cl.put(c)
		} else {
			cl.discard(c)
		}
		if cl.isClosed() {
			err = fmt.Errorf("%w during send: %v", ErrClosed, err)
		}
		size := 0
		if n < len(msgs) {
			size = len(msgs[n].Entries)
		}
		return n, cl.fail(op, hintTooLarge(err, size))
	}
	cl.put(c)
	return n, nil
}

// hintTooLarge names the likely cause when the server drops the connection
// after a large message: in_forward closes it without an ack or a word to
// the client when a message exceeds its buffer_max_size
// (plugins/in_forward/fw_conn.c: "incoming data exceed limit"), and the
// retries then fail the same way. size is the entries' bytes, which
// in_forward also checks after decompression. Messages up to
// MinMessageBytes are left alone: no usable buffer_max_size is that small.
func hintTooLarge(err error, size int) error {
	if size <= MinMessageBytes || !(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, errClosedBeforeAck)) {
		return err
	}
	return fmt.Errorf("%w, after a message of %d bytes: in_forward closes the connection when a message exceeds its "+
		"buffer_max_size (%d bytes by default; its log then says \"incoming data exceed limit\"): "+
		"lower max_message_size or raise buffer_max_size", err, size, DefaultMaxMessageBytes)
}

// get returns a healthy idle connection or dials a new one.
func (cl *Client) get(ctx context.Context) (*conn, error) {
	now := time.Now()
	for {
		cl.mu.Lock()
		if cl.closed {
			cl.mu.Unlock()
			return nil, ErrClosed
		}
		n := len(cl.idle)
		if n == 0 {
			cl.mu.Unlock()
			break
		}
		c := cl.idle[n-1]
		cl.idle[n-1] = nil
		cl.idle = cl.idle[:n-1]
		cl.mu.Unlock()

		if now.Sub(c.lastUsed) > cl.cfg.MaxIdleTime {
			cl.discard(c)
			continue
		}
		// The server may have closed it while idle (restart, in_forward
		// pausing under back-pressure): writing into it would "succeed" and
		// only the ack would tell, so look first.
		if err := c.check(); err != nil {
			cl.discard(c)
			if errors.Is(err, ErrHandshakeRequired) {
				return nil, err
			}
			continue
		}
		return c, nil
	}

	nc, err := cl.dialer.DialContext(ctx, cl.cfg.Endpoint.Network, cl.cfg.Endpoint.Address)
	if err != nil {
		return nil, err
	}
	c := newConn(nc)
	cl.mu.Lock()
	if cl.closed {
		cl.mu.Unlock()
		_ = nc.Close()
		return nil, ErrClosed
	}
	cl.all[c] = struct{}{}
	cl.mu.Unlock()
	cl.dials.Add(1)
	return c, nil
}

// put returns a connection to the pool, or closes it when it must not be
// reused or the pool is full.
func (cl *Client) put(c *conn) {
	if c.broken {
		cl.discard(c)
		return
	}
	c.lastUsed = time.Now()
	cl.mu.Lock()
	if cl.closed || len(cl.idle) >= cl.cfg.MaxIdleConns {
		delete(cl.all, c)
		cl.mu.Unlock()
		_ = c.nc.Close()
		return
	}
	cl.idle = append(cl.idle, c)
	cl.mu.Unlock()
}

func (cl *Client) isClosed() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.closed
}

func (cl *Client) discard(c *conn) {
	cl.mu.Lock()
	delete(cl.all, c)
	cl.mu.Unlock()
	_ = c.nc.Close()
}

// Close closes every connection, idle or in use (a Send in progress fails),
// and makes later Sends fail fast with ErrClosed. It is idempotent.
func (cl *Client) Close() error {
	cl.mu.Lock()
	if cl.closed {
		cl.mu.Unlock()
		return nil
	}
	cl.closed = true
	all := cl.all
	cl.all = nil
	cl.idle = nil
	cl.mu.Unlock()
	for c := range all {
		_ = c.nc.Close()
	}
	return nil
}
