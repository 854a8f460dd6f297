package enrich

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/record"
)

// foreign is a tenant name that only the fuzz target writes, inside
// payloads; the fuzzer's own bytes are checked not to hold it.
const foreign = "QXFOREIGNQX"

// FuzzTenantNeverFromAPayload: whatever the text around it, a contact ID,
// a user ID or a tenant token typed into a payload never becomes the
// record's contactID, userID or tenant (contract, "Where IDs and the tenant
// may come from"), and no session ID written in it leaves in clear.
func FuzzTenantNeverFromAPayload(f *testing.F) {
	f.Add("[socketIO]", "message from customer", "room [CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024]", uint8(0))
	f.Add("[CT7PROTOCOL] [TENANT1]", "newContact", "", uint8(1))
	f.Add("", "a:[", "x", uint8(2))
	f.Add("[fn]", "text with [brackets] and url:http://x?y=z", "session ID 11111111-2222-3333-4444-555555555555", uint8(3))
	f.Add("[fn] [AGM]", "x", "y", uint8(8))
	s := MustNew(Defaults())
	f.Fuzz(func(t *testing.T, tokens, before, after string, shape uint8) {
		if bytes.Contains([]byte(tokens+before+after), []byte(foreign)) {
			t.Skip()
		}
		const uuid = "abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
		const session = "ab4e7aff-8627-434a-a2ef-7e200363197e"
		typed := []string{
			"CHAT_" + foreign + "_" + uuid,
			"USER_" + foreign + "_" + uuid,
			"[" + foreign + "] " + "CHAT_" + foreign + "_" + uuid,
			"sessionId: " + session,
		}[shape%4]
		value, _ := json.Marshal(map[string]string{"text": typed}) // the customer's text, as JSON carries it
		if shape&4 != 0 {
			value, _ = json.Marshal([]string{typed})
		}
		if shape&8 != 0 { // valid JSON that does not decode: a number out of float64's range
			value = append(append([]byte(`{"n":-1E+999,"v":`), value...), '}')
		}
		line := tokens + " " + before + " data:" + string(value) + " " + after
		evs, err := s.DecodeChunk(v1(kv{"log", line}), "t")
		if err != nil || len(evs) != 1 {
			t.Fatalf("decode: %v", err)
		}
		ev := evs[0]
		r := &ev.Fields
		for name, v := range map[string][]byte{"tenant": ev.Tenant, "contactID": r.ContactID, "userID": r.UserID, "channel": r.Channel} {
			if bytes.Contains(v, []byte(foreign)) {
				t.Fatalf("%s %q comes from the payload of %q", name, v, line)
			}
		}
		js, _ := record.AppendJSONMembers([]byte{'{'}, ev, "")
		if out := record.AppendMsgpack(nil, ev); bytes.Contains(out, []byte(session)) || bytes.Contains(js, []byte(session)) {
			t.Fatalf("the session of %q left in clear", line)
		}
	})
}

// FuzzPlantedCredentialsNeverLeave: whatever text stands around them, a
// session ID after its context word, the same ID written bare elsewhere
// in the record (an echo), and a ct7Token, planted in the line and in
// another value of the record, leave in no output in clear (contract,
// "Credentials and personal data"). The other values are short or long,
// keys or values, so both the in-place paths and the rewrite are taken.
func FuzzPlantedCredentialsNeverLeave(f *testing.F) {
	f.Add("[socketIO] [AGM]", "stdout", "k", uint8(0))
	f.Add("ctlive  | [HTTP]", "", "", uint8(1))
	f.Add("\x1b[36m[x]\x1b[0m", `\u0073`, "a:b", uint8(2))
	f.Add(`data:{"m":"`, `"}`, "stream", uint8(3))
	f.Add("[HTTP] [AGM] request", "", "http.request.header.authorization", uint8(6))
	f.Add("[socketIO] [AGM]", "stdout", "stream", uint8(15+3))
	const session = "ab4e7aff-8627-434a-a2ef-7e200363197e"
	const token = "c7t-5e6f7a8b9c0d1e2f3a4b"
	s := MustNew(Defaults())
	f.Fuzz(func(t *testing.T, around, other, key string, shape uint8) {
		if len(around)+len(other)+len(key) > 4096 {
			t.Skip()
		}
		planted := []string{
			" session " + session + " ",
			" ct7Token=" + token + " ",
			// Copies glued to what reads as an ID (helper-51: an agent's
			// login runs into what follows it) are replaced too.
			" sessionID: " + session + " again " + session + " USER_x-" + session + " [SESSION_AGM_" + session + "] ",
		}[int(shape)%3]
		line := around + planted + around
		body := kv{"log", line}
		switch shape / 3 % 6 {
		case 1: // the session bare in a short value: an echo of the line's
			body = kv{"log", line, key + "x", other + session}
		case 2: // planted in another value as well
			body = kv{"log", line, key + "y", other + planted + other}
		case 3: // a key of its own
			body = kv{"log", line, key + planted, other}
		case 4: // only in another value: the line holds none
			body = kv{"log", around, key + "z", other + planted + other}
		case 5: // the value of a key that names a session
			body = kv{"log", around, key + "sessionId", session}
		}
		// Twice: the second record of a shape may take the memo's shortcuts,
		// in either map encoding (Fluent Bit's own writes map32 headers).
		entry := v1
		if shape/15%2 == 1 {
			entry = encoded
		}
		evs, err := s.DecodeChunk(append(entry(body), entry(body)...), "t")
		if err != nil || len(evs) != 2 {
			t.Fatalf("decode: %v", err)
		}
		secret := session
		if shape%3 == 1 && shape/3%6 != 5 {
			secret = token
		}
		if shape/3%6 == 1 && shape%3 == 1 {
			return // the bare session echoes nothing of the line: it may stay
		}
		for i, ev := range evs {
			for form, out := range outputs(ev) {
				if bytes.Contains(out, []byte(secret)) {
					t.Fatalf("record %d: %s holds %q in clear for %q: %.400q", i, form, secret, body, out)
				}
			}
		}
	})
}

// FuzzEncodedPasswordNeverLeaves: a password in a URL-encoded query or
// JSON (the '=' or ':' after its label an escape, once or twice encoded)
// or under a form's nested key, whatever text stands around it, leaves in
// no output in clear.
func FuzzEncodedPasswordNeverLeaves(f *testing.F) {
	f.Add("[loginAPI] [AGM] redirect url:/sso?next=", uint8(0))
	f.Add(`data:{"m":"`, uint8(1))
	f.Add("\x1b[36m[x]\x1b[0m %26", uint8(2))
	f.Add("pass: '", uint8(3))
	f.Add("[loginAPI] [AGM] body", uint8(4))
	f.Add("[loginAPI] [AGM] redirect url:/sso?", uint8(5))
	f.Add("{ url: '/x?", uint8(6))
	const password = "hunter2x9Q"
	s := MustNew(Defaults())
	f.Fuzz(func(t *testing.T, around string, shape uint8) {
		if len(around) > 4096 {
			t.Skip()
		}
		planted := []string{
			" %2Flogin%3Fuser%3Dbob%26password%3D" + password + "%26x%3D1 ",
			" %252Flogin%253Fclient_secret%253D" + password + "%2526x ",
			" %7B%22user%22%3A%22bob%22%2C%22pwd%22%3A%22" + password + "%22%7D ",
			" q=db_passwd%3A%20" + password + " ",
			" user%5Bemail%5D=a%40b.c&user%5Bpassword%5D=" + password + "&x=1 ",
			" state=%7B%22user%22%3A+%22bob%22%2C+%22password%22%3A+%22" + password + "%2C%20x%22%7D ",
			" next=%2Flogin%3Fpassword%3D" + password + "%2526x%26y%3D1 ",
		}[shape%7]
		line := around + planted + around
		evs, err := s.DecodeChunk(v1(kv{"log", line}), "t")
		if err != nil || len(evs) != 1 {
			t.Fatalf("decode: %v", err)
		}
		for form, out := range outputs(evs[0]) {
			if bytes.Contains(out, []byte(password)) {
				t.Fatalf("%s holds the password in clear for %q: %.400q", form, line, out)
			}
		}
	})
}

// FuzzFoldIndex: the anchored search finds what a plain search of both
// texts lower-cased finds, at the same place.
func FuzzFoldIndex(f *testing.F) {
	f.Add([]byte("x Ab4E7aff-8627-434A-a2ef-7e200363197E y"), []byte("ab4e7aff-8627-434a-a2ef-7e200363197e"))
	f.Add([]byte("aaaa"), []byte("AA"))
	f.Add([]byte("8-8-8-8"), []byte("8-8"))
	f.Add([]byte(""), []byte("a1"))
	f.Fuzz(func(t *testing.T, b, v []byte) {
		if len(v) == 0 || len(v) > 64 || len(b) > 4096 {
			t.Skip()
		}
		lower := func(x []byte) []byte {
			out := bytes.Clone(x)
			for i, c := range out {
				if 'A' <= c && c <= 'Z' {
					out[i] = c + 'a' - 'A'
				}
			}
			return out
		}
		if got, want := foldIndex(b, v), bytes.Index(lower(b), lower(v)); got != want {
			t.Fatalf("foldIndex(%q, %q) = %d, want %d", b, v, got, want)
		}
	})
}

// FuzzLower8: the eight-bytes-at-once lower-casing is the byte-by-byte one.
func FuzzLower8(f *testing.F) {
	f.Add(uint64(0x4142435a5b40617a))
	f.Add(uint64(0xc1dac0ff41205a00))
	f.Fuzz(func(t *testing.T, k uint64) {
		want := k
		for i := 0; i < 64; i += 8 {
			if c := byte(k >> i); 'A' <= c && c <= 'Z' {
				want |= 0x20 << i
			}
		}
		if got := lower8(k); got != want {
			t.Fatalf("lower8(%#x) = %#x, want %#x", k, got, want)
		}
	})
}

// FuzzEchoIndexCoversEveryEcho: the one-pass lookup (echoIndex) reports a
// span over every place any of its echoes stands, of any length, in its
// own case or, for a session's, in any: it may replace more, never less.
func FuzzEchoIndexCoversEveryEcho(f *testing.F) {
	f.Add([]byte("x pw001 abcdefghij AB4E7AFF-8627 tok"), "pw001|abcdefghij|ab4e7aff-8627|to", uint8(4))
	f.Add([]byte("aaaaaaaaa"), "a|aa|aaaaaaaaa", uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, list string, folds uint8) {
		if len(b) > 4096 || len(list) > 1024 {
			t.Skip()
		}
		var echoes []echo
		for i, e := range strings.Split(list, "|") {
			if e != "" && len(echoes) < 64 {
				echoes = append(echoes, echo{orig: []byte(e), fold: folds>>(i%8)&1 != 0})
			}
		}
		if len(echoes) == 0 {
			return
		}
		var x echoIndex
		x.build(echoes, 0, len(echoes))
		covered := make([]int, len(b)+1) // covered[p]: the end of the longest span reported at p
		x.find(b, func(start, end int, _ bool) bool {
			covered[start] = max(covered[start], end)
			return true
		})
		for _, e := range echoes {
			index := bytes.Index
			if e.fold {
				index = foldIndex
			}
			for i := 0; i+len(e.orig) <= len(b); i++ {
				k := index(b[i:], e.orig)
				if k < 0 {
					break
				}
				at := i + k
				if covered[at] < at+len(e.orig) {
					t.Fatalf("%q at %d in %q: covered to %d only", e.orig, at, b, covered[at])
				}
				i = at
			}
		}
	})
}
