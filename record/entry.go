// Package record decodes the chunks Fluent Bit hands an output plugin and
// encodes enriched records as MessagePack (forward) or JSON (stdout,
// Elasticsearch, Loki). It does not parse: the Enrich stage (package
// enrich) fills each Event between decoding and encoding.
//
// Everything is zero-copy: decoded slices point into Fluent Bit's chunk,
// which is valid only during the flush call (and into the Enrich stage's
// per-flush memory), so encoders must finish (or copy) before the flush
// returns.
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// Group markers are the entries Fluent Bit writes around a log group
// (OpenTelemetry resource/scope): EventTime seconds 0xFFFFFFFF and
// 0xFFFFFFFE with zero nanoseconds (src/flb_log_event_decoder.c,
// flb_log_event_decoder_decode_timestamp). They are not records.
type GroupMarker int8

const (
	NotGroup GroupMarker = iota
	GroupStart
	GroupEnd
)

// Entry is one decoded chunk entry: `[time, record]` (Fluent Bit 1.x and the
// forward protocol) or `[[time, metadata], record]` (Fluent Bit 2.x+).
type Entry struct {
	Raw     []byte // the whole entry as received
	TimeRaw []byte // the timestamp as encoded (EventTime, integer or float)
	Meta    []byte // the metadata map; nil in the `[time, record]` form
	Body    []byte // the record: normally a map, passed on whatever it is
	// Timestamp is the entry's time; on an Event it becomes the line's own
	// timestamp when time_from_line applies (Event.SetTime).
	Timestamp time.Time
	Group     GroupMarker
}

// ErrCorrupt wraps every decoding failure: a chunk that fails to decode
// cannot be fixed by retrying it.
var ErrCorrupt = errors.New("corrupt chunk")

// Decode reads the entry at the start of b and returns what follows it.
func (e *Entry) Decode(b []byte) (rest []byte, err error) {
	start := b
	n, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return nil, corrupt("entry", err)
	}
	if n != 2 {
		return nil, fmt.Errorf("%w: entry is an array of %d, want 2", ErrCorrupt, n)
	}
	e.Meta = nil
	if msgp.NextType(b) == msgp.ArrayType {
		hn, hb, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return nil, corrupt("header", err)
		}
		if hn != 2 {
			return nil, fmt.Errorf("%w: header is an array of %d, want [time, metadata]", ErrCorrupt, hn)
		}
		if hb, err = e.decodeTime(hb); err != nil {
			return nil, err
		}
		if msgp.NextType(hb) != msgp.MapType {
			return nil, fmt.Errorf("%w: metadata is not a map", ErrCorrupt)
		}
		meta := hb
		if hb, err = msgp.Skip(hb); err != nil {
			return nil, corrupt("metadata", err)
		}
		e.Meta = meta[:len(meta)-len(hb)]
		b = hb
	} else if b, err = e.decodeTime(b); err != nil {
		return nil, err
	}
	body := b
	if b, err = msgp.Skip(b); err != nil {
		return nil, corrupt("record", err)
	}
	e.Body = body[:len(body)-len(b)]
	e.Raw = start[:len(start)-len(b)]
	return b, nil
}

func corrupt(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, what, err)
}

// decodeTime accepts what Fluent Bit itself accepts (EventTime ext type 0,
// unsigned integers, floats) and also signed integers, which
// fluent-bit-go's decoder rejects but forward clients send.
func (e *Entry) decodeTime(b []byte) ([]byte, error) {
	e.Group = NotGroup
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: missing timestamp", ErrCorrupt)
	}
	start := b
	var sec, nsec int64
	switch b[0] {
	case 0xd7, 0xc7: // fixext8, or ext8 holding 8 bytes
		off := 2
		if b[0] == 0xc7 {
			if len(b) < 3 || b[1] != 8 {
				return nil, fmt.Errorf("%w: timestamp extension is not 8 bytes", ErrCorrupt)
			}
			off = 3
		}
		if len(b) < off+8 || int8(b[off-1]) != 0 {
			return nil, fmt.Errorf("%w: timestamp is not an EventTime", ErrCorrupt)
		}
		s := binary.BigEndian.Uint32(b[off:])
		ns := binary.BigEndian.Uint32(b[off+4:])
		b = b[off+8:]
		switch {
		case s == math.MaxUint32 && ns == 0:
			e.Group = GroupStart
		case s == math.MaxUint32-1 && ns == 0:
			e.Group = GroupEnd
		}
		sec, nsec = int64(s), int64(ns)
	default:
		switch msgp.NextType(b) {
		case msgp.IntType, msgp.UintType:
			v, rest, err := msgp.ReadInt64Bytes(b)
			if err != nil {
				return nil, corrupt("timestamp", err)
			}
			switch v {
			case -1:
				e.Group = GroupStart
			case -2:
				e.Group = GroupEnd
			}
			sec, b = v, rest
		case msgp.Float64Type, msgp.Float32Type:
			f, rest, err := msgp.ReadFloat64Bytes(b)
			if err != nil {
				return nil, corrupt("timestamp", err)
			}
			if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<62 {
				return nil, fmt.Errorf("%w: timestamp %v out of range", ErrCorrupt, f)
			}
			sec = int64(math.Floor(f))
			nsec = int64((f - math.Floor(f)) * 1e9)
			b = rest
		default:
			return nil, fmt.Errorf("%w: timestamp of type %v", ErrCorrupt, msgp.NextType(b))
		}
	}
	e.TimeRaw = start[:len(start)-len(b)]
	if e.Group == NotGroup {
		e.Timestamp = time.Unix(sec, nsec).UTC()
	} else {
		e.Timestamp = time.Time{}
	}
	return b, nil
}

// appendEventTime writes Fluent Bit's EventTime (ext type 0: big-endian
// seconds and nanoseconds). ok is false for instants it cannot hold.
func appendEventTime(dst []byte, t time.Time) ([]byte, bool) {
	sec := t.Unix()
	if sec < 0 || sec >= math.MaxUint32-1 { // the top two values are group markers
		return dst, false
	}
	dst = append(dst, 0xd7, 0x00)
	dst = binary.BigEndian.AppendUint32(dst, uint32(sec))
	return binary.BigEndian.AppendUint32(dst, uint32(t.Nanosecond())), true
}
