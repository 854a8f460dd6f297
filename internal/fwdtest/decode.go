package fwdtest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"
)

// Mode is the Forward protocol carrier mode of a message.
type Mode int

const (
	ModeMessage                 Mode = iota + 1 // [tag, time, record, option?]
	ModeForward                                 // [tag, [entry...], option?]
	ModePackedForward                           // [tag, bin|str(entries), option?]
	ModeCompressedPackedForward                 // [tag, bin|str(gzip(entries)), {"compressed": "gzip"}]
)

func (m Mode) String() string {
	switch m {
	case ModeMessage:
		return "Message"
	case ModeForward:
		return "Forward"
	case ModePackedForward:
		return "PackedForward"
	case ModeCompressedPackedForward:
		return "CompressedPackedForward"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Event is one received log event.
type Event struct {
	Tag string
	// Time in UTC with nanoseconds (EventTime) or whole seconds.
	Time time.Time
	// IntegerTime is true when the time was a plain integer, not EventTime.
	IntegerTime bool
	// Metadata is nil for [time, record] entries and non-nil (possibly
	// empty) for Fluent Bit v2 [[time, metadata], record] entries.
	Metadata map[string]any
	Record   map[string]any
	// Group is "start" or "end" for a log-group marker (only with
	// Options.AllowGroupMarkers), "" for a log event.
	Group string
}

// Message describes one received Forward protocol message.
type Message struct {
	Mode       Mode
	Tag        string
	Entries    int            // events decoded
	Size       int            // "size" option, -1 when absent
	Chunk      string         // "chunk" option, "" when absent
	Compressed string         // "compressed" option, "" when absent
	StreamType string         // "bin" or "str" in the packed modes
	Options    map[string]any // nil when the message had no options
	Conn       int            // connection serial number, from 1
	Bytes      int            // encoded message size
}

// Ext is a msgpack extension value found inside a record.
type Ext struct {
	Type int8
	Data []byte
}

// Decoded values: map[string]any, []any, string, []byte, int64 (uint64 only
// above MaxInt64), float64 (float32 widened), bool, nil, Ext.

const maxDepth = 100

type decoder struct {
	allowGroups      bool
	allowInvalidUTF8 bool
	maxBytes         int // decompressed stream limit
}

// DecodeEntries strictly decodes a MessagePackEventStream, the concatenated
// entries of a PackedForward message: every byte must belong to an entry, each
// entry [time, record] or [[time, metadata], record], time an EventTime
// (ext type 0, 8 bytes) or a non-negative integer, metadata and record maps
// with string keys. Use it to unit-test code that encodes entries.
func DecodeEntries(b []byte) ([]Event, error) {
	d := decoder{}
	return d.stream(b)
}

func (d *decoder) stream(b []byte) ([]Event, error) {
	if len(b) == 0 {
		return nil, errors.New("entry stream is empty")
	}
	var events []Event
	total := len(b)
	for len(b) > 0 {
		ev, rest, err := d.entry(b)
		if err != nil {
			return nil, fmt.Errorf("entry %d (at byte %d of %d): %w", len(events), total-len(b), total, err)
		}
		events = append(events, ev)
		b = rest
	}
	return events, nil
}

// entry decodes [time, record] or [[time, metadata], record]
// (src/flb_log_event_decoder.c:flb_event_decoder_decode_object).
func (d *decoder) entry(b []byte) (Event, []byte, error) {
	var ev Event
	if t := msgp.NextType(b); t != msgp.ArrayType {
		return ev, b, fmt.Errorf("entry is %v, want a 2-element array", t)
	}
	sz, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return ev, b, err
	}
	if sz != 2 {
		return ev, b, fmt.Errorf("entry has %d elements, want 2", sz)
	}
	if msgp.NextType(b) == msgp.ArrayType {
		hsz, rest, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return ev, b, err
		}
		if hsz != 2 {
			return ev, b, fmt.Errorf("entry header has %d elements, want [time, metadata]", hsz)
		}
		ev.Group, b = d.groupMarker(rest)
		if ev.Group == "" {
			if ev.Time, ev.IntegerTime, b, err = decodeTime(b); err != nil {
				return ev, b, err
			}
		}
		if msgp.NextType(b) != msgp.MapType {
			return ev, b, fmt.Errorf("metadata is %v, want a map", msgp.NextType(b))
		}
		if ev.Metadata, b, err = d.mapValue(b, 1); err != nil {
			return ev, b, fmt.Errorf("metadata: %w", err)
		}
	} else if ev.Time, ev.IntegerTime, b, err = decodeTime(b); err != nil {
		return ev, b, err
	}
	if msgp.NextType(b) != msgp.MapType {
		return ev, b, fmt.Errorf("record is %v, want a map", msgp.NextType(b))
	}
	if ev.Record, b, err = d.mapValue(b, 1); err != nil {
		return ev, b, fmt.Errorf("record: %w", err)
	}
	return ev, b, nil
}

// groupMarker consumes a log-group marker's EventTime when they are allowed.
func (d *decoder) groupMarker(b []byte) (string, []byte) {
	if !d.allowGroups || len(b) < 10 || b[0] != 0xd7 || b[1] != 0 || string(b[2:5]) != "\xff\xff\xff" || string(b[6:10]) != "\x00\x00\x00\x00" {
		return "", b
	}
	switch b[5] {
	case 0xff:
		return "start", b[10:]
	case 0xfe:
		return "end", b[10:]
	}
	return "", b
}

// decodeTime accepts what the spec allows: EventTime (ext type 0 carrying
// big-endian uint32 seconds and nanoseconds, as fixext8 or ext8) or a
// non-negative integer. Fluent Bit also takes floats
// (flb_log_event_decoder_decode_timestamp); the spec does not, so neither
// do we. Group markers (seconds 0xffffffff / 0xfffffffe) are not log events.
func decodeTime(b []byte) (time.Time, bool, []byte, error) {
	switch msgp.NextType(b) {
	case msgp.UintType:
		v, rest, err := msgp.ReadUint64Bytes(b)
		if err != nil {
			return time.Time{}, false, b, err
		}
		if v > math.MaxInt64 {
			return time.Time{}, false, b, fmt.Errorf("integer time %d out of range", v)
		}
		return time.Unix(int64(v), 0).UTC(), true, rest, nil
	case msgp.IntType:
		v, rest, err := msgp.ReadInt64Bytes(b)
		if err != nil {
			return time.Time{}, false, b, err
		}
		if v < 0 {
			return time.Time{}, false, b, fmt.Errorf("negative integer time %d", v)
		}
		return time.Unix(v, 0).UTC(), true, rest, nil
	case msgp.ExtensionType, msgp.TimeType, msgp.Complex64Type, msgp.Complex128Type:
		typ, data, rest, err := readExt(b)
		if err != nil {
			return time.Time{}, false, b, err
		}
		if typ != 0 || len(data) != 8 {
			return time.Time{}, false, b, fmt.Errorf("time is ext type %d with %d bytes, want EventTime (type 0, 8 bytes)", typ, len(data))
		}
		sec := binary.BigEndian.Uint32(data)
		nsec := binary.BigEndian.Uint32(data[4:])
		if sec >= math.MaxUint32-1 {
			return time.Time{}, false, b, fmt.Errorf("EventTime seconds %#x is a Fluent Bit group marker, not a log event", sec)
		}
		if nsec >= 1e9 {
			return time.Time{}, false, b, fmt.Errorf("EventTime nanoseconds %d out of range", nsec)
		}
		return time.Unix(int64(sec), int64(nsec)).UTC(), false, rest, nil
	case msgp.InvalidType:
		return time.Time{}, false, b, msgp.ErrShortBytes
	default:
		return time.Time{}, false, b, fmt.Errorf("time is %v, want EventTime or integer", msgp.NextType(b))
	}
}

// readExt splits any ext encoding into type and data.
func readExt(b []byte) (int8, []byte, []byte, error) {
	if len(b) < 2 {
		return 0, nil, b, msgp.ErrShortBytes
	}
	var size, hdr int
	switch b[0] {
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16
		size, hdr = 1<<(b[0]-0xd4), 2
	case 0xc7:
		size, hdr = int(b[1]), 3
	case 0xc8:
		if len(b) < 3 {
			return 0, nil, b, msgp.ErrShortBytes
		}
		size, hdr = int(binary.BigEndian.Uint16(b[1:])), 4
	case 0xc9:
		if len(b) < 5 {
			return 0, nil, b, msgp.ErrShortBytes
		}
		size, hdr = int(binary.BigEndian.Uint32(b[1:])), 6
	default:
		return 0, nil, b, fmt.Errorf("byte %#x is not an ext", b[0])
	}
	if len(b) < hdr+size {
		return 0, nil, b, msgp.ErrShortBytes
	}
	return int8(b[hdr-1]), b[hdr : hdr+size], b[hdr+size:], nil
}

// mapValue decodes a map whose keys must all be unique strings.
func (d *decoder) mapValue(b []byte, depth int) (map[string]any, []byte, error) {
	if depth > maxDepth {
		return nil, b, errors.New("nested too deep")
	}
	sz, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return nil, b, err
	}
	if uint64(sz) > uint64(len(b))/2 { // every key and value takes a byte
		return nil, b, msgp.ErrShortBytes
	}
	m := make(map[string]any, sz)
	for i := uint32(0); i < sz; i++ {
		if t := msgp.NextType(b); t != msgp.StrType {
			return nil, b, fmt.Errorf("map key %d is %v, want str", i, t)
		}
		var k []byte
		if k, b, err = msgp.ReadStringZC(b); err != nil {
			return nil, b, err
		}
		if !d.allowInvalidUTF8 && !utf8.Valid(k) {
			return nil, b, fmt.Errorf("map key %q is not valid UTF-8", k)
		}
		if _, dup := m[string(k)]; dup {
			return nil, b, fmt.Errorf("duplicate map key %q", k)
		}
		var v any
		if v, b, err = d.value(b, depth+1); err != nil {
			return nil, b, fmt.Errorf("%q: %w", k, err)
		}
		m[string(k)] = v
	}
	return m, b, nil
}

func (d *decoder) value(b []byte, depth int) (any, []byte, error) {
	if depth > maxDepth {
		return nil, b, errors.New("nested too deep")
	}
	switch t := msgp.NextType(b); t {
	case msgp.MapType:
		return d.mapValue(b, depth)
	case msgp.ArrayType:
		sz, rest, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return nil, b, err
		}
		if uint64(sz) > uint64(len(rest)) {
			return nil, b, msgp.ErrShortBytes
		}
		a := make([]any, sz)
		for i := range a {
			if a[i], rest, err = d.value(rest, depth+1); err != nil {
				return nil, b, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return a, rest, nil
	case msgp.StrType:
		s, rest, err := msgp.ReadStringZC(b)
		if err != nil {
			return nil, b, err
		}
		if !d.allowInvalidUTF8 && !utf8.Valid(s) {
			return nil, b, fmt.Errorf("str %q is not valid UTF-8 (use bin for bytes)", head(s))
		}
		return string(s), rest, nil
	case msgp.BinType:
		v, rest, err := msgp.ReadBytesZC(b)
		if err != nil {
			return nil, b, err
		}
		return bytes.Clone(v), rest, nil
	case msgp.IntType:
		return readInt(b)
	case msgp.UintType:
		v, rest, err := msgp.ReadUint64Bytes(b)
		if err != nil || v > math.MaxInt64 {
			return v, rest, err
		}
		return int64(v), rest, nil
	case msgp.Float32Type:
		v, rest, err := msgp.ReadFloat32Bytes(b)
		return float64(v), rest, err
	case msgp.Float64Type:
		return readFloat64(b)
	case msgp.BoolType:
		return readBool(b)
	case msgp.NilType:
		rest, err := msgp.ReadNilBytes(b)
		return nil, rest, err
	case msgp.ExtensionType, msgp.TimeType, msgp.Complex64Type, msgp.Complex128Type:
		typ, data, rest, err := readExt(b)
		if err != nil {
			return nil, b, err
		}
		return Ext{Type: typ, Data: bytes.Clone(data)}, rest, nil
	case msgp.InvalidType:
		if len(b) == 0 {
			return nil, b, msgp.ErrShortBytes
		}
		return nil, b, fmt.Errorf("invalid msgpack byte %#x", b[0])
	default:
		return nil, b, fmt.Errorf("unexpected msgpack type %v", t)
	}
}

func readInt(b []byte) (any, []byte, error) {
	v, rest, err := msgp.ReadInt64Bytes(b)
	return v, rest, err
}

func readFloat64(b []byte) (any, []byte, error) {
	v, rest, err := msgp.ReadFloat64Bytes(b)
	return v, rest, err
}

func readBool(b []byte) (any, []byte, error) {
	v, rest, err := msgp.ReadBoolBytes(b)
	return v, rest, err
}

func head(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// frame strictly decodes one complete message. Any error is a protocol
// violation; in_forward would drop the connection for most of them
// (fw_prot.c:fw_prot_process returns -1), and silently misbehave for the rest.
func (d *decoder) frame(b []byte) (Message, []Event, error) {
	msg := Message{Size: -1, Bytes: len(b)}
	if t := msgp.NextType(b); t != msgp.ArrayType {
		// The spec allows a nil heartbeat; in_forward drops the connection.
		return msg, nil, fmt.Errorf("message is %v, want an array (in_forward closes the connection)", t)
	}
	sz, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return msg, nil, err
	}
	if sz < 2 || sz > 4 {
		return msg, nil, fmt.Errorf("message has %d elements, want 2 to 4", sz)
	}
	if t := msgp.NextType(b); t != msgp.StrType {
		return msg, nil, fmt.Errorf("tag is %v, want str", t)
	}
	tag, b, err := msgp.ReadStringZC(b)
	if err != nil {
		return msg, nil, err
	}
	if len(tag) == 0 {
		return msg, nil, errors.New("tag is empty")
	}
	if !utf8.Valid(tag) {
		return msg, nil, fmt.Errorf("tag %q is not valid UTF-8", tag)
	}
	msg.Tag = string(tag)

	var events []Event
	var stream []byte
	var optIndex uint32
	switch t := msgp.NextType(b); t {
	case msgp.ArrayType:
		msg.Mode, optIndex = ModeForward, 2
		if events, b, err = d.forwardEntries(b); err != nil {
			return msg, nil, err
		}
	case msgp.IntType, msgp.UintType, msgp.ExtensionType, msgp.TimeType:
		msg.Mode, optIndex = ModeMessage, 3
		if sz < 3 {
			return msg, nil, errors.New("Message mode needs [tag, time, record]")
		}
		var ev Event
		if ev.Time, ev.IntegerTime, b, err = decodeTime(b); err != nil {
			return msg, nil, err
		}
		if msgp.NextType(b) != msgp.MapType {
			return msg, nil, fmt.Errorf("record is %v, want a map", msgp.NextType(b))
		}
		if ev.Record, b, err = d.mapValue(b, 1); err != nil {
			return msg, nil, fmt.Errorf("record: %w", err)
		}
		events = []Event{ev}
	case msgp.StrType, msgp.BinType:
		// Decoded once the options say whether it is compressed.
		msg.Mode, optIndex = ModePackedForward, 2
		if t == msgp.StrType {
			stream, b, err = msgp.ReadStringZC(b)
			msg.StreamType = "str"
		} else {
			stream, b, err = msgp.ReadBytesZC(b)
			msg.StreamType = "bin"
		}
		if err != nil {
			return msg, nil, err
		}
	default:
		return msg, nil, fmt.Errorf("second element is %v: not Message, Forward or PackedForward mode", t)
	}
	if sz > optIndex+1 {
		// in_forward only reads options when a packed message has exactly 3
		// elements (fw_prot.c:fw_prot_process, contain_options).
		return msg, nil, fmt.Errorf("%v mode message has %d elements, want at most %d", msg.Mode, sz, optIndex+1)
	}
	if err := d.options(&msg, &b, sz, optIndex); err != nil {
		return msg, nil, err
	}
	if msg.Mode == ModePackedForward {
		if events, err = d.packed(&msg, stream); err != nil {
			return msg, nil, err
		}
	}
	return msg, events, d.finish(&msg, events, b)
}

func (d *decoder) forwardEntries(b []byte) ([]Event, []byte, error) {
	n, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return nil, b, err
	}
	if n == 0 {
		return nil, b, errors.New("forward mode message has no entries")
	}
	events := make([]Event, 0, min(n, 1024))
	for i := uint32(0); i < n; i++ {
		var ev Event
		if ev, b, err = d.entry(b); err != nil {
			return nil, b, fmt.Errorf("entry %d: %w", i, err)
		}
		events = append(events, ev)
	}
	return events, b, nil
}

// packed decodes the entry stream of (Compressed)PackedForward.
func (d *decoder) packed(msg *Message, stream []byte) ([]Event, error) {
	gz := len(stream) >= 2 && stream[0] == 0x1f && stream[1] == 0x8b
	switch {
	case msg.Compressed == "gzip":
		msg.Mode = ModeCompressedPackedForward
		if !gz {
			return nil, errors.New(`"compressed": "gzip" but the stream has no gzip magic`)
		}
		zr, err := gzip.NewReader(bytes.NewReader(stream))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		plain, err := io.ReadAll(io.LimitReader(zr, int64(d.maxBytes)+1))
		if err == nil {
			err = zr.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if len(plain) > d.maxBytes {
			return nil, fmt.Errorf("decompressed entries exceed %d bytes (in_forward buffer_max_size drops them)", d.maxBytes)
		}
		stream = plain
	case gz:
		// in_forward sniffs the magic and would try to gunzip it
		// (fw_prot.c:sniff_magic).
		return nil, errors.New(`stream starts with gzip magic but "compressed" is not set`)
	}
	events, err := d.stream(stream)
	if err != nil {
		return nil, err
	}
	return events, nil
}

// options decodes element optIndex, if present, into msg.
func (d *decoder) options(msg *Message, b *[]byte, sz, optIndex uint32) error {
	if sz <= optIndex {
		return nil
	}
	if t := msgp.NextType(*b); t != msgp.MapType {
		// in_forward tolerates nil (old Docker); the spec wants a map.
		return fmt.Errorf("options are %v, want a map", t)
	}
	opts, rest, err := d.mapValue(*b, 1)
	if err != nil {
		return fmt.Errorf("options: %w", err)
	}
	*b = rest
	msg.Options = opts
	for k, v := range opts {
		switch k {
		case "chunk":
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf(`option "chunk" is %T, want str (fw_prot.c:get_options_chunk drops the message)`, v)
			}
			if raw, err := base64.StdEncoding.DecodeString(s); err != nil || len(raw) != 16 || len(s) != 24 {
				return fmt.Errorf(`option "chunk" %q is not base64 of 16 bytes`, s)
			}
			msg.Chunk = s
		case "size":
			n, ok := v.(int64)
			if !ok || n < 0 {
				return fmt.Errorf(`option "size" is %T %v, want a non-negative integer`, v, v)
			}
			msg.Size = int(n)
		case "compressed":
			s, ok := v.(string)
			if !ok || s != "gzip" {
				return fmt.Errorf(`option "compressed" is %T %v, want "gzip"`, v, v)
			}
			if msg.Mode != ModePackedForward {
				return fmt.Errorf(`option "compressed" in %v mode`, msg.Mode)
			}
			msg.Compressed = s
		case "fluent_signal":
			if n, ok := v.(int64); !ok || n != 0 {
				return fmt.Errorf(`option "fluent_signal" is %T %v, want 0 (logs)`, v, v)
			}
		case "metadata":
			if _, ok := v.(map[string]any); !ok || msg.Mode != ModeMessage {
				return fmt.Errorf(`option "metadata" (%T) is only read in Message mode, as a map`, v)
			}
		}
	}
	return nil
}

func (d *decoder) finish(msg *Message, events []Event, rest []byte) error {
	if len(rest) != 0 {
		return fmt.Errorf("%d stray bytes inside the message", len(rest))
	}
	msg.Entries = len(events)
	if msg.Size >= 0 && msg.Size != len(events) {
		return fmt.Errorf(`option "size" is %d but the message has %d entries`, msg.Size, len(events))
	}
	if msg.Mode == ModeMessage && msg.Options != nil {
		if md, ok := msg.Options["metadata"].(map[string]any); ok {
			events[0].Metadata = md
		}
	}
	for i := range events {
		events[i].Tag = msg.Tag
	}
	return nil
}
