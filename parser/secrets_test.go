package parser

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Two lines of a PEM key's body, 64 base64 characters each.
const (
	pem1 = "MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAMfttr+DwMkfo8Wr"
	pem2 = "7gcX+Wuz1Zs7w9nNsLr9KBukxRLXYRcBxWA/ZQd4PRHoxyUqIA+Vl6RAAGpA7+lM"
)

const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqZG9lIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"

// found lists a line's credentials as "kind:text", sorted and each once:
// triggers and word starts of a block are taken in two runs, and one
// credential may be found by two rules (`Authorization: Bearer eyJ...` is
// a bearer token and a JWT); redaction merges them.
func found(secrets []Secret) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, secretKindNames[s.Kind]+":"+string(s.Text))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

var secretKindNames = map[SecretKind]string{
	SecretSession: "session", SecretJWT: "jwt", SecretBearer: "bearer", SecretToken: "token",
	SecretBasic: "basic", SecretPassword: "password",
}

// One case per kind of credential in the contract, in the places it is
// written, and the near misses that are not credentials.
var secretCases = []struct {
	name string
	line string
	want []string
}{
	{"the document's session ID", "[socketIO] agentLogin ok, session ID " + session, []string{"session:" + session}},
	{"a session inside a payload is still a credential", `[fn] body:{"sessionId":"` + session + `"}`, []string{"session:" + session}},
	{"ctlivetoken header", "[HTTP] headers ctlivetoken: " + session, []string{"session:" + session}},
	{"ctlivetoken query parameter", "[HTTP] GET /livechat/AGM/x?ctlivetoken=" + session + "&y=1", []string{"session:" + session}},
	// helper-49's audit: the session rule's separators in any run, and
	// brackets, give the session's own digest, not a token's of "=<uuid>".
	{"ctlivetoken with two separators", "[AGM] joinContact ctlivetoken:=" + session + " then", []string{"session:" + session}},
	{"ctlivetoken with a bracket", "[AGM] joined with ctlivetoken: [" + session + "] room", []string{"session:" + session}},
	{"ctlivetoken in a JSON array", `[AGM] headers:{"ctlivetoken":["` + session + `"]}`, []string{"session:" + session}},
	{"ct7Token with two separators", "[AGM] ct7Token:=Zk39xQ0pL7mN2vB8cR4t next", []string{"token:Zk39xQ0pL7mN2vB8cR4t"}},
	{"ct7Token in brackets", "[AGM] ct7Token: [Zk39xQ0pL7mN2vB8cR4t] next", []string{"token:Zk39xQ0pL7mN2vB8cR4t"}},
	{"ct7Token in a JSON array", `[AGM] body:{"ct7Token":["Zk39xQ0pL7mN2vB8cR4t"]}`, []string{"token:Zk39xQ0pL7mN2vB8cR4t"}},
	{"a quote left open in brackets is no one token", `[AGM] ct7Token: ["Zk39xQ0pL7mN2vB8cR4t] ] x`, []string{`password:["Zk39xQ0pL7mN2vB8cR4t]`, "token:Zk39xQ0pL7mN2vB8cR4t"}},
	{"a number in a JSON array under a token label stays a structure", `[AGM] body:{"access_token":[12345678901234567890]}`, []string{"password:[12345678901234567890]"}},
	{"a JWT then a sentence's period", "[JWT] [AGM] agentLogin rejected token " + jwt + ".", []string{"jwt:" + jwt}},
	{"a JWT then a period after a Bearer", "[HTTP] Authorization: Bearer " + jwt + ". Retrying", []string{"bearer:" + jwt, "jwt:" + jwt}},
	{"a JWT then a JSON escape of a line break", `[AGM] body:{"q":"token=` + jwt + `\n"}`, []string{"jwt:" + jwt, "token:" + jwt}},
	{"ctlivetoken that is not a UUID", "[HTTP] ctlivetoken: 9f8e7d6c5b4a", []string{"token:9f8e7d6c5b4a"}},
	{"a backslash inside a password", `[AGM] login password=Hun\wter2Pw99 ok`, []string{`password:Hun\wter2Pw99`}},
	{"an escaped backslash inside a password", `[AGM] login password=Hun\\wter2Pw99 ok`, []string{`password:Hun\\wter2Pw99`}},
	{"a JSON escape inside a token", `[AGM] login ct7Token=k9Xq\t2Lm4Pz7Rt1Vb ok`, []string{`token:k9Xq\t2Lm4Pz7Rt1Vb`}},
	{"a JSON escape inside a Basic value", `[AGM] Authorization: Basic dXNl\ncjpwYXNz ok`, []string{`basic:dXNl\ncjpwYXNz`}},
	{"a backslash in a URL's password", `[AGM] x url:https://admin:S3cr\et99@server1/x ok`, []string{`password:S3cr\et99`}},
	{"a colour written as a JSON escape ends a token", `[AGM] login ct7Token=k9Xq2Lm4Pz7Rt1Vb\u001b[0mXYZ`, []string{"token:k9Xq2Lm4Pz7Rt1Vb"}},
	{"a colour written as util.inspect does ends a password", `[AGM] login password=Hunter2Pw\x1B[39m ok`, []string{"password:Hunter2Pw"}},
	{"a quoted value is all the quotes hold, colours too", `[AGM] login { password: 'Hunter2Pw\x1B[39m' }`, []string{`password:Hunter2Pw\x1B[39m`}},
	{"a colour before a value is not the value", `[HTTP] headers ctlivetoken \x1B[33m9f8e7d6c5b4a\x1B[39m`, nil},
	{"\\u001b without a colour stays in a value", `[AGM] login password=Hun\u001bter2Pw ok`, []string{`password:Hun\u001bter2Pw`}},
	{"a scheme-less Authorization token before another word", "[AGM] login Authorization: tok0a1b2c3d4e5f6a7b8c9d done", []string{"bearer:tok0a1b2c3d4e5f6a7b8c9d", "basic:done"}},
	{"two generated words after Authorization are two tokens", "[AGM] login Authorization: tok0a1b2c3d4e5f6a7b8c9d tok9z8y7x6w5v4u3t2s1r0.", []string{"bearer:tok0a1b2c3d4e5f6a7b8c9d", "bearer:tok9z8y7x6w5v4u3t2s1r0"}},
	{"a vendor's scheme the list lacks, with digits", "[HTTP] [AGM] Authorization: AWS4-XYZ9-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/x, Signature=3045022100a1b2c3d4e5f6",
		[]string{"bearer:AWS4-XYZ9-P256-SHA256", "basic:Credential=AKIAIOSFODNN7EXAMPLE/x, Signature=3045022100a1b2c3d4e5f6"}},
	{"a listed vendor scheme", "[HTTP] [AGM] Authorization: GOOG4-HMAC-SHA256 Credential=GOOGTS7C7FUP3AIRVJTE2BCD/x, Signature=5a6b7c8d9e0f1a2b3c4d",
		[]string{"basic:Credential=GOOGTS7C7FUP3AIRVJTE2BCD/x, Signature=5a6b7c8d9e0f1a2b3c4d"}},
	{"an unknown scheme before its credential", "[AGM] login Authorization: CustomAuth dXNlcjpwYXNzd29yZA ok", []string{"basic:dXNlcjpwYXNzd29yZA"}},
	{"an escaped quote still ends a value in a JSON string", `[AGM] body:"{\"password\":\"Hunter2\"}"`, []string{"password:Hunter2"}},
	{"a JWT anywhere", "[JWT] validating " + jwt + " for agent", []string{"jwt:" + jwt}},
	{"an unsigned JWT", "[JWT] token eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. ok", []string{"jwt:eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."}},
	{"Authorization: Bearer", "[HTTP] Authorization: Bearer " + jwt, []string{"jwt:" + jwt, "bearer:" + jwt}},
	{"Authorization: Basic has little entropy", "[HTTP] Authorization: Basic dXNlcjpwYXNz", []string{"basic:dXNlcjpwYXNz"}},
	{"authorization header in JSON", `[HTTP] headers:{"authorization":"Basic dXNlcjpwYXNz","x":1}`, []string{"basic:dXNlcjpwYXNz"}},
	{"Proxy-Authorization", "[HTTP] Proxy-Authorization: ApiKey a2V5OnNlY3JldA==", []string{"basic:a2V5OnNlY3JldA=="}},
	{"Authorization without a scheme", "[HTTP] authorization=Zm9vYmFyYmF6cXV4", []string{"bearer:Zm9vYmFyYmF6cXV4"}},
	{"a bare Bearer token", "[fn] sending Bearer 0123456789abcdef0123", []string{"bearer:0123456789abcdef0123"}},
	{"ct7Token header", "[CT7PROTOCOL] ct7Token: 8c1f2e3d4c5b6a79", []string{"token:8c1f2e3d4c5b6a79"}},
	{"ct7Token with a Bearer value", "[CT7PROTOCOL] ct7Token Bearer 8c1f2e3d4c5b6a79", []string{"token:8c1f2e3d4c5b6a79", "bearer:8c1f2e3d4c5b6a79"}},
	{"ct7Token in JSON", `[CT7PROTOCOL] req:{"ct7Token":"8c1f2e3d"}`, []string{"token:8c1f2e3d"}},
	{"Node's rawHeaders: Basic", "[HTTP] rawHeaders: [ 'Host', 'server1', 'Authorization', 'Basic dXNlcjpwYXNz' ]", []string{"basic:dXNlcjpwYXNz"}},
	{"Node's rawHeaders: ctlivetoken", "[HTTP] rawHeaders: [ 'ctlivetoken', '" + session + "', 'ct7Token', '8c1f2e3d4c5b6a79' ]", []string{"session:" + session, "token:8c1f2e3d4c5b6a79"}},
	{"rawHeaders printed over lines", "[HTTP] rawHeaders: [\n  'Authorization',\n  'Basic dXNlcjpwYXNz'\n]", []string{"basic:dXNlcjpwYXNz"}},
	{"rawHeaders as a JSON array", `[HTTP] raw:["Authorization","Bearer 0123456789abcdef0123","ctlivetoken","` + session + `"]`, []string{"bearer:0123456789abcdef0123", "session:" + session}},
	{"rawHeaders in JSON inside a JSON string", `[HTTP] {"msg":"[\"Authorization\",\"Basic dXNlcjpwYXNz\"]"}`, []string{"basic:dXNlcjpwYXNz"}},
	{"a word after a listed name is not its value", "[fn] roles: ['authorization', 'admin'] granted", nil},
	{"a list of header names alone", "[HTTP] cors: { allowedHeaders: [ 'Content-Type', 'Authorization', 'ctlivetoken', 'X-Requested-With' ] }", nil},
	{"a Redis hash field named ct7Token beside a contactID", "[REDIS] hmget([ 'contact:CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c', 'ct7Token', 'CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c' ])", nil},
	{"a header as a HAR name/value object", `[HTTP] {"header":[{"key":"Authorization","value":"Basic dXNlcjpwYXNz","type":"text"},{"key":"ctlivetoken","value":"` + session + `"}]}`, []string{"basic:dXNlcjpwYXNz", "session:" + session}},
	{"a header as undici prints it", "[HTTP] Headers { 'authorization' => { name: 'Authorization', value: 'Basic dXNlcjpwYXNz' } }", []string{"basic:dXNlcjpwYXNz"}},
	{"a list of pairs", "[HTTP] entries: [ [ 'authorization', [ 'Basic dXNlcjpwYXNz' ] ], [ 'ctlivetoken', [ '" + session + "' ] ] ]", []string{"basic:dXNlcjpwYXNz", "session:" + session}},
	{"rawHeaders indented deep", "[HTTP] {\n" + strings.Repeat(" ", 18) + "\"rawHeaders\": [\n" + strings.Repeat(" ", 20) + "\"Authorization\",\r\n" + strings.Repeat(" ", 20) + "\"Basic dXNlcjpwYXNz\"\n]}", []string{"basic:dXNlcjpwYXNz"}},
	{"mixed quotes", `[HTTP] [ "Authorization", 'Basic dXNlcjpwYXNz' ]`, []string{"basic:dXNlcjpwYXNz"}},
	{"a WebSocket subprotocol", "[socketIO] Sec-WebSocket-Protocol: ctlivetoken, " + session, []string{"session:" + session}},
	{"MongoDB's UUID constructor", `[MONGODB] E11000 dup key: { sessionId: UUID("` + session + `") }`, []string{"session:" + session}},
	{"names and values apart from a pair", "[fn] ['Authorization'] ['Basic x'] and 'session', then " + session + "x", nil},
	{"password=", "[fn] login user=jdoe password=hunter2&next=1", []string{"password:hunter2"}},
	{"quoted password with a space", `[fn] {"password": "hunter 2", "user":"x"}`, []string{"password:hunter 2"}},
	{"a label ending in password", "[MONGODB] db_password: s3cr3t", []string{"password:s3cr3t"}},
	{"passwd, pwd and secret", "[fn] passwd=a pwd='b c' client_secret=d userPassword:e", []string{"password:a", "password:b c", "password:d", "password:e"}},
	{"JSON escaped inside a JSON string", `[fn] body:"{\"password\":\"p@ss\",\"n\":1}"`, []string{"password:p@ss"}},
	{"api keys are tokens", "[fn] api_key=k1k2k3k4k5k6k7k8 apiKey: 0123456789abcdef", []string{"token:k1k2k3k4k5k6k7k8", "token:0123456789abcdef"}},
	{"a short token is redacted, not digested", "[fn] otp_token=483920 api_key=k1k2", []string{"password:483920", "password:k1k2"}},
	{"a short ct7Token is still the contract's token", "[fn] ct7Token=abc123", []string{"token:abc123"}},
	{"a short Authorization value without a scheme", "[HTTP] Authorization: hunter2", []string{"basic:hunter2"}},
	{"a tab after the scheme", "[HTTP] Authorization:\tBasic\tdXNlcjpwYXNz", []string{"basic:dXNlcjpwYXNz"}},
	{"a tab after Bearer", "[HTTP] sending Bearer\t0123456789abcdef0123", []string{"bearer:0123456789abcdef0123"}},
	{"a JSON escape before a session", `[fn] msg:"hello\nsession ` + session + `"`, []string{"session:" + session}},
	{"a JSON escape before Authorization", `[fn] hdrs:"Host: h\r\nAuthorization: Basic dXNlcjpwYXNz"`, []string{"basic:dXNlcjpwYXNz"}},
	{"a JSON escape before a JWT", `[fn] x data:{"text":"hi\n` + jwt + `"}`, []string{"jwt:" + jwt}},
	{"a unicode escape before a session", `[fn] m:"\u0020session ` + session + `"`, []string{"session:" + session}},
	{"an escaped JSON sessionId", `[fn] body:"{\"sessionId\":\"` + session + `\"}"`, []string{"session:" + session}},
	{"session_id is a session", "[fn] GET /x?session_id=" + session, []string{"session:" + session}},
	{"jsessionid is a session", "[fn] GET /x;jsessionid=" + session + " 200", []string{"session:" + session}},
	{"a camelCase session key in JSON", `[fn] data:{"userSessionId":"` + session + `"}`, []string{"session:" + session}},
	{"JSESSIONID in a cookie", "[HTTP] Cookie: JSESSIONID=" + session + "; path=/", []string{"session:" + session}},
	{"a session object's id", `[fn] data:{"session":{"id":"` + session + `"}}`, []string{"session:" + session}},
	{"a session object's id, JavaScript", "[fn] data: { session: { id: '" + session + "' } }", []string{"session:" + session}},
	{"a session object's id inside a JSON string", `[fn] body:"{\"session\":{\"id\":\"` + session + `\"}}"`, []string{"session:" + session}},
	{"a session object's id, tabs around its brace", "[fn] data: { session:\t{\tid: '" + session + "' } }", []string{"session:" + session}},
	{"a session object's id past four blanks is no session", "[fn] data: { session:     { id: '" + session + "' } }", nil},
	{"another object's id is no session", `[fn] data:{"user":{"id":"` + session + `"}}`, nil},
	{"an object's id after a quoted word that is not session", `[fn] data:{"sessions!":{"id":"` + session + `"}}`, nil},
	{"Session-Id is a session", "[HTTP] Session-Id: " + session, []string{"session:" + session}},
	{"a number labelled password, in JSON", `[fn] body:{"pin_password":4711,"x":1}`, []string{"password:4711"}},
	{"an array labelled password", `[fn] body:{"password":["x"]}`, []string{"password:[\"x\"]"}},
	{"a short token is judged without its final punctuation", `[fn] otp_token=483920!!!!!!!!!! x-auth-token: hunter2???????????? Authorization: 483920!!!!!!!!!!!!`, []string{"password:483920!!!!!!!!!!", "password:hunter2????????????", "basic:483920!!!!!!!!!!!!"}}, // [redacted] whole: no digest of a short value, no punctuation left
	{"a token that ends a sentence", `[fn] ct7Token: TKa1b2c3d4e5f6g7h8i9. Bearer toka1b2c3d4e5f6g7h8i9! done`, []string{"token:TKa1b2c3d4e5f6g7h8i9", "bearer:toka1b2c3d4e5f6g7h8i9"}},
	{"a password in brackets that is not JSON", `[fn] password:[hunter2] next`, []string{"password:[hunter2]"}},
	{"a cut JSON password", `[fn] password:{"a":"hunter2"`, []string{`password:{"a":"hunter2"`}},
	{"a password array with a number JSON does not allow", `[fn] password:["hunter2",01] x`, []string{`password:["hunter2",01]`}},
	{"a password array nested past 10,000 levels", `[fn] password:` + strings.Repeat("[", 10001) + `"hunter2"` + strings.Repeat("]", 10001), []string{"password:" + strings.Repeat("[", 10001) + `"hunter2"` + strings.Repeat("]", 10001)}},
	// Attacker review: the value in an array, a Digest's every parameter, header names.
	{"Authorization in a JSON array", `[HTTP] headers:{"authorization":["Basic dXNlcjpwYXNz"]}`, []string{"basic:dXNlcjpwYXNz"}},
	{"Authorization: followed by an array", `[HTTP] Authorization: ["Basic dXNlcjpwYXNz"]`, []string{"basic:dXNlcjpwYXNz"}},
	{"a JS object's Authorization array", `[HTTP] { authorization: [ 'Basic dXNlcjpwYXNz' ] }`, []string{"basic:dXNlcjpwYXNz"}},
	{"authorization before a tenant token is no credential", "[HTTP] authorization [AGM] failed", nil},
	{"Digest: every parameter", `[HTTP] Authorization: Digest username="u", realm="r", response="6629fae49393a05397450978507c4ef1" next`,
		[]string{`basic:username="u", realm="r", response="6629fae49393a05397450978507c4ef1"`}},
	{"Digest inside a JSON string", `[HTTP] h:"Authorization: Digest username=\"u\", response=\"6629fae4\""`,
		[]string{`basic:username=\"u\", response=\"6629fae4\"`}},
	{"X-Api-Key", "[HTTP] x-api-key: c7t-5e6f7a8b9c0d1e2f3a4b", []string{"token:c7t-5e6f7a8b9c0d1e2f3a4b"}},
	{"X-Auth-Token in JSON", `[HTTP] h:{"X-Auth-Token":"c7t-5e6f7a8b9c0d1e2f3a4b"}`, []string{"token:c7t-5e6f7a8b9c0d1e2f3a4b"}},
	{"a URL's password", "[HTTP] [AGM] newContact url:https://admin:S3cretPw99@server1/ctLiveService", []string{"password:S3cretPw99"}},
	{"a URL's password holding an @", "[MONGODB] connect mongodb://ctlive:p@ss:w0rd@db:27017/ctlive", []string{"password:p@ss:w0rd"}},
	{"a URL with a user and no password", "[HTTP] GET https://admin@server1/x", nil},
	{"an e-mail address after a scheme is no password", "[HTTP] mailto://jdoe@example.com", nil},
	{"ct7Token =>", "[HTTP] ct7Token => c7t-5e6f7a8b9c0d1e2f3a4b", []string{"token:c7t-5e6f7a8b9c0d1e2f3a4b"}},
	{"ct7Token - value", "[HTTP] ct7Token - c7t-5e6f7a8b9c0d1e2f3a4b", []string{"token:c7t-5e6f7a8b9c0d1e2f3a4b"}},
	{"ct7Token in an encoded query", "[HTTP] GET /cb?a=1&ct7Token%3Dc7t-5e6f7a8b9c0d1e2f3a4b", []string{"token:c7t-5e6f7a8b9c0d1e2f3a4b"}},
	// helper-76's probe in real Fluent Bit: session UUIDs outside the
	// sessionID rule's separators, which the credential rule still takes.
	{"ctlivetoken in an encoded redirect", "[HTTP] GET /login?next=%2Fchat%3Fctlivetoken%3D" + session, []string{"session:" + session}},
	{"ctlivetoken in a redirect encoded twice", "[HTTP] GET /a?r=%252Fchat%253Fctlivetoken%253D" + session + "%2526x", []string{"session:" + session}},
	{"sessionId in an encoded query, lower-case hex", "[HTTP] GET /cb?r=%2fx%3fsessionId%3d" + session, []string{"session:" + session}},
	{"an encoded colon and space after ctlivetoken", "[HTTP] to %2Fa%3Fctlivetoken%3A%20" + session, []string{"session:" + session}},
	{"a plus for a space after ctlivetoken", "[HTTP] GET /a?ctlivetoken+" + session, []string{"session:" + session}},
	{"session and its UUID in tokens of their own", "[socketIO] [session] [" + session + "] refreshed", []string{"session:" + session}},
	{"session token before the UUID", "[socketIO] agent session token [" + session + "] expired", []string{"session:" + session}},
	{"session_key before the UUID", "[socketIO] session_key: " + session, []string{"session:" + session}},
	{"a session in parentheses", "[socketIO] session (" + session + ")", []string{"session:" + session}},
	{"sessions before a UUID", "[socketIO] sessions [" + session + "] purged", []string{"session:" + session}},
	{"sessionKey label", "[socketIO] sessionKey=" + session, []string{"session:" + session}},
	{"express-session's cookie", "[HTTP] Cookie: connect.sid=" + session + "; path=/", []string{"session:" + session}},
	{"an sid label", "[HTTP] SID: " + session, []string{"session:" + session}},
	// helper-77's attack on the above: IDs whose tenant ends in a
	// session word are no sessions, and the forms around them that were
	// still left in clear.
	{"a contactID whose tenant is SID", "[socketIO] newContact room [CHAT_SID_" + session + "]", nil},
	{"a userID whose tenant ends in SESSION", "[socketIO] message from customer [USER_ACME_SESSION_" + session + "] type [TEXT]", nil},
	{"session_id in an encoded query", "[HTTP] GET /login?next=%2Fchat%3Fsession_id%3D" + session, []string{"session:" + session}},
	{"Session-Id with an encoded colon and space", "[HTTP] &Session-Id%3A%20" + session, []string{"session:" + session}},
	{"session_id and a plus", "[HTTP] session_id+" + session, []string{"session:" + session}},
	{"a form's session[id]", "[HTTP] body session[id]=" + session, []string{"session:" + session}},
	{"express-session's signed cookie", "[HTTP] Cookie: connect.sid=s%3A" + session + ".Xk3sig9", []string{"session:" + session}},
	{"express-session's signed cookie decoded", "[HTTP] Cookie: connect.sid=s:" + session + ".Xk3sig9", []string{"session:" + session}},
	{"connect-redis's key", "[REDIS] GET sess:" + session, []string{"session:" + session}},
	{"session in parentheses before its UUID", "[fn] (session) " + session, []string{"session:" + session}},
	{"an arrow after session", "[fn] session -> " + session, []string{"session:" + session}},
	{"a UUID glued to a name word is no session's", "[fn] session token" + session, nil},
	// helper-78's attack on the above.
	{"a message id after an agent login ending in sid", "[socketIO] [messageSeen] seen by agent [USER_sid] id [" + msgID + "]", nil},
	{"a message id after a tenant SESSION", "[deleteMessage] [SESSION] id [" + msgID + "]", nil},
	{"a tenant SID before a UUID token", "[socketIO] [SID] [" + session + "] joined", nil},
	{"a Twilio-like message_sid", "[fn] message_sid: " + session, nil},
	{"a signed cookie after session_id", "[HTTP] Cookie: session_id=s%3A" + session + ".sig", []string{"session:" + session}},
	// helper-79's check of the above.
	{"a message id after a login ending in .sid", "[socketIO] [messageSeen] seen by agent USER_john.sid id [" + msgID + "]", nil},
	{"a message id after the word sid", "[socketIO] [AGM] sid id [" + msgID + "]", nil},
	{"a form's session[id] percent-encoded", "[HTTP] POST /login body session%5Bid%5D=" + session + "&remember=1", []string{"session:" + session}},
	// A credential's label and value inside a URL-encoded query or JSON
	// (a redirect's `next=`, an SSO `state`): the '=' or ':' is an escape.
	{"a password in an encoded query", "[loginAPI] [AGM] redirect url:/sso?next=%2Flogin%3Fuser%3Dbob%26password%3Dhunter2%26x%3D1 done", []string{"password:hunter2"}},
	{"a secret in a query encoded twice", "[loginAPI] [AGM] url:/sso?next=%252Flogin%253Fclient_secret%253Dhunter2%2526x%253D1", []string{"password:hunter2"}},
	{"a password in encoded JSON", "[loginAPI] [AGM] q=%7B%22user%22%3A%22bob%22%2C%22password%22%3A%22hunter2%22%7D", []string{"password:hunter2"}},
	{"an encoded blank before the value", "[loginAPI] [AGM] note=pwd%3A%20hunter2%26y", []string{"password:hunter2"}},
	{"an access token in an encoded query", "[loginAPI] [AGM] cb?next=%2Fhome%3Faccess_token%3Dya29.a0AfH6SMBx3k%26state%3D1", []string{"token:ya29.a0AfH6SMBx3k"}},
	{"an encoded API key keeps its base64 padding", "[loginAPI] [AGM] q=api_key%3DZk39xQ0pL7mN2vB8cR4t%3D%3D&y=2", []string{"token:Zk39xQ0pL7mN2vB8cR4t%3D%3D"}},
	{"an encoded pass value with a contactID is not one", "[loginAPI] [AGM] boarding pass%3D" + cidA + " x", nil},
	{"an encoded question mark after a label is no value", "[loginAPI] [AGM] url:/forgot-password%3Fuser%3Dbob", nil},
	{"a percentage is no label", "[loginAPI] [AGM] discount 50%3D half", nil},
	// helper-93's review of the encoded forms: blanks and quotes between
	// the label and its value, a quoted value holding encoded separators,
	// separators encoded deeper than the label's, pass's own rules.
	{"URLSearchParams of JSON: + before a quoted value", "[loginAPI] [AGM] url:/sso?state=%7B%22user%22%3A+%22bob%22%2C+%22password%22%3A+%22hunter2XQ%22%7D", []string{"password:hunter2XQ"}},
	{"pretty JSON encoded: a line break before the value", "[loginAPI] [AGM] q=%22password%22%3A%0A%20%20%22hunter2XQ%22", []string{"password:hunter2XQ"}},
	{"an encoded quoted value holds encoded blanks", "[loginAPI] [AGM] q=%7B%22password%22%3A%22correct%20horse%20batteryXQ%22%7D", []string{"password:correct%20horse%20batteryXQ"}},
	{"a separator encoded deeper than the label's is the value's", "[loginAPI] [AGM] next=%2Flogin%3Fpassword%3Dp%2526ssXQ%26x%3D1", []string{"password:p%2526ssXQ"}},
	{"encodeURIComponent leaves parentheses", "[loginAPI] [AGM] next=%2Flogin%3Fpassword%3Dhunter(2XQ)%26x%3D1", []string{"password:hunter(2XQ)"}},
	{"single quotes, raw and encoded", "[loginAPI] [AGM] q=%7B'password'%3A%20'hunter2XQ'%7D r=%7B%27pwd%27%3A+%27hunter3XQ%27%7D", []string{"password:hunter2XQ", "password:hunter3XQ"}},
	{"escaped JSON, encoded", "[loginAPI] [AGM] q=%7B%5C%22password%5C%22%3A%5C%22hunter2XQ%5C%22%7D", []string{"password:hunter2XQ"}},
	{"a blank before the encoded colon", "[loginAPI] [AGM] q=%22password%22%20%3A%20%22hunter2XQ%22", []string{"password:hunter2XQ"}},
	{"a pass value refused hides no later label", "[loginAPI] [AGM] url:/sso?next=%2Fcb%3Fpass%3D%2Fchat%2F" + cidA + "%3Fdb_password%3Dhunter2XQ", []string{"password:hunter2XQ"}},
	{"an apostrophe inside an encoded value is the value's", "[loginAPI] [AGM] next=%2Flogin%3Fapi_key%3Dhunter'Zq0268Mk%26x%3D1", []string{"password:hunter'Zq0268Mk"}},
	{"a quote closes a util.inspect string around the URL", "[loginAPI] [AGM] { url: '/sso?next=%2Flogin%3Fpassword%3Dhunter2XQ' }", []string{"password:hunter2XQ"}},
	{"an escaped quote inside an encoded JSON string is the value's", "[loginAPI] [AGM] next=%7B%22refresh_token%22%3A%22correct%20horse%5C%22Zq0028Mk%22%7D", []string{"token:correct%20horse%5C%22Zq0028Mk"}},
	{"a form's blank encoded inside the value is the value's", "[loginAPI] [AGM] next=%2Flogin%3Fuser%3Dbob%26pwd%3Dcorrect%2Bhorse%257CZq0014Mk%26x%3D1", []string{"password:correct%2Bhorse%257CZq0014Mk"}},
	{"a raw blank ends the encoded text", "[loginAPI] [AGM] next=%2Fx%3Fapi_key%253D data:{\"a\":1}", nil},
	{"a raw quote after the separator ends the string it stands in", `[loginAPI] [AGM] data:{"url":"/x?lang=%252Fchat%253Fclient_secret%253D","contactId":"x"}`, nil},
	{"an encoded boarding pass is no credential", "[socketIO] [AGM] text=Boarding+pass%3A+seat+12A+gate+B7&q=Boarding%20pass%3A%20seat%2012A", nil},
	{"an encoded pass that is a boolean is none", "[socketIO] [AGM] q=%7B%22pass%22%3Atrue%7D firstPass%3Dtrue", nil},
	{"a form's blank ends an encoded value before the IDs", "[HTTP] [AGM] GET /api/search?text=reset+my+password%3A+x+" + cidA, []string{"password:x"}},
	// helper-94's review: JavaScript's quotes that encodeURIComponent
	// leaves raw, numbered and dashed repeats, a value starting eyJ that
	// is no JWT, API keys with a UUID; and what must stay.
	{"a raw quote after an encoded colon, the key unquoted", "[loginAPI] [AGM] redirect url:/sso?state=%7B%20user%3A%20'bob'%2C%20password%3A%20'hunter2XQ'%20%7D", []string{"password:hunter2XQ"}},
	{"a raw quote closing a util.inspect string is no value", "[loginAPI] [AGM] { url: '/x?pwd%3D', b: 'y' } {url:'/x?pwd%3D'}", nil},
	{"numbered and dashed repeats", `[loginAPI] [AGM] body: {"new_password1":"hunter2XQ","password_2":"hunter3XQ"} pwd-2=hunter4XQ`, []string{"password:hunter2XQ", "password:hunter3XQ", "password:hunter4XQ"}},
	{"an encoded token value starting eyJ that is no JWT", "[loginAPI] [AGM] next=%2Fcb%3Frefresh_token%3DeyJ1c2VyIjoiYm9iIiwiZXhwIjoxNzAwMDAwMDAwfQ%26x%3D1", []string{"token:eyJ1c2VyIjoiYm9iIiwiZXhwIjoxNzAwMDAwMDAwfQ"}},
	{"an encoded API key with a UUID is one", "[loginAPI] [AGM] next=%2Fcb%3Fapi_key%3Dsk_4f8a3b2c-1d2e-4f3a-8b9c-0d1e2f3a4b5c%26x%3D1", []string{"token:sk_4f8a3b2c-1d2e-4f3a-8b9c-0d1e2f3a4b5c"}},
	{"an encoded value holding a contactID is none", "[loginAPI] [AGM] next=%2Fcb%3Fsecret%3D/chat/" + cidA + "%26x", nil},
	{"glued log tags are no form keys", "[socketIO] [AGM][CT_SECRET]: " + cidA + " [getToken][resetPassword]: started", nil},
	{"a nested key's value naming a contactID is the record's", "[socketIO] [AGM] contact[secret]=" + cidA + " user[password]: [" + cidA + "]", nil},
	{"a bracketed pass count is no form key", "[healthcheck] [AGM] [pass=12, fail=0]", nil},
	{"a repeated password's flags are none", `[loginAPI] [AGM] {"passwordConfirm":true} password_again=false passwordVerification=failed passwordConfirmed=true`, nil},
	// A nested form parameter's last key labels its value (qs, Rails:
	// `user[password]`), as a browser encodes the form too.
	{"a nested form key", "[loginAPI] [AGM] body user[email]=a%40b.c&user[password]=hunter2&x=1", []string{"password:hunter2"}},
	{"a nested form key, brackets encoded", "[loginAPI] [AGM] body user%5Bemail%5D=a%40b.c&user%5Bpassword%5D=hunter2&x=1", []string{"password:hunter2"}},
	{"a nested form key in an encoded query, twice", "[loginAPI] [AGM] q=next%3D%2Fx%26user%255Bpassword%255D%3Dhunter2", []string{"password:hunter2"}},
	{"a nested key of an array's element", "[loginAPI] [AGM] users[0][password]=hunter2", []string{"password:hunter2"}},
	{"a nested form key as an object's key", "[loginAPI] [AGM] { 'user[password]': 'hunter2' }", []string{"password:hunter2"}},
	{"a nested token key", "[loginAPI] [AGM] user[api_key]=Zk39xQ0pL7mN2vB8cR4t", []string{"token:Zk39xQ0pL7mN2vB8cR4t"}},
	{"a bracketed word alone is no form key", "[loginAPI] [AGM] [CT_SECRET]: " + cidA, nil},
	// The same password typed again or changed, under its own label.
	{"a password's confirmation, by its own label", `[http] [AGM] body: {"password":"hunter2x9Q","passwordConfirmation":"hunter2x9R"}`, []string{"password:hunter2x9Q", "password:hunter2x9R"}},
	{"Rails' password_confirmation", "[loginAPI] [AGM] user[password_confirmation]=hunter2x9Q&x=1", []string{"password:hunter2x9Q"}},
	{"a second password field", "[loginAPI] [AGM] { password2: 'hunter2x9Q', pwd_new: 'Zq8!x' }", []string{"password:Zq8!x", "password:hunter2x9Q"}},
	{"a password's other metadata is no credential", "[loginAPI] [AGM] passwordExpiresIn=3600 passwordless=true", nil},
	{"a tenant-shaped SESSION ID token before the UUID", "[socketIO] [AGM] [SESSION ID] [" + session + "]", []string{"session:" + session}},
	// helper-81's attack: a session object's id after other members,
	// a name word or a word of prose before the UUID, and blanks and
	// quotes written outside ASCII.
	{"a session object's id after another member", `[socketIO] [AGM] agentLogin response:{"ok":true,"session":{"agent":"USER_x","id":"` + session + `"}}`, []string{"session:" + session}},
	{"a printed session object's id after another member", "[socketIO] [AGM] agentLogin session: { agent: 'USER_x', id: '" + session + "' }", []string{"session:" + session}},
	{"a session object's id after a nested member", `[socketIO] {"session":{"cookie":{"path":"/"},"id":"` + session + `"}}`, []string{"session:" + session}},
	{"a session object escaped in a JSON string", `[socketIO] r:{"m":"{\"session\":{\"agent\":1,\"id\":\"` + session + `\"}}"}`, []string{"session:" + session}},
	{"util.inspect's Session object", "[socketIO] [AGM] joinContact session: Session { agent: 'USER_x', id: '" + session + "' }", []string{"session:" + session}},
	{"util.inspect's Session object over lines", "[socketIO] [AGM] req.session = Session {\n  cookie: { path: '/', httpOnly: true },\n  agent: 'USER_x',\n  id: '" + session + "'\n}", []string{"session:" + session}},
	{"another object's id after members is a message's", `[socketIO] [AGM] m:{"contact":{"agent":"USER_x","id":"` + msgID + `"}}`, nil},
	{"an id in an array inside a session object is not the session's", `[socketIO] {"session":{"messages":[{"id":"` + msgID + `"}]}}`, nil},
	{"session UUID before the UUID", "[socketIO] [AGM] agentLogin USER_x session UUID: " + session, []string{"session:" + session}},
	{"a sessionUUID label", "[socketIO] [AGM] agentLogin USER_x sessionUUID: " + session, []string{"session:" + session}},
	{"a session_uuid label", "[socketIO] [AGM] agentLogin USER_x session_uuid=" + session, []string{"session:" + session}},
	{"sessionToken before the UUID", "[socketIO] [AGM] agentLogin USER_x sessionToken " + session, []string{"session:" + session}},
	{"a word of prose and a colon after session", "[socketIO] [AGM] agentLogin USER_x session created: " + session, []string{"session:" + session}},
	{"a word of prose and a colon after ctlivetoken", "[socketIO] [AGM] agentLogin USER_x ctlivetoken generated: " + session, []string{"session:" + session}},
	{"ctlivetoken UUID in brackets", "[socketIO] [AGM] agentLogin USER_x ctlivetoken UUID [" + session + "]", []string{"session:" + session}},
	{"a word of prose without a colon is no label", "[socketIO] [AGM] session closed " + msgID, nil},
	{"a no-break space escaped in JSON after session", `[socketIO] [AGM] r:{"msg":"session\u00a0` + session + `"}`, []string{"session:" + session}},
	{"a raw no-break space after session", "[socketIO] [AGM] joinContact session\u00a0" + session, []string{"session:" + session}},
	{"the document's session ID in curly quotes", "[socketIO] [AGM] agentLogin ok, a session ID, \u201c" + session + ",\u201d is returned", []string{"session:" + session}},
	{"a no-break space after Authorization:", "[HTTP] [AGM] joinContact Authorization:\u00a0Basic Y3RsaXZlOmh1bnRlcjI=", []string{"basic:Y3RsaXZlOmh1bnRlcjI="}},
	{"Node's auth option: user and password unencoded", "[CTI] [AGM] newContact request { hostname: 'cti.example', path: '/ctLiveService/contact', auth: 'ctlive:hunter2' }", []string{"password:ctlive:hunter2"}},
	{"Basic credentials under another label", "[CTI] [AGM] newContact headers: { auth: 'Basic Y3RsaXZlOmh1bnRlcjI=' }", []string{"basic:Y3RsaXZlOmh1bnRlcjI="}},
	{"Basic credentials percent-encoded", "[CTI] [AGM] newContact Authorization%3A%20Basic%20Y3RsaXZlOmh1bnRlcjI%3D", []string{"basic:Y3RsaXZlOmh1bnRlcjI"}},
	{"Basic before base64 that is no user and password", "[CTI] [AGM] basic dXNlcm5hbWU= set", nil},
	{"Basic in prose", "[CTI] [AGM] Basic auth enabled for tenant", nil},
	{"an auth option that is no credential", "[CTI] [AGM] request { auth: true, mode: 'jwt' }", nil},
	{"an auth option holding a URL", "[CTI] [AGM] request { auth: 'https://sso.example/login' }", nil},
	{"a secret key label", "[CTI] [AGM] config secretKey: s3cr3tv4lue", []string{"password:s3cr3tv4lue"}},
	{"a SECRET_KEY label", "[CTI] [AGM] env SECRET_KEY=s3cr3tv4lue", []string{"password:s3cr3tv4lue"}},
	{"a jwtSecretKey label in JSON", `[CTI] [AGM] cfg:{"jwtSecretKey":"s3cr3tv4lue"}`, []string{"password:s3cr3tv4lue"}},
	{"a tab after a password label's colon", "[CTI] [AGM] login password:\thunter2", []string{"password:hunter2"}},
	{"a tab after a password label in JSON", "[CTI] [AGM] body:{\"password\":\t\"hunter two\"}", []string{"password:hunter two"}},
	{"a password in backticks", "[CTI] [AGM] login password=`hunter two` done", []string{"password:hunter two"}},
	{"a password in a printed Map", "[HTTP] [AGM] config headers: Map(1) { 'password' => 'hunter2i' }", []string{"password:hunter2i"}},
	// helper-83's review of the above: what the new rules damaged, and
	// their families' other spellings.
	{"a Redis key after auth: is the record's contactID", "[REDIS] Set auth:" + cidA + ":agent in redis db: ,OK,,1", nil},
	{"an auth option holding a user ID", "[CTI] [AGM] request { auth: 'jwt:USER_AGM_" + session + "' }", nil},
	{"an auth option unquoted is no Node option", "[CTI] [AGM] auth=sso:AGM room", nil},
	{"a message ID after session and messageId", "[socketIO] [AGM] joinContact session messageId: " + msgID + " room", nil},
	{"a message ID after session and a word about messages", "[socketIO] [AGM] session lastMessage: " + msgID, nil},
	{"a bracket after a word of prose is no label", "[socketIO] [AGM] session closed [" + msgID + "]", nil},
	{"a no-break space after a word of prose's colon", "[socketIO] [AGM] session created:\u00a0" + session, []string{"session:" + session}},
	{"a curly quote after a word of prose's colon", "[socketIO] [AGM] session returned: \u201c" + session + "\u201d", []string{"session:" + session}},
	{"a no-break space after Basic", "[CTI] [AGM] headers: { auth: 'Basic\u00a0Y3RsaXZlOmh1bnRlcjI=' }", []string{"basic:Y3RsaXZlOmh1bnRlcjI="}},
	{"Basic credentials in quotes", `[CTI] [AGM] header Basic "Y3RsaXZlOmh1bnRlcjI="`, []string{"basic:Y3RsaXZlOmh1bnRlcjI="}},
	{"Basic credentials in UTF-8", "[CTI] [AGM] header Basic Y3RsaXZlOmjDvG50ZXIy", []string{"basic:Y3RsaXZlOmjDvG50ZXIy"}},
	{"a tab before a password label's colon", "[CTI] [AGM] login password\t:\thunter2", []string{"password:hunter2"}},
	// helper-84's review: field damage from the rules above.
	{"AUTH in data is no node-redis dump", `[socketIO] data:["AUTH", args: ["WHATSAPP_TENANT1_` + session + `"]]`, nil},
	{"an event named AUTH and its IDs", "[socketIO] [AGM] event 'AUTH', args: [ 'USER_AGM_" + session + "', '" + cidA + "' ]", nil},
	{"a state named AUTH", "[socketIO] [AGM] state: 'AUTH', args: [ 'pending' ]", nil},
	{"an ID in a failed AUTH's arguments is no password", "[REDIS] ReplyError: { command: 'AUTH', args: [ '" + cidA + "' ] }", nil},
	{"prose in backticks that holds IDs", "[socketIO] [AGM] password: `reset for USER_AGM_" + session + " in room " + cidA + "` id [" + msgID + "]", []string{"password:`reset"}},
	{"a key ending in auth", `[socketIO] [AGM] agent:{"last_auth":"2025-02-27T17:19:20Z","id":"x"}`, nil},
	{"an auth key in JSON is data", `[socketIO] [AGM] msg:{"auth":"required:true"}`, nil},
	{"an x-auth header", "[HTTP] [AGM] headers { 'x-auth': 'sso:google' }", nil},
	{"a noun naming another ID after session", "[endContact] Contact [" + cidA + "] session transcriptId: " + msgID, nil},
	{"a room after session", "[socketIO] [AGM] session room: " + msgID, nil},
	{"a participle after session", "[socketIO] [AGM] session expired: " + session, []string{"session:" + session}},
	// helper-85's review.
	{"an auth option that is a time", "[CTI] [AGM] request { auth: '10:30' }", nil},
	{"an auth option's numeric user", "[CTI] [AGM] request { auth: '10:hunter2' }", []string{"password:10:hunter2"}},
	{"an auth option's password starting with a slash", "[CTI] [AGM] request { auth: 'jdoe:/secret' }", []string{"password:jdoe:/secret"}},
	{"an auth option's password with a slash", "[CTI] [AGM] request { auth: 'ctlive:hunt/er2' }", []string{"password:ctlive:hunt/er2"}},
	{"an auth option in double quotes around a single quote", `[CTI] [AGM] request { auth: "jdoe:hunt'er2" }`, []string{"password:jdoe:hunt'er2"}},
	{"a double-quoted auth value without a single quote is JSON's", `[CTI] [AGM] request { auth: "jdoe:hunter2" }`, nil},
	{"node-redis's failed AUTH", "[REDIS] ReplyError: ERR invalid password\n    at parseError (/app/node_modules/redis-parser/lib/parser.js:179:12) {\n  command: 'AUTH',\n  args: [ 'hunter2' ],\n  code: 'ERR'\n}", []string{"password:hunter2"}},
	{"node-redis's failed AUTH with a user name", "[REDIS] ReplyError: WRONGPASS { command: 'AUTH', args: [ 'default', 'hunter2' ] }", []string{"password:default", "password:hunter2"}},
	{"another command's arguments", "[REDIS] ReplyError: WRONGTYPE { command: 'GET', args: [ 'ctlive:AGM:contact' ] }", nil},
	{"AUTH in prose", "[REDIS] AUTH failed for tenant", nil},
	{"a tenant SESSION_KEY before a UUID token", "[socketIO] [SESSION_KEY] [" + session + "] joined", nil},
	{"sessionIds in JSON inside the line", `[socketIO] [AGM] {"sessionIds":["` + session + `"]}`, []string{"session:" + session}},
	{"a session URN in JSON inside the line", `[socketIO] [AGM] {"sessionId":"urn:uuid:` + session + `"}`, []string{"session:" + session}},
	{"Node's cookies object with connect.sid", "[HTTP] [AGM] cookies { 'connect.sid': 's:" + session + ".Xj2k9f0a8b7c' }", []string{"session:" + session}},
	{"connect.sid as a JSON key inside the line", `[HTTP] [AGM] cookies:{"connect.sid":"` + session + `"}`, []string{"session:" + session}},
	{"a __Host- cookie named sid", "[HTTP] Cookie: __Host-sid=" + session, []string{"session:" + session}},
	{"a signed cookie encoded twice", "[HTTP] GET /a?next=%2Fchat%3Fsid%3Ds%253A" + session + ".sig", []string{"session:" + session}},
	{"an escape that decodes to no separator", "[HTTP] GET /x%3Fsession%2F" + session, nil},
	{"a word between session and a UUID that names nothing", "[fn] session of agent " + session, nil},
	{"sid without a UUID", "[fn] sid 42 done", nil},
	// Attacker re-check.
	{"Digest with blanks around =", `[HTTP] Authorization: Digest username = "u", response = "6629fae4"`,
		[]string{`basic:username = "u", response = "6629fae4"`}},
	{"an AWS signature", "[HTTP] Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250227/us-east-1/s3/aws4_request, Signature=fe5f80f77d5fa3beca038a248ff027d0",
		[]string{"basic:Credential=AKIAEXAMPLE/20250227/us-east-1/s3/aws4_request, Signature=fe5f80f77d5fa3beca038a248ff027d0"}},
	{"a pretty-printed array", "[HTTP] h:{\"authorization\":[\n  \"Basic dXNlcjpwYXNz\"\n]}", []string{"basic:dXNlcjpwYXNz"}},
	{"authorization at the end of a line before a stack frame", "[HTTP] failed authorization\n    at check (auth.js:1:1)", nil},
	{"an AWS signature over several headers", "[HTTP] Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-date, Signature=fe5f80f77d5fa3be",
		[]string{"basic:Credential=AKIAEXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-date, Signature=fe5f80f77d5fa3be"}},
	{"authorization in prose", "[HTTP] [AGM] authorization granted contact=CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c, agent=USER_jdoe", nil},
	{"authorization failed for", "[HTTP] [AGM] authorization failed for jdoe", nil},
	{"a bare authorization before a scheme", "[HTTP] authorization Basic dXNlcjpwYXNz", []string{"basic:dXNlcjpwYXNz"}},
	{"Ruby's =>", `[HTTP] headers {"Authorization"=>"Basic dXNlcjpwYXNz"}`, []string{"basic:dXNlcjpwYXNz"}},
	{"Digest over lines, with an empty element", "[HTTP] Authorization: Digest username=\"u\",,\n  response=\"6629fae4\"\n    at check (auth.js:1:1)",
		// The first line's pass ends the list at its end; the whole text's takes the rest: merged when redacted.
		[]string{"basic:username=\"u\"", "basic:username=\"u\",,\n  response=\"6629fae4\""}},
	{"Digest followed by a stack frame", "[HTTP] Authorization: Digest username=\"u\",\n    at check (auth.js:1:1)", []string{"basic:username=\"u\""}},
	{"a bare token after a comma in Digest", `[HTTP] Authorization: Digest username="u", realm="r", 6629fae49393a05397450978507c4ef1`,
		[]string{`basic:username="u", realm="r", 6629fae49393a05397450978507c4ef1`}},
	{"a bare generated token after authorization", "[HTTP] [AGM] authorization c7t-5e6f7a8b9c0d1e2f3a4b", []string{"bearer:c7t-5e6f7a8b9c0d1e2f3a4b"}},
	{"Azure's SharedKey", "[HTTP] authorization SharedKey acct:c2lnbmF0dXJlMTIz", []string{"basic:acct:c2lnbmF0dXJlMTIz"}},
	{"nested arrays", `[HTTP] h:{"authorization":[["Basic dXNlcjpwYXNz"]]}`, []string{"basic:dXNlcjpwYXNz"}},
	{"ct7Token -- value", "[HTTP] ct7Token -- c7t-5e6f7a8b9c0d1e2f3a4b", []string{"token:c7t-5e6f7a8b9c0d1e2f3a4b"}},
	{"ct7Token tab dash tab", "[HTTP] ct7Token\t-\tc7t-5e6f7a8b9c0d1e2f3a4b", []string{"token:c7t-5e6f7a8b9c0d1e2f3a4b"}},
	{"ct7Token encoded twice", "[HTTP] GET /cb?a=1&ct7Token%253Dc7t-5e6f7a8b9c0d1e2f3a4b", []string{"token:c7t-5e6f7a8b9c0d1e2f3a4b"}},
	{"a secret in a stack frame line", "Error: login failed\n    at check (auth.js:1:1) password=abc", []string{"password:abc"}},
	// Node's own names for credentials that the contract's words miss
	// (stop 27): the AWS SDK's and a Google service account's keys,
	// nodemailer's auth, express-session's cookie, a PEM key anywhere.
	{"the AWS SDK's secretAccessKey", "[s3] config { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' }", []string{"password:wJalrXUtnFEMI/K7MDENG"}},
	{"aws_secret_access_key in JSON", `[s3] cfg:{"aws_secret_access_key":"wJalrXUtnFEMI/K7MDENG","region":"eu-west-1"}`, []string{"password:wJalrXUtnFEMI/K7MDENG"}},
	{"SECRET_KEY_BASE", "[env] SECRET_KEY_BASE=9f8e7d6c5b4a3928 loaded", []string{"password:9f8e7d6c5b4a3928"}},
	{"a service account's private_key", `[fcm] cred:{"private_key_id":"a1b2c3","private_key":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"}`,
		[]string{`password:-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n`, `password:\nMIIE\n`}},
	{"nodemailer's auth.pass", "[smtp] transport { host: 'smtp.example.com', auth: { user: 'bot@example.com', pass: 'Sm7pP4ss!' } }", []string{"password:Sm7pP4ss!"}},
	{"DB_PASS and smtpPass", "[env] DB_PASS=hunter2 smtpPass: 'hunter3' --pass=hunter4", []string{"password:hunter2", "password:hunter3", "password:hunter4"}},
	{"a form body's pass", `[HTTP] body:{"raw":"pass=hunter2&user=bob"} ;pass=hunter3 \"pass\":\"hunter4\"`, []string{"password:hunter2", "password:hunter3", "password:hunter4"}},
	{"a passphrase", "[ssh] key_passphrase: correcthorse", []string{"password:correcthorse"}},
	{"a pass phrase and a key's PEM", "[ssh] PASS_PHRASE=correcthorse privateKeyPem: 'k3y'", []string{"password:correcthorse", "password:k3y"}},
	{"express-session's cookie", "[HTTP] Cookie: connect.sid=s%3AAbCdEfGhIjKlMnOp.QrStUvWxYz0123; theme=dark", []string{"token:s%3AAbCdEfGhIjKlMnOp.QrStUvWxYz0123"}},
	{"express-session's cookie in JSON", `[HTTP] cookies:{"connect.sid":"s:AbCdEfGhIjKlMnOp.QrStUvWxYz0123"}`, []string{"token:s:AbCdEfGhIjKlMnOp.QrStUvWxYz0123"}},
	{"a PEM private key's body in a JSON string", `[fcm] loaded {"k":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n"}`,
		[]string{`password:\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n`}},
	// helper-88: util.inspect joins a long string's lines with `' +`; a
	// key's armours without a label that names it; an encrypted key's
	// headers; PGP's armour; an escaped quote ends a key in chat text.
	{"a PEM key as util.inspect prints it", "[firebase] [AGM] cert {\n  privateKey: '-----BEGIN PRIVATE KEY-----\\n' +\n    '" + pem1 + "\\n' +\n    '" + pem2 + "\\n' +\n    '-----END PRIVATE KEY-----\\n'\n}",
		[]string{"password:-----BEGIN PRIVATE KEY-----\\n", "password:\\n' +\n    '" + pem1 + "\\n' +\n    '" + pem2 + "\\n' +\n    '"}},
	{"a PEM key under a label that names no secret", "[auth] [AGM] jwt { email: 'e@x.com', key: '-----BEGIN PRIVATE KEY-----\\n' +\n    '" + pem1 + "\\n' +\n    '-----END PRIVATE KEY-----\\n' }",
		[]string{"password:\\n' +\n    '" + pem1 + "\\n' +\n    '"}},
	{"an encrypted PEM key's headers", "[ssh] key=-----BEGIN RSA PRIVATE KEY-----\\nProc-Type: 4,ENCRYPTED\\nDEK-Info: AES-128-CBC,0123ABCD\\n\\n" + pem1 + "\\n-----END RSA PRIVATE KEY-----",
		[]string{"password:\\nProc-Type: 4,ENCRYPTED\\nDEK-Info: AES-128-CBC,0123ABCD\\n\\n" + pem1 + "\\n"}},
	{"a PGP private key block", "[pgp] -----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + pem1 + "\n-----END PGP PRIVATE KEY BLOCK-----", []string{"password:\n\n" + pem1 + "\n"}},
	{"a PEM key cut short in util.inspect's joins", "[fcm] {\n  key: '-----BEGIN PRIVATE KEY-----\\n' +\n    '" + pem1 + "\\n' +\n    '" + pem2 + "\\n' +\n    'MIIC'... 704 more characters\n}",
		[]string{"password:\\n' +\n    '" + pem1 + "\\n' +\n    '" + pem2}},
	{"a PEM key's lines in an array", "[fcm] loaded key [\n  '-----BEGIN PRIVATE KEY-----',\n  '" + pem1 + "',\n  '" + pem2 + "',\n  '-----END PRIVATE KEY-----'\n]",
		[]string{"password:',\n  '" + pem1 + "',\n  '" + pem2 + "',\n  '"}},
	{"an environment's PASS", "[env] PASS=hunter2 USER=bob", []string{"password:hunter2"}},
	// helper-90: an encrypted key's header takes one word; an ID or a
	// UUID inside a new label's value keeps it data; signed session
	// cookies under other names; logfmt and compound pass labels.
	{"an encrypted key flattened to one line", "[ssh] key=-----BEGIN RSA PRIVATE KEY----- Proc-Type: 4,ENCRYPTED DEK-Info: AES-128-CBC,0123ABCD  " + pem1 + " " + pem2 + " -----END RSA PRIVATE KEY-----",
		[]string{"password: Proc-Type: 4,ENCRYPTED DEK-Info: AES-128-CBC,0123ABCD  " + pem1 + " " + pem2 + " "}},
	{"text after a key's header is no key", "[ssh] -----BEGIN RSA PRIVATE KEY----- " + pem1 + " Proc-Type: 4,ENCRYPTED rejected for session " + session + " room [CHAT_AGM_" + session + "] -----END RSA PRIVATE KEY-----",
		[]string{"password: " + pem1, "session:" + session}},
	{"express-session's cookie under other names", "[HTTP] Cookie: sessionId=s%3AaBcDeFgHiJkLmNoPqRsTuVwXyZ012345.Kx9Zq1w2E3r4T5y6U7i8; __Host-sid=s:aBcDeFgHiJkLmNoPqRs.Kx9Zq1w2E3r4T5y6U7",
		[]string{"token:s%3AaBcDeFgHiJkLmNoPqRsTuVwXyZ012345.Kx9Zq1w2E3r4T5y6U7i8", "token:s:aBcDeFgHiJkLmNoPqRs.Kx9Zq1w2E3r4T5y6U7"}},
	{"logfmt and compound pass labels", `[smtp] level=info msg="smtp login" user=bob pass=hunter2 db_pass=hunter3 smtp.pass=hunter4`,
		[]string{"password:hunter2", "password:hunter3", "password:hunter4"}},
	{"jsonwebtoken's secretOrPublicKey", "[jwt] verify { secretOrPublicKey: 'ctliveSharedSecret' }", []string{"password:ctliveSharedSecret"}},
	{"text between two armours is no key", "[firebase] -----BEGIN PRIVATE KEY----- rejected for session " + session + ": -----END PRIVATE KEY----- x", []string{"session:" + session}},
	{"a PEM key cut short: its long lines", "[fcm] key -----BEGIN PRIVATE KEY----- " + pem1 + " " + pem2 + " MIIC", []string{"password: " + pem1 + " " + pem2}},
	{"an escaped quote ends a key in chat text", `[socketIO] data:{"text":"my key: -----BEGIN PRIVATE KEY----- ` + pem1 + ` \"is that right?\" asked","n":1}`, []string{"password: " + pem1}},
	{"a query string's pass", "[HTTP] GET /login?user=bob&pass=hunter2 302", []string{"password:hunter2"}},
	{"express-session's cookie encoded twice, a CTLive session inside", "[HTTP] Cookie: connect.sid=s%253A" + session + ".Kx9ZqTsig", []string{"session:" + session}},
	{"an OPENSSH private key over lines", "[ssh] key -----BEGIN OPENSSH PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END OPENSSH PRIVATE KEY-----",
		[]string{"password:\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"}},

	{"the word password alone", "[fn] the password is wrong", nil},
	{"bearer in a sentence", "[fn] I am the bearer of bad news", nil},
	{"basic without Authorization", "[fn] basic plan dXNlcjpwYXNz", nil},
	{"a short word starting eyJ", "[fn] eyJunk.x.y", nil},
	{"a structured value labelled password is redacted whole", `[fn] password:{"policy":"x"}`, []string{`password:{"policy":"x"}`}},
	{"an empty value", "[fn] password=&next=1", nil},
	{"a bare UUID", "[fn] x " + session, nil},
	{"pass inside a word", "[fn] bypass: true compass: north SURPASS: x", nil},
	{"a private key's id", `[fcm] cred:{"private_key_id":"a1b2c3d4e5f6"}`, nil},
	{"an access key's id", "[s3] accessKeyId: 'AKIAIOSFODNN7EXAMPLE'", nil},
	{"a PEM armour without a body", "[ssh] expected -----BEGIN RSA PRIVATE KEY----- header, got nothing", nil},
	{"a public key", "[ssh] -----BEGIN PUBLIC KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PUBLIC KEY-----", nil},
	{"a cookie named sid alone", "[HTTP] Cookie: sid=AbCdEfGhIjKlMnOpQrSt", nil},
	{"prose about a PEM header, then an ID", "[firebase] -----BEGIN PRIVATE KEY----- not found in the configured key file for contact CHAT_AGM_" + session, nil},
	{"pass as a word of chat text", `[socketIO] data:{"text":"Boarding pass: seat 12A, gate B4. Does the Pass: cover parking?"}`, nil},
	{"pass before a contactID", "[socketIO] second pass: CHAT_AGM_" + session + " moved to queue", nil},
	{"pass flags", `[health] pass=true byPass: true skipPass=1 isPass=0 {"pass":true}`, nil},
	// helper-89: the new labels are common words; their values are data
	// unless they look like the credential.
	{"an ID in brackets after a pass label", "[routing] secondPass: [CHAT_AGM_" + session + "] assigned, firstPass=(USER_bob) privateKey: CHAT_AGM_" + session, nil},
	{"a payload under a pass label", `[bot] [AGM] boarding_pass:{"seat":"12A"} state:{"firstPass":["x"],"privateKey":null,"canPass":"yes"}`, nil},
	{"an ID inside a new label's quoted value", `[routing] secondPass: '[CHAT_AGM_` + session + `]' {"firstPass":"[USER_bob]"} passphrase: room=CHAT_AGM_` + session + ` joined`, nil},
	{"a UUID with words in a new label's value", "[fn] private_key: id=" + session + " passphrase: session=" + session, []string{"session:" + session}},
	// helper-91: chat text's quote left open runs to the next quote.
	{"a quote left open after pass in chat text", `[whatsappWebhook] [AGM] Incoming message data:{"text":"my boarding pass: 'B7, I am at the gate now"} for contact [WHATSAPP_AGM_` + session + `] reply:{"text":"we're on it"}`, nil},
	{"a double quote left open after pass", `[messengerWebhook] [AGM] Boarding pass: "Incoming message id [m_CH88] for contact [MESSENGER_AGM_` + session + `] data:{"optionId":1}`, nil},
	{"pass in prose", `[bot] second_pass: 3 of 5 agents healthcheck_pass=ok ticketPass: "ok" data:{"text":"You shall not pass: \"Gandalf\""}`, nil},
	{"a cookie value express-session did not sign", "[HTTP] connect.sid: undefined for CHAT_AGM_" + session + " connect.sid=USER_bob", nil},
}

func TestParseFindsCredentials(t *testing.T) {
	p := New(Options{})
	for _, tc := range secretCases {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			p.Parse([]byte(tc.line), &r)
			if g, want := found(r.Secrets), sorted(tc.want); !reflect.DeepEqual(g, want) {
				t.Errorf("line %q\n got %q\nwant %q", tc.line, g, want)
			}
		})
	}
}

// FindSecrets sees the same credentials in any text as Parse does in a
// line (but for the multi-line case, which is Parse's own).
func TestFindSecretsAgreesWithParse(t *testing.T) {
	for _, tc := range secretCases {
		if strings.Contains(tc.line, "\n") {
			continue
		}
		if g, want := found(FindSecrets([]byte(tc.line), nil)), sorted(tc.want); !reflect.DeepEqual(g, want) {
			t.Errorf("FindSecrets(%q)\n got %q\nwant %q", tc.line, g, tc.want)
		}
	}
}

func TestCredentialsAreFoundInLinesThatAreNotShaped(t *testing.T) {
	var r Result
	New(Options{}).Parse([]byte("curl -H 'Authorization: Bearer "+jwt+"'"), &r)
	if r.Shaped() {
		t.Fatalf("line became CTLive-shaped: %+v", got(&r))
	}
	if len(r.Secrets) == 0 {
		t.Fatal("a JWT in a line that is not CTLive-shaped was not found")
	}
}

func TestSecretKindsSayHowTheyLeave(t *testing.T) {
	for k, name := range secretKindNames {
		want := k != SecretBasic && k != SecretPassword
		if k.IsToken() != want {
			t.Errorf("%s.IsToken() = %v, want %v", name, k.IsToken(), want)
		}
	}
}

func TestValueSecretsOfARecordKey(t *testing.T) {
	tests := []struct {
		label, value string
		want         []string
	}{
		{"password", "x", []string{"password:x"}},
		{"db_passwd", "p w", []string{"password:p w"}},
		{"clientSecret", "s", []string{"password:s"}},
		{"secretAccessKey", "wJalrXUtnFEMI", []string{"password:wJalrXUtnFEMI"}},
		{"SECRET_KEY_BASE", "9f8e7d", []string{"password:9f8e7d"}},
		{"private_key", "-----BEGIN PRIVATE KEY-----", []string{"password:-----BEGIN PRIVATE KEY-----"}},
		{"pass", "Sm7pP4ss!", []string{"password:Sm7pP4ss!"}},
		{"passphrase", "correct horse", []string{"password:correct horse"}},
		{"password_confirmation", "Sm7pP4ss!", []string{"password:Sm7pP4ss!"}},
		{"newPassword2", "Sm7pP4ss!", []string{"password:Sm7pP4ss!"}},
		{"passwordExpiresAt", "2026-01-01", nil},
		{"connect.sid", "s:AbCdEfGh.Ij", []string{"token:s:AbCdEfGh.Ij"}},
		{"bypass", "true", nil},
		{"private_key_id", "a1b2c3", nil},
		{"ct7Token", "abc", []string{"token:abc"}},
		{"api_key", "k", []string{"token:k"}},
		{"authorization", "Basic dXNlcjpw", []string{"basic:dXNlcjpw"}},
		{"Authorization", "Bearer abc", []string{"bearer:abc"}},
		{"proxy-authorization", "opaque", []string{"bearer:opaque"}},
		{"authorization", "tok0a1b2c3d4e5f6a7b8c9d done", []string{"bearer:tok0a1b2c3d4e5f6a7b8c9d done"}}, // a token is no scheme
		{"authorization", "CustomAuth dXNlcjpwYXNz", []string{"basic:dXNlcjpwYXNz"}},
		{"note", "password=x", []string{"password:x"}},
		{"query", "session_id=" + session, []string{"session:" + session}}, // the label at the value's start
		{"sessionId", session, []string{"session:" + session}},
		{"SESSIONID", session, []string{"session:" + session}},
		{"session", session, []string{"session:" + session}},
		{"x-session-id", session, []string{"session:" + session}},
		{"session_id", session, []string{"session:" + session}},
		{"session.id", session, []string{"session:" + session}},
		{"sessionId", "not-a-uuid", nil},
		{"sessionId", session + "\n", []string{"session:" + session}},
		{"sessionId", `"` + session + `"`, []string{"session:" + session}},
		{"sessionId", "[" + session + "]", []string{"session:" + session}},
		{"sessionId", "urn:uuid:" + session, []string{"session:" + session}},
		{"sessionId", "=" + session + ";", []string{"session:" + session}},
		{"sessionId", ": `" + session + "`,", []string{"session:" + session}},
		{"sessionId", "x " + session, nil},                        // the key names a session; the value is not one alone
		{"agentSession", session, []string{"session:" + session}}, // a suffix, as for password
		{"sessionIdx", session, nil},
		{"jsessionid", session, []string{"session:" + session}},
		{"usersessionid", session, []string{"session:" + session}},
		{"websession", session, []string{"session:" + session}},
		{"sid", session, []string{"session:" + session}},
		{"connect.sid", session, []string{"session:" + session}},
		{"sessionUuid", session, []string{"session:" + session}},
		{"session uuid", session, []string{"session:" + session}},
		{"sessionKey", session, []string{"session:" + session}},
		{"session_key", session, []string{"session:" + session}},
		{"sessions", session, []string{"session:" + session}},
		{"sessionIds", session, []string{"session:" + session}},
		{"session_ids", session, []string{"session:" + session}},
		{"sessionCookie", session, []string{"session:" + session}},
		{"session key", session, []string{"session:" + session}},
		{"sess", session, []string{"session:" + session}},
		{"assess", session, nil},
		{"message_sid", session, nil},
		{"connect.sid", "s:" + session + ".Xj2k9f0a8b7c6d5e", []string{"session:" + session}},
		{"connect.sid", "s:" + session, []string{"session:" + session}},
		{"connect.sid", "s:" + session + "x", nil},
		{"sid", "s%3A" + session + ".Xj2k9f0a8b7c6d5e", []string{"session:" + session}},
		{"rsid", session, nil},   // not the word sid
		{"monkey", session, nil}, // key after no session
		{"sessionKeys", session, []string{"session:" + session}},
		{"stream", "stdout", nil},
		{"password", "", nil},
	}
	for _, tc := range tests {
		if got, want := found(ValueSecrets([]byte(tc.label), []byte(tc.value), nil)), sorted(tc.want); !reflect.DeepEqual(got, want) {
			t.Errorf("ValueSecrets(%q, %q) = %q, want %q", tc.label, tc.value, got, want)
		}
	}
}

// A run of labels, each inside the value of the one before it, is where
// the parser used to measure the rest of the line again from every label
// (quadratic: a 64 KB line of `pwd=` took 16 s). Every label still gives
// its credential, the same one as before: the run from it to the run's
// end. BenchmarkParseShapes shows the time is linear.
func TestCredentialRunsGiveEveryLabelsValue(t *testing.T) {
	const hdr = "eyJhbGciOiJub25l"
	tests := []struct {
		name string
		line string
		want []string
	}{
		{"password labels in a password", "[fn] pwd=pwd=pwd=x y", []string{"password:pwd=pwd=x", "password:pwd=x", "password:x"}},
		{"token labels in a token", "[fn] ct7token=ct7token=abc y", []string{"token:ct7token=abc", "token:abc"}},
		{"authorization in an authorization", "[fn] authorization=authorization=abc y",
			[]string{"bearer:authorization=abc", "basic:y"}}, // the inner one reads `abc` as a scheme
		{"JWT headers in one base64url run", "[fn] " + hdr + "-eyJ" + hdr + ".eyJ0.sig y",
			[]string{"jwt:" + hdr + "-eyJ" + hdr + ".eyJ0.sig", "jwt:eyJ" + hdr + ".eyJ0.sig"}},
		{"a JWT header too short after a long one", "[fn] " + hdr + "-eyJx.eyJ0.sig y", []string{"jwt:" + hdr + "-eyJx.eyJ0.sig"}},
	}
	p := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			p.Parse([]byte(tc.line), &r)
			if got := found(r.Secrets); !reflect.DeepEqual(got, sorted(tc.want)) {
				t.Errorf("got %q\nwant %q", got, sorted(tc.want))
			}
		})
	}
}

func TestJSONValuesThatAreNotStringsAreMarked(t *testing.T) {
	var r Result
	New(Options{}).Parse([]byte(`[fn] body:{"pin_password":4711,"password":"s3cr3t-pw","pwd":["x"]}`), &r)
	got := map[string]bool{}
	for _, sec := range r.Secrets {
		got[string(sec.Text)] = sec.JSON
	}
	want := map[string]bool{"4711": true, "s3cr3t-pw": false, `["x"]`: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON marks %v, want %v", got, want)
	}
}

func TestSessionAcrossALineBreakIsFound(t *testing.T) {
	var r Result
	New(Options{}).Parse([]byte("[auth] Error: expired session\n"+session+"\n    at check (a.js:1:1)"), &r)
	if g := found(r.Secrets); !reflect.DeepEqual(g, []string{"session:" + session}) {
		t.Errorf("secrets %q", g)
	}
}

func TestTooManySecretsIsFlagged(t *testing.T) {
	var r Result
	line := "[fn] " + strings.Repeat("pwd=x ", MaxSecrets+10)
	New(Options{}).Parse([]byte(line), &r)
	if !r.TooManySecrets || len(r.Secrets) != MaxSecrets {
		t.Errorf("TooManySecrets %v with %d secrets, want true and %d", r.TooManySecrets, len(r.Secrets), MaxSecrets)
	}
	New(Options{}).Parse([]byte("[fn] pwd=x"), &r)
	if r.TooManySecrets {
		t.Error("the flag survived into the next line")
	}
}

// A compose prefix is looked at for credentials once per prefix the memo
// holds (a JWT as a service name stayed in clear): lines after it with the
// same prefix find it again, lines with another prefix do not inherit it.
func TestServiceNameCredentialsInEveryLine(t *testing.T) {
	const jwtService = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMTIz"
	p := New(Options{})
	var r Result
	for i, tc := range []struct {
		line string
		want int
	}{
		{jwtService + " | 2025-02-27T17:19:20.1Z [HTTP] [AGM] x", 1},
		{jwtService + " | 2025-02-27T17:19:20.2Z [HTTP] [AGM] y", 1},
		{"ctlive_ctlive_1 | 2025-02-27T17:19:20.3Z [HTTP] [AGM] z", 0},
		{"ctlive_ctlive_1 | 2025-02-27T17:19:20.4Z [HTTP] [AGM] z", 0},
		{jwtService + " | 2025-02-27T17:19:20.5Z [HTTP] [AGM] x", 1},
	} {
		p.Parse([]byte(tc.line), &r)
		if len(r.Secrets) != tc.want || tc.want == 1 && string(r.Secrets[0].Text) != jwtService {
			t.Errorf("line %d: %d secrets, want %d", i, len(r.Secrets), tc.want)
		}
	}
}
