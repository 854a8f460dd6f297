package enrich

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/template"
	"github.com/tinylib/msgp/msgp"
)

const (
	docLine = "ctlive | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] [AGM] newContact response:" +
		`{"chat":true,"cbn":true,"video":true,"cbl":true,"call":true}`
	cidA    = "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
	session = "ab4e7aff-8627-434a-a2ef-7e200363197e"
)

var recordTime = time.Date(2026, 11, 25, 10, 0, 0, 123, time.UTC)

// kv is a record's keys and values, in order.
type kv []any

func (m kv) Map() flbhost.Map {
	out := make(flbhost.Map, 0, len(m)/2)
	for i := 0; i+1 < len(m); i += 2 {
		out = append(out, flbhost.KV{Key: m[i].(string), Value: m[i+1]})
	}
	return out
}

// v2 builds `[[time, metadata], record]`, Fluent Bit's own chunk form.
func v2(meta, body kv) []byte {
	return flbhost.AppendV2(nil, flbhost.EventTime(recordTime), meta.Map(), body.Map())
}

// encoded builds a record with empty metadata as Fluent Bit's log event
// encoder writes it (map32 headers).
func encoded(body kv) []byte {
	return flbhost.AppendEncoded(nil, flbhost.EventTime(recordTime), body.Map())
}

// v1 builds `[time, record]`.
func v1(body kv) []byte { return flbhost.AppendV1(nil, flbhost.EventTime(recordTime), body.Map()) }

func config(mod ...func(*Config)) Config {
	c := Defaults()
	for _, m := range mod {
		m(&c)
	}
	return c
}

// enrichOne decodes one entry and enriches it.
func enrichOne(t testing.TB, raw []byte, c Config) *record.Event {
	t.Helper()
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.DecodeChunk(raw, "tail.0")
	if err != nil || len(evs) != 1 {
		t.Fatalf("decode: %v (%d events)", err, len(evs))
	}
	return evs[0]
}

func decodeMap(t testing.TB, b []byte) map[string]any {
	t.Helper()
	v, rest, err := msgp.ReadIntfBytes(b)
	if err != nil || len(rest) != 0 {
		t.Fatalf("enriched record does not decode: %v (%d left)", err, len(rest))
	}
	return v.(map[string]any)
}

func jsonObject(t testing.TB, ev *record.Event) map[string]any {
	t.Helper()
	b, _ := record.AppendJSONMembers([]byte{'{'}, ev, "")
	b = append(b, '}')
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return m
}

func TestEnrichedMsgpackRecord(t *testing.T) {
	raw := v2(kv{"m", 1}, kv{"log", docLine, "stream", "stdout", "level", "old"})
	out := record.AppendMsgpack(nil, enrichOne(t, raw, config()))

	var e record.Entry
	if _, err := e.Decode(out); err != nil {
		t.Fatal(err)
	}
	if !e.Timestamp.Equal(time.Date(2025, 2, 27, 17, 19, 22, 156214484, time.UTC)) {
		t.Errorf("record time %v is not the line's", e.Timestamp)
	}
	if m := decodeMap(t, e.Meta); fmt.Sprint(m["m"]) != "1" {
		t.Errorf("metadata lost: %v", m)
	}
	got := decodeMap(t, e.Body)
	want := map[string]any{
		"log": docLine, "stream": "stdout",
		"service": "ctlive", "time": "2025-02-27T17:19:22.156214484Z", "function": "CT7PROTOCOL",
		"scopes": []any{"CT7PROTOCOL", "AGM"}, "tenant": "AGM", "event": "newContact",
		"message": `newContact response:{"chat":true,"cbn":true,"video":true,"cbl":true,"call":true}`,
		"payload": map[string]any{"response": map[string]any{"chat": true, "cbn": true, "video": true, "cbl": true, "call": true}},
		"level":   "info",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record\n got %v\nwant %v", got, want)
	}
}

func TestLayoutAndTime(t *testing.T) {
	raw := v1(kv{"log", docLine, "message", "mine"})
	t.Run("nest_under puts the fields in one map", func(t *testing.T) {
		got := decodeMap(t, record.AppendMsgpackBody(nil, enrichOne(t, raw, config(func(c *Config) { c.NestUnder = "ctlive" }))))
		nested, ok := got["ctlive"].(map[string]any)
		if !ok || nested["tenant"] != "AGM" || got["message"] != "mine" || got["tenant"] != nil || len(got) != 3 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("time_from_line off keeps the record's time", func(t *testing.T) {
		var e record.Entry
		ev := enrichOne(t, raw, config(func(c *Config) { c.TimeFromLine = false }))
		if _, err := e.Decode(record.AppendMsgpack(nil, ev)); err != nil || !e.Timestamp.Equal(recordTime) {
			t.Errorf("time %v, err %v", e.Timestamp, err)
		}
	})
	t.Run("an added field never replaces the line", func(t *testing.T) {
		line := "[socketIO] [AGM] newContact"
		ev := enrichOne(t, v1(kv{"message", line}), config(func(c *Config) { c.LogKey = "message" }))
		if got := decodeMap(t, record.AppendMsgpackBody(nil, ev)); got["message"] != line || got["function"] != "socketIO" {
			t.Errorf("got %v", got)
		}
	})
}

func TestRecordsThatAreNotCTLivePassUnchanged(t *testing.T) {
	tests := map[string][]byte{
		"not a CTLive line":   v2(kv{}, kv{"log", "GET / 200"}),
		"no log key":          v2(kv{}, kv{"msg", docLine}),
		"log is not a string": v1(kv{"log", 42}),
		"group marker":        flbhost.AppendGroupStart(nil, kv{"resource", "x"}.Map(), nil),
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			ev := enrichOne(t, raw, config())
			if ev.Shaped {
				t.Fatal("shaped")
			}
			if out := record.AppendMsgpack(nil, ev); !bytes.Equal(out, raw) {
				t.Errorf("changed:\n%x\n%x", out, raw)
			}
		})
	}
}

func TestBinaryLineIsParsed(t *testing.T) {
	raw := v1(kv{"log", []byte(docLine)})
	if ev := enrichOne(t, raw, config()); !ev.Shaped || string(ev.Fields.Tenant) != "AGM" {
		t.Fatal("a raw-bytes line was not parsed")
	}
}

func TestJSONRecord(t *testing.T) {
	raw := v1(kv{"log", docLine + " \x01\xff", "n", 1.5, "nested", map[string]any{"a": []any{1, "x", nil, true}}})
	got := jsonObject(t, enrichOne(t, raw, config()))
	if got["log"] != docLine+" \x01\ufffd" {
		t.Errorf("log %q: control characters and invalid UTF-8 must survive as valid JSON", got["log"])
	}
	if got["n"] != 1.5 || !reflect.DeepEqual(got["nested"], map[string]any{"a": []any{1.0, "x", nil, true}}) {
		t.Errorf("values: %v", got)
	}
	if got["tenant"] != "AGM" || got["payload"].(map[string]any)["response"].(map[string]any)["call"] != true {
		t.Errorf("fields: %v", got)
	}
}

func TestJSONLeavesOutTheSinksOwnKey(t *testing.T) {
	ev := enrichOne(t, v1(kv{"@timestamp", "x", "log", docLine}), config())
	b, _ := record.AppendJSONMembers([]byte(`{"@timestamp":"mine",`), ev, "@timestamp")
	var m map[string]any
	if err := json.Unmarshal(append(b, '}'), &m); err != nil || m["@timestamp"] != "mine" || bytes.Count(b, []byte("@timestamp")) != 1 {
		t.Fatalf("%s: %v", b, err)
	}
}

func TestTemplateSource(t *testing.T) {
	raw := v1(kv{"log", docLine, "kubernetes", map[string]any{"labels": map[string]any{"app": "ctlive"}}, "n", 7})
	ev := enrichOne(t, raw, config())
	tests := []struct{ tmpl, want string }{
		{"ctlive.$tenant.$event", "ctlive.AGM.newContact"},
		{"$payload['response']['chat']", "true"},
		{"$payload['response']", `{"chat":true,"cbn":true,"video":true,"cbl":true,"call":true}`},
		{"$payload['nope']", "unknown"},
		{"$scopes[1]", "AGM"},
		{"$kubernetes['labels']['app']", "ctlive"},
		{"$n", "7"},
		{"$contactID", "unknown"},
		{"$TAG[1]", "0"},
		{"ctlive-$tenant-%Y.%m.%d", "ctlive-AGM-2025.02.27"},
	}
	for _, tc := range tests {
		got := template.MustParse(tc.tmpl, template.Options{Strftime: true}).Append(nil, ev)
		if string(got) != tc.want {
			t.Errorf("%s = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
}

func TestDefaultTenant(t *testing.T) {
	def := config(func(c *Config) { c.DefaultTenant = "DEFAULT" })
	shaped := enrichOne(t, v1(kv{"log", "[socketIO] newContact"}), def)
	if got := decodeMap(t, record.AppendMsgpackBody(nil, shaped)); got["tenant"] != "DEFAULT" {
		t.Errorf("shaped record without tenant: %v", got)
	}
	plain := enrichOne(t, v1(kv{"log", "GET /"}), def)
	if string(plain.Tenant) != "DEFAULT" || plain.Shaped {
		t.Error("an unshaped record is routed by the default tenant but left unchanged")
	}
	if own := enrichOne(t, v1(kv{"log", docLine}), def); string(own.Tenant) != "AGM" {
		t.Error("the default replaced a real tenant")
	}
}

// One record has one tenant: routing, templates and every sink read the
// same ev.Tenant, compared exactly (contract, "Where IDs and the tenant may
// come from").
func TestRouting(t *testing.T) {
	tests := []struct {
		name   string
		c      func(*Config)
		line   string
		tenant string
		routed bool
	}{
		{"no lists: routed", nil, "[fn] [AGM] x", "AGM", true},
		{"allow-list takes its tenant", func(c *Config) { c.Tenants = []string{"AGM"} }, "[fn] [AGM] x", "AGM", true},
		{"allow-list refuses others", func(c *Config) { c.Tenants = []string{"AGM"} }, "[fn] [TENANT1] x", "TENANT1", false},
		{"allow-list refuses a record without tenant", func(c *Config) { c.Tenants = []string{"AGM"} }, "[fn] x", "", false},
		{"case matters: agm is not AGM", func(c *Config) { c.Tenants = []string{"AGM"} },
			"[fn] room CHAT_agm_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", "agm", false},
		{"deny-list refuses its tenant", func(c *Config) { c.ExcludeTenants = []string{"AGM"} }, "[fn] [AGM] x", "AGM", false},
		{"deny-list takes a record without tenant", func(c *Config) { c.ExcludeTenants = []string{"AGM"} }, "[fn] x", "", true},
		{"a contactID in a payload routes nothing", func(c *Config) { c.Tenants = []string{"TENANT1"} },
			`[socketIO] data:{"text":"CHAT_TENANT1_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"} room [` + cidA + `]`, "AGM", false},
		{"default tenant is routed like any", func(c *Config) { c.Tenants, c.DefaultTenant = []string{"OTHER"}, "OTHER" }, "[fn] x", "OTHER", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config()
			if tc.c != nil {
				tc.c(&c)
			}
			ev := enrichOne(t, v1(kv{"log", tc.line}), c)
			if string(ev.Tenant) != tc.tenant || ev.Routed != tc.routed {
				t.Errorf("tenant %q routed %v, want %q %v", ev.Tenant, ev.Routed, tc.tenant, tc.routed)
			}
			if tc.routed && ev.Shaped {
				tag := template.MustParse("ctlive.$tenant", template.Options{}).Append(nil, ev)
				if want := "ctlive." + tc.tenant; tc.tenant != "" && string(tag) != want {
					t.Errorf("tag %q, want %q: the template sees another tenant", tag, want)
				}
			}
		})
	}
}

func TestConfigurationRefused(t *testing.T) {
	tests := []struct {
		name string
		c    func(*Config)
		want string
	}{
		{"mask without key", func(c *Config) { c.Mask = []string{"userID"} }, "mask_key"},
		{"a short key", func(c *Config) { c.MaskKey = "short" }, "at least 16 bytes"},
		{"a key of spaces", func(c *Config) { c.MaskKey = strings.Repeat(" ", 20) }, "not only spaces"},
		{"a field that is not an identifier", func(c *Config) { c.Mask, c.MaskKey = []string{"tenant"}, "0123456789abcdef" }, "cannot be masked"},
		{"an empty tenant name", func(c *Config) { c.Tenants = []string{""} }, "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config()
			tc.c(&c)
			if _, err := New(c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}
