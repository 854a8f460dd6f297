// Package fwdtest is a strict stand-in for Fluent Bit's in_forward input, for
// tests of Forward protocol clients.
//
// It accepts what in_forward accepts (Message, Forward, PackedForward and
// CompressedPackedForward modes), validates every byte more strictly than
// in_forward does, records each event and each protocol violation, and
// answers {"ack": chunk} like in_forward (plugins/in_forward/fw_prot.c:
// send_ack). Knobs make it misbehave so a client's error paths can be tested.
//
// Unless Options.ExpectViolations is set, any violation fails the test at
// cleanup, so a test that forgets to look still cannot pass with bad bytes.
package fwdtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// DefaultMaxMessageBytes is in_forward's default buffer_max_size
// (plugins/in_forward/fw_config.c: FLB_IN_FW_CHUNK_MAX_SIZE).
const DefaultMaxMessageBytes = 6144000

// AckMode says how the server answers a message that carries a chunk id.
type AckMode int

const (
	AckCorrect AckMode = iota // {"ack": chunk}, like in_forward
	AckNone                   // never answer
	AckWrongID                // {"ack": <another valid id>}
	AckGarbage                // bytes that are not msgpack
)

// Options configure a Server. The zero value behaves like in_forward with
// default settings.
type Options struct {
	// Unix listens on a unix socket in a fresh temporary directory instead
	// of 127.0.0.1:0.
	Unix bool

	Ack      AckMode
	AckDelay time.Duration // wait this long before acking (cut short by Stop)

	// CloseAfterRead closes the connection once a whole message has been
	// read, without recording its events or acking, as if the server died
	// mid-ingest. Such messages are counted in Stats().Dropped.
	CloseAfterRead bool

	// HELO greets every connection with a secure-forward HELO, like
	// in_forward with shared_key, and closes it after the first read.
	HELO bool

	// MaxMessageBytes mirrors in_forward's buffer_max_size: a bigger message
	// (or decompressed stream) is a violation and drops the connection.
	MaxMessageBytes int

	// Discard checks only the framing and options of packed messages, records
	// nothing but counts (Stats), and acks without allocating: for
	// benchmarks of the client side.
	Discard bool

	AllowInvalidUTF8 bool // accept str values that are not UTF-8
	// AllowGroupMarkers accepts Fluent Bit's log-group start/end entries
	// (EventTime seconds 0xffffffff/0xfffffffe), which in_forward passes on
	// as they are; they are recorded as Events with Group set.
	AllowGroupMarkers bool
	ExpectViolations  bool // don't fail the test at cleanup on violations
}

// Stats counts what a Server has seen.
type Stats struct {
	Accepted         int // connections accepted, over all restarts
	Messages         int // messages recorded (or, with Discard, acked)
	DiscardedEntries int // "size" sum of messages seen with Discard
	Dropped          int // messages dropped by CloseAfterRead
	Truncated        int // connections closed by the client mid-message
	Acks             int // acks sent (counted just before the write)
}

// Server is a running fake in_forward.
type Server struct {
	t       testing.TB
	network string
	addr    string
	dir     string

	mu         sync.Mutex
	opts       Options
	ln         net.Listener
	conns      map[net.Conn]struct{}
	stop       chan struct{} // closed by Stop; one per run
	running    bool
	events     []Event
	messages   []Message
	violations []string
	stats      Stats
	changed    chan struct{} // closed and replaced when events arrive

	wg sync.WaitGroup
}

// Start starts a server on 127.0.0.1:0 (or a unix socket with opts.Unix) and
// stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	s := &Server{t: t, opts: opts, network: "tcp", addr: "127.0.0.1:0", changed: make(chan struct{})}
	if opts.Unix {
		// Not t.TempDir(): socket paths are limited to ~108 bytes and test
		// names make those long.
		dir, err := os.MkdirTemp("", "fwdtest")
		if err != nil {
			t.Fatalf("fwdtest: %v", err)
		}
		s.dir = dir
		s.network, s.addr = "unix", filepath.Join(dir, "in_forward.sock")
	}
	if err := s.listen(); err != nil {
		t.Fatalf("fwdtest: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		if s.dir != "" {
			_ = os.RemoveAll(s.dir)
		}
		if !s.opts.ExpectViolations {
			for _, v := range s.Violations() {
				t.Errorf("fwdtest: protocol violation: %s", v)
			}
		}
	})
	return s
}

func (s *Server) listen() error {
	if s.network == "unix" {
		_ = os.Remove(s.addr)
	}
	var ln net.Listener
	var err error
	// Rebinding the same TCP port right after Stop can briefly fail.
	for try := 0; try < 50; try++ {
		if ln, err = net.Listen(s.network, s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.ln = ln
	s.addr = ln.Addr().String()
	s.conns = make(map[net.Conn]struct{})
	s.stop = make(chan struct{})
	s.running = true
	stop := s.stop
	s.mu.Unlock()
	s.wg.Add(1)
	go s.accept(ln, stop)
	return nil
}

// Network is "tcp" or "unix".
func (s *Server) Network() string { return s.network }

// Addr is "127.0.0.1:port" or the socket path; it survives Restart.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the address as tcp://127.0.0.1:port or unix:///path.
func (s *Server) URL() string {
	if s.network == "unix" {
		return "unix://" + s.Addr()
	}
	return "tcp://" + s.Addr()
}

// SetOptions changes the behaviour knobs (Ack, AckDelay, CloseAfterRead,
// HELO, Discard...) for messages and connections from now on. Unix and the
// address cannot change.
func (s *Server) SetOptions(opts Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	opts.Unix = s.opts.Unix
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	s.opts = opts
}

func (s *Server) options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts
}

// Stop closes the listener and every connection and waits for the server's
// goroutines. Recorded events stay. It is idempotent.
func (s *Server) Stop() {
	s.mu.Lock()
	if !s.running {
		s.mu.Unlock()
		return
	}
	s.running = false
	close(s.stop)
	_ = s.ln.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("fwdtest: server goroutines did not stop within 10s")
	}
}

// Restart stops the server if needed and listens again on the same address.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.listen(); err != nil {
		s.t.Fatalf("fwdtest: restart on %s: %v", s.addr, err)
	}
}

// Events returns a copy of all events received so far, in arrival order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Messages returns a copy of all messages received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Violations returns every protocol violation seen so far.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// WaitEvents waits until at least n events have arrived, or timeout passes.
// It returns the events so far, and an error on timeout. Safe to call from
// any goroutine.
func (s *Server) WaitEvents(n int, timeout time.Duration) ([]Event, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if len(s.events) >= n {
			evs := append([]Event(nil), s.events...)
			s.mu.Unlock()
			return evs, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			evs, v := s.Events(), s.Violations()
			return evs, fmt.Errorf("fwdtest: %d events after %v, want %d (violations: %q)", len(evs), timeout, n, v)
		}
	}
}

func (s *Server) violation(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

func (s *Server) accept(ln net.Listener, stop chan struct{}) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return // listener closed by Stop
		}
		s.mu.Lock()
		if !s.running || s.stop != stop {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.stats.Accepted++
		id := s.stats.Accepted
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(nc, id, stop)
	}
}

// serve reads messages off one connection until it closes or a violation
// makes us drop it, as in_forward does (fw_conn.c:fw_conn_event).
func (s *Server) serve(nc net.Conn, id int, stop chan struct{}) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		_ = nc.Close()
	}()

	if s.options().HELO {
		s.helo(nc)
		return
	}
	cs := &connState{id: id, buf: make([]byte, 0, 64<<10)}
	for {
		// Handle every complete message in the buffer.
		for len(cs.buf) > 0 {
			rest, err := msgp.Skip(cs.buf)
			if errors.Is(err, msgp.ErrShortBytes) {
				break
			}
			if err != nil {
				s.violation("conn %d: message %d is not msgpack: %v", id, cs.n+1, err)
				return
			}
			frame := cs.buf[:len(cs.buf)-len(rest)]
			cs.n++
			if max := s.options().MaxMessageBytes; len(frame) > max {
				s.violation("conn %d: message %d has %d bytes, over %d (in_forward buffer_max_size drops the connection)", id, cs.n, len(frame), max)
				return
			}
			if !s.handle(nc, cs, frame, stop) {
				return
			}
			cs.buf = cs.buf[:copy(cs.buf, rest)]
		}
		max := s.options().MaxMessageBytes
		if len(cs.buf) > max {
			s.violation("conn %d: message %d exceeds %d bytes (in_forward buffer_max_size drops the connection)", id, cs.n+1, max)
			return
		}
		if len(cs.buf) == cap(cs.buf) {
			grown := make([]byte, len(cs.buf), min(2*cap(cs.buf), max+1))
			copy(grown, cs.buf)
			cs.buf = grown
		}
		m, err := nc.Read(cs.buf[len(cs.buf):cap(cs.buf)])
		cs.buf = cs.buf[:len(cs.buf)+m]
		if err != nil {
			select {
			case <-stop:
			default:
				if len(cs.buf) > 0 {
					s.mu.Lock()
					s.stats.Truncated++
					s.mu.Unlock()
				}
			}
			return
		}
	}
}

type connState struct {
	id  int
	n   int // messages read
	buf []byte
	ack []byte
}

// handle processes one complete message; false drops the connection.
func (s *Server) handle(nc net.Conn, cs *connState, frame []byte, stop chan struct{}) bool {
	opts := s.options()
	if opts.CloseAfterRead {
		s.mu.Lock()
		s.stats.Dropped++
		s.mu.Unlock()
		return false
	}
	var chunk []byte
	if opts.Discard {
		c, size, err := skimPacked(frame)
		if err != nil {
			s.violation("conn %d message %d: %v", cs.id, cs.n, err)
			return false
		}
		chunk = c
		s.mu.Lock()
		s.stats.Messages++
		s.stats.DiscardedEntries += size
		s.mu.Unlock()
	} else {
		d := decoder{allowInvalidUTF8: opts.AllowInvalidUTF8, maxBytes: opts.MaxMessageBytes, allowGroups: opts.AllowGroupMarkers}
		msg, events, err := d.frame(frame)
		if err != nil {
			s.violation("conn %d message %d (%v, %d bytes): %v", cs.id, cs.n, msg.Mode, len(frame), err)
			return false
		}
		msg.Conn = cs.id
		s.mu.Lock()
		s.messages = append(s.messages, msg)
		s.events = append(s.events, events...)
		s.stats.Messages++
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
		if msg.Chunk != "" {
			chunk = []byte(msg.Chunk)
		}
	}
	if chunk == nil {
		return true
	}

	if opts.AckDelay > 0 {
		t := time.NewTimer(opts.AckDelay)
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			return false
		}
	}
	switch opts.Ack {
	case AckNone:
		return true
	case AckCorrect:
		cs.ack = appendAck(cs.ack[:0], chunk)
	case AckWrongID:
		cs.ack = appendAck(cs.ack[:0], wrongID(chunk))
	case AckGarbage:
		cs.ack = append(cs.ack[:0], 0xc1, 'n', 'o', 't', ' ', 'a', 'n', ' ', 'a', 'c', 'k')
	}
	// Counted first: a client that has read the ack must see it counted.
	s.mu.Lock()
	s.stats.Acks++
	s.mu.Unlock()
	_, err := nc.Write(cs.ack)
	return err == nil
}

// appendAck encodes {"ack": id} as in_forward does (fw_prot.c:send_ack).
func appendAck(b, id []byte) []byte {
	b = msgp.AppendMapHeader(b, 1)
	b = msgp.AppendString(b, "ack")
	return msgp.AppendStringFromBytes(b, id)
}

// wrongID returns a different id of the same well-formed shape.
func wrongID(id []byte) []byte {
	w := []byte(strings.Repeat("A", 22) + "==")
	if string(w) == string(id) {
		w[0] = 'B'
	}
	return w
}

// skimPacked checks the envelope of a (Compressed)PackedForward message
// without decoding entries or allocating, returning its chunk id and "size".
func skimPacked(b []byte) (chunk []byte, size int, err error) {
	sz, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return nil, 0, err
	}
	if sz != 3 {
		return nil, 0, fmt.Errorf("discard mode wants [tag, entries, options], got %d elements", sz)
	}
	if msgp.NextType(b) != msgp.StrType {
		return nil, 0, fmt.Errorf("tag is %v, want str", msgp.NextType(b))
	}
	if _, b, err = msgp.ReadStringZC(b); err != nil {
		return nil, 0, err
	}
	switch msgp.NextType(b) {
	case msgp.BinType:
		_, b, err = msgp.ReadBytesZC(b)
	case msgp.StrType:
		_, b, err = msgp.ReadStringZC(b)
	default:
		return nil, 0, fmt.Errorf("entries are %v, want bin or str", msgp.NextType(b))
	}
	if err != nil {
		return nil, 0, err
	}
	n, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return nil, 0, fmt.Errorf("options: %w", err)
	}
	size = -1
	for i := uint32(0); i < n; i++ {
		var k []byte
		if msgp.NextType(b) != msgp.StrType {
			return nil, 0, errors.New("option key is not str")
		}
		if k, b, err = msgp.ReadStringZC(b); err != nil {
			return nil, 0, err
		}
		switch string(k) {
		case "chunk":
			chunk, b, err = msgp.ReadStringZC(b)
		case "size":
			size, b, err = msgp.ReadIntBytes(b)
		default:
			b, err = msgp.Skip(b)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("option %q: %w", k, err)
		}
	}
	if size < 0 {
		return nil, 0, errors.New(`no "size" option`)
	}
	return chunk, size, nil
}

// helo greets like in_forward with shared_key (fw_prot.c:send_helo), then
// fails the handshake on whatever arrives, closing the connection.
func (s *Server) helo(nc net.Conn) {
	b := msgp.AppendArrayHeader(nil, 2)
	b = msgp.AppendString(b, "HELO")
	b = msgp.AppendMapHeader(b, 2)
	b = msgp.AppendString(b, "nonce")
	b = msgp.AppendString(b, "0123456789abcdef")
	b = msgp.AppendString(b, "auth")
	b = msgp.AppendString(b, "fedcba9876543210")
	if _, err := nc.Write(b); err != nil {
		return
	}
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var buf [1024]byte
	_, _ = nc.Read(buf[:])
}
