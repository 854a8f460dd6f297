package loki

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/internal/onwire"
	"github.com/ctlive/ctlive-fluent-bit/redact"
	"google.golang.org/protobuf/encoding/protowire"
)

// The byte layout of a one-entry request, worked out by hand from
// push.proto and the protobuf encoding rules (tags are field<<3|2 for
// length-delimited, field<<3|0 for varints), so the encoder is checked
// against something it did not produce.
func TestProtobufByteLayoutMatchesPushProto(t *testing.T) {
	tests := []struct {
		name      string
		sec       int64
		nsec      int32
		line      string
		meta      []byte
		wantEntry string
	}{
		{"time, line and one metadata pair", 1, 2, "x", appendMetaPair(nil, appendProtoString(nil, 1, []byte("k")), []byte("v")),
			"12 11" + " 0a 04 08 01 10 02" + " 12 01 78" + " 1a 06 0a 01 6b 12 01 76"},
		{"zero time keeps an empty timestamp, as gogo's non-nullable field does", 0, 0, "x", nil,
			"12 05" + " 0a 00" + " 12 01 78"},
		{"empty line is left out", 1740676760, 129613061, "", nil,
			"12 0d" + " 0a 0b 08 98 bd 82 be 06 10 85 fa e6 3d"},
		{"negative seconds are ten-byte two's complement varints", -1, 0, "", nil,
			"12 0d" + " 0a 0b 08 ff ff ff ff ff ff ff ff ff 01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := beginMessage(nil, fieldStreams)
			b = protowire.AppendTag(b, fieldLabels, protowire.BytesType)
			b = protowire.AppendString(b, `{a="b"}`)
			b = appendEntry(b, tc.sec, tc.nsec, []byte(tc.line), tc.meta)
			b = endMessage(b, 0)

			entry := mustHex(t, tc.wantEntry)
			stream := append(mustHex(t, `0a 07 7b 61 3d 22 62 22 7d`), entry...) // labels {a="b"}
			want := append([]byte{0x0a, byte(len(stream))}, stream...)
			if hex.EncodeToString(b) != hex.EncodeToString(want) {
				t.Fatalf("got  % x\nwant % x", b, want)
			}
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// endMessage must close the length reserve whatever the varint's size.
func TestStreamLengthAcrossVarintSizes(t *testing.T) {
	for _, n := range []int{0, 1, 100, 113, 114, 115, 127, 128, 16370, 16371, 16383, 16384, 2_097_200} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			line := strings.Repeat("l", n)
			b := []byte("prefix")
			start := len(b)
			b = beginMessage(b, fieldStreams)
			b = protowire.AppendTag(b, fieldLabels, protowire.BytesType)
			b = protowire.AppendString(b, `{a="b"}`)
			b = appendEntry(b, 5, 6, []byte(line), nil)
			b = endMessage(b, start)
			if string(b[:start]) != "prefix" {
				t.Fatalf("bytes before the message changed: %q", b[:start])
			}
			streams, err := decodePushRequest(b[start:])
			if err != nil {
				t.Fatal(err)
			}
			want := []pbStream{{Labels: `{a="b"}`, Entries: []pbEntry{{Sec: 5, Nsec: 6, Line: line}}}}
			if !reflect.DeepEqual(streams, want) {
				t.Fatalf("decoded %d streams, want the one written", len(streams))
			}
		})
	}
}

const (
	lineNewContact = "ctlive | 2025-02-27T17:19:20.129613061Z [socketIO] newContact. Generate UUID [CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c]"
	lineURL        = "ctlive | 2025-02-27T17:19:20.130843858Z [CT7PROTOCOL] [AGM] newContact url:https://server1/ctLiveService/contact"
	lineSession    = "ctlive | 2025-02-27T17:19:21.000000001Z [socketIO] [AGM] agent USER_jdoe@acd.example.com joined room [CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c] with session ab4e7aff-8627-434a-a2ef-7e200363197e"
	linePlain      = "just some text"
)

func ts(s string) (int64, int32) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.Unix(), int32(t.Nanosecond())
}

func entryAt(s, line string, meta ...pbPair) pbEntry {
	sec, ns := ts(s)
	return pbEntry{Sec: sec, Nsec: ns, Line: line, Meta: meta}
}

// What the three CTLive lines and a plain one become with the defaults.
func wantDefaultStreams(line func(i int) string) []pbStream {
	cid := pbPair{"contactID", "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"}
	return []pbStream{
		{Labels: `{channel="CHAT", event="newContact", level="info", service="ctlive", tenant="AGM"}`,
			Entries: []pbEntry{entryAt("2025-02-27T17:19:20.129613061Z", line(0), cid)}},
		{Labels: `{event="newContact", level="info", service="ctlive", tenant="AGM"}`,
			Entries: []pbEntry{entryAt("2025-02-27T17:19:20.130843858Z", line(1))}},
		{Labels: `{channel="CHAT", level="info", service="ctlive", tenant="AGM"}`,
			Entries: []pbEntry{entryAt("2025-02-27T17:19:21.000000001Z", line(2), cid,
				pbPair{"sessionID", onwire.Token("ab4e7aff-8627-434a-a2ef-7e200363197e")}, pbPair{"userID", "USER_jdoe@acd.example.com"})}},
		{Labels: `{job="fluent-bit"}`, Entries: []pbEntry{{Sec: t0.Unix(), Nsec: int32(t0.Nanosecond()), Line: line(3)}}},
	}
}

func TestBodyDecodesToTheGivenStreams(t *testing.T) {
	raw := []string{lineNewContact, lineURL, lineSession, linePlain}
	for _, enc := range []string{"protobuf", "json"} {
		for _, format := range []string{"raw", "json"} {
			t.Run(enc+"/"+format, func(t *testing.T) {
				f := startFake(t, nil)
				s, _ := newSink(t, map[string]string{"url": f.url(), "encoding": enc, "line_format": format})
				b := makeBatch(t, "tail.0", lines(raw...))
				if err := deliver(t, s, b); err != nil {
					t.Fatal(err)
				}
				if u := undone(b); len(u) != 0 {
					t.Fatalf("records %v not done", u)
				}
				reqs := f.requests()
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				got := reqs[0].Streams
				if format == "json" {
					// The line is the enriched record: check it, then compare the rest.
					for i, s := range got {
						for k := range s.Entries {
							checkJSONLine(t, s.Entries[k].Line, onwire.Line(raw[i]))
							got[i].Entries[k].Line = raw[i]
						}
					}
				}
				want := wantDefaultStreams(func(i int) string {
					if format == "json" {
						return raw[i] // replaced above, once checked
					}
					return onwire.Line(raw[i])
				})
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("streams:\n%s\nwant:\n%s", dump(got), dump(want))
				}
			})
		}
	}
}

func checkJSONLine(t *testing.T, line, orig string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("line %q is not a JSON object: %v", line, err)
	}
	if m["log"] != orig {
		t.Errorf("JSON line's log = %q, want the line as sent %q", m["log"], orig)
	}
	if orig != linePlain && m["service"] != "ctlive" {
		t.Errorf("JSON line lacks the enriched fields: %s", line)
	}
}

func dump(streams []pbStream) string {
	var b strings.Builder
	for _, s := range streams {
		fmt.Fprintf(&b, "  %s\n", s.Labels)
		for _, e := range s.Entries {
			fmt.Fprintf(&b, "    %d.%09d %q %v\n", e.Sec, e.Nsec, e.Line, e.Meta)
		}
	}
	return b.String()
}

func TestEntriesOrderedByTimeWithinStreamStably(t *testing.T) {
	l := func(ts, word string) string { return "ctlive | " + ts + " [socketIO] [AGM] newContact " + word }
	in := []string{
		l("2025-02-27T10:00:03Z", "c"),
		l("2025-02-27T10:00:01.5Z", "a"),
		"ctlive | 2025-02-27T10:00:00Z [socketIO] [ACME] newContact other-stream",
		l("2025-02-27T10:00:02Z", "b1"),
		l("2025-02-27T10:00:02Z", "b2"), // same instant: keeps its place after b1
		l("2025-02-27T10:00:01.499999999Z", "first"),
		l("2025-02-27T10:00:02Z", "b3"),
	}
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			f := startFake(t, nil)
			s, _ := newSink(t, map[string]string{"url": f.url(), "encoding": enc})
			if err := deliver(t, s, makeBatch(t, "t", lines(in...))); err != nil {
				t.Fatal(err)
			}
			got := f.requests()[0].Streams
			var order [][]string
			for _, s := range got {
				var words []string
				for _, e := range s.Entries {
					words = append(words, e.Line[strings.LastIndexByte(e.Line, ' ')+1:])
				}
				order = append(order, words)
			}
			want := [][]string{{"first", "a", "b1", "b2", "b3", "c"}, {"other-stream"}}
			if !reflect.DeepEqual(order, want) {
				t.Fatalf("order %v, want %v (streams in first-appearance order, time order inside, ties stable)", order, want)
			}
		})
	}
}

// A VictoriaLogs-like reading of the selector (strconv.QuotedPrefix and
// Unquote, as its parsePromLabels does).
func parseSelector(t *testing.T, s string) map[string]string {
	t.Helper()
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		t.Fatalf("selector %q is not {...}", s)
	}
	out := map[string]string{}
	s = s[1 : len(s)-1]
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			t.Fatalf("no '=' in %q", s)
		}
		name := s[:eq]
		if !validName(name) {
			t.Fatalf("label name %q is not valid", name)
		}
		q, err := strconv.QuotedPrefix(s[eq+1:])
		if err != nil {
			t.Fatalf("value of %s in %q: %v", name, s, err)
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = v
		s = strings.TrimPrefix(strings.TrimPrefix(s[eq+1+len(q):], ","), " ")
	}
	return out
}

func TestLabelValuesAreEscapedAndReadBack(t *testing.T) {
	values := []string{`plain`, `quo"te`, `back\slash`, "new\nline", "tab\tand\rcr", "ünïcödé ✓", `{a="b", c="d"}`, "nul\x00byte"}
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			f := startFake(t, nil)
			s, _ := newSink(t, map[string]string{"url": f.url(), "encoding": enc, "labels": "note=$note, tenant"})
			var recs []rec
			for _, v := range values {
				recs = append(recs, rec{line: lineURL, extra: []any{"note", v}})
			}
			if err := deliver(t, s, makeBatch(t, "t", recs)); err != nil {
				t.Fatal(err)
			}
			streams := f.requests()[0].Streams
			if len(streams) != len(values) {
				t.Fatalf("%d streams, want %d", len(streams), len(values))
			}
			for i, st := range streams {
				got := parseSelector(t, st.Labels)
				want := map[string]string{"note": values[i], "tenant": "AGM"}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("selector %s reads back as %q, want %q", st.Labels, got, want)
				}
			}
		})
	}
}

func TestInvalidUTF8LabelValueSurvivesQuoting(t *testing.T) {
	s, _ := newSink(t, map[string]string{"labels": "note=$note"})
	st := s.getState()
	b := makeBatch(t, "t", []rec{{line: "x", extra: []any{"note", []byte{'a', 0xff, 'b'}}}})
	st.collect(s, b)
	sel := st.streams[0].selector
	if sel != `{note="a\xffb"}` {
		t.Fatalf("selector %q", sel)
	}
	if got := parseSelector(t, sel)["note"]; got != "a\xffb" {
		t.Fatalf("read back %q", got)
	}
}

func TestLabelsAndMetadataFromAccessorsAndFixedText(t *testing.T) {
	f := startFake(t, nil)
	s, _ := newSink(t, map[string]string{
		"url":                 f.url(),
		"labels":              "job=ctlive, $kubernetes['namespace_name'], app=$kubernetes['labels']['app'], $TAG[1], level",
		"structured_metadata": "contactID, pod=$kubernetes['pod_name'], chat=$payload['response']['chat'], env=prod",
	})
	k8s := map[string]any{"namespace_name": "chat", "pod_name": "ctlive-7d9f", "labels": map[string]any{"app": "ctlive"}}
	recs := []rec{
		{line: "ctlive | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] [AGM] newContact response:{\"chat\":true} for [CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c]", extra: []any{"kubernetes", k8s}},
		{line: linePlain}, // no kubernetes, no CTLive fields: only the fixed label and the tag
	}
	if err := deliver(t, s, makeBatch(t, "kube.ctlive.x", recs)); err != nil {
		t.Fatal(err)
	}
	streams := f.requests()[0].Streams
	wantLabels := []string{
		`{app="ctlive", job="ctlive", level="info", namespace_name="chat", tag="ctlive"}`,
		`{job="ctlive", tag="ctlive"}`,
	}
	wantMeta := [][]pbPair{
		{{"contactID", "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"}, {"pod", "ctlive-7d9f"}, {"chat", "true"}, {"env", "prod"}},
		{{"env", "prod"}},
	}
	if len(streams) != 2 {
		t.Fatalf("streams:\n%s", dump(streams))
	}
	for i, st := range streams {
		if st.Labels != wantLabels[i] {
			t.Errorf("stream %d labels %s, want %s", i, st.Labels, wantLabels[i])
		}
		if !reflect.DeepEqual(st.Entries[0].Meta, wantMeta[i]) {
			t.Errorf("stream %d metadata %v, want %v", i, st.Entries[0].Meta, wantMeta[i])
		}
	}
}

func TestOneRequestPerTenant(t *testing.T) {
	recs := lines(
		"ctlive | 2025-02-27T10:00:00Z [socketIO] [AGM] newContact 1",
		"ctlive | 2025-02-27T10:00:01Z [socketIO] [ACME] newContact 2",
		"ctlive | 2025-02-27T10:00:02Z [socketIO] [AGM] endContact 3",
		"no tenant here 4",
		"ctlive | 2025-02-27T10:00:03Z [socketIO] [ACME] newContact 5",
	)
	// A classic configuration keeps quotes as written: quoted, the template
	// is the same (not a tenant named 'org-AGM').
	for _, tenantID := range []string{"org-$tenant", `"org-$tenant"`, `'org-$tenant'`} {
		t.Run("tenant_id template "+tenantID, func(t *testing.T) {
			f := startFake(t, nil)
			s, _ := newSink(t, map[string]string{"url": f.url(), "tenant_id": tenantID})
			if err := deliver(t, s, makeBatch(t, "t", recs)); err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, r := range f.requests() {
				if _, dup := got[r.Tenant]; dup {
					t.Errorf("two requests for tenant %q", r.Tenant)
				}
				for _, s := range r.Streams {
					for _, e := range s.Entries {
						got[r.Tenant] = append(got[r.Tenant], e.Line[len(e.Line)-1:])
					}
				}
			}
			// Record 4 has no tenant and there is no default_tenant: it is not
			// sent (TestMissingTenantNeverBecomesALokiTenant).
			want := map[string][]string{"org-AGM": {"1", "3"}, "org-ACME": {"2", "5"}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("records per X-Scope-OrgID %v, want %v", got, want)
			}
		})
	}
	// A classic configuration cannot hold an empty value: `tenant_id ""`
	// is how one is written there, and must not become the tenant "".
	for name, props := range map[string]map[string]string{
		"no tenant_id sends no header": {},
		`tenant_id "" sends no header`: {"tenant_id": `""`},
		`tenant_id '' sends no header`: {"tenant_id": `''`},
	} {
		t.Run(name, func(t *testing.T) {
			f := startFake(t, nil)
			props["url"] = f.url()
			s, _ := newSink(t, props)
			if err := deliver(t, s, makeBatch(t, "t", recs)); err != nil {
				t.Fatal(err)
			}
			reqs := f.requests()
			if len(reqs) != 1 || reqs[0].HasTenant {
				t.Fatalf("%d requests, X-Scope-OrgID present: %v", len(reqs), len(reqs) > 0 && reqs[0].HasTenant)
			}
		})
	}
}

func TestRequestsStayUnderMaxRequestSize(t *testing.T) {
	var recs []rec
	for i := 0; i < 300; i++ {
		tenant := []string{"AGM", "ACME", "TENANT1"}[i%3]
		recs = append(recs, rec{line: fmt.Sprintf("ctlive | 2025-02-27T10:%02d:%02d.%09dZ [socketIO] [%s] newContact record %04d", i/60, i%60, i, tenant, i)})
	}
	recs = append(recs, rec{line: "ctlive | 2025-02-27T11:00:00Z [socketIO] [AGM] huge " + strings.Repeat("x", 5000)})
	for _, tc := range []struct {
		enc string
		max int
	}{{"protobuf", 2048}, {"protobuf", 601}, {"json", 2048}, {"json", 777}} {
		enc, max := tc.enc, tc.max
		t.Run(fmt.Sprint(enc, max), func(t *testing.T) {
			f := startFake(t, nil)
			s, _ := newSink(t, map[string]string{"url": f.url(), "encoding": enc, "tenant_id": "$tenant"})
			s.maxSize = max // below max_request_size's floor: many requests from few records
			b := makeBatch(t, "t", recs)
			if err := deliver(t, s, b); err != nil {
				t.Fatal(err)
			}
			if u := undone(b); len(u) != 0 {
				t.Fatalf("records %v not done", u)
			}
			reqs := f.requests()
			seen := map[string]int{}
			for _, r := range reqs {
				n := 0
				for _, s := range r.Streams {
					if len(s.Entries) == 0 {
						t.Errorf("empty stream %s in a request", s.Labels)
					}
					for _, e := range s.Entries {
						seen[e.Line]++
						n++
						if !strings.Contains(e.Line, "["+r.Tenant+"]") {
							t.Errorf("line %q in tenant %q's request", e.Line, r.Tenant)
						}
					}
				}
				if r.Size > max && n > 1 {
					t.Errorf("request of %d bytes with %d entries, max %d", r.Size, n, max)
				}
			}
			if len(reqs) < 10 {
				t.Errorf("%d requests: max_request_size did not split", len(reqs))
			}
			for _, r := range recs {
				if seen[r.line.(string)] != 1 {
					t.Errorf("line %.60q sent %d times", r.line, seen[r.line.(string)])
				}
			}
		})
	}
}

func TestGroupMarkersAreDoneNotSent(t *testing.T) {
	f := startFake(t, nil)
	s, _ := newSink(t, map[string]string{"url": f.url()})
	marker := time.Unix(0xFFFFFFFF, 0)
	b := makeBatch(t, "t", []rec{{line: "x", at: marker}, {line: lineURL}, {line: "y", at: time.Unix(0xFFFFFFFE, 0)}})
	if err := deliver(t, s, b); err != nil {
		t.Fatal(err)
	}
	if u := undone(b); len(u) != 0 {
		t.Fatalf("records %v not done", u)
	}
	n := 0
	for _, r := range f.requests() {
		for _, s := range r.Streams {
			n += len(s.Entries)
		}
	}
	if n != 1 {
		t.Fatalf("%d entries sent, want only the record", n)
	}
}

func TestUnsendableTenantIsRejected(t *testing.T) {
	f := startFake(t, nil)
	s, _ := newSink(t, map[string]string{"url": f.url(), "tenant_id": "$org"})
	b := makeBatch(t, "t", []rec{
		{line: lineURL, extra: []any{"org", "bad tenant"}},
		{line: lineURL, extra: []any{"org", "ok"}},
		{line: lineURL, extra: []any{"org", "new\nline"}},
	})
	if err := deliver(t, s, b); err != nil {
		t.Fatal(err)
	}
	if b.Rejected() != 2 || len(undone(b)) != 0 {
		t.Fatalf("rejected %d, undone %v; want the 2 bad tenants rejected, the rest delivered", b.Rejected(), undone(b))
	}
	if reqs := f.requests(); len(reqs) != 1 || reqs[0].Tenant != "ok" {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestTimestampsPastInt64Nanoseconds(t *testing.T) {
	tests := []struct {
		sec  int64
		nsec int32
		want string
	}{
		{1740676760, 129613061, "1740676760129613061"},
		{0, 5, "5"},
		{9_300_000_000, 7, "9300000000000000007"},     // 2264: past int64 nanoseconds
		{20_000_000_000, 120, "20000000000000000120"}, // year 2603
	}
	for _, tc := range tests {
		if got := string(appendUnixNano(nil, tc.sec, tc.nsec)); got != tc.want {
			t.Errorf("appendUnixNano(%d, %d) = %s, want %s", tc.sec, tc.nsec, got, tc.want)
		}
	}
}

// Masked fields (mask contactID) are masked in labels and metadata like
// everywhere else, and sessions are digested: the fast path for contract
// fields reads the values the Enrich stage left.
func TestMaskedFieldsStayMasked(t *testing.T) {
	f := startFake(t, nil)
	s, _ := newSink(t, map[string]string{"url": f.url(), "labels": "event", "structured_metadata": "contactID, sessionID"})
	c := enrich.Defaults()
	c.Mask, c.MaskKey = []string{"contactID"}, "0123456789abcdef-test-key"
	masked := enrich.MustNew(c)
	b := makeBatchWith(t, masked, "t", lines(lineSession, lineNewContact))
	if err := deliver(t, s, b); err != nil {
		t.Fatal(err)
	}
	keyed := redact.NewDigester([]byte(c.MaskKey))
	cid, session := keyed.Token("CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"), keyed.Token("ab4e7aff-8627-434a-a2ef-7e200363197e")
	streams := f.requests()[0].Streams
	want := []pbStream{
		{Labels: `{job="fluent-bit"}`, Entries: []pbEntry{entryAt("2025-02-27T17:19:21.000000001Z",
			strings.NewReplacer("CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", cid, "ab4e7aff-8627-434a-a2ef-7e200363197e", session).Replace(lineSession),
			pbPair{"contactID", cid}, pbPair{"sessionID", session})}},
		{Labels: `{event="newContact"}`, Entries: []pbEntry{entryAt("2025-02-27T17:19:20.129613061Z",
			strings.ReplaceAll(lineNewContact, "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", cid),
			pbPair{"contactID", cid})}},
	}
	if !reflect.DeepEqual(streams, want) {
		t.Fatalf("streams:\n%s\nwant:\n%s", dump(streams), dump(want))
	}
}

// Every max_request_size from 300 to 900 bytes: each body, closing
// brackets included, stays within it unless it holds a single entry, and
// every record goes in exactly one request.
func TestRequestSizeBoundIsExact(t *testing.T) {
	var recs []rec
	for i := 0; i < 40; i++ {
		recs = append(recs, rec{line: fmt.Sprintf("ctlive | 2025-02-27T10:00:%02dZ [socketIO] [AGM] newContact %s", i, strings.Repeat("x", i*7%50))})
	}
	for _, enc := range []string{"protobuf", "json"} {
		s, _ := newSink(t, map[string]string{"encoding": enc})
		for max := 300; max <= 900; max++ {
			s.maxSize = max
			count := map[int32]int{}
			s.sendHook = func(st *state, _ int32) (result, error) {
				if len(st.body) > max && len(st.reqEvents) > 1 {
					t.Fatalf("%s max %d: body of %d bytes with %d entries", enc, max, len(st.body), len(st.reqEvents))
				}
				for _, i := range st.reqEvents {
					count[i]++
				}
				return sent, nil
			}
			b := makeBatch(t, "t", recs)
			if err := deliver(t, s, b); err != nil {
				t.Fatal(err)
			}
			for i := range recs {
				if count[int32(i)] != 1 {
					t.Fatalf("%s max %d: record %d sent %d times", enc, max, i, count[int32(i)])
				}
			}
		}
	}
}
