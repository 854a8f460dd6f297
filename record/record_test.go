package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ctlive/ctlive-fluent-bit/parser"
	"github.com/tinylib/msgp/msgp"
)

const (
	docLine = "ctlive | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] [AGM] newContact response:" +
		`{"chat":true,"cbn":true,"video":true,"cbl":true,"call":true}`
	cid = "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
)

var recordTime = time.Date(2026, 11, 25, 10, 0, 0, 123, time.UTC)

func eventTime(t time.Time) []byte {
	b, _ := appendEventTime(nil, t)
	return b
}

// kv is an ordered record, so tests control key order.
type kv []any

func appendMap(b []byte, m kv) []byte {
	b = msgp.AppendMapHeader(b, uint32(len(m)/2))
	for i := 0; i < len(m); i += 2 {
		b = msgp.AppendString(b, m[i].(string))
		b, _ = msgp.AppendIntf(b, m[i+1])
	}
	return b
}

// v2 builds `[[time, metadata], record]`, Fluent Bit's own chunk form.
func v2(ts []byte, meta, body kv) []byte {
	b := []byte{0x92, 0x92}
	b = append(b, ts...)
	b = appendMap(b, meta)
	return appendMap(b, body)
}

// v1 builds `[time, record]`.
func v1(ts []byte, body kv) []byte {
	b := append([]byte{0x92}, ts...)
	return appendMap(b, body)
}

func decodeOne(t *testing.T, raw []byte) Entry {
	t.Helper()
	var e Entry
	rest, err := e.Decode(raw)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(rest) != 0 {
		t.Fatalf("%d bytes left after one entry", len(rest))
	}
	return e
}

func TestDecodeTimestampForms(t *testing.T) {
	tests := []struct {
		name  string
		ts    []byte
		want  time.Time
		group GroupMarker
	}{
		{"EventTime keeps nanoseconds", eventTime(recordTime), recordTime, NotGroup},
		{"ext8 holding an EventTime", append([]byte{0xc7, 8, 0}, eventTime(recordTime)[2:]...), recordTime, NotGroup},
		{"unsigned seconds", msgp.AppendUint64(nil, 1740676760), time.Unix(1740676760, 0).UTC(), NotGroup},
		{"signed seconds, which fluent-bit-go rejects", msgp.AppendInt64(nil, -5), time.Unix(-5, 0).UTC(), NotGroup},
		{"float seconds", msgp.AppendFloat64(nil, 1740676760.5), time.Unix(1740676760, 5e8).UTC(), NotGroup},
		{"float32 seconds", msgp.AppendFloat32(nil, 2), time.Unix(2, 0).UTC(), NotGroup},
		{"group start marker", []byte{0xd7, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, time.Time{}, GroupStart},
		{"group end marker", []byte{0xd7, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0}, time.Time{}, GroupEnd},
		{"group start as an integer", msgp.AppendInt64(nil, -1), time.Time{}, GroupStart},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, raw := range [][]byte{v2(tc.ts, kv{"otel", "x"}, kv{"log", "a"}), v1(tc.ts, kv{"log", "a"})} {
				e := decodeOne(t, raw)
				if !e.Timestamp.Equal(tc.want) || e.Group != tc.group {
					t.Errorf("time %v group %v, want %v group %v", e.Timestamp, e.Group, tc.want, tc.group)
				}
				if !bytes.Equal(e.TimeRaw, tc.ts) || !bytes.Equal(e.Raw, raw) {
					t.Errorf("raw parts not kept: time %x, entry %x", e.TimeRaw, e.Raw)
				}
			}
		})
	}
}

func TestDecodeKeepsMetadataAndNonMapBodies(t *testing.T) {
	e := decodeOne(t, v2(eventTime(recordTime), kv{"k", "v"}, kv{"log", "x"}))
	if m, _, _ := msgp.ReadIntfBytes(e.Meta); !reflect.DeepEqual(m, map[string]any{"k": "v"}) {
		t.Errorf("metadata %v", m)
	}
	if e1 := decodeOne(t, v1(eventTime(recordTime), kv{"log", "x"})); e1.Meta != nil {
		t.Error("v1 entry has metadata")
	}
	raw := append([]byte{0x92}, eventTime(recordTime)...)
	raw = msgp.AppendString(raw, "a string record")
	if e := decodeOne(t, raw); string(e.Body) != string(msgp.AppendString(nil, "a string record")) {
		t.Errorf("non-map body %x", e.Body)
	}
}

func TestDecodeRejectsCorruptEntries(t *testing.T) {
	good := v2(eventTime(recordTime), kv{}, kv{"log", "x"})
	tests := map[string][]byte{
		"truncated":                 good[:len(good)-3],
		"not an array":              msgp.AppendString(nil, "x"),
		"three elements":            append([]byte{0x93}, good[1:]...),
		"header of one":             append([]byte{0x92, 0x91}, good[2:]...),
		"metadata is not a map":     append(append([]byte{0x92, 0x92}, eventTime(recordTime)...), 0xa1, 'x', 0x80),
		"string timestamp":          append(msgp.AppendString([]byte{0x92}, "now"), 0x80),
		"EventTime of another type": append([]byte{0x92, 0xd7, 0x05, 0, 0, 0, 0, 0, 0, 0, 0}, 0x80),
		"empty":                     {},
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			var e Entry
			if _, err := e.Decode(raw); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

// decodeEvent decodes one entry into an Event with nothing added, as the
// Enrich stage leaves a record whose line is not CTLive-shaped.
func decodeEvent(t *testing.T, raw []byte) *Event {
	t.Helper()
	e := decodeOne(t, raw)
	ev := new(Event)
	ev.Reset(&e, "tail.0", NewLayout("log", ""), nil)
	ev.Complete(false)
	return ev
}

func jsonObject(t *testing.T, ev *Event) map[string]any {
	t.Helper()
	b, _ := AppendJSONMembers([]byte{'{'}, ev, "")
	b = append(b, '}')
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return m
}

func TestJSONRecordThatIsNotAMap(t *testing.T) {
	raw := msgp.AppendString(append([]byte{0x92}, eventTime(recordTime)...), "just text")
	if got := jsonObject(t, decodeEvent(t, raw)); got["log"] != "just text" {
		t.Errorf("got %v", got)
	}
}

func TestPayloadTranscoding(t *testing.T) {
	tests := []string{
		`{"chat":true,"cbn":false,"x":null}`,
		`[1,-2,3.5,1e3,18446744073709551615,-9223372036854775808]`,
		`{"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00","e":{},"a":[],"deep":{"x":[{"y":"z"}]}}`,
		` { "spaced" : [ 1 , 2 ] } `,
		`{"k":"\u00ff\u0000"}`,
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			var want any
			if err := json.Unmarshal([]byte(in), &want); err != nil {
				t.Fatal(err)
			}
			mp := transcode(nil, []byte(in), msgpackOut{}, 3)
			v, rest, err := msgp.ReadIntfBytes(mp)
			if err != nil || len(rest) != 0 {
				t.Fatalf("msgpack: %v, %d left", err, len(rest))
			}
			if !reflect.DeepEqual(normalize(v), want) {
				t.Errorf("msgpack decodes to %#v, want %#v", v, want)
			}
			js := transcode(nil, []byte(in), jsonOut{}, 3)
			var back any
			if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, want) {
				t.Errorf("json %s decodes to %#v (%v)", js, back, err)
			}
		})
	}
}

// normalize turns msgpack-decoded numbers into float64, as encoding/json does.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return v
}

func FuzzTranscode(f *testing.F) {
	f.Add([]byte(`{"a":[1,2,{"b":"c\u00e9"}],"d":-1.5e-3}`))
	f.Add([]byte(`{"a":1,null:2}`))
	f.Add([]byte(`[[[[[[`))
	f.Fuzz(func(t *testing.T, in []byte) {
		mp := transcode(nil, in, msgpackOut{}, 3)
		if _, err := msgp.Skip(mp); err != nil {
			t.Fatalf("invalid msgpack from %q: %v", in, err)
		}
		js := transcode(nil, in, jsonOut{}, 3)
		if !json.Valid(js) {
			t.Fatalf("invalid JSON %q from %q", js, in)
		}
		if !json.Valid(in) {
			return
		}
		var want, got any
		json.Unmarshal(in, &want)
		json.Unmarshal(js, &got)
		if !reflect.DeepEqual(want, got) && !strings.Contains(string(in), `\u`) && !hasDeep(in) {
			t.Fatalf("json round trip of %q gave %q", in, js)
		}
	})
}

func hasDeep(in []byte) bool {
	return bytes.Count(in, []byte("["))+bytes.Count(in, []byte("{")) > MaxDepth-2
}

func TestUnenrichedRecordsPassUnchanged(t *testing.T) {
	tests := map[string][]byte{
		"a record":            v2(eventTime(recordTime), kv{"m", 1}, kv{"log", docLine}),
		"log is not a string": v1(eventTime(recordTime), kv{"log", 42}),
		"group marker":        v2([]byte{0xd7, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, kv{"resource", "x"}, kv{}),
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			if out := AppendMsgpack(nil, decodeEvent(t, raw)); !bytes.Equal(out, raw) {
				t.Errorf("changed:\n%x\n%x", out, raw)
			}
		})
	}
}

func TestRecordsWithoutAMapBodyAsJSON(t *testing.T) {
	plain := jsonObject(t, decodeEvent(t, v1(eventTime(recordTime), kv{"log", "plain", "k", []byte("bin"), "n", 1.5})))
	if !reflect.DeepEqual(plain, map[string]any{"log": "plain", "k": "bin", "n": 1.5}) {
		t.Errorf("record as JSON: %v", plain)
	}
}

func TestEventTimeRange(t *testing.T) {
	for _, tc := range []struct {
		t  time.Time
		ok bool
	}{
		{time.Unix(0, 0), true},
		{time.Unix(-1, 0), false},
		{time.Unix(math.MaxUint32-2, 0), true},
		{time.Unix(math.MaxUint32-1, 0), false},
	} {
		if _, ok := appendEventTime(nil, tc.t); ok != tc.ok {
			t.Errorf("%v: ok = %v", tc.t, ok)
		}
	}
}

// FuzzJSONString: the escaper always yields valid JSON that decodes to the
// input, invalid UTF-8 aside.
func FuzzJSONString(f *testing.F) {
	f.Add([]byte("plain ascii text long enough for words"))
	f.Add([]byte("tab\there \"quoted\" back\\slash \x00 \x7f é \xff"))
	f.Add([]byte("[socketIO] [AGM] newContact CHAT_AGM_abbba71e-67b2-4f9c url:https://server1/contact \"x\" ok"))
	f.Fuzz(func(t *testing.T, s []byte) {
		out := appendJSONBytes(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q -> invalid JSON %q", s, out)
		}
		if utf8.Valid(s) && got != string(s) {
			t.Fatalf("%q -> %q", s, got)
		}
		// The clean-run skipper in use (AVX2 where built) and the SWAR one
		// stop at the same byte from every start.
		for i := 0; i <= len(s); i++ {
			want := i
			for want < len(s) && jsonSafe[s[want]] {
				want++
			}
			if a, b := cleanUntil(s, i), cleanUntilSWAR(s, i); a != want || b != want {
				t.Fatalf("cleanUntil(%q, %d) = %d (SWAR %d), want %d", s, i, a, b, want)
			}
			// Inside a bigger buffer whose other bytes all need escaping:
			// what lies past the string's end must not count.
			inBuf := append(append([]byte(nil), s...), bytes.Repeat([]byte{'"', 0, 0xff}, 16)...)[:len(s)]
			if a := cleanUntil(inBuf, i); a != want {
				t.Fatalf("cleanUntil(%q in a bigger buffer, %d) = %d, want %d", s, i, a, want)
			}
		}
	})
}

// FuzzMsgpackFastPaths: the inline readers for keys, strings and skips
// (skipNested too) agree with tinylib/msgp's on every input.
func FuzzMsgpackFastPaths(f *testing.F) {
	f.Add([]byte("\xa3log\xd9\x05hello"))
	f.Add([]byte("\xda\x00\x02ab\x7f\xc0\xc3\xe0"))
	f.Add([]byte("\xd9\x09short"))
	f.Add([]byte("\x82\xa1a\x91\x90\x81\x80\xc0"))
	f.Add([]byte("\xdf\x00\x00\x00\x01\xdc\x00\x01\xc3\xde\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k1, r1, e1 := readKey(b)
		k2, r2, e2 := msgp.ReadMapKeyZC(b)
		if (e1 == nil) != (e2 == nil) || e1 == nil && (!bytes.Equal(k1, k2) || len(r1) != len(r2)) {
			t.Fatalf("readKey(%q) = %q, %d, %v; msgp: %q, %d, %v", b, k1, len(r1), e1, k2, len(r2), e2)
		}
		s1, r1, e1 := readString(b)
		s2, r2, e2 := msgp.ReadStringZC(b)
		if (e1 == nil) != (e2 == nil) || e1 == nil && (!bytes.Equal(s1, s2) || len(r1) != len(r2)) {
			t.Fatalf("readString(%q) = %q, %d, %v; msgp: %q, %d, %v", b, s1, len(r1), e1, s2, len(r2), e2)
		}
		r1, e1 = skip(b)
		r2, e2 = msgp.Skip(b)
		if (e1 == nil) != (e2 == nil) || e1 == nil && len(r1) != len(r2) {
			t.Fatalf("skip(%q) = %d, %v; msgp: %d, %v", b, len(r1), e1, len(r2), e2)
		}
		r1, _, e1 = skipNested(b, 1)
		if (e1 == nil) != (e2 == nil) || e1 == nil && len(r1) != len(r2) {
			t.Fatalf("skipNested(%q) = %d, %v; msgp.Skip: %d, %v", b, len(r1), e1, len(r2), e2)
		}
	})
}

// appendFieldsJSON writes the event and level names without escaping
// them: each must be plain JSON text.
func TestEventAndLevelNamesNeedNoJSONEscaping(t *testing.T) {
	for _, names := range [][][]byte{eventBytes[:], levelBytes[:]} {
		for _, name := range names {
			if cleanUntilSWAR(name, 0) != len(name) {
				t.Errorf("%q needs escaping", name)
			}
		}
	}
}

// Value reads the []byte fields through valueOffset: each field must read
// the parser.Result member of its own name, and the lists none.
func TestValueReadsEachFieldsOwnMember(t *testing.T) {
	var ev Event
	r := &ev.Fields
	members := map[int]*[]byte{
		FieldService: &r.Service, FieldTime: &r.TimeText, FieldFunction: &r.Function,
		FieldTenant: &r.Tenant, FieldContactID: &r.ContactID, FieldChannel: &r.Channel,
		FieldUserID: &r.UserID, FieldSessionID: &r.SessionID, FieldMessageID: &r.MessageID,
		FieldMessage: &r.Message, FieldURL: &r.URL, FieldError: &r.Error, FieldErrorType: &r.ErrorType,
	}
	for i, m := range members {
		*m = []byte(FieldNames[i])
	}
	r.Event, r.Level = parser.EventNewContact, parser.LevelWarn
	r.Scopes, r.Stack = [][]byte{[]byte("s")}, [][]byte{[]byte("at f")}
	ev.present = 1<<numFields - 1
	for i := range numFields {
		var want []byte
		switch {
		case members[i] != nil:
			want = *members[i]
		case i == FieldEvent:
			want = []byte("newContact")
		case i == FieldLevel:
			want = []byte("warn")
		}
		if got := ev.Value(i); !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("Value(%s) = %q, want %q", FieldNames[i], got, want)
		}
	}
	ev.present = 0
	for i := range numFields {
		if got := ev.Value(i); got != nil {
			t.Errorf("Value(%s) of an absent field = %q", FieldNames[i], got)
		}
	}
}
