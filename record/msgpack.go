package record

import (
	"math/bits"

	"github.com/ctlive/ctlive-fluent-bit/parser"
	"github.com/tinylib/msgp/msgp"
)

// AppendMsgpack appends the event as a chunk entry in the form it arrived
// in (`[time, record]` or `[[time, metadata], record]`, metadata kept). An
// event with nothing to add or replace, a group marker included, is copied
// byte for byte.
func AppendMsgpack(dst []byte, ev *Event) []byte {
	if !ev.Shaped && !ev.rewritten {
		return append(dst, ev.Raw...)
	}
	if ev.Meta != nil {
		dst = append(dst, 0x92, 0x92) // [[time, metadata], record]
	} else {
		dst = append(dst, 0x92)
	}
	dst = AppendMsgpackTime(dst, ev)
	dst = append(dst, ev.Meta...)
	return AppendMsgpackBody(dst, ev)
}

// AppendMsgpackTime appends the event's timestamp: the line's own as an
// EventTime when it replaced the record's, else the original encoding.
func AppendMsgpackTime(dst []byte, ev *Event) []byte {
	if ev.timeSet {
		if out, ok := appendEventTime(dst, ev.Timestamp); ok {
			return out
		}
	}
	return append(dst, ev.TimeRaw...)
}

// AppendMsgpackBody appends the record map with the contract's fields.
// Input keys that an added field replaces are dropped, the line itself
// excepted, so the map never holds a key twice.
func AppendMsgpackBody(dst []byte, ev *Event) []byte {
	if !ev.Shaped {
		return append(dst, ev.Body...)
	}
	o := ev.layout
	added := uint32(ev.FieldCount())
	inserted := added
	if o.NestUnder != "" {
		inserted = 1
	}
	if !ev.replacesKeys() {
		// The common case: the input entries stay as they are, in one piece.
		dst = msgp.AppendMapHeader(dst, ev.bodyLen+inserted)
		dst = append(dst, ev.bodyFields...)
	} else {
		kept := uint32(0)
		forEachEntry(ev, o, func(raw []byte) { kept++ })
		dst = msgp.AppendMapHeader(dst, kept+inserted)
		forEachEntry(ev, o, func(raw []byte) { dst = append(dst, raw...) })
	}
	if o.NestUnder != "" {
		dst = msgp.AppendString(dst, o.NestUnder)
		dst = msgp.AppendMapHeader(dst, added)
	}
	return appendFieldsMsgpack(dst, ev)
}

// replacesKeys reports whether some input key gives way to an added field.
func (ev *Event) replacesKeys() bool {
	if ev.layout.NestUnder != "" {
		return ev.keyFields&nestBit != 0
	}
	return ev.keyFields&ev.present != 0
}

// forEachEntry calls fn with the raw bytes (key and value) of every input
// entry that stays in the enriched record.
func forEachEntry(ev *Event, o *Layout, fn func(raw []byte)) {
	b := ev.bodyFields
	for i := uint32(0); i < ev.bodyLen; i++ {
		k, rest, err := readKey(b)
		if err != nil {
			return
		}
		next, err := skip(rest)
		if err != nil {
			return
		}
		if !replaced(ev, o, k) {
			fn(b[:len(b)-len(next)])
		}
		b = next
	}
}

// replaced reports whether an added field takes the place of input key k.
func replaced(ev *Event, o *Layout, k []byte) bool {
	if o.NestUnder != "" {
		return string(k) == o.NestUnder
	}
	if string(k) == o.LogKey {
		return false
	}
	i := fieldIndex(k)
	return i >= 0 && ev.Has(i)
}

func appendFieldsMsgpack(dst []byte, ev *Event) []byte {
	r := &ev.Fields
	for m := ev.present; m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		dst = append(dst, msgpackKeys[i]...)
		switch i {
		case FieldScopes:
			dst = appendStringsMsgpack(dst, r.Scopes)
		case FieldStack:
			dst = appendStringsMsgpack(dst, r.Stack)
		case FieldPayload:
			dst = appendPayloadsMsgpack(dst, r.Payloads)
		default:
			dst = msgp.AppendStringFromBytes(dst, ev.Value(i))
		}
	}
	return dst
}

func appendStringsMsgpack(dst []byte, ss [][]byte) []byte {
	dst = msgp.AppendArrayHeader(dst, uint32(len(ss)))
	for _, s := range ss {
		dst = msgp.AppendStringFromBytes(dst, s)
	}
	return dst
}

func appendPayloadsMsgpack(dst []byte, ps []parser.Payload) []byte {
	dst = msgp.AppendMapHeader(dst, uint32(len(ps)))
	for _, p := range ps {
		dst = msgp.AppendStringFromBytes(dst, p.Label)
		dst = transcode(dst, p.JSON, msgpackOut{})
	}
	return dst
}

// msgpackKeys are the field names, encoded once.
var msgpackKeys = func() (k [numFields][]byte) {
	for i, name := range FieldNames {
		k[i] = msgp.AppendString(nil, name)
	}
	return
}()
