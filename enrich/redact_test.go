package enrich

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/redact"
	"github.com/tinylib/msgp/msgp"
)

// The credentials of the contract, one value of each kind. None of them
// may leave the plugin in clear by default.
const (
	planted  = "9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d" // a session ID
	jwt      = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqZG9lIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	bearer   = "tok_0a1b2c3d4e5f6a7b8c9d"
	ct7      = "c7t-5e6f7a8b9c0d1e2f"
	basic    = "dXNlcjpodW50ZXIy"
	password = "hunter2-Pa55"
)

var clearValues = []string{planted, session, jwt, bearer, ct7, basic, password}

// Every place of a record a credential can stand in.
var credentialPlaces = []struct {
	name  string
	body  kv
	extra string // a value that must also be gone (beside clearValues)
}{
	{"the line's body", kv{"log", "ctlive | 2025-02-27T17:19:20Z [HTTP] [AGM] GET /x Authorization: Bearer " + bearer + " session " + planted}, ""},
	{"the document's login line", kv{"log", "[socketIO] agentLogin ok, session ID " + session}, ""},
	{"a payload", kv{"log", `[CT7PROTOCOL] [AGM] newContact headers:{"authorization":"Basic ` + basic + `","ct7Token":"` + ct7 + `","sessionId":"` + planted + `"}`}, ""},
	{"an exception message", kv{"log", "[JWT] TypeError: invalid token " + jwt + " for password=" + password}, ""},
	{"a url", kv{"log", "[HTTP] [AGM] newContact url:https://server1/api?ctlivetoken=" + planted + "&password=" + password}, ""},
	{"a stack frame line", kv{"log", "[auth] Error: login failed\n    at login (auth.js:1:1) jwt " + jwt + "\n    at next (x.js:2:2)"}, ""},
	{"a line with ANSI colours", kv{"log", "\x1b[36mctlive  |\x1b[0m [HTTP] session \x1b[1m" + planted + "\x1b[0m ct7Token: " + ct7}, ""},
	{"a nested record key", kv{"log", "[HTTP] [AGM] request", "req", map[string]any{"headers": map[string]any{"authorization": "Bearer " + bearer, "cookie": "ctlivetoken=" + planted}}}, ""},
	{"another key, line not CTLive", kv{"log", "GET /login?password=" + password, "Authorization", "Basic " + basic, "jwt", jwt}, ""},
	{"keys that name a secret", kv{"log", "[x] y", "password", password, "ct7Token", ct7, "headers", map[string]any{"authorization": "Bearer " + bearer}}, ""},
	{"the same session after no context word", kv{"log", "[socketIO] session " + planted + " reconnect " + planted, "sid", planted}, ""},
	{"a binary line", kv{"log", []byte("[HTTP] ct7Token=" + ct7)}, ""},
	{"an array of texts", kv{"log", "[x] y", "list", []any{"a", "Authorization: Bearer " + bearer, []any{"password: " + password}}}, ""},
	{"a key that is itself a credential", kv{"log", "[x] y", "Authorization: Bearer " + bearer, 1}, ""},
	{"a HAR header object", kv{"log", `[HTTP] [AGM] har request:{"headers":[{"name":"Authorization","value":"Basic ` + basic + `"},{"name":"ctlivetoken","value":"` + planted + `"}]}`}, ""},
	{"tokens that end a sentence, then written bare", kv{"log", "[HTTP] [AGM] ctlivetoken:" + planted + ". again " + planted + ", Bearer " + bearer + "! and " + bearer + " ct7Token: " + ct7 + ". then " + ct7}, ""},
	{"a session after ctlivetoken and other punctuation, then bare", kv{"log", "[HTTP] [AGM] ctlivetoken=" + planted + "/ again " + planted + " ctlivetoken=" + planted + "?x=1 and " + planted}, ""},
	{"sessions outside the sessionID rule: an encoded redirect, a cookie", kv{"log", "[HTTP] [AGM] GET /login?next=%2Fchat%3Fctlivetoken%3D" + planted + " Cookie: connect.sid=" + session}, ""},
	{"keys that name a session another way", kv{"log", "[x] y", "connect.sid", planted, "sessionKey", session}, ""},
	{"plural session keys and connect-redis's", kv{"log", "[x] y", "sessions", []any{planted}, "sess", session}, ""},
	{"an express-session cookie, signed", kv{"log", "[HTTP] [AGM] Cookie: connect.sid=s%3A" + planted + ".Xk3sig9; sid=s:" + session + ".Zq1"}, ""},
	{"Node's rawHeaders", kv{"log", "[HTTP] [AGM] request rawHeaders: [ 'Host', 'server1', 'Authorization', 'Basic " + basic + "', 'ctlivetoken', '" + planted + "', 'ct7Token', '" + ct7 + "' ]"}, ""},
}

// outputs renders an event the ways sinks do: MessagePack (forward) and
// JSON (stdout, Elasticsearch, Loki), plus the line Loki sends raw.
func outputs(ev *record.Event) map[string][]byte {
	js, _ := record.AppendJSONMembers([]byte{'{'}, ev, "")
	return map[string][]byte{
		"msgpack": record.AppendMsgpack(nil, ev),
		"json":    append(js, '}'),
		"line":    ev.Line,
	}
}

func TestCredentialsNeverLeaveInClear(t *testing.T) {
	for _, tc := range credentialPlaces {
		t.Run(tc.name, func(t *testing.T) {
			ev := enrichOne(t, v2(kv{}, tc.body), config())
			for form, out := range outputs(ev) {
				for _, v := range clearValues {
					if bytes.Contains(out, []byte(v)) {
						t.Errorf("%s output holds %q in clear:\n%q", form, v, out)
					}
				}
			}
			if js := outputs(ev)["json"]; !json.Valid(js) {
				t.Errorf("JSON output is invalid: %s", js)
			}
			if _, _, err := msgp.ReadIntfBytes(record.AppendMsgpackBody(nil, ev)); err != nil {
				t.Errorf("MessagePack record does not decode: %v", err)
			}
		})
	}
}

// A session still correlates: the same digest on the login line and on the
// join line, in the field and in the line, and `ctlive-inspect hash` (the
// redact package) gives it to an engineer holding the clear value.
// A header written as a name/value object loses its credential, never a
// key: the payload stays the JSON it was.
func TestHeaderObjectsKeepTheirKeys(t *testing.T) {
	ev := enrichOne(t, v1(kv{"log", `[HTTP] [AGM] har request:{"headers":[{"name":"Authorization","value":"Basic ` + basic + `"}]}`}), config())
	want := `{"headers":[{"name":"Authorization","value":"Basic [redacted]"}]}`
	if len(ev.Fields.Payloads) != 1 || string(ev.Fields.Payloads[0].JSON) != want {
		t.Fatalf("payload %q, want %s", ev.Fields.Payloads, want)
	}
}

func TestSameSessionSameDigestEverywhere(t *testing.T) {
	digest := redact.NewDigester(nil).Token(session)
	login := enrichOne(t, v1(kv{"log", "[socketIO] agentLogin USER_jdoe@example.com session ID " + session}), config())
	join := enrichOne(t, v1(kv{"log", "[socketIO] joinContact room [" + cidA + "] sessionId=" + strings.ToUpper(session)}), config())
	for _, ev := range []*record.Event{login, join} {
		if got := string(ev.Fields.SessionID); got != digest {
			t.Errorf("sessionID %q, want %q", got, digest)
		}
		if !bytes.Contains(ev.Line, []byte(digest)) || !bytes.Contains(ev.Fields.Message, []byte(digest)) {
			t.Errorf("line %q or message %q lacks the digest %q", ev.Line, ev.Fields.Message, digest)
		}
	}
	if !strings.HasPrefix(digest, "sha256:") || len(digest) != len("sha256:")+16 {
		t.Errorf("digest form %q, want sha256: and 16 hex digits", digest)
	}
}

func TestKeyedDigestsWithMaskKey(t *testing.T) {
	c := config(func(c *Config) { c.MaskKey = "0123456789abcdef-key" })
	ev := enrichOne(t, v1(kv{"log", "[socketIO] session " + session}), c)
	want := redact.NewDigester([]byte(c.MaskKey)).Token(session)
	if got := string(ev.Fields.SessionID); got != want || !strings.HasPrefix(got, "hmac:") {
		t.Errorf("sessionID %q, want the keyed %q", got, want)
	}
}

func TestFieldsFollowTheRedactedLine(t *testing.T) {
	line := "ctlive | 2025-02-27T17:19:20Z [HTTP] [AGM] newContact url:https://s/x?ctlivetoken=" + planted +
		` headers:{"password":"` + password + `","n":1} MongoServerError: bad auth for jwt ` + jwt +
		"\n    at f (a.js:1:1) " + bearer
	ev := enrichOne(t, v1(kv{"log", line}), config())
	d := redact.NewDigester(nil)
	r := &ev.Fields
	checks := map[string]string{
		"url":       "https://s/x?ctlivetoken=" + d.Token(planted),
		"errorType": "MongoServerError",
		"error":     "bad auth for jwt " + d.Token(jwt),
		"function":  "HTTP",
		"tenant":    "AGM",
		"payload":   `{"password":"[redacted]","n":1}`,
		"stack":     "at f (a.js:1:1) " + bearer, // a bare token without context is not a credential
	}
	got := map[string]string{
		"url": string(r.URL), "errorType": string(r.ErrorType), "error": string(r.Error),
		"function": string(r.Function), "tenant": string(r.Tenant), "stack": string(bytes.Join(r.Stack, []byte("|"))),
	}
	if len(r.Payloads) == 1 {
		got["payload"] = string(r.Payloads[0].JSON)
	}
	for k, want := range checks {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	if !bytes.HasPrefix(ev.Fields.Message, []byte("newContact url:https://s/x?ctlivetoken=sha256:")) {
		t.Errorf("message %q", ev.Fields.Message)
	}
}

// A password written as a bare JSON number, or as an array, is replaced by
// the string "[redacted]": the payload stays valid JSON.
func TestPasswordsThatAreNotStringsKeepThePayloadValid(t *testing.T) {
	ev := enrichOne(t, v1(kv{"log", `[fn] [AGM] body:{"password":12345,"x":1,"pwd":["ab","cd"]} ok:{"y":2}`}), config())
	if len(ev.Fields.Payloads) != 2 || string(ev.Fields.Payloads[0].JSON) != `{"password":"[redacted]","x":1,"pwd":"[redacted]"}` {
		t.Fatalf("payloads %q", ev.Fields.Payloads)
	}
	js := outputs(ev)["json"]
	if bytes.Contains(js, []byte("12345")) || bytes.Contains(js, []byte(`"ab"`)) {
		t.Errorf("a password is still in the output: %s", js)
	}
}

func TestRedactOffKeepsValuesAsWritten(t *testing.T) {
	line := "[socketIO] agentLogin session ID " + session + " password=" + password
	raw := v1(kv{"log", line})
	ev := enrichOne(t, raw, config(func(c *Config) { c.Redact = false }))
	if string(ev.Line) != line || string(ev.Fields.SessionID) != session {
		t.Errorf("line %q session %q", ev.Line, ev.Fields.SessionID)
	}
	if s, _ := New(config(func(c *Config) { c.Redact = false })); s.Redacts() || !strings.Contains(s.Describe(), "redact=off") {
		t.Error("redact off is not reported")
	}
}

// With `mask userID`, an agent's login is nowhere in clear: not in the
// field, the line, the message, another key, nor as an e-mail address.
func TestMaskUserIDLeavesNoLogin(t *testing.T) {
	c := config(func(c *Config) { c.Mask, c.MaskKey = []string{"userID"}, "0123456789abcdef-key" })
	raw := v1(kv{
		"log", "[socketIO] agentLogin USER_jdoe@acd.example.com session " + session + " (jdoe@acd.example.com, cc ann@b.example.org)",
		"agent", "jdoe@acd.example.com",
	})
	ev := enrichOne(t, raw, c)
	keyed := redact.NewDigester([]byte(c.MaskKey))
	if got, want := string(ev.Fields.UserID), "USER_"+keyed.Token("jdoe@acd.example.com"); got != want {
		t.Errorf("userID %q, want %q", got, want)
	}
	for form, out := range outputs(ev) {
		for _, v := range []string{"jdoe", "ann@b.example.org", session} {
			if bytes.Contains(out, []byte(v)) {
				t.Errorf("%s holds %q: %s", form, v, out)
			}
		}
	}
	if !bytes.Contains(outputs(ev)["json"], []byte(keyed.Token("jdoe@acd.example.com"))) {
		t.Error("the login's HMAC is missing: it no longer correlates")
	}
}

func TestCustomerUserIDMasked(t *testing.T) {
	c := config(func(c *Config) { c.Mask, c.MaskKey = []string{"userID", "contactID"}, "0123456789abcdef-key" })
	ev := enrichOne(t, v1(kv{"log", "[socketIO] [AGM] message from USER_DEFAULT_9a0a411c-f9c7-4af7-9754-024bf157a3ef in " + cidA}), c)
	js := outputs(ev)["json"]
	for _, v := range []string{"9a0a411c", "abbba71e"} {
		if bytes.Contains(js, []byte(v)) {
			t.Errorf("JSON holds %q: %s", v, js)
		}
	}
	if string(ev.Tenant) != "AGM" {
		t.Errorf("masking changed the tenant: %q", ev.Tenant)
	}
}

// A value nested deeper than the walk goes is looked at as raw bytes, and
// replaced whole when it holds a credential.
func TestDeeplyNestedCredentialIsReplaced(t *testing.T) {
	var v any = "Authorization: Bearer " + bearer
	for range maxWalkDepth + 5 {
		v = []any{v}
	}
	ev := enrichOne(t, v1(kv{"log", "[x] y", "deep", v}), config())
	for form, out := range outputs(ev) {
		if bytes.Contains(out, []byte(bearer)) {
			t.Errorf("%s holds the token", form)
		}
	}
}

func TestRedactionIsCounted(t *testing.T) {
	s := MustNew(Defaults())
	var w Work
	ev := new(record.Event)
	var e record.Entry
	if _, err := e.Decode(v1(kv{"log", "[socketIO] session " + session + " jwt " + jwt})); err != nil {
		t.Fatal(err)
	}
	s.Enrich(ev, &e, "t", &w)
	if w.Redacted != 2 {
		t.Errorf("Redacted = %d, want 2", w.Redacted)
	}
}

// BenchmarkEnrich: one realistic record at a time through the stage, with
// redaction (the default) and without, so the difference is redaction's
// cost. Figures per record.
func BenchmarkEnrich(b *testing.B) {
	var chunk []byte
	recs := corpus.Generate(1, 1000)
	for _, r := range recs {
		chunk = append(chunk, v2(kv{}, kv{"log", r.Line, "stream", "stdout"})...)
	}
	entries := make([]record.Entry, 0, len(recs))
	for rest := chunk; len(rest) > 0; {
		var e record.Entry
		var err error
		if rest, err = e.Decode(rest); err != nil {
			b.Fatal(err)
		}
		entries = append(entries, e)
	}
	for _, redactOn := range []bool{true, false} {
		s := MustNew(config(func(c *Config) { c.Redact = redactOn }))
		b.Run(fmt.Sprintf("redact=%v", redactOn), func(b *testing.B) {
			var w Work
			var ev record.Event
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%len(entries) == 0 {
					w.Reset()
				}
				s.Enrich(&ev, &entries[i%len(entries)], "t", &w)
			}
		})
	}
}

// The tenant and the channel a record is routed by are the ones every sink
// shows when only masking replaced the text they came from (contract: one
// record has one tenant, and every sink sees the same one). Where a
// credential covers that text, they are part of it and show its
// replacement: never a piece of a password in clear, and a tenant read
// from inside a credential names no destination.
func TestTenantAndChannelUnderMaskingAndRedaction(t *testing.T) {
	masked := config(func(c *Config) { c.Mask, c.MaskKey = []string{"userID", "contactID"}, "0123456789abcdef-key" })
	tests := []struct {
		name, line      string
		c               Config
		tenant, channel string
	}{
		{"a masked contactID", "[socketIO] newContact room " + cidA, masked, "AGM", "CHAT"},
		{"a masked customer userID", "[socketIO] message from USER_TENANT1_9a0a411c-f9c7-4af7-9754-024bf157a3ef", masked, "TENANT1", ""},
		{"a masked contactID, again glued to words", "[socketIO] newContact " + cidA + " then " + cidA + "x and " + cidA + "9", masked, "AGM", "CHAT"},
		{"a password shaped like a contactID: no tenant", "[socketIO] newContact password=CHAT_S3cr3tP4ss_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c done", config(), "", redact.Redacted},
		{"a Basic credential shaped like a contactID, masked too", "[socketIO] newContact Authorization: Basic CHAT_S3cr3tP4ss_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", masked, "", redact.Redacted},
		{"a line past MaxSecrets, redacted whole, keeps the tenant it was routed by", "[CT7PROTOCOL] [AGM] newContact " + strings.Repeat("pwd=x ", 4100), config(), "AGM", ""},
		// helper-50: chat text of 4,097 `pwd=a` after the line's IDs moved
		// AGM's record to default_tenant's store and past exclude_tenants.
		{"past MaxSecrets, a contactID before every credential keeps its tenant", "[socketIO] [message] from client with room [" + cidA + "] type [TEXT] data:{\"text\":\"" + strings.Repeat("pwd=a", 4097) + "\"}", config(), "AGM", "CHAT"},
		{"a credential's first line counts once: 2,049 and a stack are not past MaxSecrets", "[socketIO] [message] room [" + cidA + "] data:{\"text\":\"" + strings.Repeat("pwd=a", 2049) + "\"}\n    at x (/app/x.js:1:1)", config(), "AGM", "CHAT"},
		// helper-50: a short ct7Token a customer typed was echoed inside the
		// line's contactID, and the tenant field showed its digest while the
		// record was routed to AGM.
		{"a token echoed inside the contactID moves neither tenant nor channel", "[socketIO] [message] room [" + cidA + "] data:{\"text\":\"ct7Token=CHAT_AGM_\"}", config(), "AGM", "CHAT"},
		{"nor does one covering the contactID's start", "[socketIO] [message] room [WHATSAPP_T1BANK_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c] data:{\"text\":\"ct7Token=WHATSAPP_T1\"}", config(), "T1BANK", "WHATSAPP"},
		{"past MaxSecrets, a contactID's tenant is not trusted", "[socketIO] newContact " + strings.Repeat("pwd=x ", 4100) + "password=CHAT_S3cr3tP4ss_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", config(), "", redact.Redacted},
		{"a tenant overlapping a JWT", "[socketIO] newContact CHAT_PFX_eyJhbGciOiJIUzI1NiJ9_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2ln", config(), "", "CHAT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := enrichOne(t, v1(kv{"log", tc.line}), tc.c)
			if string(ev.Fields.Tenant) != tc.tenant {
				t.Errorf("tenant field %q, want %q (routed by %q)", ev.Fields.Tenant, tc.tenant, ev.Tenant)
			}
			if bytes.Contains(ev.Tenant, []byte("S3cr3tP4ss")) {
				t.Errorf("routed by %q, a part of a credential", ev.Tenant)
			}
			if string(ev.Fields.Channel) != tc.channel {
				t.Errorf("channel %q, want %q", ev.Fields.Channel, tc.channel)
			}
			for form, out := range outputs(ev) {
				if bytes.Contains(out, []byte("S3cr3tP4ss")) || bytes.Contains(out, []byte("abbba71e")) && tc.c.Mask != nil {
					t.Errorf("%s holds what it must not: %.300s", form, out)
				}
			}
		})
	}
}

// A coloured line keeps its colours: only the credential's own text, and
// the escapes inside it, is replaced (contract: the line is kept as
// received apart from the replacements).
func TestRedactionKeepsTheEscapesAroundACredential(t *testing.T) {
	d := redact.NewDigester(nil).Token(planted)
	tests := []struct{ name, line, want string }{
		{"a reset after a session", "[socketIO] [AGM] session " + planted + "\x1b[0m tail",
			"[socketIO] [AGM] session " + d + "\x1b[0m tail"},
		{"a colour on a password", "[socketIO] password=\x1b[1mhunter2\x1b[0m next",
			"[socketIO] password=\x1b[1m" + redact.Redacted + "\x1b[0m next"},
		{"several escapes after it", "[socketIO] session \x1b[1m" + planted + "\x1b[0m\x1b[22m.",
			"[socketIO] session \x1b[1m" + d + "\x1b[0m\x1b[22m."},
		{"an escape inside it goes with it", "[socketIO] session 9d1c2b3a-4e5f-\x1b[1m4a6b-8c7d-0e1f2a3b4c5d\x1b[0m",
			"[socketIO] session " + d + "\x1b[0m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := enrichOne(t, v1(kv{"log", tc.line}), config())
			if string(ev.Line) != tc.want {
				t.Errorf("line %q\n want %q", ev.Line, tc.want)
			}
		})
	}
}

// A customer's user ID has one pseudonym wherever it stands, whatever
// follows it (the parser's userID: USER_TENANT_<uuid>).
func TestCustomerUserIDHasOnePseudonym(t *testing.T) {
	c := config(func(c *Config) { c.Mask, c.MaskKey = []string{"userID"}, "0123456789abcdef-key" })
	const u = "9a0a411c-f9c7-4af7-9754-024bf157a3ef"
	ev := enrichOne(t, v1(kv{"log", "[socketIO] message from USER_AGM_" + u + "-1 and USER_AGM_" + u + " done"}), c)
	want := "USER_" + redact.NewDigester([]byte(c.MaskKey)).Token("AGM_"+u)
	if string(ev.Fields.UserID) != want {
		t.Errorf("userID %q, want %q", ev.Fields.UserID, want)
	}
	if got := strings.Count(string(ev.Line), want); got != 2 {
		t.Errorf("%d places of %q in %q, want 2", got, want, ev.Line)
	}
}

// A UUID after `id` that redaction replaces as a session (named by another
// key of the record, or on a continuation line) is that session, not a
// message ID (contract: messageID "is not the sessionID"); a real one
// after it still is.
func TestAMessageIDThatIsASessionIsLeftOut(t *testing.T) {
	const msgID = "5c637aa3-2499-428b-9eb8-192114cb890f"
	cases := []struct {
		name string
		body kv
		want string
	}{
		{"named by another key", kv{"log", "[fn] id " + session, "sessionId", session}, ""},
		{"named on a continuation line", kv{"log", "[fn] id " + session + " x\nsession " + session}, ""},
		{"a real message ID beside it", kv{"log", "[fn] id " + msgID + " id " + session, "sessionId", session}, msgID},
		{"a real message ID after it", kv{"log", "[fn] user id [" + session + "] sent message id [" + msgID + "]", "sessionId", session}, msgID},
		{"a real message ID after it, the session on a continuation line", kv{"log", "[fn] user id " + session + " message id " + msgID + "\nsession " + session}, msgID},
		{"no session anywhere", kv{"log", "[fn] id " + session}, session},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := enrichOne(t, v1(tc.body), config())
			if got := string(ev.Fields.MessageID); got != tc.want {
				t.Errorf("messageID %q, want %q", got, tc.want)
			}
		})
	}
}

// One credential has one digest wherever it stands, whatever separators,
// brackets or punctuation stand around it (contract: "the same input gives
// the same digest everywhere"); the text around it is kept. From helper-49's
// blind audit, each confirmed in Fluent Bit 5.1.1.
func TestOneCredentialOneDigest(t *testing.T) {
	dg := redact.NewDigester(nil)
	s, tok, j := dg.Token(planted), dg.Token("Zk39xQ0pL7mN2vB8cR4t"), dg.Token(jwt)
	const shortJWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX3g" // its payload part in the 64-byte block where it starts
	tests := []struct{ name, line, want, sessionID string }{
		{"ctlivetoken and a bracket", "[socketIO] [AGM] joined with ctlivetoken: [" + planted + "] room",
			"[socketIO] [AGM] joined with ctlivetoken: [" + s + "] room", s},
		{"ctlivetoken and two separators", "[socketIO] [AGM] ctlivetoken:=" + planted + " then session " + planted,
			"[socketIO] [AGM] ctlivetoken:=" + s + " then session " + s, s},
		{"ct7Token in brackets and after two separators", "[HTTP] [AGM] ct7Token: [Zk39xQ0pL7mN2vB8cR4t] and ct7Token:=Zk39xQ0pL7mN2vB8cR4t",
			"[HTTP] [AGM] ct7Token: [" + tok + "] and ct7Token:=" + tok, ""},
		{"tokens in JSON arrays stay arrays", `[HTTP] [AGM] headers:{"ctlivetoken":["` + planted + `"],"ct7Token":["Zk39xQ0pL7mN2vB8cR4t"]}`,
			`[HTTP] [AGM] headers:{"ctlivetoken":["` + s + `"],"ct7Token":["` + tok + `"]}`, ""},
		{"a JWT ending a sentence", "[JWT] [AGM] rejected token " + jwt + ". Again " + jwt,
			"[JWT] [AGM] rejected token " + j + ". Again " + j, ""},
		{"a JWT before a JSON escape", `[JWT] [AGM] body:{"q":"token=` + jwt + `\n"}`,
			`[JWT] [AGM] body:{"q":"token=` + j + `\n"}`, ""},
		// helper-59: a token in brackets with and without a label
		{"ct7Token in parentheses or angle brackets", "[HTTP] [AGM] ct7Token=(Zk39xQ0pL7mN2vB8cR4t) ct7Token=<Zk39xQ0pL7mN2vB8cR4t>. ct7Token: (Zk39xQ0pL7mN2vB8cR4t)",
			"[HTTP] [AGM] ct7Token=(" + tok + ") ct7Token=<" + tok + ">. ct7Token: (" + tok + ")", ""},
		{"a JWT after a percent-escape", "[HTTP] [AGM] GET /cb?next=%2Fx%3Fjwt%3D" + jwt + " 302",
			"[HTTP] [AGM] GET /cb?next=%2Fx%3Fjwt%3D" + j + " 302", ""},
		{"a JWT, then the same after a percent-escape ending a sentence", "[x] [AGM] a " + shortJWT + " b %22" + shortJWT + ".",
			"[x] [AGM] a " + dg.Token(shortJWT) + " b %22" + dg.Token(shortJWT) + ".", ""},
		{"a short JWT after a percent-escape ending a sentence", "[x] [AGM] GET /a?next=%2Fcb%3Fjwt%3D" + shortJWT + ". done",
			"[x] [AGM] GET /a?next=%2Fcb%3Fjwt%3D" + dg.Token(shortJWT) + ". done", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := enrichOne(t, v1(kv{"log", tc.line}), config())
			if string(ev.Line) != tc.want {
				t.Errorf("line %q\n want %q", ev.Line, tc.want)
			}
			if string(ev.Fields.SessionID) != tc.sessionID {
				t.Errorf("sessionID %q, want %q", ev.Fields.SessionID, tc.sessionID)
			}
		})
	}
}

// helper-51's review of the fixes above: a credential's copy inside what
// the parser reads as an ID, a ctlivetoken value that holds more than its
// UUID, JWTs glued together, and a tenant inside a credential only the
// plugin's own readings find. None leaves in clear, and no destination is
// named after a credential.
func TestCredentialsAroundIDsAndTenants(t *testing.T) {
	const j2 = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.c2Vjb25kU2lnbmF0dXJlUGFydA"
	tests := []struct {
		name, line string
		clear      []string // what no output may hold
		tenant     string
	}{
		{"a session copy glued to an agent's login", "[socketIO] room USER_jdoe@acd.example.com-" + planted + " joined, session " + planted,
			[]string{planted}, ""},
		{"an encoded query an agent-like ID runs into", "[HTTP] GET /login?next=%2Fchat%3Fmsg%3D-USER_x%26ctlivetoken%3D" + planted + " 302 ctlivetoken: " + planted,
			[]string{planted}, ""},
		{"a session as a contactID-shaped key's UUID", "[REDIS] Set [SESSION_AGM_" + planted + "] for ctlivetoken " + planted,
			[]string{planted}, "AGM"},
		{"a ctlivetoken value with more than its UUID", "[HTTP] GET /api?ctlivetoken=" + planted + ".Zk9XqT2LmW8pR4vNs7Yb3 200",
			[]string{planted, "Zk9XqT2LmW8pR4vNs7Yb3"}, ""},
		{"two JWTs glued by a dash", "[HTTP] pair " + jwt + "-" + j2 + " done",
			[]string{"eyJzdWIiOiIyIn0", "c2Vjb25kU2lnbmF0dXJlUGFydA", "dozjgNryP4J3jVmNHl0w5N"}, ""},
		{"an unsigned JWT then a signed one", "[HTTP] pair eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0." + j2 + " done",
			[]string{"eyJzdWIiOiIyIn0", "c2Vjb25kU2lnbmF0dXJlUGFydA"}, ""},
		{"a tenant inside a password an escape hides from the parser", "[socketIO] login \x1b[1pwd=HUNTER2_S3cr3t_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c ok",
			[]string{"S3cr3t", "HUNTER2"}, ""},
		// helper-52: a reading of the line that overflows on its own
		// (4,096 credentials, one less than the parser's cut, or spelled
		// so only the escape reading sees them) replaced the line whole,
		// and that moved the tenant.
		{"4,096 credentials and an escape", "[socketIO] [message] room [" + cidA + "] text " + strings.Repeat("pwd=a ", 4096) + `\n`,
			[]string{"pwd=a"}, "AGM"},
		{"4,096 credentials only the escape reading sees", "[socketIO] [message] room [" + cidA + "] text " + strings.Repeat(`p\u0077d=x `, 4096),
			[]string{`p\u0077d=x`}, "AGM"},
		{"a bracketed token with more glued after it", "[HTTP] GET /x?ct7Token=[Zk39xQ0pL7mN2vB8cR4t].Zk39xQ0pL7mN2vB8cR4u 200 ctlivetoken: [" + planted + "]Zk39xQ0pL7mN2vB8cR4v",
			[]string{"Zk39xQ0pL7mN2vB8cR4t", "Zk39xQ0pL7mN2vB8cR4u", "Zk39xQ0pL7mN2vB8cR4v", planted}, ""},
		{"a JWT after a bare header", "[JWT] Validating eyJhbGciOiJub25lIn0." + jwt + " done",
			[]string{"dozjgNryP4J3jVmNHl0w5N", "eyJzdWIiOiJqZG9lIn0"}, ""},
		{"values in parentheses or angle brackets", "[socketIO] login password=(hunter2) ct7Token=(Zk39xQ0pL7mN2vB8cR4t) token=<Zk39xQ0pL7mN2vB8cR4u>",
			[]string{"hunter2", "Zk39xQ0pL7mN2vB8cR4t", "Zk39xQ0pL7mN2vB8cR4u"}, ""},
		// helper-53: such a value left open ran past its JSON string and
		// took the contactID glued after the payload, and 4,097 of them
		// in a chat before the contactID moved its tenant.
		{"a value left open ends with its JSON string", `[socketIO] [message] data:{"text":"password=(abc"}room[` + cidA + `] type [TEXT]`,
			[]string{"abc"}, "AGM"},
		{"an angle bracket left open too", `[socketIO] [message] data:{"text":"token=<abc"},[` + cidA + `] type [TEXT]`,
			[]string{"abc"}, "AGM"},
		{"past MaxSecrets inside a payload before the contactID", `[socketIO] [message] data:{"text":"` + strings.Repeat("pwd=a ", 4097) + `"} room [` + cidA + `] type [TEXT]`,
			[]string{"pwd=a"}, "AGM"},
		{"Bearer and Basic credentials in brackets and quotes", `[HTTP] GET /x Authorization: Bearer (Zk39xQ0pL7mN2vB8cR4t) ok Authorization: Basic [dXNlcjpodW50ZXIy] ok Authorization: Bearer "Zk39xQ0pL7mN2vB8cR4u" ok Authorization=(Basic dXNlcjpodW50ZXIz)`,
			[]string{"Zk39xQ0pL7mN2vB8cR4t", "dXNlcjpodW50ZXIy", "Zk39xQ0pL7mN2vB8cR4u", "dXNlcjpodW50ZXIz"}, ""},
		// helper-54: the closing bracket does not end such a value, a
		// JavaScript literal's quote does, and an ID in brackets after
		// the word authorization or bearer stays an ID.
		{"a password in parentheses and more", `[HTTP] [AGM] login password=(Pa55)w0rdTail done password=<adm>1nSecretTail data:{"text":"password=(ab)SECRETTAIL"}`,
			[]string{"Pa55", "w0rdTail", "adm", "1nSecretTail", "SECRETTAIL"}, "AGM"},
		{"a value left open in single quotes", `[socketIO] [message] data:{'text':'password=(abc'}room[` + cidA + `] type [TEXT]`,
			[]string{"abc"}, "AGM"},
		{"in a JavaScript array", `[socketIO] [message] data:['hi','token=<abc']room[` + cidA + `] type [TEXT]`,
			[]string{"abc"}, "AGM"},
		{"in backticks", "[socketIO] [message] data:{text:`password=(abc`},[" + cidA + "] type [TEXT]",
			[]string{"abc"}, "AGM"},
		{"a contactID in brackets after authorization", "[CTI] newContact authorization [" + cidA + "] granted", nil, "AGM"},
		{"a contactID in parentheses after bearer", "[CTI] newContact handed to bearer (" + cidA + ")", nil, "AGM"},
		// helper-55: a credential that starts inside a payload and runs on
		// past its end (its end guessed) took the contactID glued after the
		// payload; found by the parser (at 4f0aede already) or only by the
		// escape reading. And a contactID in brackets after a labelled
		// authorization is a contact, not a credential.
		{"a quoted value opening at the payload string's end", `[socketIO] [message] data:{"text":"my pwd="}room[` + cidA + `] said "hi"`, nil, "AGM"},
		{"a bracketed value left open in a payload", `[socketIO] [message] data:{"text":"password:[x"}room[` + cidA + `] ok`, nil, "AGM"},
		{"a single-quoted value in a payload", `[socketIO] [message] data:{"text":"pwd='x"}room[` + cidA + `] it's`, nil, "AGM"},
		{"one only the escape reading sees", `[socketIO] [message] data:{"text":"pwd\u001b[0m='x"}room[` + cidA + `] it's`, nil, "AGM"},
		{"a contactID in brackets after a labelled authorization", "[socketIO] [joinContact] authorization: [" + cidA + "] granted to agent", nil, "AGM"},
		{"and after a Bearer", "[socketIO] [joinContact] Authorization: Bearer (" + cidA + ") ok", nil, "AGM"},
		// helper-56: a token that only starts like an ID (capitals and
		// '_') is a token all the same, and one with more after the UUID.
		{"a token shaped like a vendor key in brackets", `[HTTP] GET /api Authorization: Bearer (SK_9f8e7d6c5b4a39281716abcdef) 200 Authorization: Bearer "SK_9f8e7d6c5b4a39281716abcdeg" 200 authorization: [SK_9f8e7d6c5b4a39281716abcdeh] 200`,
			[]string{"9f8e7d6c5b4a39281716abcdef", "9f8e7d6c5b4a39281716abcdeg", "9f8e7d6c5b4a39281716abcdeh"}, ""},
		{"an ID with secret text glued after it", `[HTTP] authorization: (CHAT_EVIL_abbba71e-67b2-4f9c-ab68-dcf3f95bd32czzSECRETPWDzz) ok`,
			[]string{"SECRETPWD"}, ""},
		// helper-57: only exactly an ID between opener and closer is one.
		{"tokens that only start like IDs", `[HTTP] Authorization: Bearer (Sk_live_9f8e7d6c5b4a_3f2a9c1e-8b4d-4e6f-9a1b-2c3d4e5f6a7b) Authorization: Bearer (USER_s3cr3tT0kenABCDEFxyz123456) Authorization: Bearer (CHAT_AGM_3f2a9c1e-8b4d-4e6f-9a1b-2c3d4e5f6a7b:supersecretpass) Authorization: Bearer (CHAT_AGM_3f2a9c1e-8b4d-4e6f-9a1b-2c3d4e5f6a7b_SECRETxyz987654)`,
			[]string{"9f8e7d6c5b4a", "s3cr3tT0ken", "supersecretpass", "SECRETxyz987654"}, ""},
		{"an ID with an empty tenant is none, as the parser reads it", `[HTTP] Authorization: Bearer (X__3f2a9c1e-8b4d-4e6f-9a1b-2c3d4e5f6a7b) ok`,
			[]string{"3f2a9c1e-8b4d-4e6f-9a1b-2c3d4e5f6a7b"}, ""},
		{"past MaxSecrets inside a payload of a multi-line record", `[newContact] data:{"text":"` + strings.Repeat("pwd=a ", 4097) + `"} room ` + cidA + "\n    at f (a.js:1:1)",
			[]string{"pwd=a"}, "AGM"},
		// helper-59 (attacker review of 786695b): all as at 4f0aede.
		{"a JWT glued after a URL's percent-escape", `[socketIO] [` + cidA + `] url:https://s/cb?next=%2Fx%3Fjwt%3D` + jwt + ` text:{"q":"Bearer%20` + jwt + ` and %2522` + jwt + `"}`,
			[]string{"dozjgNryP4J3jVmNHl0w5N", "eyJzdWIiOiJqZG9lIn0"}, "AGM"},
		{"credentials in braces after a scheme or a label", `[socketIO] [` + cidA + `] Authorization: Bearer {Zk39xQ0pL7mN2vB8cR4t} Authorization: Basic {aHVudGVyMg==} Authorization: {Zk39xQ0pL7mN2vB8cR4u} h:{"Authorization":"Basic {dXNlcjpodW50ZXIy}"}`,
			[]string{"Zk39xQ0pL7mN2vB8cR4t", "aHVudGVyMg", "Zk39xQ0pL7mN2vB8cR4u", "dXNlcjpodW50ZXIy"}, "AGM"},
		// helper-61 (of the fixes above): the server's ID in brackets after
		// ct7Token, or glued after a closer, is the record's ID.
		{"an ID alone in brackets after ct7Token", "[socketIO] ct7Token (" + cidA + ") joined", nil, "AGM"},
		{"an ID glued after a token's closer", "[socketIO] Authorization: Bearer (abc)" + cidA + " joined", []string{"(abc)"}, "AGM"},
		{"an ID glued after a bracketed token", "[socketIO] ct7Token (x)[" + cidA + "] joined", nil, "AGM"},
		// helper-62 (of 1d67504): a labelled token's brackets holding more
		// than the token are replaced whole, as at b954909; a JWT after a
		// percent-escape encoded twice.
		{"a labelled token's brackets holding more than one token", "[socketIO] [" + cidA + "] ct7Token=(abc,Zk39xQ0pL7mN2vB8cR4t) ct7Token=(s3cr3t)Zk39xQ0pL7mN2vB8cR4u ct7Token=<s3cr3t>Zk39xQ0pL7mN2vB8cR4v ct7Token=(CHAT_AGM_5c637aa3-2499-428b-9eb8-192114cb890f)Zk39xQ0pL7mN2vB8cR4w",
			[]string{"Zk39xQ0pL7mN2vB8cR4t", "Zk39xQ0pL7mN2vB8cR4u", "Zk39xQ0pL7mN2vB8cR4v", "Zk39xQ0pL7mN2vB8cR4w", "s3cr3t"}, "AGM"},
		{"a labelled token's brackets with a delimiter and more glued after them", "[socketIO] [" + cidA + "] ct7Token=<abc>)Zk39xQ0pL7mN2vB8cR4t x ct7Token=(abc)'Zk39xQ0pL7mN2vB8cR4u x api_key=(SK_9f8e7d6c5b4a39281706),Zk39xQ0pL7mN2vB8cR4v x",
			[]string{"Zk39xQ0pL7mN2vB8cR4t", "Zk39xQ0pL7mN2vB8cR4u", "Zk39xQ0pL7mN2vB8cR4v"}, "AGM"},
		// helper-65 (of 2f52fd3): a backtick separated every label from its
		// value, and an empty pair or an open one let the value out.
		{"values after backticks", "[socketIO] [" + cidA + "] password=``hunter2pass x password=```Hunter3pass``` x api_key: ``SK_9f8e7d6c5b4a39281706 sent Authorization: `Hunter4pass x ct7Token:`abc`Hunter5pass x",
			[]string{"hunter2pass", "Hunter3pass", "9f8e7d6c5b4a39281706", "Hunter4pass", "Hunter5pass"}, "AGM"},
		{"a backtick before an ID after a label", "[socketIO] Authorization: ` for " + cidA, nil, "AGM"},
		{"a JWT after a percent-escape encoded twice", "[socketIO] [" + cidA + "] GET /cb?t=%253D" + jwt + " 302",
			[]string{"dozjgNryP4J3jVmNHl0w5N", "eyJzdWIiOiJqZG9lIn0"}, "AGM"},
		{"a session in backticks", "[socketIO] [" + cidA + "] session `" + planted + "` and session=`" + planted + "`",
			[]string{planted}, "AGM"},
		{"a session in backticks behind a JSON escape", "[socketIO] [" + cidA + "] session `\\n" + planted + "`",
			[]string{planted}, "AGM"},
		// Stop 21: unlabelled, a token in parentheses or angle brackets
		// was left in clear where one in square brackets was digested.
		{"a token in parentheses after ct7Token or Bearer", "[socketIO] [" + cidA + "] ct7Token (Zk39xQ0pL7mN2vB8cR4t) ct7Token <Zk39xQ0pL7mN2vB8cR4u>. Bearer (Zk39xQ0pL7mN2vB8cR4v) ct7Token Bearer (Zk39xQ0pL7mN2vB8cR4w) ct7Token\t(s3cr3t)",
			[]string{"Zk39xQ0pL7mN2vB8cR4t", "Zk39xQ0pL7mN2vB8cR4u", "Zk39xQ0pL7mN2vB8cR4v", "Zk39xQ0pL7mN2vB8cR4w", "s3cr3t"}, "AGM"},
		{"a token in quotes or braces after a bare Bearer, in braces after ct7Token", "[socketIO] [" + cidA + "] Bearer \"Zk39xQ0pL7mN2vB8cR5a\" Bearer 'Zk39xQ0pL7mN2vB8cR5b' Bearer [Zk39xQ0pL7mN2vB8cR5c] Bearer {Zk39xQ0pL7mN2vB8cR5d} ct7Token {s3cr3t} ctlivetoken {Zk39xQ0pL7mN2vB8cR5e}",
			[]string{"Zk39xQ0pL7mN2vB8cR5a", "Zk39xQ0pL7mN2vB8cR5b", "Zk39xQ0pL7mN2vB8cR5c", "Zk39xQ0pL7mN2vB8cR5d", "s3cr3t", "Zk39xQ0pL7mN2vB8cR5e"}, "AGM"},
		// helper-68 (of 483ecc8): a sentence's punctuation after the closer.
		{"a token in brackets before a comma or a semicolon", "[socketIO] [" + cidA + "] ct7Token (Zk39xQ0pL7mN2vB8cR6a), next ct7Token (s3cr3t); Bearer <Zk39xQ0pL7mN2vB8cR6b>: ok",
			[]string{"Zk39xQ0pL7mN2vB8cR6a", "s3cr3t", "Zk39xQ0pL7mN2vB8cR6b"}, "AGM"},
		// helper-69 (of d56c834): the token without its punctuation, so its
		// bare copies get the same digest.
		// helper-73 (of bda9a15): a label or a JSON escape inside the
		// brackets took the value from the rules that give it its own digest
		// and copies.
		{"a JSON escape inside the brackets after a label a view reads", `[socketIO] [` + cidA + `] Auth\u001b[33morization: Bearer (Zk39xQ0pL7mN2vB8cR7a\t) copy Zk39xQ0pL7mN2vB8cR7a`,
			[]string{"Zk39xQ0pL7mN2vB8cR7a"}, "AGM"},
		{"many labelled tokens in brackets, and a copy of the first", "[socketIO] [" + cidA + "] " + labelledTokensInBrackets(40) + "copies Tk00Q0pL7mN2vB8cR4",
			[]string{"Tk00Q0pL7mN2vB8cR4"}, "AGM"},
		{"a token in brackets ending a sentence, and its bare copy", "[socketIO] [" + cidA + "] ct7Token Bearer \"s3cr3tValA!\" echo s3cr3tValA ct7Token (s3cr3tValB?) echo s3cr3tValB",
			[]string{"s3cr3tValA", "s3cr3tValB"}, "AGM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := enrichOne(t, v1(kv{"log", tc.line}), config())
			for form, out := range outputs(ev) {
				for _, c := range tc.clear {
					if bytes.Contains(out, []byte(c)) {
						t.Errorf("%s holds %q: %.400s", form, c, out)
					}
				}
			}
			if string(ev.Tenant) != tc.tenant || string(ev.Fields.Tenant) != tc.tenant {
				t.Errorf("routed by %q, tenant field %q, want %q", ev.Tenant, ev.Fields.Tenant, tc.tenant)
			}
		})
	}
}

// labelledTokensInBrackets is n brackets after Bearer, each holding a
// labelled token of its own (Tk00…, Tk01…).
func labelledTokensInBrackets(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Bearer (ct7Token=Tk%02dQ0pL7mN2vB8cR4) ", i)
	}
	return b.String()
}

// helper-63 (of c12db5f): a CTLive ID alone in brackets after
// Authorization or ct7Token is the record's ID wherever the plugin reads
// the line (its decoded view when it holds an escape, its stack, a
// customer's payload): a digest there replaced its every copy, the
// contactID field and the tenant with it.
func TestAnIDInBracketsStaysTheContactID(t *testing.T) {
	for _, line := range []string{
		"[fn] Authorization: [" + cidA + "] x\\",
		`[socketIO] authorization: [` + cidA + `] text:"a\"b"`,
		"[socketIO] \x1b[33mwarn\x1b[39m authorization: [" + cidA + "] ok",
		"[socketIO] ct7Token (" + cidA + ") C:\\x",
		"[socketIO] TypeError: x authorization: [" + cidA + "]\n    at f (a.js:1:1)",
		"[socketIO] room " + cidA + " ct7Token=(" + cidA + ")",
		`[socketIO] message from ` + cidA + ` data:{"text":"ct7Token (` + cidA + `) authorization: [` + cidA + `]"}`,
		// helper-64 (of 44dbab3): brackets that do not hold the ID alone
		// and closed leave it as b954909 did.
		"[socketIO] ct7Token (" + cidA,
		"[socketIO] ct7Token (" + cidA + ">",
		"[socketIO] ct7Token (" + cidA + ", x) for " + cidA,
		"[socketIO] ct7Token (\x1b[1m" + cidA + "\x1b[0m)",
		"[socketIO] Authorization: {" + cidA,
		"[socketIO] Authorization: Bearer {" + cidA + ", x}",
		"[REDIS] Authorization: Basic {" + cidA + ":x)x",
		// Stop 21: a token in brackets after ct7Token or Bearer is digested
		// only when it holds no ID.
		"[socketIO] bearer <" + cidA + ">",
		"[socketIO] ct7Token Bearer (" + cidA + "x)",
		"[socketIO] ct7Token (" + cidA + ").",
		"[socketIO] Bearer [" + cidA + "] joined",
		"[socketIO] Bearer \"" + cidA + "\" joined",
		"[socketIO] ct7Token {" + cidA + "} joined",
		// helper-68: a colour escape inside the ID, which one reading
		// breaks (`CHAT_AGM_m<uuid>`), and the parser's reads whole.
		"[REDIS] ct7Token (CHAT_AGM_\x1b[1m" + cidA[len("CHAT_AGM_"):] + ")",
		"[REDIS] Bearer <" + cidA[:len("CHAT_AGM_abbba71e-")] + "\x1b[1m" + cidA[len("CHAT_AGM_abbba71e-"):] + ">",
		"[REDIS] ct7Token (CH\x1b[1m" + cidA[2:] + ")",
		// helper-70: two escapes, each leaving its final letter.
		"[REDIS] ct7Token (CHAT_\x1b[1mAGM_\x1b[1m" + cidA[len("CHAT_AGM_"):] + ")",
		"[REDIS] Bearer {CHAT\x1b[1m_\x1b[1mAGM\x1b[1m_\x1b[1m" + cidA[len("CHAT_AGM_"):] + "}",
	} {
		ev := enrichOne(t, v1(kv{"log", line}), config())
		if string(ev.Fields.ContactID) != cidA || string(ev.Tenant) != "AGM" {
			t.Errorf("%q: contactID %q, tenant %q", line, ev.Fields.ContactID, ev.Tenant)
		}
	}
}

// helper-71: a coloured stack frame (each escape's letter kept in one
// reading breaks `at` and the location's line and column) and a stack
// written in a JSON string keep their locations too.
func TestColouredAndEscapedStackFramesKeepTheirLocations(t *testing.T) {
	for _, line := range []string{
		"[REDIS] [" + cidA + "] TypeError: boom\n    \x1b[90mat\x1b[39m Bearer (\x1b[36m/app/node_modules/passport-http-bearer/lib/strategy.js\x1b[39m)\n    \x1b[90mat ct7Token (\x1b[36m/app/src/auth.js:10:5\x1b[39m)",
		"[REDIS] [" + cidA + "] TypeError: boom\n    \x1b[2mat ct7Token (native\x1b[1m)",
		`[REDIS] [` + cidA + `] failed data:{"stack":"TypeError: boom\n\tat ct7Token (native)\n    at Bearer (/app/src/x.js)"}`,
		// helper-72: an escape touching `at`, `new` or `async`.
		"[REDIS] [" + cidA + "] TypeError: boom\n    \x1b[90mat ct7Token (native)\n    at\x1b[39m Bearer (/app/node_modules/passport-http-bearer/lib/strategy.js)\n    \x1b[2mat new Bearer (/app/x.mjs:3)",
		`[REDIS] [` + cidA + `] failed data:{"stack":"TypeError: boom\n    \u001b[90mat ct7Token (native)\n    at async\u001b[0m Bearer (node:internal/process/task_queues)"}`,
	} {
		ev := enrichOne(t, v1(kv{"log", line}), config())
		if bytes.Contains(ev.Line, []byte("sha256:")) {
			t.Errorf("%q: line %q", line, ev.Line)
		}
	}
}

// helper-70: punctuation alone in brackets after ct7Token is no token; a
// digest of it replaced its every copy (`x........`).
func TestPunctuationInBracketsIsNoToken(t *testing.T) {
	line := "[socketIO] [" + cidA + "] ct7Token (!!) ct7Token (........) x........ ct7Token <.>"
	ev := enrichOne(t, v1(kv{"log", line}), config())
	if !bytes.Equal(ev.Line, []byte(line)) {
		t.Errorf("line %q, want it as received", ev.Line)
	}
}

// A stack frame of a function named Bearer or ct7Token: its location in
// parentheses is no token (483ecc8 digested it).
func TestAStackFrameNamedLikeACredentialKeepsItsLocation(t *testing.T) {
	frames := []string{
		"at Bearer (/app/node_modules/passport-http-bearer/lib/strategy.js:10:5)",
		"at ct7Token (/app/src/auth.js:10:5)",
		"at ct7Token (node:internal/process/task_queues:95)",
		// helper-69: locations without a line and a column.
		"at ct7Token (native)",
		"at new Bearer (/app/node_modules/passport-http-bearer/lib/strategy.js)",
		"at async Bearer (/app/node_modules/passport-http-bearer/lib/index.js)",
	}
	line := "[REDIS] [" + cidA + "] TypeError: x is undefined\n    " + strings.Join(frames, "\n    ")
	ev := enrichOne(t, v1(kv{"log", line}), config())
	if got := fmt.Sprintf("%q", ev.Fields.Stack); got != fmt.Sprintf("%q", frames) {
		t.Errorf("stack %s, want %q", got, frames)
	}
}

// helper-54: past MaxSecrets, a credential found at a word start inside
// one payload is met after the next payload's colon when both stand in one
// 64-byte block; it is inside a payload all the same, and moves no tenant.
func TestOverflowInsideAnEarlierPayloadMovesNoTenant(t *testing.T) {
	for pad := 0; pad < 64; pad++ {
		line := `[newContact] data:{"text":"` + strings.TrimSpace(strings.Repeat("pwd=a ", 4097)) + " " + strings.Repeat("z", pad) +
			` bearer abcdefghij0123456789"}y:{"a":1} room ` + cidA
		ev := enrichOne(t, v1(kv{"log", line}), config())
		if string(ev.Tenant) != "AGM" {
			t.Fatalf("padding %d: routed by %q, want AGM", pad, ev.Tenant)
		}
	}
}
