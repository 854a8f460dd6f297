package record

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/tinylib/msgp/msgp"
)

// body builds a map of string keys and values; a value that is []byte is
// written as binary.
func body(kv ...any) []byte {
	b := msgp.AppendMapHeader(nil, uint32(len(kv)/2))
	for i := 0; i < len(kv); i += 2 {
		b = msgp.AppendString(b, kv[i].(string))
		switch v := kv[i+1].(type) {
		case string:
			b = msgp.AppendString(b, v)
		case []byte:
			b = msgp.AppendBytes(b, v)
		case int:
			b = msgp.AppendInt(b, v)
		}
	}
	return b
}

// resetBoth resets one event after another with a memo, and a second event
// without, and reports the memo's answer and the walk's.
func resetBoth(t *testing.T, l *Layout, m *KeyMemo, b []byte) (memo, walk *Event) {
	t.Helper()
	memo, walk = new(Event), new(Event)
	e := Entry{Body: b, Group: NotGroup}
	memo.Reset(&e, "t", l, m)
	walk.Reset(&e, "t", l, nil)
	return memo, walk
}

// The memo answers only for a record of the same shape, and then exactly
// as a walk of its keys would: the same line, at the same place, and the
// same keys named like fields.
func TestKeyMemoAnswersAsTheWalkWould(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name   string
		bodies [][]byte
	}{
		{"the same shape, lines of every length", [][]byte{
			body("log", "a", "stream", "stdout"), body("log", "bb", "stream", "stdout"),
			body("log", strings.Repeat("c", 40), "stream", "stdout"), body("log", long, "stream", "stdout")}},
		{"the same bytes before, others after", [][]byte{
			body("log", "a", "stream", "stdout"), body("log", "a", "stream", "stderr"), body("log", "a", "tenant", "stdout")}},
		{"a key named like a field after the line", [][]byte{
			body("log", "a", "stream", "stdout"), body("log", "a", "tenant", "x")}},
		{"another count of keys", [][]byte{
			body("log", "a"), body("log", "a", "x", "y"), body("log", "a")}},
		{"a binary line", [][]byte{
			body("log", "a", "s", "o"), body("log", []byte("a"), "s", "o"), body("log", "a", "s", "o")}},
		{"the line key twice: the first counts", [][]byte{
			body("log", "first", "log", "second"), body("log", "other", "log", "second")}},
		{"a value where the line was", [][]byte{
			body("log", "a", "s", "o"), body("log", 7, "s", "o")}},
		{"the line moves", [][]byte{
			body("x", "1", "log", "a"), body("log", "a", "x", "1"), body("x", "1", "log", "a")}},
		{"not a map", [][]byte{body("log", "a"), {0x91, 0xa1, 'a'}, body("log", "a")}},
	}
	l := NewLayout("log", "")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m KeyMemo
			for i, b := range tc.bodies {
				memo, walk := resetBoth(t, l, &m, b)
				if string(memo.Line) != string(walk.Line) || memo.keyFields != walk.keyFields ||
					len(walk.Line) > 0 && unsafe.SliceData(memo.Line) != unsafe.SliceData(walk.Line) {
					t.Fatalf("record %d: memo gives line %q, keys %b; the walk %q, %b", i, memo.Line, memo.keyFields, walk.Line, walk.keyFields)
				}
			}
		})
	}
}

// FuzzKeyMemo: after any record, the memo's answer for any other record is
// the walk's.
func FuzzKeyMemo(f *testing.F) {
	f.Add(body("log", "a", "stream", "stdout"), body("log", "bb", "stream", "stdout"))
	f.Add(body("log", "a", "s", "o"), body("log", []byte("a"), "s", "o"))
	f.Add(body("x", "1", "log", "a"), body("x", "1", "log", "a", "y", "z"))
	l := NewLayout("log", "")
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var m KeyMemo
		resetBoth(t, l, &m, a)
		memo, walk := resetBoth(t, l, &m, b)
		if string(memo.Line) != string(walk.Line) || memo.keyFields != walk.keyFields ||
			len(walk.Line) > 0 && unsafe.SliceData(memo.Line) != unsafe.SliceData(walk.Line) {
			t.Fatalf("after %x, %x: memo gives line %q, keys %b; the walk %q, %b", a, b, memo.Line, memo.keyFields, walk.Line, walk.keyFields)
		}
	})
}

// FuzzFieldsJSON: the fields and the line written without a scan, as parts
// of a line that needs no escaping up to its first byte that does, come
// out as the same strings as when written with one: valid JSON whose field values are the parser's.
func FuzzFieldsJSON(f *testing.F) {
	f.Add("ctlive | 2025-02-27T17:19:20.1Z [socketIO] [AGM] newContact CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c")
	f.Add(`[CT7PROTOCOL] [AGM] message "quoted" \ back`)
	f.Add("[fn] [T1] caf\xc3\xa9 \xff")
	l := NewLayout("log", "")
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 4096 {
			t.Skip()
		}
		ev := enriched(t, entryOf(nil, body("log", line)), l)
		out := jsonOf(ev, JSON{})
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", out, line, err)
		}
		if s, _ := got["log"].(string); s != validPerByte([]byte(line)) {
			t.Fatalf("log = %q, want %q", s, line) // the line itself: copied when clean, escaped when not
		}
		for i, name := range FieldNames {
			if !ev.Has(i) || i == FieldScopes || i == FieldStack || i == FieldPayload || i == FieldTime {
				continue
			}
			want := validPerByte(ev.Value(i))
			if s, _ := got[name].(string); s != want {
				t.Fatalf("%s = %q, want %q (line %q)", name, s, want, line)
			}
		}
	})
}

// validPerByte replaces each byte of b that is not part of valid UTF-8 by
// U+FFFD, as the JSON encoders do.
func validPerByte(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:size])
		}
		b = b[size:]
	}
	return sb.String()
}

// The added fields' string writer is msgp's, byte for byte, at every
// header size's bounds.
func TestAppendStrWritesWhatMsgpWrites(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 255, 256, 65535, 65536, 70000} {
		s := []byte(strings.Repeat("x", n))
		got := appendStr([]byte{0xc0}, s)
		want := msgp.AppendStringFromBytes([]byte{0xc0}, s)
		if string(got) != string(want) {
			t.Errorf("len %d: header % x, want % x", n, got[:min(len(got), 6)], want[:min(len(want), 6)])
		}
	}
}
