package record

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/hostile"
	"github.com/ctlive/ctlive-fluent-bit/parser"
	"github.com/tinylib/msgp/msgp"
)

// entryOf builds `[[time, meta], body]` from raw msgpack.
func entryOf(meta, body []byte) []byte {
	b := append([]byte{0x92, 0x92}, eventTime(recordTime)...)
	if meta == nil {
		meta = []byte{0x80}
	}
	return append(append(b, meta...), body...)
}

// enriched decodes raw and enriches it as the Enrich stage would, with the
// parser's fields when its line is CTLive-shaped.
func enriched(t testing.TB, raw []byte, l *Layout) *Event {
	t.Helper()
	var e Entry
	if _, err := e.Decode(raw); err != nil {
		t.Fatalf("decode: %v", err)
	}
	ev := new(Event)
	line := ev.Reset(&e, "tail.0", l, nil)
	shaped := false
	if line != nil {
		parser.New(parser.Options{}).Parse(line, &ev.Fields)
		shaped = ev.Fields.Shaped()
	}
	ev.Complete(shaped)
	return ev
}

func jsonOf(ev *Event, j JSON) []byte {
	out, _ := j.AppendMembers([]byte{'{'}, ev)
	return append(out, '}')
}

// keysOf lists a JSON object's keys in order.
func keysOf(t *testing.T, obj []byte) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(obj))
	var keys []string
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", obj)
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatalf("invalid JSON %s: %v", obj, err)
		}
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			t.Fatalf("invalid JSON %s: %v", obj, err)
		}
	}
	return keys
}

// Issue #7, item 7: a key that is not a string used to end the record's
// JSON there when the line was CTLive-shaped. Every key is written, as the
// string of the text Fluent Bit's msgpack2json writes for it, and the
// keys after it stay found (the line, templates).
func TestKeysOfEveryTypeAreWritten(t *testing.T) {
	key := func(v any) []byte { b, _ := msgp.AppendIntf(nil, v); return b }
	odd := [][]byte{
		key(7), hostile.Str("v7"),
		key(-3), hostile.Str("v-3"),
		key(1.5), hostile.Str("v1.5"),
		key(nil), hostile.Str("vnil"),
		key(true), hostile.Str("vtrue"),
		msgp.AppendBytes(nil, []byte("bin")), hostile.Str("vbin"),
		hostile.Map(hostile.Str("a"), key(1)), hostile.Str("vmap"),
		msgp.AppendArrayHeader(nil, 0), hostile.Str("varray"),
	}
	wantOdd := []string{"7", "-3", "1.5", "null", "true", "bin", `{"a":1}`, "[]"}
	for _, tc := range []struct {
		name   string
		line   string
		fields []string
	}{
		{"CTLive-shaped", "[CT7PROTOCOL] [AGM] newContact", []string{"function", "scopes", "tenant", "event", "message", "level"}},
		{"not CTLive-shaped", "plain text", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv := append([][]byte{hostile.Str("first"), hostile.Str("x")}, odd...)
			kv = append(kv, hostile.Str("log"), hostile.Str(tc.line), hostile.Str("after"), hostile.Str("y"))
			raw := entryOf(nil, hostile.Map(kv...))
			ev := enriched(t, raw, NewLayout("log", ""))
			if ev.Shaped != (tc.fields != nil) {
				t.Fatalf("shaped = %v: the line after the odd keys was not found", ev.Shaped)
			}
			want := append(append([]string{"first"}, wantOdd...), "log", "after")
			want = append(want, tc.fields...)
			if got := keysOf(t, jsonOf(ev, JSON{})); strings.Join(got, " | ") != strings.Join(want, " | ") {
				t.Errorf("JSON keys\n got %q\nwant %q", got, want)
			}
			out := AppendMsgpack(nil, ev)
			for i := 0; i < len(odd); i += 2 {
				if pair := append(append([]byte(nil), odd[i]...), odd[i+1]...); !bytes.Contains(out, pair) {
					t.Errorf("MessagePack lost the key %q", wantOdd[i/2])
				}
			}
			if v, ok := ev.AppendValue(nil, "after", nil); !ok || string(v) != "y" {
				t.Errorf("template $after = %q, %v: keys after the odd ones are not found", v, ok)
			}
		})
	}
}

// Issue #7, item 1: a key that is a map whose key is a map… used to be
// escaped again at each level, doubling the JSON per level (a 100-byte
// record of 40 levels ran Fluent Bit out of memory). The key's text is
// written bare inside, as msgpack2json writes it, and escaped once.
func TestKeysNestedInKeysAreEscapedOnce(t *testing.T) {
	rec := func(k []byte) []byte {
		return entryOf(nil, hostile.Map(hostile.Str("log"), hostile.Str("plain"), k, hostile.Str("v")))
	}
	for _, tc := range []struct {
		name string
		key  []byte
		want string
	}{
		{"an empty map", hostile.KeyChain(1), `"{}":"v"`},
		{"a map with a string key", hostile.Map(hostile.Str(`a"b`), hostile.Str("c")), `"{\"a\\\"b\":\"c\"}":"v"`},
		{"three maps in keys", hostile.KeyChain(3), `"{{{}:1}:1}":"v"`},
		{"a map in a key of a map in a key", hostile.Map(hostile.Map(hostile.Str("s"), hostile.Str("t")), hostile.Str("u")),
			`"{{\"s\":\"t\"}:\"u\"}":"v"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := jsonOf(enriched(t, rec(tc.key), NewLayout("log", "")), JSON{})
			if want := `{"log":"plain",` + tc.want + `}`; string(got) != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
	for _, depth := range []int{10, 22, 40, 62, 63, 64, 200} {
		raw := rec(hostile.KeyChain(depth))
		ev := enriched(t, raw, NewLayout("log", ""))
		out := jsonOf(ev, JSON{})
		// Each map of the chain is 2 bytes in, "{" and ":1}" out.
		if len(out) > 3*len(raw) || !json.Valid(out) {
			t.Errorf("depth %d: %d bytes of JSON (valid %v) for a %d-byte entry", depth, len(out), json.Valid(out), len(raw))
		}
		if ev.Truncated() != (depth > MaxDepth-1) {
			t.Errorf("depth %d: Truncated() = %v", depth, ev.Truncated())
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// jsonNesting is how deep objects and arrays nest in JSON text.
func jsonNesting(b []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			_, end := token(b, i)
			i = end - 1
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// Fluent Bit unpacks an entry only when its containers nest at most 64
// deep, the entry's array included (MaxDepth). Deeper maps and arrays are
// written as null (a payload's JSON as the string of its text), every
// output stays within the limit, and the record says it was cut.
func TestNestingIsCutWhereFluentBitStops(t *testing.T) {
	const line = "ctlive | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] [AGM] newContact response:"
	chain := func(n int) []byte { return hostile.ArrayChain(n) }
	tests := []struct {
		name      string
		meta      []byte
		body      []byte
		nest      string
		truncated bool
		cut       string // in the JSON when cut
	}{
		// The record map is level 1: a chain under a key is at 2..n+1.
		{"a value at the limit", nil, hostile.Map(hostile.Str("log"), hostile.Str("x"), hostile.Str("k"), chain(MaxDepth-1)), "", false, ""},
		{"a value past it", nil, hostile.Map(hostile.Str("log"), hostile.Str("x"), hostile.Str("k"), chain(MaxDepth)), "", true, "[null]"},
		{"far past it", nil, hostile.Map(hostile.Str("log"), hostile.Str("x"), hostile.Str("k"), chain(5000)), "", true, "[null]"},
		{"a key past it", nil, hostile.Map(hostile.Str("log"), hostile.Str("x"), chain(MaxDepth), hostile.Str("v")), "", true, "[null]"},
		{"a record that is an array", nil, chain(MaxDepth + 1), "", true, "[null]"},
		// Metadata is the record's sibling inside the entry's header array.
		{"metadata at the limit", hostile.Map(hostile.Str("m"), chain(MaxDepth-2)), hostile.Map(hostile.Str("log"), hostile.Str("x")), "", false, ""},
		{"metadata past it", hostile.Map(hostile.Str("m"), chain(MaxDepth-1)), hostile.Map(hostile.Str("log"), hostile.Str("x")), "", true, ""},
		// A payload's values are at level 3 (4 under nest_under).
		{"a payload at the limit", nil, hostile.Map(hostile.Str("log"), hostile.Str(line+string(hostile.DeepJSON(MaxDepth-2)))), "", false, ""},
		{"a payload past it", nil, hostile.Map(hostile.Str("log"), hostile.Str(line+string(hostile.DeepJSON(MaxDepth-1)))), "", true, `"[\"leaf\"]"`},
		{"a payload past it under nest_under", nil, hostile.Map(hostile.Str("log"), hostile.Str(line+string(hostile.DeepJSON(MaxDepth-2)))), "f", true, `"{\"k.`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := entryOf(tc.meta, tc.body)
			ev := enriched(t, raw, NewLayout("log", tc.nest))
			if ev.Truncated() != tc.truncated {
				t.Errorf("Truncated() = %v, want %v", ev.Truncated(), tc.truncated)
			}
			mp := AppendMsgpack(nil, ev)
			if d, err := hostile.Nesting(mp); err != nil || d > MaxDepth+1 {
				t.Errorf("the MessagePack entry nests %d deep (%v): in_forward cannot unpack it", d, err)
			}
			if !tc.truncated && !ev.Shaped && !bytes.Equal(mp, raw) {
				t.Errorf("an entry within the limit changed:\n%x\n%x", mp, raw)
			}
			js := jsonOf(ev, JSON{})
			if !json.Valid(js) {
				t.Fatalf("invalid JSON %s", js)
			}
			// The JSON object is the record's map, level 1; a record that
			// is not a map goes under the log key, one level down.
			if d, limit := jsonNesting(js), MaxDepth+btoi(!ev.isMap); d > limit {
				t.Errorf("the JSON nests %d deep", d)
			}
			if !strings.Contains(string(js), tc.cut) {
				t.Errorf("not cut (%s): %s", tc.cut, js)
			}
		})
	}
}
