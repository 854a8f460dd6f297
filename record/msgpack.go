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
//
// A map or array nested deeper than MaxDepth is written as nil: Fluent
// Bit's in_forward could not unpack the entry otherwise.
func AppendMsgpack(dst []byte, ev *Event) []byte {
	if !ev.Shaped && !ev.rewritten && !ev.TooDeep {
		return append(dst, ev.Raw...)
	}
	if ev.Meta != nil {
		dst = append(dst, 0x92, 0x92) // [[time, metadata], record]
	} else {
		dst = append(dst, 0x92)
	}
	dst = AppendMsgpackTime(dst, ev)
	if ev.TooDeep && ev.Meta != nil {
		dst, _ = appendCapped(dst, ev.Meta, 2) // the metadata map is the record's sibling, one level below
	} else {
		dst = append(dst, ev.Meta...)
	}
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
		if ev.TooDeep {
			dst, _ = appendCapped(dst, ev.Body, 1)
			return dst
		}
		return append(dst, ev.Body...)
	}
	o := ev.layout
	added := uint32(ev.FieldCount())
	inserted := added
	if o.NestUnder != "" {
		inserted = 1
	}
	switch {
	case !ev.replacesKeys() && !ev.TooDeep:
		// The common case: the input entries stay as they are, in one piece.
		dst = msgp.AppendMapHeader(dst, ev.bodyLen+inserted)
		dst = append(dst, ev.bodyFields...)
	case !ev.TooDeep:
		kept := uint32(0)
		forEachEntry(ev, o, func(raw []byte) { kept++ })
		dst = msgp.AppendMapHeader(dst, kept+inserted)
		forEachEntry(ev, o, func(raw []byte) { dst = append(dst, raw...) })
	default:
		kept := uint32(0)
		forEachEntry(ev, o, func(raw []byte) { kept++ })
		dst = msgp.AppendMapHeader(dst, kept+inserted)
		forEachEntry(ev, o, func(raw []byte) {
			dst, raw = appendCapped(dst, raw, 2) // key
			dst, _ = appendCapped(dst, raw, 2)   // value
		})
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
// entry that stays in the enriched record. A key of any type stays but a
// string an added field replaces.
func forEachEntry(ev *Event, o *Layout, fn func(raw []byte)) {
	b := ev.bodyFields
	for i := uint32(0); i < ev.bodyLen; i++ {
		k, rest, err := readKey(b)
		text := err == nil
		if !text { // a number, a map...: no field is named so
			if rest, err = skip(b); err != nil {
				return
			}
		}
		next, err := skip(rest)
		if err != nil {
			return
		}
		if !text || !replaced(ev, o, k) {
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
		switch i {
		case FieldScopes:
			dst = msgpackKeys[i].append(dst, 0)
			dst = appendStringsMsgpack(dst, r.Scopes)
		case FieldStack:
			dst = msgpackKeys[i].append(dst, 0)
			dst = appendStringsMsgpack(dst, r.Stack)
		case FieldPayload:
			dst = msgpackKeys[i].append(dst, 0)
			dst = appendPayloadsMsgpack(dst, r.Payloads, ev.layout.payloadLevel())
		default:
			v := ev.Value(i)
			dst = msgpackKeys[i].append(dst, 5+len(v)) // room for v's header and v
			dst = appendStr(dst, v)
		}
	}
	return dst
}

func appendStringsMsgpack(dst []byte, ss [][]byte) []byte {
	dst = msgp.AppendArrayHeader(dst, uint32(len(ss)))
	for _, s := range ss {
		dst = appendStr(dst, s)
	}
	return dst
}

// appendPayloadsMsgpack writes the payload field's map; its values stand
// at level level of the record.
func appendPayloadsMsgpack(dst []byte, ps []parser.Payload, level int) []byte {
	dst = msgp.AppendMapHeader(dst, uint32(len(ps)))
	for _, p := range ps {
		dst = appendStr(dst, p.Label)
		dst = transcode(dst, p.JSON, msgpackOut{}, level)
	}
	return dst
}

// msgpackKeys are the field names, encoded once.
var msgpackKeys = func() (k [numFields]fieldKey) {
	for i, name := range FieldNames {
		k[i] = newFieldKey(msgp.AppendString(nil, name))
	}
	return
}()

// appendCapped copies the msgpack value at the start of b, at level level
// of its record, with every map or array deeper than MaxDepth written as
// nil, and returns the bytes after it. Malformed input (Entry.Decode has
// checked the framing) is copied as it is.
func appendCapped(dst, b []byte, level int) ([]byte, []byte) {
	var n uint32
	var rest []byte
	var err error
	isMap := false
	switch msgp.NextType(b) {
	case msgp.MapType:
		n, rest, err = msgp.ReadMapHeaderBytes(b)
		isMap = true
	case msgp.ArrayType:
		n, rest, err = msgp.ReadArrayHeaderBytes(b)
	default:
		if rest, err = skip(b); err != nil {
			return append(dst, b...), nil
		}
		return append(dst, b[:len(b)-len(rest)]...), rest
	}
	if err != nil {
		return append(dst, b...), nil
	}
	if level > MaxDepth {
		if rest, err = msgp.Skip(b); err != nil {
			return append(dst, b...), nil
		}
		return msgp.AppendNil(dst), rest
	}
	dst = append(dst, b[:len(b)-len(rest)]...) // the header as it was
	items := n
	if isMap {
		items *= 2
	}
	for ; items > 0 && rest != nil; items-- {
		dst, rest = appendCapped(dst, rest, level+1)
	}
	return dst, rest
}
