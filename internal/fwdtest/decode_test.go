package fwdtest

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

func TestDecodeEntriesKeepsTimeMetadataAndRecord(t *testing.T) {
	ts := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	var b []byte
	b = AppendEntry(b, ts, nil, map[string]any{"msg": "hi", "n": int64(-3)})
	b = AppendEntry(b, ts.Add(time.Nanosecond), map[string]any{"tenant": "ACME"}, map[string]any{"ok": true})
	b = AppendEntryIntTime(b, 1700000000, map[string]any{"f": 1.5, "nested": map[string]any{"a": []any{int64(1), "x", nil}}})

	got, err := DecodeEntries(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Time: ts, Record: map[string]any{"msg": "hi", "n": int64(-3)}},
		{Time: ts.Add(time.Nanosecond), Metadata: map[string]any{"tenant": "ACME"}, Record: map[string]any{"ok": true}},
		{Time: time.Unix(1700000000, 0).UTC(), IntegerTime: true,
			Record: map[string]any{"f": 1.5, "nested": map[string]any{"a": []any{int64(1), "x", nil}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded\n%#v\nwant\n%#v", got, want)
	}
}

func TestDecodeEntriesAcceptsExt8EventTimeAndEmptyMetadata(t *testing.T) {
	// ext8 (0xc7, len 8, type 0) is the other legal EventTime encoding.
	b := msgp.AppendArrayHeader(nil, 2)
	b = msgp.AppendArrayHeader(b, 2)
	b = append(b, 0xc7, 8, 0)
	b = binary.BigEndian.AppendUint32(b, 10)
	b = binary.BigEndian.AppendUint32(b, 999999999)
	b = msgp.AppendMapHeader(b, 0)
	b = msgp.AppendMapHeader(b, 0)
	got, err := DecodeEntries(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Time.Equal(time.Unix(10, 999999999)) || got[0].Metadata == nil || len(got[0].Metadata) != 0 {
		t.Fatalf("got %#v", got)
	}
}

func TestDecodeEntriesRejectsMalformedStreams(t *testing.T) {
	ts := time.Unix(1700000000, 5)
	good := AppendEntry(nil, ts, nil, map[string]any{"a": "b"})
	entry := func(timeBytes []byte, record []byte) []byte {
		b := msgp.AppendArrayHeader(nil, 2)
		return append(append(b, timeBytes...), record...)
	}
	rec := msgp.AppendMapStrStr(nil, map[string]string{"k": "v"})
	evt := AppendEventTime(nil, ts)
	extTime := func(typ byte, sec, nsec uint32) []byte {
		b := []byte{0xd7, typ}
		b = binary.BigEndian.AppendUint32(b, sec)
		return binary.BigEndian.AppendUint32(b, nsec)
	}
	strMap := func(k, v string) []byte {
		b := msgp.AppendMapHeader(nil, 1)
		b = msgp.AppendString(b, k)
		return msgp.AppendString(b, v)
	}
	dupKeys := msgp.AppendMapHeader(nil, 2)
	dupKeys = msgp.AppendString(msgp.AppendString(dupKeys, "k"), "1")
	dupKeys = msgp.AppendString(msgp.AppendString(dupKeys, "k"), "2")
	intKey := msgp.AppendInt(msgp.AppendMapHeader(nil, 1), 1)
	intKey = msgp.AppendString(intKey, "v")

	cases := []struct {
		name   string
		stream []byte
		want   string
	}{
		{"empty stream", nil, "empty"},
		{"truncated entry", good[:len(good)-1], "too few bytes"},
		{"trailing byte", append(append([]byte{}, good...), 0xc0), "entry 1"},
		{"entry is a map", rec, "want a 2-element array"},
		{"entry has 3 elements", append(msgp.AppendArrayHeader(nil, 3), append(append(evt, rec...), rec...)...), "3 elements"},
		{"float time", entry(msgp.AppendFloat64(nil, 1.5), rec), "want EventTime or integer"},
		{"negative integer time", entry(msgp.AppendInt64(nil, -1), rec), "negative"},
		{"msgpack timestamp ext -1", entry(extTime(0xff, 1, 0), rec), "ext type -1"},
		{"ext type 0 of 4 bytes", entry([]byte{0xd6, 0, 0, 0, 0, 1}, rec), "4 bytes"},
		{"nanoseconds out of range", entry(extTime(0, 1, 1e9), rec), "nanoseconds"},
		{"group start marker", entry(extTime(0, 0xffffffff, 0), rec), "group marker"},
		{"record is an array", entry(evt, msgp.AppendArrayHeader(nil, 0)), "record is"},
		{"record key is an int", entry(evt, intKey), "want str"},
		{"duplicate record key", entry(evt, dupKeys), "duplicate"},
		{"invalid UTF-8 value", entry(evt, strMap("k", "\xff\xfe")), "UTF-8"},
		{"metadata is a string", append(msgp.AppendArrayHeader(msgp.AppendArrayHeader(nil, 2), 2), append(append(evt, msgp.AppendString(nil, "m")...), rec...)...), "metadata is"},
		{"header has 3 elements", append(msgp.AppendArrayHeader(msgp.AppendArrayHeader(nil, 2), 3), append(append(append(evt, rec...), rec...), rec...)...), "entry header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEntries(tc.stream)
			if err == nil {
				t.Fatal("decoded without error")
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.want)) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}
