package enrich

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/ctlive/ctlive-fluent-bit/parser"
	"regexp"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/record"
)

// What an attacker review got through in clear, each a case that must now
// hold: escapes in front of or inside a credential, colours, decoded
// payloads, metadata and group markers, values that are not strings, tabs,
// other spellings of a session.
func TestCredentialsBehindEscapesAndOtherSpellings(t *testing.T) {
	const uuid = "ab4e7aff-8627-434a-a2ef-7e200363197e"
	tests := []struct {
		name  string
		entry []byte
		clear []string // none may be in any output
	}{
		{"a JSON \\n before session", v1(kv{"log", `[AGM] login msg:"hello\nsession ` + uuid + `"`}), []string{uuid}},
		{"JSON \\r\\n before Authorization", v1(kv{"log", `[AGM] req hdrs:"Host: h\r\nAuthorization: Basic dXNlcjpwYXNz"`}), []string{"dXNlcjpwYXNz"}},
		{"a JSON \\n before a JWT in a payload", v1(kv{"log", `[AGM] x data:{"text":"hi\n` + jwt + `"}`}), []string{jwt}},
		{"a \\t before session", v1(kv{"log", `[AGM] m:"a\tsession ` + uuid + `"`}), []string{uuid}},
		{"an ANSI colour in another value", v1(kv{"log", "[AGM] login ok", "msg", "\x1b[1msession " + uuid + "\x1b[0m"}), []string{uuid}},
		{"an ANSI colour before a Basic value", v1(kv{"log", "[AGM] login \x1b[33mAuthorization: Basic dXNlcjpwYXNz\x1b[0m"}), []string{"dXNlcjpwYXNz"}},
		{"an ANSI colour before a password", v1(kv{"log", "[AGM] login password=\x1b[1mHunter2Pw"}), []string{"Hunter2Pw"}},
		{"an ANSI colour inside a session", v1(kv{"log", "[AGM] session ab4e7aff-8627-\x1b[0m434a-a2ef-7e200363197e"}), []string{"ab4e7aff-8627-", "434a-a2ef-7e200363197e"}},
		{"an escape that breaks a pwd label, the value running over another", v1(kv{"log", "ctlive | 2025-02-27T17:19:20.1Z [HTTP] [AGM] x \x1b[ \"pwd\":\"Hunter2Pw99\x1b[0m\""}), []string{"Hunter2Pw99"}},
		{"an escape that breaks a password label, the value running over another", v1(kv{"log", "[HTTP] [AGM] login \x1b[ \"password\":\"Hunter2Pw99\x1b[0m\""}), []string{"Hunter2Pw99"}},
		{"an escape that breaks a password label, a short value with an escape inside", v1(kv{"log", "[HTTP] [AGM] login \x1b[ \"password\":\"ab\x1b[1mcd\""}), []string{"ab\x1b[1mcd", "abcd"}},
		{"a JWT as the compose service name", v1(kv{"log", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMTIz | 2025-02-27T17:19:20.1Z [HTTP] [AGM] x"}), []string{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMTIz"}},
		{"an ANSI colour inside a ct7Token", v1(kv{"log", "[AGM] ct7Token: abcdefghijk\x1b[0mlmnopqrstuv"}), []string{"abcdefghijk", "lmnopqrstuv"}},
		{"a \\u escape in a payload's key", v1(kv{"log", `[AGM] login data:{"pass\u0077ord":"Hunter2Pw"}`}), []string{"Hunter2Pw"}},
		{"a \\u escape in session", v1(kv{"log", `[AGM] data:{"m":"\u0073ession ` + uuid + `"}`}), []string{uuid}},
		{"a colour written as \\u001b in a payload's sessionId", v1(kv{"log", `[AGM] data:{"sessionId":"\u001b[33m` + uuid + `\u001b[39m"}`}), []string{uuid}},
		{"a colour written as \\u001b after session", v1(kv{"log", `[AGM] data:{"note":"session \u001b[33m` + uuid + `\u001b[39m ok"}`}), []string{uuid}},
		{"a colour written as \\u001b around a password key", v1(kv{"log", `[AGM] data:{"\u001b[1mpassword\u001b[0m":"Hunter2Pw98"}`}), []string{"Hunter2Pw98"}},
		{"a colour written as \\u001B inside a session, in another value", v1(kv{"log", "[AGM] x", "m", `{"s":"session ab4e7aff-8627-\u001B[0m434a-a2ef-7e200363197e"}`}), []string{"ab4e7aff-8627-", "434a-a2ef-7e200363197e"}},
		{"a colour Node's util.inspect wrote as \\x1B after session", v1(kv{"log", `[AGM] data: { note: 'session \x1B[33m` + uuid + `\x1B[39m ok' }`}), []string{uuid}},
		{"a \\x escape in session", v1(kv{"log", `[AGM] data: { m: '\x73ession ` + uuid + `' }`}), []string{uuid}},
		{"an escaped colour eating a label's letter, the label also escaped", v1(kv{"log", `[AGM] x \u001b[pass\u0077ord=Hunter2Pw98`}), []string{"Hunter2Pw98"}},
		{"an escaped colour eating session's letter, session also escaped", v1(kv{"log", `[AGM] x \u001b[\u0073ession ` + uuid}), []string{uuid}},
		{"an escaped colour eating a label's letter, in another value", v1(kv{"log", "[AGM] x", "m", `\u001b[pass\u0077ord=Hunter2Pw98`}), []string{"Hunter2Pw98"}},
		{"an escaped colour breaking a payload key", v1(kv{"log", `[AGM] login data:{"\u001b[ pass\u0077ord":"Hunter2Pw98"}`}), []string{"Hunter2Pw98"}},
		{"an escaped colour breaking Authorization", v1(kv{"log", `[AGM] login m:"\u001b[ Author\u0069zation: Basic dXNlcjpwYXNz"`}), []string{"dXNlcjpwYXNz"}},
		{"a copy of the session split by an escaped colour, in another value", v1(kv{"log", "[AGM] x session " + uuid, "n", `ab4e7aff-8627-\u001b[0m434a-a2ef-7e200363197e`}), []string{"ab4e7aff-8627-", "434a-a2ef-7e200363197e"}},
		{"a copy of the session split by an escaped colour, in the line", v1(kv{"log", `[AGM] x session ` + uuid + ` again data:{"s":"ab4e7aff-8627-\u001b[0m434a-a2ef-7e200363197e"}`}), []string{"ab4e7aff-8627-", "434a-a2ef-7e200363197e"}},
		{"a scheme-less Authorization token before another word", v1(kv{"log", "[AGM] login Authorization: tok0a1b2c3d4e5f6a7b8c9d done", "authorization", "tok9z8y7x6w5v4u3t2s1r0 done"}), []string{"tok0a1b2c3d4e5f6a7b8c9d", "tok9z8y7x6w5v4u3t2s1r0"}},
		{"a record key's Basic value split by an escaped colour", v1(kv{"log", "[AGM] x", "authorization", `Basic dXNlcjpw\u001b[0mYXNzd29yZA`}), []string{"YXNzd29yZA"}},
		{"a record key's Basic value split by a colour", v1(kv{"log", "[AGM] x", "authorization", "Basic dXNlcjpw\x1b[0mYXNzd29yZA"}), []string{"YXNzd29yZA"}},
		{"a nested key's Basic value split by a colour", v1(kv{"log", "[AGM] x", "headers", map[string]any{"proxy-authorization": "Basic dXNlcjpw\x1b[39mYXNzd29yZA"}}), []string{"YXNzd29yZA"}},
		{"an AWS SigV4a Authorization (a vendor scheme with digits)", v1(kv{"log", "[HTTP] [AGM] Authorization: AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250227/s3/aws4_request, SignedHeaders=host, Signature=3045022100a1b2c3d4e5f6"}), []string{"AKIAIOSFODNN7EXAMPLE", "3045022100a1b2c3d4e5f6"}},
		{"an unknown vendor scheme with digits in a JSON payload", v1(kv{"log", `[HTTP] [AGM] headers:{"Authorization":"XYZ4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/x, Signature=3045022100a1b2c3d4e5f6"}`}), []string{"AKIAIOSFODNN7EXAMPLE", "3045022100a1b2c3d4e5f6"}},
		{"two generated words after Authorization", v1(kv{"log", "[HTTP] [AGM] Authorization: tok0a1b2c3d4e5f6a7b8c9d tok9z8y7x6w5v4u3t2s1r0"}), []string{"tok0a1b2c3d4e5f6a7b8c9d", "tok9z8y7x6w5v4u3t2s1r0"}},
		{"a generated Authorization word ending a sentence, echoed", v1(kv{"log", "[HTTP] [AGM] Authorization: tok0a1b2c3d4e5f6a7b8c9d. Then retry", "echo", "tok0a1b2c3d4e5f6a7b8c9d"}), []string{"tok0a1b2c3d4e5f6a7b8c9d"}},
		{"the second generated word after Authorization, echoed", v1(kv{"log", "[HTTP] [AGM] Authorization: tok0a1b2c3d4e5f6a7b8c9d tok9z8y7x6w5v4u3t2s1r0 again tok9z8y7x6w5v4u3t2s1r0", "echo", "tok9z8y7x6w5v4u3t2s1r0"}), []string{"tok9z8y7x6w5v4u3t2s1r0"}},
		{"a \\u escape after Bearer", v1(kv{"log", `[AGM] data:{"a":"Bearer\u0020tok_0a1b2c3d4e5f6a7b8c9d"}`}), []string{"tok_0a1b2c3d4e5f6a7b8c9d"}},
		{"metadata", flbhost.AppendV2(nil, flbhost.EventTime(recordTime), kv{"authorization", "Basic TUVUQTpzZWNyZXQ="}.Map(), kv{"log", "[AGM] x"}.Map()), []string{"TUVUQTpzZWNyZXQ="}},
		{"a group marker's attributes", flbhost.AppendGroupStart(nil, kv{"k", "password=GROUP_Hunter2"}.Map(), kv{"resource", map[string]any{"password": "GROUP_Hunter3"}}.Map()), []string{"GROUP_Hunter2", "GROUP_Hunter3"}},
		{"record values that are not strings", v1(kv{"log", "[AGM] x", "password", []any{"Hunter2Pw"}, "pin_password", 4711, "ct7Token", map[string]any{"v": "c7t-5e6f7a8b9c0d1e2f"}}), []string{"Hunter2Pw", "4711", "c7t-5e6f7a8b9c0d1e2f"}},
		{"payload values that are not strings", v1(kv{"log", `[AGM] data:{"password":["Hunter2Pw"],"ct7Token":{"v":"c7t-5e6f7a8b9c0d1e2f"}}`}), []string{"Hunter2Pw", "c7t-5e6f7a8b9c0d1e2f"}},
		{"tabs in an Authorization header", v1(kv{"log", "[AGM] Authorization:\tBasic\tdXNlcjpwYXNz"}), []string{"dXNlcjpwYXNz"}},
		{"an escaped JSON sessionId", v1(kv{"log", `[AGM] body:"{\"sessionId\":\"` + uuid + `\"}"`}), []string{uuid}},
		{"Session-Id and session_id", v1(kv{"log", "[AGM] Session-Id: " + uuid + " q=?session_id=11111111-2222-3333-4444-555555555555"}), []string{uuid, "11111111-2222-3333-4444-555555555555"}},
		{"a session across a line break", v1(kv{"log", "[AGM] Error: expired session\n" + uuid + "\n    at f (a.js:1:1)"}), []string{uuid}},
		{"the session in capitals elsewhere", v1(kv{"log", "[AGM] session " + uuid + " again AB4E7AFF-8627-434A-A2EF-7E200363197E", "sid", "AB4E7AFF-8627-434A-A2EF-7E200363197E"}), []string{uuid, "AB4E7AFF-8627-434A-A2EF-7E200363197E"}},
		{"a Basic value in a JSON array", v1(kv{"log", `[HTTP] [AGM] headers:{"authorization":["Basic dXNlcjpwYXNzd29yZA=="]}`}), []string{"dXNlcjpwYXNzd29yZA"}},
		{"a Basic value in a JS array", v1(kv{"log", `[HTTP] [AGM] { authorization: [ 'Basic dXNlcjpwYXNzd29yZA==' ] }`}), []string{"dXNlcjpwYXNzd29yZA"}},
		{"every parameter of a Digest", v1(kv{"log", `[HTTP] [AGM] Authorization: Digest username="u", response="6629fae49393a05397450978507c4ef1"`}), []string{"6629fae49393a05397450978507c4ef1"}},
		{"X-Api-Key", v1(kv{"log", `[HTTP] [AGM] x-api-key: c7t-5e6f7a8b9c0d1e2f3a4b`}), []string{"c7t-5e6f7a8b9c0d1e2f3a4b"}},
		{"an echo behind a JSON escape in a payload", v1(kv{"log", `[HTTP] [AGM] session ab4e7aff-8627-434a-a2ef-7e200363197e data:{"sid":"\u0061b4e7aff-8627-434a-a2ef-7e200363197e"}`}), []string{"ab4e7aff-8627-434a-a2ef-7e200363197e", "b4e7aff-8627-434a-a2ef-7e200363197e"}},
		{"an echo behind a JSON escape in another value", v1(kv{"log", "[HTTP] [AGM] session " + uuid, "m", `{"sid":"ab4e7aff\u002d8627-434a-a2ef-7e200363197e"}`}), []string{"8627-434a-a2ef-7e200363197e"}},
		{"the session in mixed case elsewhere", v1(kv{"log", "[HTTP] [AGM] session " + uuid + " then Ab4E7aff-8627-434A-a2ef-7e200363197E", "sid", "AB4E7AFF-8627-434a-a2ef-7e200363197e"}), []string{"8627-434a-a2ef", "8627-434A-a2ef"}},
		{"a URL's password", v1(kv{"log", "[HTTP] [AGM] newContact url:https://admin:S3cretPw99@server1/ctLiveService"}), []string{"S3cretPw99"}},
		{"a ctlivetoken UUID in another case elsewhere", v1(kv{"log", "[HTTP] [AGM] ctlivetoken=" + uuid, "y", strings.ToUpper(uuid)}), []string{strings.ToUpper(uuid)}},
		{"a record key's Digest", v1(kv{"log", "[HTTP] [AGM] x", "authorization", `Digest username="u", response="6629fae49393a05397450978507c4ef1"`}), []string{"6629fae49393a05397450978507c4ef1"}},
		{"a record key's AWS signature", v1(kv{"log", "[HTTP] [AGM] x", "authorization", "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250227, Signature=fe5f80f77d5fa3be"}), []string{"AKIAEXAMPLE", "fe5f80f77d5fa3be"}},
		{"a record key's token echoed in the line", v1(kv{"log", "[HTTP] [AGM] echo c7t-5e6f7a8b9c0d1e2f3a4b", "ct7Token", "c7t-5e6f7a8b9c0d1e2f3a4b"}), []string{"c7t-5e6f7a8b9c0d1e2f3a4b"}},
		{"a record key's UUID echoed in the line", v1(kv{"log", "[HTTP] [AGM] echo " + uuid, "ct7Token", uuid}), []string{uuid}},
		{"a record key's ctlivetoken echoed in another value", v1(kv{"log", "[HTTP] [AGM] x", "ctlivetoken", uuid, "y", uuid}), []string{uuid}},
		{"a nested key's ctlivetoken echoed in capitals", v1(kv{"log", "[HTTP] [AGM] echo " + strings.ToUpper(uuid), "headers", map[string]any{"x-ctlivetoken": uuid}}), []string{uuid, strings.ToUpper(uuid)}},
		{"a rule-found token in another value, echoed in the line", v1(kv{"log", "[socketIO] [AGM] reconnect " + uuid, "cookie", "ctlivetoken=" + uuid}), []string{uuid}},
		{"a labelled token with a line break, echoed in the line", v1(kv{"log", "[HTTP] [AGM] echo c7t-5e6f7a8b9c0d1e2f3a4b", "ct7Token", "c7t-5e6f7a8b9c0d1e2f3a4b\n"}), []string{"c7t-5e6f7a8b9c0d1e2f3a4b"}},
		{"a record key named sessionId", v1(kv{"log", "[fn] x", "sessionId", uuid}), []string{uuid}},
		{"a nested key named session", v1(kv{"log", "[fn] x", "a", map[string]any{"session": uuid}}), []string{uuid}},
		{"a sessionID key in a map in an array", v1(kv{"log", "[fn] x", "a", []any{map[string]any{"sessionID": strings.ToUpper(uuid)}}}), []string{strings.ToUpper(uuid)}},
		{"a sessionId key holding an array", v1(kv{"log", "[fn] x", "sessionId", []any{uuid}}), []string{uuid}},
		{"a session key holding an array of arrays", v1(kv{"log", "[fn] x", "session", []any{[]any{uuid}}}), []string{uuid}},
		{"express-session's session.id as a record", v1(kv{"log", "[fn] x", "req", map[string]any{"session": map[string]any{"id": uuid}}}), []string{uuid}},
		{"a sessionId value with a line break", v1(kv{"log", "[fn] x", "sessionId", uuid + "\n"}), []string{uuid}},
		{"an x-session-id header, echoed in the line", v1(kv{"log", "[fn] echo " + uuid, "headers", map[string]any{"x-session-id": uuid}}), []string{uuid}},
		{"a hostile line of credentials", v1(kv{"log", "[AGM] " + string(bytes.Repeat([]byte("pwd=Hunter2Pw "), 5000))}), []string{"Hunter2Pw"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MustNew(Defaults())
			evs, err := s.DecodeChunk(tc.entry, "t")
			if err != nil || len(evs) != 1 {
				t.Fatalf("decode: %v", err)
			}
			for form, out := range outputs(evs[0]) {
				for _, c := range tc.clear {
					if bytes.Contains(out, []byte(c)) {
						t.Errorf("%s holds %q in clear: %.300q", form, c, out)
					}
				}
			}
		})
	}
}

// With `mask userID`, every login is masked, not only the record's userID:
// a second agent, one in a payload, in a stack frame, in another key.
func TestMaskUserIDFindsEveryLogin(t *testing.T) {
	c := config(func(c *Config) { c.Mask, c.MaskKey = []string{"userID"}, "0123456789abcdef-key" })
	ev := enrichOne(t, v1(kv{
		"log", "[AGM] transfer from USER_alice to USER_bobby data:{\"agent\":\"USER_carol1\"}\n    at f (USER_dave.js:1:1)",
		"agent", "USER_grace1",
	}), c)
	for form, out := range outputs(ev) {
		for _, login := range []string{"alice", "bobby", "carol1", "dave", "grace1"} {
			if bytes.Contains(out, []byte(login)) {
				t.Errorf("%s holds the login %q: %.300q", form, login, out)
			}
		}
	}
}

func TestOutputsOfAGroupMarkerStayAMarker(t *testing.T) {
	raw := flbhost.AppendGroupStart(nil, nil, kv{"resource", "password=x1x2x3"}.Map())
	evs, err := MustNew(Defaults()).DecodeChunk(raw, "t")
	if err != nil || len(evs) != 1 {
		t.Fatal(err)
	}
	var e record.Entry
	if _, err := e.Decode(record.AppendMsgpack(nil, evs[0])); err != nil || e.Group != record.GroupStart {
		t.Fatalf("re-encoded marker: %v, group %v", err, e.Group)
	}
}

// A text too short for any rule may still be an echo or personal data: a
// masked login ("jdoe"), a user ID of another record's form, a short
// secret echoed from a coloured line. The shortcut that copies short texts
// unchanged must not keep them (attacker review of 28445fc).
func TestShortEchoesAndPersonalDataInOtherValues(t *testing.T) {
	masked := config(func(c *Config) { c.Mask, c.MaskKey = []string{"userID"}, "0123456789abcdef-key" })
	tests := []struct {
		name  string
		c     Config
		body  kv
		clear string
	}{
		{"a masked login as a value", masked, kv{"log", "[socketIO] [AGM] agentLogin USER_jdoe ok", "user", "jdoe"}, `"jdoe"`},
		{"a short user ID as a value", masked, kv{"log", "[socketIO] [AGM] agentLogin USER_jdoe ok", "user", "USER_ab"}, "USER_ab"},
		{"a short user ID, the line without a login", masked, kv{"log", "[socketIO] [AGM] hello", "user", "USER_ab"}, "USER_ab"},
		{"a masked login as a key", masked, kv{"log", "[socketIO] [AGM] agentLogin USER_jdoe ok", "jdoe", 1}, `"jdoe"`},
		{"a masked login in an array", masked, kv{"log", "[socketIO] [AGM] agentLogin USER_jdoe ok", "x", []any{"jdoe"}}, `"jdoe"`},
		{"a short password echoed from a coloured line", Defaults(), kv{"log", "\x1b[1m[AGM] login password=hunter2\x1b[0m", "note", "hunter2"}, "hunter2"},
		{"a short token echoed from a coloured line", Defaults(), kv{"log", "\x1b[1m[AGM] login ct7Token=abcdefg\x1b[0m", "note", "abcdefg"}, "abcdefg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := enrichOne(t, v1(tc.body), tc.c)
			for form, out := range outputs(ev) {
				if form == "line" {
					continue
				}
				if bytes.Contains(out, []byte(tc.clear)) {
					t.Errorf("%s holds %s in clear: %.300q", form, tc.clear, out)
				}
			}
		})
	}
}

// The shape memo may call a record clean only after reading every entry:
// a key of 32 bytes or more is read by the slow walk, and the records after
// the first of that shape must be protected as the first is (attacker
// review: the second record left with its Bearer value in clear).
func TestEveryRecordOfAShapeIsProtected(t *testing.T) {
	long := "http.request.header.authorization" // 33 bytes: not a fixstr
	for _, second := range []kv{
		{"log", "ctlive | 2025-02-27T17:19:20.2Z [HTTP] [AGM] request two", long, "Bearer c7t-5e6f7a8b9c0d1e2f3a4b"},
		{"log", "ctlive | 2025-02-27T17:19:20.2Z [HTTP] [AGM] request two", long, "x", "password", "Hunter2Pw99"},
	} {
		first := kv{"log", "ctlive | 2025-02-27T17:19:20.1Z [HTTP] [AGM] request one"}
		first = append(first, second[2:]...)
		for encoding, entry := range map[string]func(kv) []byte{"fixmap": v1, "Fluent Bit's map32": encoded} {
			s := MustNew(Defaults())
			evs, err := s.DecodeChunk(append(entry(first), entry(second)...), "t")
			if err != nil || len(evs) != 2 {
				t.Fatalf("decode: %v", err)
			}
			for i, ev := range evs {
				for form, out := range outputs(ev) {
					for _, c := range []string{"c7t-5e6f7a8b9c0d1e2f3a4b", "Hunter2Pw99"} {
						if bytes.Contains(out, []byte(c)) {
							t.Errorf("%s, record %d: %s holds %s in clear", encoding, i, form, c)
						}
					}
				}
			}
		}
	}
}

// A credential that escapes run through is replaced by one digest in the
// line as received and in the fields read from its text without escapes
// (attacker review: two digests, and the escape after it lost).
func TestACredentialBehindEscapesHasOneDigest(t *testing.T) {
	ev := enrichOne(t, v1(kv{"log", "ctlive | 2025-02-27T17:19:20.1Z [HTTP] [AGM] login \x1b[ \"ct7Token\":\"k9Xq2Lm4Pz7Rt1Vb8Nw3\x1b[0m\""}), config())
	digest := regexp.MustCompile(`sha256:[0-9a-f]+`)
	inLine, inMessage := digest.FindString(string(ev.Line)), digest.FindString(string(ev.Fields.Message))
	if inLine == "" || inLine != inMessage {
		t.Fatalf("the line holds %q and the message %q: want one digest\nline %q\nmessage %q", inLine, inMessage, ev.Line, ev.Fields.Message)
	}
}

// The second attacker review of the line as received (1ae2109): what only
// that reading finds is replaced whatever its number, a credential that
// is nothing but escapes drops no chunk, a short echo reaches the
// metadata, and an escape the value ends inside of stays whole.
func TestWhatOnlyTheLineAsReceivedHolds(t *testing.T) {
	const prefix = "ctlive | 2025-02-27T17:19:20.1Z [HTTP] [AGM] login"
	var many strings.Builder
	many.WriteString(prefix)
	for i := 0; i < parser.MaxSecrets+104; i++ {
		fmt.Fprintf(&many, " \x1b[ \"pwd\":\"Zq%05dx\"", i) // the escape takes each label's p
	}
	tests := []struct {
		name  string
		entry []byte
		clear []string // none may be in any output
	}{
		{"more than MaxSecrets", v1(kv{"log", many.String()}), []string{"Zq00000x", "Zq04095x", "Zq04096x", "Zq04199x"}},
		{"a password of escapes alone", v1(kv{"log", "[AGM] \"pwd\":\"\x1b[0m\""}), nil},
		{"a password of an empty escape", v1(kv{"log", "[x] pwd=\"\x1b[m\""}), nil},
		{"a token of escapes alone", v1(kv{"log", "2025-02-27T17:19:20Z ct7Token: \"\x1b[1m\""}), nil},
		{"a short echo in the metadata", v2(kv{"m", "hunter2", "hunter2", []any{"hunter2"}}, kv{"log", "\x1b[1m" + prefix + " password=hunter2\x1b[0m", "body", "hunter2"}), []string{"hunter2"}},
		{"a short token echo in the metadata", v2(kv{"m", "tok9a7"}, kv{"log", "\x1b[1m" + prefix + " ct7Token=tok9a7\x1b[0m"}), []string{"tok9a7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := enrichOne(t, tc.entry, config())
			for form, out := range outputs(ev) {
				for _, c := range tc.clear {
					if bytes.Contains(out, []byte(c)) {
						t.Errorf("%s holds %s in clear: %.200q", form, c, out)
					}
				}
			}
			if js := outputs(ev)["json"]; !json.Valid(js) {
				t.Errorf("invalid JSON: %s", js)
			}
		})
	}
}

// A closing quote that is an escape's parameter byte (`\e[1"m`) ends the
// value in the line as received and not in the text without escapes: one
// digest all the same, and the escape stays whole.
func TestATokenEndingInsideAnEscape(t *testing.T) {
	ev := enrichOne(t, v1(kv{"log", "ctlive | 2025-02-27T17:19:20.1Z [HTTP] [AGM] login \"ct7Token\":\"k9Xq2Lm4Pz7Rt1Vb\x1b[1\"m tail"}), config())
	digest := regexp.MustCompile(`sha256:[0-9a-f]+`)
	inLine, inMessage := digest.FindString(string(ev.Line)), digest.FindString(string(ev.Fields.Message))
	if inLine == "" || inLine != inMessage {
		t.Errorf("the line holds %q and the message %q: want one digest\nline %q", inLine, inMessage, ev.Line)
	}
	if !bytes.Contains(ev.Line, []byte("\x1b[1\"m tail")) {
		t.Errorf("the escape after the token was cut: %q", ev.Line)
	}
}

// The line as received adds no echo the text without escapes has not:
// an echo added after the line's are counted is a text's own, and the
// record's every value then rebuilt the index of the line's many echoes
// (attacker review: 89 s for a 272 KB record).
func TestTheLineAsReceivedAddsNoEchoesTwice(t *testing.T) {
	var line strings.Builder
	line.WriteString("\x1b[1m[socketIO] [AGM] login")
	for i := 0; i < 3*maxScannedEchoes; i++ {
		fmt.Fprintf(&line, " ct7Token=k%07d", i)
	}
	line.WriteString("\x1b[0m")
	s := MustNew(Defaults())
	w := new(Work)
	var e record.Entry
	if _, err := e.Decode(v1(kv{"log", line.String(), "a", "x", "b", "y"})); err != nil {
		t.Fatal(err)
	}
	var ev record.Event
	s.Enrich(&ev, &e, "t", w)
	if len(w.echoes) != w.lineEchoes {
		t.Fatalf("%d echoes, %d of them the line's: the line as received added some", len(w.echoes), w.lineEchoes)
	}
	if bytes.Contains(ev.Line, []byte("k0000007")) {
		t.Fatalf("a token in clear: %q", ev.Line)
	}
}

// A record reads the same after a record of the same shape as alone: the
// shape memo called the first one's values quiet against the first one's
// echoes, and the second brings its own (attacker review: "k" in clear).
func TestARecordReadsTheSameAfterARememberedShape(t *testing.T) {
	const v = "ab\x1b[1mcd" // a short password with a colour in it
	first := kv{"log", "x", "k", v}
	second := kv{"log", "\x1b[ \"password\":\"" + v + "\"", "k", v}
	for encoding, entry := range map[string]func(kv) []byte{"fixmap": v1, "Fluent Bit's map32": encoded} {
		alone, err := MustNew(Defaults()).DecodeChunk(entry(second), "t")
		if err != nil || len(alone) != 1 {
			t.Fatalf("decode: %v", err)
		}
		after, err := MustNew(Defaults()).DecodeChunk(append(entry(first), entry(second)...), "t")
		if err != nil || len(after) != 2 {
			t.Fatalf("decode: %v", err)
		}
		a, b := outputs(alone[0]), outputs(after[1])
		for form := range a {
			if !bytes.Equal(a[form], b[form]) {
				t.Errorf("%s: %s after the first record:\n%q\nalone:\n%q", encoding, form, b[form], a[form])
			}
			if bytes.Contains(b[form], []byte(v)) || bytes.Contains(b[form], []byte("abcd")) {
				t.Errorf("%s: %s holds the password in clear: %q", encoding, form, b[form])
			}
		}
	}
}

// Fluent Bit's log event encoder writes every map as a map32, even a
// record of one key with empty metadata (src/flb_mp.c). Such records take
// the same shortcuts as fixmaps: the empty metadata is not walked, and a
// quiet record's shape is remembered so the next one of that shape is not
// walked either (in Fluent Bit 5.1.1 both walks ran for every tail record).
func TestFluentBitsOwnEncodingTakesTheShortcuts(t *testing.T) {
	s := MustNew(Defaults())
	w := new(Work)
	for i, line := range []string{
		"ctlive | 2025-02-27T17:19:20.1Z [HTTP] [AGM] request one",
		"ctlive | 2025-02-27T17:19:20.2Z [HTTP] [AGM] request two",
	} {
		var e record.Entry
		if _, err := e.Decode(encoded(kv{"log", line, "stream", "stdout"})); err != nil {
			t.Fatal(err)
		}
		if !emptyMap(e.Meta) {
			t.Fatalf("metadata %x is an empty map", e.Meta)
		}
		var ev record.Event
		s.Enrich(&ev, &e, "t", w)
		if w.memo.before == nil {
			t.Fatalf("record %d: the quiet shape {log, stream} was not remembered", i)
		}
	}
}

// A placeholder a key labels is replaced in its value, never wherever the
// word stands in the line's prose (attacker round 4).
func TestPlaceholdersLabelledAsTokensLeaveTheLineAlone(t *testing.T) {
	for _, tc := range []struct {
		body kv
		keep string
	}{
		{kv{"log", "[HTTP] [AGM] TypeError: Cannot read properties of undefined", "ct7Token", "undefined"}, "properties of undefined"},
		{kv{"log", "[HTTP] [AGM] deploying to production production-eu", "token", "production"}, "deploying to production production-eu"},
		{kv{"log", "[HTTP] [AGM] user anonymous logged in as anonymous", "authorization", "anonymous"}, "user anonymous logged in as anonymous"},
	} {
		ev := enrichOne(t, v1(tc.body), config())
		if !bytes.Contains(ev.Line, []byte(tc.keep)) {
			t.Errorf("the line lost %q: %q", tc.keep, ev.Line)
		}
	}
}

// An escape may end in a credential's first letter (`\e[=a` + `b4e7aff-…`):
// the text without escapes then holds no UUID, and the line as received
// holds all 36 bytes in a row (third attacker review). The reading that
// keeps each escape's final byte finds it, in the line and in a copy.
func TestACredentialWhoseFirstLetterEndsAnEscape(t *testing.T) {
	const uuid = "ab4e7aff-8627-434a-a2ef-7e200363197e"
	for _, line := range []string{
		"[AGM] x session \x1b[=" + uuid,
		"[AGM] x sessionId=\x1b[1;" + uuid,
		"[AGM] x session \x1b[" + uuid + " again",
	} {
		ev := enrichOne(t, v2(kv{"m", line}, kv{"log", line, "copy", line}), config())
		for form, out := range outputs(ev) {
			for _, c := range []string{uuid, uuid[1:], "b4e7aff-8627-434a"} {
				if bytes.Contains(out, []byte(c)) {
					t.Errorf("%q: %s holds %s in clear: %.300q", line, form, c, out)
				}
			}
		}
	}
}

// A token nested in another token's value still echoes: its bare copy
// elsewhere in the line or the record is replaced (fourth attacker
// review: lost when backslashes joined the values, and in record values
// when nested tokens were dropped).
func TestANestedTokensBareCopyIsReplaced(t *testing.T) {
	const tok = "c7t5e6f7a8b9c0d1e2f3a4b"
	for _, entry := range []kv{
		{"log", `[HTTP] [AGM] x ct7Token=abc12345\\x_token=` + tok + " again " + tok},
		{"log", "[HTTP] [AGM] x ct7Token=ct7Token=" + tok + " again " + tok},
		{"log", "[HTTP] [AGM] x " + tok, "k", `ct7Token=abc12345\nx_token=` + tok},
		{"log", "[HTTP] [AGM] x " + tok, "k", "ct7Token=ct7Token=" + tok},
	} {
		ev := enrichOne(t, v1(entry), config())
		for form, out := range outputs(ev) {
			if bytes.Contains(out, []byte(tok)) {
				t.Errorf("%q: %s holds the token in clear: %.300q", entry, form, out)
			}
		}
	}
}

// An escape right before a token, its final byte glued to it, is not read
// as part of the token: one digest in the line and the fields, and the
// escape stays whole.
func TestAnEscapeBeforeATokenIsNotPartOfIt(t *testing.T) {
	for _, line := range []string{
		"[HTTP] [AGM] ct7Token: \x1b[1mabcdef1234567",
		"[HTTP] [AGM] Authorization: Bearer \x1b[1mabcdef1234567abcdef",
	} {
		ev := enrichOne(t, v1(kv{"log", line}), config())
		digest := regexp.MustCompile(`sha256:[0-9a-f]+`)
		inLine, inMessage := digest.FindString(string(ev.Line)), digest.FindString(string(ev.Fields.Message))
		if inLine == "" || inLine != inMessage {
			t.Errorf("%q: the line holds %q and the message %q", line, inLine, inMessage)
		}
		if !bytes.Contains(ev.Line, []byte("\x1b[1m")) {
			t.Errorf("%q: the escape was cut: %q", line, ev.Line)
		}
	}
}

// Fifth attacker review: a credential of the reading with escapes' final
// bytes that the other readings replaced only in part is replaced whole;
// every token that stands apart echoes however many a value holds, and a
// nested one echoes however many stand apart after it.
func TestCredentialsPartlySeenAndManyTokens(t *testing.T) {
	const tok = "c7t5e6f7a8b9c0d1e2f3a4b"
	var apart, after strings.Builder
	for i := 0; i < 70; i++ {
		fmt.Fprintf(&apart, "ct7Token=T%02dk9Xq2Lm4Pz7Rt1 ", i)
		fmt.Fprintf(&after, "ct7Token=U%02dk9Xq2Lm4Pz7Rt1 ", i)
	}
	tests := []struct {
		entry kv
		clear []string
	}{
		{kv{"log", "[HTTP] [AGM] x \x1b[1;Authorization: Basic dXNl\x1b[0mcjpwYXNzd29yZA=="}, []string{"cjpwYXNzd29yZA"}},
		{kv{"log", "[HTTP] [AGM] login \x1b[1;password=Hunter\x1b[0m2Pw99secret"}, []string{"2Pw99secret"}},
		{kv{"log", "[HTTP] [AGM] x \x1b[1;eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c\x1b[1m2lnbmF0dXJlMTIz"}, []string{"2lnbmF0dXJlMTIz"}},
		{kv{"log", "[HTTP] [AGM] x ct7Token: a\x1b[0;b4e7aff-8627-434a-a2ef-7e200363197e again ab4e7aff-8627-434a-a2ef-7e200363197e"}, []string{"ab4e7aff-8627-434a-a2ef-7e200363197e"}},
		{kv{"log", "[HTTP] [AGM] x T00k9Xq2Lm4Pz7Rt1", "k", apart.String()}, []string{"T00k9Xq2Lm4Pz7Rt1"}},
		{kv{"log", "[HTTP] [AGM] x ct7Token=ct7Token=" + tok + " " + after.String() + "again " + tok}, []string{tok}},
		{kv{"log", "[HTTP] [AGM] x " + tok, "k", "ct7Token=ct7Token=" + tok + " " + after.String()}, []string{tok}},
	}
	for _, tc := range tests {
		ev := enrichOne(t, v1(tc.entry), config())
		for form, out := range outputs(ev) {
			for _, c := range tc.clear {
				if bytes.Contains(out, []byte(c)) {
					t.Errorf("%.80q: %s holds %s in clear", tc.entry, form, c)
				}
			}
		}
	}
}

// helper-81: a record's own values as HAR, undici and Kubernetes write
// headers and variables (name/value objects), and as Node's rawHeaders
// (a list of names, each before its value), are `Name: value` pairs, as
// they are in the line.
func TestNameValuePairsInARecordAreLabelled(t *testing.T) {
	const session = "ab4e7aff-8627-434a-a2ef-7e200363197e"
	line := "[socketIO] [AGM] joinContact"
	pair := func(name, value string) map[string]any { return map[string]any{"name": name, "value": value} }
	tests := []struct {
		name  string
		body  kv
		clear []string
	}{
		{"HAR's headers", kv{"log", line, "headers", []any{pair("Host", "x"), pair("ctlivetoken", session)}}, []string{session}},
		{"a cookie as a name/value object", kv{"log", line, "cookies", []any{pair("connect.sid", session)}}, []string{session}},
		{"an environment variable", kv{"log", line, "env", []any{pair("CTLIVE_SSO_SECRET", "hunter2")}}, []string{"hunter2"}},
		{"a token of letters only", kv{"log", line, "headers", []any{pair("ct7Token", "NyjOqwMxEhhFDEEtfjgVvVqE")}}, []string{"NyjOqwMxEhhFDEEtfjgVvVqE"}},
		{"an API key that is a UUID", kv{"log", line, "headers", []any{pair("X-Api-Key", "7f1b103c-df15-42b0-aab4-77d26415479c")}}, []string{"7f1b103c-df15-42b0-aab4-77d26415479c"}},
		{"an Authorization value without a scheme", kv{"log", line, "headers", []any{pair("Authorization", "sk-0a1b2c3d4e5f6a7b8c9d")}}, []string{"sk-0a1b2c3d4e5f6a7b8c9d"}},
		{"Node's rawHeaders", kv{"log", line, "rawHeaders", []any{"Host", "x", "ctlivetoken", session, "ct7Token", "Zk39xQ0pL7mN2vB8cR4t"}}, []string{session, "Zk39xQ0pL7mN2vB8cR4t"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := enrichOne(t, v1(tc.body), Defaults())
			for form, out := range outputs(ev) {
				for _, c := range tc.clear {
					if bytes.Contains(out, []byte(c)) {
						t.Errorf("%s holds %s in clear: %.300q", form, c, out)
					}
				}
			}
		})
	}
	// Names that label nothing leave their values as they are; in a list,
	// a name pairs only as the line's lists do: a list of field names, or
	// a message ID after "token", is no credential (helper-83).
	const msgID = "5c637aa3-2499-428b-9eb8-192114cb890f"
	for _, tc := range []struct {
		body kv
		keep []string
	}{
		{kv{"log", line, "headers", []any{pair("Host", "chat.example"), "Accept", "text/plain"}}, []string{"chat.example", "text/plain"}},
		{kv{"log", line, "redactFields", []any{"password", "token", "chat.example"}}, []string{`"token"`, "chat.example"}},
		{kv{"log", line + " id [" + msgID + "]", "cols", []any{"token", msgID}}, []string{`"messageID":"` + msgID, `["token","` + msgID}},
		// A name/value object's value that is a CTLive ID is no
		// credential (helper-85); any other is read as a key's would be
		// (helper-86), a UUID under "token" too.
		{kv{"log", "[socketIO] joinContact room [" + cidA + "]", "params", []any{pair("ct7Token", cidA)}}, []string{`"contactID":"` + cidA}},
	} {
		ev := enrichOne(t, v1(tc.body), Defaults())
		out := outputs(ev)["json"]
		for _, k := range tc.keep {
			if !bytes.Contains(out, []byte(k)) {
				t.Errorf("json lost %s, which no credential's name labels: %.300q", k, out)
			}
		}
	}
}
