package record

import (
	"strconv"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/template"
	"github.com/tinylib/msgp/msgp"
)

// An Event is the Source of the sinks' templates (tag, index, tenant_id)
// and of Loki's labels: a contract field's name is the plugin's field, any
// other name the record's own key.
var _ template.Source = (*Event)(nil)

// Tag is the Fluent Bit tag of the chunk the event came in.
func (ev *Event) Tag() string { return ev.tag }

// AppendValue renders the value at key and path, as templates need it:
// strings raw, numbers and booleans as text, maps and arrays as JSON.
//
// A contract field's name (tenant, event, contactID, ...) renders only the
// plugin's own value, never a key of that name in the record: the record
// is what a client sent, and a client that writes "tenant":"AGM" into a
// record the plugin decided has no tenant must not steer its tag, index or
// Loki tenant to AGM's. $tenant is the record's one tenant (Tenant: the
// one routing decided on, default_tenant included); without one it is
// missing.
func (ev *Event) AppendValue(dst []byte, key string, path []template.PathElem) ([]byte, bool) {
	if i := fieldIndex(unsafe.Slice(unsafe.StringData(key), len(key))); i >= 0 {
		switch {
		case i == FieldTenant:
			if ev.Tenant == nil || len(path) > 0 {
				return dst, false
			}
			return append(dst, ev.Tenant...), true
		case ev.Shaped && ev.Has(i):
			return ev.appendField(dst, i, path)
		}
		return dst, false
	}
	if !ev.isMap {
		return dst, false
	}
	v := lookup(ev.bodyFields, ev.bodyLen, key)
	if v == nil {
		return dst, false
	}
	if v = msgpackFind(v, path); v == nil {
		return dst, false
	}
	return appendMsgpackText(dst, v)
}

func (ev *Event) appendField(dst []byte, i int, path []template.PathElem) ([]byte, bool) {
	r := &ev.Fields
	switch i {
	case FieldScopes, FieldStack:
		list := r.Scopes
		if i == FieldStack {
			list = r.Stack
		}
		if len(path) == 0 {
			return appendJSONStrings(dst, list, nil), true
		}
		if len(path) == 1 && path[0].IsIndex && path[0].Index < len(list) {
			return append(dst, list[path[0].Index]...), true
		}
		return dst, false
	case FieldPayload:
		if len(path) == 0 {
			return ev.appendPayloadJSON(dst), true
		}
		if path[0].IsIndex {
			return dst, false
		}
		for _, p := range r.Payloads {
			if string(p.Label) == path[0].Key {
				v, ok := jsonFind(p.JSON, path[1:])
				if !ok {
					return dst, false
				}
				return appendJSONText(dst, v)
			}
		}
		return dst, false
	}
	if len(path) > 0 {
		return dst, false
	}
	return append(dst, ev.Value(i)...), true
}

func (ev *Event) appendPayloadJSON(dst []byte) []byte {
	return appendPayloadsJSON(dst, ev.Fields.Payloads, ev.layout.payloadLevel(), 0)
}

// appendJSONText renders a raw JSON value for a template.
func appendJSONText(dst, v []byte) ([]byte, bool) {
	if len(v) == 0 {
		return dst, false
	}
	switch v[0] {
	case '"':
		raw, _ := token(v, 0)
		return unescape(dst, raw), true
	case '{', '[':
		return transcode(dst, v, jsonOut{}, 1), true
	case 'n':
		return dst, false // null is missing
	}
	return append(dst, v...), true
}

// msgpackFind follows path inside the msgpack value v.
func msgpackFind(v []byte, path []template.PathElem) []byte {
	for _, pe := range path {
		switch {
		case !pe.IsIndex && msgp.NextType(v) == msgp.MapType:
			n, fields, err := msgp.ReadMapHeaderBytes(v)
			if err != nil {
				return nil
			}
			if v = lookup(fields, n, pe.Key); v == nil {
				return nil
			}
		case pe.IsIndex && msgp.NextType(v) == msgp.ArrayType:
			n, elems, err := msgp.ReadArrayHeaderBytes(v)
			if err != nil || uint32(pe.Index) >= n {
				return nil
			}
			for k := 0; k < pe.Index; k++ {
				if elems, err = msgp.Skip(elems); err != nil {
					return nil
				}
			}
			v = elems
		default:
			return nil
		}
	}
	return v
}

// appendMsgpackText renders a msgpack value for a template.
func appendMsgpackText(dst, v []byte) ([]byte, bool) {
	switch msgp.NextType(v) {
	case msgp.StrType:
		s, _, err := msgp.ReadStringZC(v)
		return append(dst, s...), err == nil
	case msgp.BinType:
		s, _, err := msgp.ReadBytesZC(v)
		return append(dst, s...), err == nil
	case msgp.NilType:
		return dst, false
	case msgp.IntType:
		n, _, err := msgp.ReadInt64Bytes(v)
		return strconv.AppendInt(dst, n, 10), err == nil
	case msgp.UintType:
		n, _, err := msgp.ReadUint64Bytes(v)
		return strconv.AppendUint(dst, n, 10), err == nil
	}
	out, _ := appendJSONValue(dst, v, 1, 0)
	return out, true
}
