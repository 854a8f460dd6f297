package hostile

import (
	"bytes"
	"fmt"
)

// A Shape is a kind of log line built to find where a parser is slower
// than linear: one unit, repeated (numbered where the parser would
// otherwise see the same text again) after a CTLive prefix.
type Shape struct {
	Name string
	unit func(i int) string
}

// Prefix starts every shaped line: compose prefix, timestamp, function,
// tenant, event.
const Prefix = "ctlive | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] [AGM] newContact "

// Shapes are the adversarial line shapes: those issue #7 names (labels,
// brackets, UUIDs, `at` frames, `[` runs, long words) and the other
// triggers of the parser's pass (credentials and their labels, IDs,
// colons, escapes, JWTs).
var Shapes = []Shape{
	{"distinct-labels", func(i int) string { return fmt.Sprintf(`l%x:{"a":1} `, i) }},
	{"same-label", func(int) string { return `p:{"a":1} ` }},
	{"brackets", func(int) string { return "[a] " }},
	{"leading-tokens", func(int) string { return "[T] " }}, // after the prefix's tokens: one run
	{"bracket-run", func(int) string { return "[[[[[[[[" }},
	{"unclosed-payloads", func(int) string { return `x:[{"a":[1,` }},
	{"colons", func(int) string { return "a:b:c:d:" }},
	{"uuids", func(i int) string {
		return fmt.Sprintf("session %08x-2fa1-41d2-883f-0016d3cca427 id %08x-1111-4222-8333-944455556666 ", i, i)
	}},
	{"contact-ids", func(i int) string { return fmt.Sprintf("CHAT_AGM_%08x-2fa1-41d2-883f-0016d3cca427 ", i) }},
	{"user-logins", func(i int) string { return fmt.Sprintf("USER_agent%d@example.com ", i) }},
	{"at-frames", func(i int) string { return fmt.Sprintf("\n    at f%d (/app/x.js:%d:7)", i, i) }},
	{"long-word", func(int) string { return "abcdefgh" }},
	{"keyword-prefixes", func(int) string { return "sessio newcontac errorx warnin ct7toke authorizatio bearerx eyJx " }},
	{"password-run", func(int) string { return "pwd=" }},
	{"password-colon-run", func(int) string { return "password:" }},
	{"token-run", func(int) string { return "ct7token=" }},
	{"authorization-run", func(int) string { return "authorization=" }},
	{"bearer-run", func(int) string { return "Bearer Bearer=" }},
	{"quoted-secret-run", func(int) string { return `secret="` }},
	{"jwts", func(i int) string { return fmt.Sprintf("eyJhbGciOiJub25lIn0.eyJ%d.", i) }},
	{"jwt-headers", func(int) string { return "eyJhbGciOiJub25l-" }}, // one base64url run of "eyJ" starts
	{"jwt-parts", func(int) string { return "eyJhbGciOiJub25l.eyJ." }},
	{"underscores", func(int) string { return "A_B_C_D_" }},
	{"ansi", func(int) string { return "\x1b[31mred\x1b[0m " }},
	{"digest-params", func(int) string { return `Authorization: Digest a="b", c = d, e=\"f\", ` }},
	{"digest-quotes", func(int) string { return `Authorization: Digest a="` }},
	{"url-userinfo", func(int) string { return "x://a:b@c:d@" }},
	{"authorization-arrays", func(int) string { return "authorization:[ \n[" }},
	{"token-separators", func(int) string { return "ct7Token -- =>%253D%22 " }},
	{"raw-header-pairs", func(int) string { return `'Authorization', 'ctlivetoken', \"ct7Token\", ` }},
	{"header-objects", func(int) string { return `{"name":"Authorization","value":{ name: 'ct7Token', value: [ [ ` }},
	{"out-of-range-numbers", func(int) string { return `n:{"v":1e999,"w":[-1E+400,"x:[1e999,` }},                                   // json-iterator refuses each: the grammar reader runs
	{"password-brackets", func(int) string { return `password:[pwd:{` }},                                                           // labelled values that are not JSON, in one run without blanks
	{"coloured-sessions", func(int) string { return "session \x1b[1m9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d\x1b[0m\x1b[0m\x1b[0m " }}, // escapes kept after each replacement
	{"escape-broken-passwords", func(int) string { return "\x1b[ \"pwd\":\"Hunter2\x1b[1m\x1b[0m\x1b[0m\x1b[0m\" " }},              // a label an escape breaks, its value found in the line as received only
	{"password-brackets-with-escapes", func(int) string { return "password:[\x1b[0m" }},                                            // overlapping bracket values, each with an escape, found in the line as received
	{"escaped-brackets-then-text", func(i int) string { // 4,000 values with an escape, each running to the line's end
		if i < 4000 {
			return "password:[\x1b[0m"
		}
		return "xxxxxxxx"
	}},
	{"backslashed-labels", func(int) string { return `pwd=\x\\ct7Token=\t` }},                                                // labels glued in one run that backslashes carry on
	{"escapes-ending-in-sessions", func(int) string { return "session \x1b[=ab4e7aff-8627-434a-a2ef-7e200363197e " }},        // each escape's final byte a session's first letter
	{"escaped-colour-sessions", func(int) string { return `session \x1B[33m9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d\x1B[39m ` }}, // colours as util.inspect writes them: decoded, then stripped
	{"json-escape-broken-passwords", func(int) string { return `\u001b[ \"pwd\":\"Hunter2\u001b[1m\u001b[0m\" ` }},           // a label a JSON-escaped escape breaks
	{"brackets-then-escaped-colours", func(i int) string { // 4,000 values running to the line's end over colours written as JSON escapes
		if i < 4000 {
			return "password:["
		}
		return `\u001b[0m`
	}},
	{"generated-authorizations", func(i int) string { return fmt.Sprintf("Authorization: tok%016x0z a=b, c=d, ", i) }}, // each a generated word, then parameters
	{"compound-session-labels", func(i int) string { // each a label with session inside a word, then its UUID
		return fmt.Sprintf("u%djsessionid=%08x-4e5f-4a6b-8c7d-0e1f2a3b4c5d; ", i, i)
	}},
	{"session-objects-and-ids", func(i int) string { // each a session object's id, a session_id and a message id: a secret and candidates each
		return fmt.Sprintf(`{"session":{"id":"%08x-4e5f-4a6b-8c7d-0e1f2a3b4c5d"}} session_id=%08x-1111-4a6b-8c7d-0e1f2a3b4c5d id %08x-2222-4a6b-8c7d-0e1f2a3b4c5d `, i, i, i)
	}},
	{"session-object-members", func(i int) string { // members after members of one session object, each an id: one walk back over them, not one each (helper-83)
		if i == 0 {
			return `{"session":{"a":1`
		}
		return `,"id":1`
	}},
	{"id-members-after-session", func(int) string { return "session {a,id,id" }},                      // `,id` after `,id`, a session word on the line
	{"glued-customer-ids", func(int) string { return "USER_A_9a0a411c-f9c7-4af7-9754-024bf157a3ef" }}, // one login run with a customer ID in every USER_
	{"token-labels-then-punctuation", labelsThen("x_token=", "!!!!!!!!")},                             // every label's value ends in the same run of '!'
	{"ct7token-labels-then-punctuation", labelsThen("ct7Token=", "........")},
	{"unparsed-payloads", func(int) string { return "a:{x} b:[y z] " }},           // values that close but are not JSON: text
	{"bracketed-labels", func(int) string { return "a:[x]b:[y" }},                 // bracketed tokens, and one left open that does not start JSON
	{"cut-quoted-payloads", func(int) string { return `a:{"x":["y\"` }},           // JSON cut short: text, as at the line's end
	{"percent-jwts", func(int) string { return "%3DeyJhbGciOiJub25l.eyJ%22eyJ" }}, // JWT candidates glued after percent-escapes
	{"percents", func(int) string { return "%25%3D%2%eyJ" }},                      // every '%' a trigger of the body pass
	{"pem-armours", func(int) string {
		return "-----BEGIN RSA PRIVATE KEY----- QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZn\\n"
	}}, // each armour's body ends at the next armour's dashes
	{"pem-inspect-joins", func(i int) string { // one armour, then util.inspect's joined lines of a key that never ends
		if i == 0 {
			return "-----BEGIN PRIVATE KEY-----\\n' +\n"
		}
		return "    'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\\n' +\n"
	}},
	{"pem-headers", func(int) string { return "-----BEGIN RSA PRIVATE KEY----- Proc-Type: x " }}, // each header before the next armour (helper-90: was quadratic)
	{"signed-session-cookies", func(int) string { return "sid=s%3Asid=s%3Aaaaaaaaaaaaaaaaa." }},
	{"session-cookies", func(int) string { return "connect.sid=s%3Aconnect.sid=" }},        // one cookie's value holds every later label
	{"compound-pass-run", func(int) string { return "x_pass=" }},                           // one value holds every later label
	{"encoded-labels", func(int) string { return "pwd%3D" }},                               // one encoded value holds every later label
	{"nested-form-keys", func(int) string { return "u[0]%5Bpwd%5D=a[pwd]:" }},              // each key read back a bounded run
	{"encoded-open-quotes", func(int) string { return "%22pwd%22%3A%27x" }},                // each value's closing quote looked for, never found
	{"encoded-escaped-quotes", func(int) string { return "%22pwd%22%3A%22%5C%22" }},        // each value's escaped quotes skipped, no closing one
	{"bracket-chains", func(int) string { return "][pwd][pass]=" }},                        // each key's chain walked back a bounded way
	{"raw-quoted-words", func(int) string { return "pwd%3D'a" }},                           // each value's closing quote looked for
	{"encoded-levels", func(int) string { return "pwd%3Dpwd%253D+" }},                      // labels of both levels inside one another's values
	{"encoded-label-pairs", func(int) string { return "%26password%253Dx%2526secret%3A" }}, // each label's value ends at the next
	{"pass-labels", func(int) string { return `pass:"passphrase=secretAccessKey: ` }},      // the new labels glued
	{"opener-tails", func(int) string { return "Authorization: Bearer (a)b" }},             // closers with text glued after them, no blank
	{"token-openers", func(int) string { return "ct7Token (a)b{c ct7Token=<d" }},
	{"bracketed-tokens", func(int) string { return "ct7Token (a) Bearer <0123456789abcdefg> " }}, // each a token in brackets, digested
	{"nested-labels", func(i int) string { // labels nested 100,000 deep, then closed: each label's value reaches the closers (helper-62)
		if i < 100000 {
			return "a:[1 "
		}
		return "]"
	}},
	{"deep-payload", nil}, // one payload nested size/2 deep
}

// labelsThen is 2,048 labels glued together, then tail for the rest of
// the line: the values of all the labels end in one long run of it.
func labelsThen(label, tail string) func(int) string {
	return func(i int) string {
		if i < 2048 {
			return label
		}
		return tail
	}
}

// Line returns a line of the shape, size bytes long (a last unit may be cut).
func (s Shape) Line(size int) []byte {
	b := bytes.NewBufferString(Prefix)
	if s.unit == nil { // deep-payload
		b.WriteString("p:")
		depth := (size - b.Len()) / 2
		b.Write(bytes.Repeat([]byte{'['}, depth))
		b.Write(bytes.Repeat([]byte{']'}, depth))
		return b.Bytes()[:size]
	}
	if s.Name == "at-frames" {
		b.WriteString("TypeError: x is not a function")
	}
	for i := 0; b.Len() < size; i++ {
		b.WriteString(s.unit(i))
	}
	return b.Bytes()[:size]
}
