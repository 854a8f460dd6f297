package forward

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/template"
)

// DefaultTag routes re-injected records by tenant and event. It must not
// match the `ctlive` output's own Match, or records would loop.
const DefaultTag = "ctlive.$tenant.$event"

// Sink sends enriched records back into Fluent Bit (or Fluentd) through an
// in_forward input: one PackedForward message per tag per flush, acked.
type Sink struct {
	client   *Client
	tag      *template.Template
	maxBytes int // entries per message, below in_forward's buffer_max_size
	outboxes outboxes
}

// Bounds of max_message_size. The floor is a message that still holds a
// large CTLive record (a stack trace runs to tens of KB); the ceiling keeps
// one flush's messages to what a worker may hold in memory. Above
// in_forward's default buffer_max_size (DefaultMaxMessageBytes) New warns:
// such a value is right only where in_forward's buffer_max_size was raised
// to match (or the receiver is Fluentd, which has no such limit), so it is
// not refused, but without that every larger message's connection is
// dropped.
const (
	MinMessageBytes = 64 * config.KB
	MaxMessageBytes = 64 * config.MB
)

// New reads url (tcp://host:port or unix:///path), tag, require_ack_response,
// compress, connect_timeout, write_timeout, ack_timeout and
// max_message_size.
func New(r *config.Reader, log *flblog.Logger, _ *record.Layout) (*Sink, error) {
	ep, err := ParseURL(r.String("url", "tcp://127.0.0.1:24224"))
	r.Errorf("url", err)
	tag, err := template.Parse(r.String("tag", DefaultTag), template.Options{})
	r.Errorf("tag", err)
	comp, err := ParseCompression(r.Enum("compress", "none", "none", "off", "gzip"))
	r.Errorf("compress", err)
	cfg := Config{
		Endpoint:        ep,
		ConnectTimeout:  r.Timeout("connect_timeout", DefaultConnectTimeout),
		WriteTimeout:    r.Timeout("write_timeout", DefaultWriteTimeout),
		AckTimeout:      r.Timeout("ack_timeout", DefaultAckTimeout),
		DisableAck:      !r.Bool("require_ack_response", true),
		Compression:     comp,
		MaxMessageBytes: int(r.Size("max_message_size", DefaultMaxMessageBytes, MinMessageBytes, MaxMessageBytes)),
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if cfg.MaxMessageBytes > DefaultMaxMessageBytes && log != nil {
		log.Warnf("max_message_size %d is above in_forward's default buffer_max_size (%d bytes): "+
			"raise buffer_max_size on the in_forward input to at least %d, "+
			"or it drops the connection of every larger message and the retries never pass",
			cfg.MaxMessageBytes, DefaultMaxMessageBytes, cfg.MaxMessageBytes)
	}
	client, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Sink{client: client, tag: tag, maxBytes: cfg.MaxMessageBytes - messageOverhead}, nil
}

// messageOverhead leaves room for the tag and the options map around the
// entries (tags are short; 1 KiB is generous).
const messageOverhead = 1024

// message is one PackedForward message under construction.
type message struct {
	tag     string
	entries []byte
	events  []int // batch indexes of the records in it
	count   int   // entries, group markers included
	group   int   // the chunk group this message has opened, or -1
}

// outbox groups one flush's entries by tag.
type outbox struct {
	msgs   []message
	byTag  map[string]int // tag -> index of its open (last) message
	tagBuf []byte
	entry  []byte
	group  []byte // the open log group's start marker

	round    []Message // the messages of one SendAll
	roundIdx []int     // their indexes in msgs
}

func (o *outbox) reset() {
	all := o.msgs[:cap(o.msgs)]
	for i := range all {
		m := &all[i]
		m.tag, m.entries, m.events = "", m.entries[:0], m.events[:0]
	}
	clear(o.round[:cap(o.round)]) // don't keep the last flush's entries reachable
	o.msgs = o.msgs[:0]
	clear(o.byTag)
}

// open returns the index of tag's open message, adding one for a new tag.
func (o *outbox) open(tag []byte) int {
	if i, ok := o.byTag[string(tag)]; ok {
		return i
	}
	return o.add(string(tag))
}

// add starts another message for tag and returns its index. It may move
// o.msgs: pointers into it are stale after.
func (o *outbox) add(tag string) int {
	if len(o.msgs) < cap(o.msgs) {
		o.msgs = o.msgs[:len(o.msgs)+1]
	} else {
		o.msgs = append(o.msgs, message{})
	}
	k := len(o.msgs) - 1
	m := &o.msgs[k]
	m.tag, m.count, m.group = tag, 0, -1
	o.byTag[tag] = k
	return k
}

// size is the bytes o's buffers hold, its per-message bookkeeping
// included (the byTag map's share is bounded by maxIdleTags instead).
func (o *outbox) size() int {
	n := cap(o.entry) + cap(o.group) + cap(o.tagBuf) +
		int(unsafe.Sizeof(Message{}))*cap(o.round) + 8*cap(o.roundIdx) +
		int(unsafe.Sizeof(message{}))*cap(o.msgs)
	for _, m := range o.msgs[:cap(o.msgs)] {
		n += cap(m.entries) + 8*cap(m.events)
	}
	return n
}

// outboxes keeps the outboxes of finished flushes for the next ones: a
// worker's messages reach their sizes once, not after every garbage
// collection (which empties a sync.Pool). At most maxIdleOutboxes of at
// most maxIdleOutboxBytes and maxIdleTags messages each are kept, so one
// burst of large records or of many tags (tenants come from the lines)
// does not pin its buffers for the life of the agent.
type outboxes struct {
	mu   sync.Mutex
	idle []*outbox
}

const (
	maxIdleOutboxes    = 8
	maxIdleOutboxBytes = 16 << 20
	maxIdleTags        = 1024
)

func (p *outboxes) get() *outbox {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		o := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		return o
	}
	return &outbox{byTag: map[string]int{}}
}

func (p *outboxes) put(o *outbox) {
	o.reset() // drop the references to this flush's tags and entries
	if cap(o.msgs) > maxIdleTags || o.size() > maxIdleOutboxBytes {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) < maxIdleOutboxes {
		p.idle = append(p.idle, o)
	}
}

// Deliver renders each record's tag, packs the records per tag in chunk
// order and sends one message per tag (more when a tag's entries outgrow a
// message), all written together and their acks read together (SendAll). Log groups (OpenTelemetry) are kept: a tag's message opens with
// the group's start marker and every tag that received records of a group
// gets its end marker.
func (s *Sink) Deliver(ctx context.Context, b *sink.Batch) error {
	o := s.outboxes.get()
	defer s.outboxes.put(o)
	s.pack(o, b)

	engine, parked := sink.IsEngineThread(ctx), 0
	if !engine {
		if err := s.sendAll(ctx, o, b); err != nil {
			return err
		}
	}
	for k := range o.msgs {
		m := &o.msgs[k]
		if !engine || len(m.events) == 0 {
			continue // sent above, or only group markers
		}
		waiting, err := s.client.SendOrPark(ctx, m.tag, m.entries, m.count, parked == 0)
		if err != nil {
			if errors.Is(err, ErrHandshakeRequired) {
				return sink.Permanent(err)
			}
			return err // retryable: what was sent so far is marked done
		}
		if waiting {
			parked++ // not done: the retry reads its ack (park.go)
			continue
		}
		s.done(b, m)
	}
	if parked > 0 {
		return errParked{parked}
	}
	for i, ev := range b.Events {
		if !ev.IsRecord() {
			b.Done(i)
		}
	}
	return nil
}

// pack puts each record of b in the message of its tag, encoding it in
// place (a record is copied again only when its tag's message is full).
// o is empty: new, or reset when it was put back (outboxes.put).
func (s *Sink) pack(o *outbox, b *sink.Batch) {
	var groupStart []byte
	group := -1
	for i, ev := range b.Events {
		switch ev.Group {
		case record.GroupStart:
			// As received, but for metadata nested past what in_forward
			// unpacks (record.MaxDepth).
			o.group = record.AppendMsgpack(o.group[:0], ev)
			groupStart, group = o.group, i
			continue
		case record.GroupEnd:
			o.entry = record.AppendMsgpack(o.entry[:0], ev)
			for k := range o.msgs {
				if m := &o.msgs[k]; m.group == group && group >= 0 {
					m.entries = append(m.entries, o.entry...)
					m.count++
					m.group = -1
				}
			}
			groupStart, group = nil, -1
			continue
		}
		o.tagBuf = s.tag.Append(o.tagBuf[:0], ev)
		m := &o.msgs[o.open(o.tagBuf)]
		mark := len(m.entries)
		m.entries = record.AppendMsgpack(m.entries, ev)
		entry := m.entries[mark:]
		if len(entry) > s.maxBytes {
			m.entries = m.entries[:mark]
			b.RejectAs(i, sink.TooLarge, fmt.Sprintf("record of %d bytes exceeds max_message_size", len(entry)))
			continue
		}
		if mark+len(entry)+len(groupStart) > s.maxBytes && m.count > 0 {
			// This tag's message is full: the record starts another. entry
			// still holds it (only the length of m.entries is cut).
			m.entries = m.entries[:mark]
			m = &o.msgs[o.add(m.tag)]
			mark = len(m.entries)
			m.entries = append(m.entries, entry...)
		}
		if groupStart != nil && m.group != group {
			m.entries = slices.Insert(m.entries, mark, groupStart...)
			m.count++
			m.group = group
		}
		m.events = append(m.events, i)
		m.count++
	}
}

// sendAll sends the flush's messages with one write and one wait (see
// Client.SendAll), in rounds of at most a message's size, and marks the
// records of each acked message done.
func (s *Sink) sendAll(ctx context.Context, o *outbox, b *sink.Batch) error {
	o.round, o.roundIdx = o.round[:0], o.roundIdx[:0]
	size := 0
	flush := func() error {
		n, err := s.client.SendAll(ctx, o.round)
		for _, k := range o.roundIdx[:n] {
			s.done(b, &o.msgs[k])
		}
		o.round, o.roundIdx, size = o.round[:0], o.roundIdx[:0], 0
		if errors.Is(err, ErrHandshakeRequired) {
			return sink.Permanent(err)
		}
		return err // retryable: what was acked so far is marked done
	}
	for k := range o.msgs {
		m := &o.msgs[k]
		if len(m.events) == 0 {
			continue // only group markers
		}
		if size+len(m.entries) > s.maxBytes && len(o.round) > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		o.round = append(o.round, Message{Tag: m.tag, Entries: m.entries, Count: m.count})
		o.roundIdx = append(o.roundIdx, k)
		size += len(m.entries)
	}
	if len(o.round) == 0 {
		return nil
	}
	return flush()
}

// done marks a delivered message's records.
func (s *Sink) done(b *sink.Batch, m *message) {
	b.Sent(len(m.entries))
	for _, i := range m.events {
		b.Done(i)
	}
}

// Close closes the connections.
func (s *Sink) Close() error { return s.client.Close() }
