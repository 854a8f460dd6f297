package elasticsearch

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

const docLine = "ctlive | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] [AGM] newContact response:" +
	`{"chat":true,"cbn":true,"video":true,"cbl":true,"call":true} for [CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c]`

// encodeOne encodes the single record of body with sink s.
func encodeOne(t *testing.T, s *Sink, tag string, ts time.Time, body any) bulkDoc {
	t.Helper()
	evs := decodeChunk(t, tag, appendEntry(nil, ts, body))
	f := s.getFlush(tag)
	defer s.putFlush(f)
	out := s.appendRecord(nil, evs[0], f)
	docs := parseNDJSON(t, out)
	if len(docs) != 1 {
		t.Fatalf("%d documents in %q", len(docs), out)
	}
	return docs[0]
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

func TestEncodeCTLiveRecord(t *testing.T) {
	s := newSink(t, nil)
	d := encodeOne(t, s, "ctlive.docker", t0, kv{"log", docLine, "@timestamp", "own time", "stream", "stdout"})

	create := d.Action["create"]
	if len(d.Action) != 1 || create == nil {
		t.Fatalf("action %v: want one create", d.Action)
	}
	if create["_index"] != "ctlive-agm-2025.02.27" {
		t.Errorf("_index %v: want the tenant lower-cased and the line's day", create["_index"])
	}
	if id, _ := create["_id"].(string); !idPattern.MatchString(id) {
		t.Errorf("_id %q: want 22 base64url characters", id)
	}
	if _, ok := create["_type"]; ok {
		t.Error("_type sent")
	}
	if !strings.HasPrefix(d.Raw, `{"@timestamp":"2025-02-27T17:19:22.156214484Z",`) {
		t.Errorf("document %s: want the line's time, nanoseconds, first", d.Raw)
	}
	if n := strings.Count(d.Raw, `"@timestamp":`); n != 1 {
		t.Errorf("@timestamp appears %d times: the record's own must be left out", n)
	}
	want := map[string]any{
		"log": docLine, "stream": "stdout", "tenant": "AGM", "function": "CT7PROTOCOL", "event": "newContact",
		"contactID": "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", "channel": "CHAT", "level": "info",
		"time": "2025-02-27T17:19:22.156214484Z",
	}
	for k, v := range want {
		if d.Doc[k] != v {
			t.Errorf("%s = %v, want %v", k, d.Doc[k], v)
		}
	}
	payload, _ := d.Doc["payload"].(map[string]any)
	if resp, _ := payload["response"].(map[string]any); resp["chat"] != true {
		t.Errorf("payload %v: want response.chat true, as JSON", d.Doc["payload"])
	}
}

func TestEncodeVariants(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		name    string
		props   map[string]string
		body    any
		wantDoc string // the whole document line
		index   string // "" to skip
		noID    bool
	}{
		{
			name: "record without a line keeps the record time", body: kv{"msg", "hi"},
			wantDoc: `{"@timestamp":"2026-01-02T03:04:05.000000006Z","msg":"hi"}`, index: "ctlive-unknown-2026.01.02",
		},
		{
			name: "line without a timestamp keeps the record time", body: kv{"log", "[socketIO] [AGM] hello"},
			wantDoc: `{"@timestamp":"2026-01-02T03:04:05.000000006Z","log":"[socketIO] [AGM] hello","function":"socketIO","scopes":["socketIO","AGM"],"tenant":"AGM","message":"hello","level":"info"}`,
			index:   "ctlive-agm-2026.01.02",
		},
		{
			name: "empty record", body: kv{},
			wantDoc: `{"@timestamp":"2026-01-02T03:04:05.000000006Z"}`,
		},
		{
			name: "record that is not a map", body: "just text",
			wantDoc: `{"@timestamp":"2026-01-02T03:04:05.000000006Z","log":"just text"}`,
		},
		{
			name: "id off", props: map[string]string{"id": "off"}, body: kv{"a", 1},
			wantDoc: `{"@timestamp":"2026-01-02T03:04:05.000000006Z","a":1}`, noID: true,
		},
		{
			name: "tag key", props: map[string]string{"include_tag_key": "on"}, body: kv{"a", 1},
			wantDoc: `{"@timestamp":"2026-01-02T03:04:05.000000006Z","_flb-key":"app.x","a":1}`,
		},
		{
			name: "tag key the record has already", props: map[string]string{"include_tag_key": "on", "tag_key": "a"}, body: kv{"a", 1},
			wantDoc: `{"@timestamp":"2026-01-02T03:04:05.000000006Z","a":1}`,
		},
		{
			name: "custom time key leaves @timestamp alone", props: map[string]string{"time_key": "ts"}, body: kv{"ts", "x", "@timestamp", "y"},
			wantDoc: `{"ts":"2026-01-02T03:04:05.000000006Z","@timestamp":"y"}`,
		},
		{
			name: "index from the tag and a field, lower-cased", props: map[string]string{"index": "$TAG[0]-$kind-%Y"}, body: kv{"kind", "Audit"},
			wantDoc: `{"@timestamp":"2026-01-02T03:04:05.000000006Z","kind":"Audit"}`, index: "app-audit-2026",
		},
		{
			name: "index with non-ASCII capitals", props: map[string]string{"index": "city-$city"}, body: kv{"city", "ÉVORA"},
			wantDoc: `{"@timestamp":"2026-01-02T03:04:05.000000006Z","city":"ÉVORA"}`, index: "city-évora",
		},
		{
			name: "index with characters JSON escapes stays valid JSON", props: map[string]string{"index": "x-$k"}, body: kv{"k", "A\"\\\n"},
			wantDoc: `{"@timestamp":"2026-01-02T03:04:05.000000006Z","k":"A\"\\\n"}`, index: "x-a\"\\\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, tc.props)
			d := encodeOne(t, s, "app.x", ts, tc.body)
			if d.Raw != tc.wantDoc {
				t.Errorf("document\n got %s\nwant %s", d.Raw, tc.wantDoc)
			}
			create := d.Action["create"]
			if tc.index != "" && create["_index"] != tc.index {
				t.Errorf("_index %q, want %q", create["_index"], tc.index)
			}
			if _, has := create["_id"]; has == tc.noID {
				t.Errorf("_id present: %v, want %v", has, !tc.noID)
			}
		})
	}
}

func TestIDIsDeterministic(t *testing.T) {
	s := newSink(t, nil)
	id := func(tag string, ts time.Time, body any) string {
		return encodeOne(t, s, tag, ts, body).Action["create"]["_id"].(string)
	}
	line := kv{"log", "[socketIO] [AGM] hello"}
	base := id("a.b", t0, line)
	if again := id("a.b", t0, kv{"log", "[socketIO] [AGM] hello"}); again != base {
		t.Errorf("same record, ids %s and %s: a retry would duplicate", base, again)
	}
	if other := id("a.b", t0, kv{"log", "[socketIO] [AGM] hello", "extra", 1}); other != base {
		t.Errorf("the id depends on keys beside the line: %s vs %s", other, base)
	}
	differ := map[string]string{
		"tag":        id("a.c", t0, line),
		"time (1ns)": id("a.b", t0.Add(1), line),
		"line":       id("a.b", t0, kv{"log", "[socketIO] [AGM] hellO"}),
		// Tag and line must not run together: "a.b"+"x" vs "a.bx"+"".
		"tag/line boundary": id("a.b[socketIO]", t0, kv{"log", " [AGM] hello"}),
	}
	for what, got := range differ {
		if got == base {
			t.Errorf("changing the %s keeps the id %s", what, got)
		}
	}
	// Without a line, the whole record decides.
	r1, r2 := id("a.b", t0, kv{"msg", "x"}), id("a.b", t0, kv{"msg", "y"})
	if r1 == r2 {
		t.Errorf("records without a line, different bodies, same id %s", r1)
	}
}

func TestAppendTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2025, 2, 27, 17, 19, 20, 129613061, time.UTC), "2025-02-27T17:19:20.129613061Z"},
		{time.Date(2025, 2, 27, 17, 19, 20, 0, time.UTC), "2025-02-27T17:19:20.000000000Z"},
		{time.Date(2025, 2, 27, 18, 19, 20, 5, time.FixedZone("", 3600)), "2025-02-27T17:19:20.000000005Z"},
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "1970-01-01T00:00:00.000000000Z"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "9999-12-31T23:59:59.999999999Z"},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "10000-01-01T00:00:00.000000000Z"},
	}
	for _, tc := range tests {
		if got := string(appendTime([]byte("x"), tc.in)); got != "x"+tc.want {
			t.Errorf("appendTime(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// The memo must render exactly what the template does, across tenants,
// records without a tenant and a change of day in one flush.
func TestIndexMemoMatchesTemplate(t *testing.T) {
	lines := []string{
		"ctlive | 2025-02-27T23:59:59.999999999Z [socketIO] [AGM] a",
		"ctlive | 2025-02-28T00:00:00.000000000Z [socketIO] [AGM] b",
		"ctlive | 2025-02-27T23:59:59.000000000Z [socketIO] [TENANT1] c",
		"ctlive | 1969-12-31T23:59:59.000000000Z [socketIO] [AGM] d",
		"ctlive | 1970-01-01T00:00:00.000000000Z [socketIO] [AGM] e",
		"no tenant here",
		"ctlive | 2025-02-28T10:00:00Z [socketIO] [AGM] f",
	}
	evs := lineEvents(t, "ctlive.x", lines)
	evs = append(evs, corpusEvents(t, 2000)...)
	memo := newSink(t, nil)
	plain := newSink(t, nil)
	plain.memoIndex = false
	fm, fp := memo.getFlush("ctlive.x"), plain.getFlush("ctlive.x")
	for i, ev := range evs {
		got := string(memo.appendIndex(nil, ev, fm))
		want := string(plain.appendIndex(nil, ev, fp))
		if got != want {
			t.Fatalf("record %d (%s): memo %s, template %s", i, ev.Line, got, want)
		}
	}
	if len(fm.memo) == 0 {
		t.Error("the memo was never used")
	}
}

// Encoding is on the hot path: no allocation per record once warm.
func TestEncodeDoesNotAllocate(t *testing.T) {
	evs := corpusEvents(t, 500)
	s := newSink(t, nil)
	f := s.getFlush("ctlive.docker")
	buf := make([]byte, 0, 4<<20)
	for _, ev := range evs {
		buf = s.appendRecord(buf, ev, f)
	}
	allocs := testing.AllocsPerRun(5, func() {
		buf = buf[:0]
		for _, ev := range evs {
			buf = s.appendRecord(buf, ev, f)
		}
	})
	if allocs > 0 {
		t.Errorf("%.0f allocations for %d records", allocs, len(evs))
	}
	// And what it wrote is valid bulk NDJSON, one pair per record.
	if docs := parseNDJSON(t, buf); len(docs) != len(evs) {
		t.Errorf("%d documents for %d records", len(docs), len(evs))
	}
}
