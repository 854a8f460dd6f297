package flbhost

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"sort"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// A chunk, as Fluent Bit hands it to an output's flush callback, is entries
// concatenated with nothing between them. Since Fluent Bit 2.1 an entry is
// [[TIME, METADATA], BODY] (src/flb_log_event_encoder.c,
// flb_log_event_encoder_emit_record); older producers and the forward
// protocol still give [TIME, BODY], and the decoder accepts both
// (src/flb_log_event_decoder.c, flb_event_decoder_decode_object). The
// helpers here write all of those forms byte for byte as Fluent Bit's
// msgpack-c would, so decoders can be tested against every one.

// Timestamp is the TIME element of an entry in one of the encodings the
// decoder accepts (src/flb_log_event_decoder.c,
// flb_log_event_decoder_decode_timestamp): EventTime, an integer or a
// float number of seconds.
type Timestamp struct {
	encoded []byte
}

// EventTime is Fluent Bit's own encoding: msgpack fixext8 (0xd7) of type 0
// holding big-endian uint32 seconds then uint32 nanoseconds. Seconds are
// cut to 32 bits as Fluent Bit's (uint32_t) cast does.
func EventTime(t time.Time) Timestamp {
	return RawEventTime(uint32(t.Unix()), uint32(t.Nanosecond()))
}

// RawEventTime is an EventTime with exactly these fields, for values no
// time.Time maps to, such as the group markers.
func RawEventTime(sec, nsec uint32) Timestamp {
	b := []byte{0xd7, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[2:], sec)
	binary.BigEndian.PutUint32(b[6:], nsec)
	return Timestamp{b}
}

// IntTime is whole seconds as a msgpack integer (Fluentd's legacy forward
// form). Negative values are written as msgpack negative integers, which
// the decoder rejects.
func IntTime(sec int64) Timestamp {
	if sec >= 0 {
		return Timestamp{msgp.AppendUint64(nil, uint64(sec))}
	}
	return Timestamp{msgp.AppendInt64(nil, sec)}
}

// FloatTime is seconds as a msgpack float64.
func FloatTime(sec float64) Timestamp {
	return Timestamp{msgp.AppendFloat64(nil, sec)}
}

// Group markers: EventTime seconds 0xFFFFFFFF opens a group and 0xFFFFFFFE
// closes it; the nanoseconds must be 0 (src/flb_log_event_decoder.c,
// flb_log_event_decoder_decode_timestamp; FLB_LOG_EVENT_GROUP_START/END in
// include/fluent-bit/flb_log_event.h).
var (
	GroupStartTime = RawEventTime(math.MaxUint32, 0)
	GroupEndTime   = RawEventTime(math.MaxUint32-1, 0)
)

// KV is one key of a Map.
type KV struct {
	Key   string
	Value any
}

// Map is a msgpack map that keeps its keys in this order, duplicates
// included, as Fluent Bit records can have.
type Map []KV

// Raw is msgpack that is appended as it is.
type Raw []byte

// AppendV2 appends a Fluent Bit 2.x entry [[ts, metadata], body]. A nil
// metadata or body is written as an empty map; map[string]... values are
// written with sorted keys so chunks are reproducible.
//
// Values may be nil, bool, integers, floats, string, []byte, Map, Raw,
// maps with string keys, slices, or anything msgp.AppendIntf accepts; other
// types panic. Non-negative integers use msgpack's unsigned formats, as
// msgpack-c does.
func AppendV2(b []byte, ts Timestamp, metadata, body any) []byte {
	b = msgp.AppendArrayHeader(b, 2)
	b = msgp.AppendArrayHeader(b, 2)
	b = append(b, ts.encoded...)
	b = appendMapOrEmpty(b, metadata)
	return appendMapOrEmpty(b, body)
}

// AppendEncoded appends a v2 entry with empty metadata byte for byte as
// Fluent Bit's log event encoder writes it, which is how tail and most
// inputs hand records to outputs: both maps with a map32 header (0xdf),
// whatever their size, because the encoder sizes a map only once its
// entries are written (src/flb_mp.c, flb_mp_map_header_init). Seen in
// Fluent Bit 5.1.1's forward stream of a tail input:
// `92 92 d7 00 <time> df 00000000 df 00000001 a3 "log" ...`.
func AppendEncoded(b []byte, ts Timestamp, body Map) []byte {
	b = append(b, 0x92, 0x92)
	b = append(b, ts.encoded...)
	b = append(b, 0xdf, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(len(body)))
	for _, kv := range body {
		b = msgp.AppendString(b, kv.Key)
		b = appendValue(b, kv.Value)
	}
	return b
}

// AppendV1 appends a pre-2.x entry [ts, body].
func AppendV1(b []byte, ts Timestamp, body any) []byte {
	b = msgp.AppendArrayHeader(b, 2)
	b = append(b, ts.encoded...)
	return appendMapOrEmpty(b, body)
}

// AppendGroupStart appends the entry that opens a group:
// [[GroupStartTime, metadata], attributes]
// (src/flb_log_event_encoder.c, flb_log_event_encoder_group_init).
func AppendGroupStart(b []byte, metadata, attributes any) []byte {
	return AppendV2(b, GroupStartTime, metadata, attributes)
}

// AppendGroupEnd appends the entry that closes a group:
// [[GroupEndTime, {}], {}] (flb_log_event_encoder_group_end).
func AppendGroupEnd(b []byte) []byte {
	return AppendV2(b, GroupEndTime, nil, nil)
}

// Entry is the common case: one v2 entry with empty metadata.
func Entry(t time.Time, body any) []byte {
	return AppendV2(nil, EventTime(t), nil, body)
}

func appendMapOrEmpty(b []byte, v any) []byte {
	if v == nil {
		return msgp.AppendMapHeader(b, 0)
	}
	return appendValue(b, v)
}

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return msgp.AppendNil(b)
	case Raw:
		return append(b, v...)
	case Map:
		b = msgp.AppendMapHeader(b, uint32(len(v)))
		for _, kv := range v {
			b = msgp.AppendString(b, kv.Key)
			b = appendValue(b, kv.Value)
		}
		return b
	case string:
		return msgp.AppendString(b, v)
	case []byte:
		return msgp.AppendBytes(b, v)
	case bool:
		return msgp.AppendBool(b, v)
	case float64:
		return msgp.AppendFloat64(b, v)
	case float32:
		return msgp.AppendFloat32(b, v)
	}

	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n := rv.Int(); n < 0 {
			return msgp.AppendInt64(b, n)
		} else {
			return msgp.AppendUint64(b, uint64(n))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return msgp.AppendUint64(b, rv.Uint())
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			panic(fmt.Sprintf("flbhost: map key type %s: Fluent Bit keys are strings; use Raw", rv.Type().Key()))
		}
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		b = msgp.AppendMapHeader(b, uint32(len(keys)))
		for _, k := range keys {
			b = msgp.AppendString(b, k.String())
			b = appendValue(b, rv.MapIndex(k).Interface())
		}
		return b
	case reflect.Slice, reflect.Array:
		b = msgp.AppendArrayHeader(b, uint32(rv.Len()))
		for i := 0; i < rv.Len(); i++ {
			b = appendValue(b, rv.Index(i).Interface())
		}
		return b
	}

	out, err := msgp.AppendIntf(b, v)
	if err != nil {
		panic(fmt.Sprintf("flbhost: cannot encode %T: %v", v, err))
	}
	return out
}
