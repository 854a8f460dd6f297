package lnav_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
)

// Lines that CTLive does not write, assembled from the pieces the
// contract's rules are about (tokens, IDs near and far from their context
// words, payloads valid or not, level words inside and outside them), in a
// fixed pseudo-random order: the raw format and the parser must still
// agree, but for the allowed differences.
func TestRawFormatAgreesWithTheParserOnShuffledPieces(t *testing.T) {
	r := rand.New(rand.NewPCG(20250227, 12))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	uuid := func() string {
		u := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<16), r.IntN(1<<16), r.Uint64()&(1<<48-1))
		if r.IntN(8) == 0 {
			u = strings.ToUpper(u)
		}
		return u
	}
	token := func() string {
		return "[" + pick("socketIO", "REDIS", "AGM", "ERROR", "MENU_RESPONSE", "Agm", "T_1", "DEFAULT", "1", "_",
			"API", "QUICK_REPLY", "x y", "", "CHAT_AGM_"+uuid()) + "]"
	}
	piece := func() string {
		switch r.IntN(12) {
		case 0:
			return pick("CHAT", "WHATSAPP", "X1", "USER", "chat") + "_" + pick("AGM", "ACME_EU", "DEFAULT", "a_b", "T1") +
				"_" + uuid() + pick("", "", "x", "_", "-", ".")
		case 1:
			return "USER_" + pick("jdoe@acd.example.com", "a.b.", "first_last@agm.example", "AGM_"+uuid(), "%+@-", "x.")
		case 2:
			return pick("session", "Session ID", "SESSIONID", "sessionId", "ctlivetoken", "session \t id", "xsession") +
				pick(" ", " [", "=", `":"`, ":", "", " `", "=`") + uuid()
		case 3:
			return pick("id", "ID", "messageId", "MessageID", "xid") + pick(" ", " [", "=", "", " `") + uuid()
		case 4:
			return pick("error", "Error:", "TypeError:", "failed", "FAILURE", "warn", "Warning", "warned", "error_code",
				"unhandledX", "Unhandled:", "MyException:", "errors")
		case 5:
			var members []string
			for range r.IntN(3) {
				members = append(members, fmt.Sprintf("%q:%q", pick("a", "session", "text"),
					pick("failed", "CHAT_AGM_"+uuid(), uuid(), "warn", "x")))
			}
			return pick("data", "payload", "x_1") + ":" + pick("{"+strings.Join(members, ",")+"}",
				"["+pick("1", "true", `"session `+uuid()+`"`)+"]", "{bad", `{"a":}`,
				// not JSON, cut short or not: text, as the parser reads a
				// value that does not parse
				`{'t':'} ] x'`, `{ text: 'it\'s', n: [1, {`, `["a" "b"] `, "[`]` x]", `{"s":"\`, "["+uuid()+"]", "[CHAT_AGM_"+uuid()+"]",
				`{"t":"x ] } `, `[{"u":"`, `["a",{"b":[1`, `[ failed`, `{"a":[1}`, `[1, 2)`, `{"t":"x" ] `, `["a"} `)
		case 6:
			return pick("url:https://server1/x?ctlivetoken="+uuid(), "url:", "a:b")
		default:
			return pick("from", "room", "[x]", "to", "agent", "contact", "-", "[TEXT]")
		}
	}
	var records []corpus.Record
	var lines []string
	for i := range 2000 {
		var toks, words []string
		for range r.IntN(5) {
			toks = append(toks, token())
		}
		for range r.IntN(8) {
			words = append(words, piece())
		}
		body := strings.Join(toks, " ")
		if len(words) > 0 {
			body += pick(" ", "  ", "") + strings.Join(words, pick(" ", ", "))
		}
		if body == "" || body[0] == ' ' {
			body = "x" + body // an indented body is a continuation line
		}
		prefix := pick("ctlive  | ", "ctlive-1  | ", "\x1b[36mctlive  |\x1b[0m ", "")
		line := fmt.Sprintf("%s2025-02-27T14:%02d:%02d.%09dZ %s", prefix, i/60%60, i%60, i, body)
		lines = append(lines, line)
		records = append(records, corpus.Record{Line: line})
	}
	l := installed(t)
	compareWithOracle(t, l.query(t, rawQuery, writeLines(t, "shuffled.log", lines)), records)
}
