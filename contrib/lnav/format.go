// Package lnav writes the lnav (Logfile Navigator) format files for CTLive:
// ctlive_log.json for raw lines as `docker compose logs -t` writes them,
// ctlive_json.json for the JSON lines of the plugin's stdout sink.
//
// The raw format's regular expression is long, so it is built here from
// named parts, each with the contract rule it follows (docs/contract.md, "Fields
// added"); `go generate ./contrib/lnav` writes the files, and a test fails
// when they are stale. lnav 0.11 uses PCRE2: lookaheads, atomic groups,
// branch reset groups and recursion are available, and payloads are
// skipped with a recursive JSON grammar.
package lnav

import (
	"bytes"
	"encoding/json"
	"strings"
)

//go:generate go run ./cmd/genformats

// Components are the contract's names that are never tenants, compared
// exactly (tenant tokens are capitals anyway): CTLive's components, the
// level words and CTLive's message types.
var Components = []string{
	"REDIS", "MONGODB", "MONGO", "DOMAIN", "CT7PROTOCOL", "HTTP", "CTI", "JWT", "API", "SOCKETIO",
	"ERROR", "WARN", "WARNING", "INFO", "DEBUG", "TRACE", "FATAL",
	"TEXT", "IMAGE", "LINK", "MENU", "MENU_RESPONSE", "DOCUMENT", "AUDIO", "VIDEO", "LOCATION", "QUICK_REPLY",
}

// The parts of the raw format's pattern.
const (
	// A compose prefix: a service name, spaces, '|', one space. lnav 0.11
	// removes ANSI escapes (compose's colours) before it matches a line, so
	// none are expected here.
	prefix = `(?:(?<service>[A-Za-z0-9._-]+) +\| )?`

	// RFC 3339 with up to nine fractional digits, Z or an offset.
	timestamp = `(?<timestamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))`

	// What follows the timestamp starts a message unless it is indented or
	// a lone '}' or ']' (parsers.conf's continuation rule, which joins a
	// Node stack, an error's properties and an array to their first line):
	// lnav then appends the line to the message before it, as Fluent Bit's
	// multiline filter does.
	messageStart = ` (?!\s)(?![}\]]\s*$)`

	uuid = `[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`

	// A token's text: neither whitespace nor brackets.
	token = `[^\s\[\]]+`

	// An ID's run starts after no letter, digit or '_'.
	runStart = `(?<![A-Za-z0-9_])`
	// Keywords are whole words: runs of letters and digits.
	wordStart = `(?<![A-Za-z0-9])`
	wordEnd   = `(?![A-Za-z0-9])`

	// A UUID standing alone ends before no letter, digit, '_' or '-'; an
	// ID's UUID may end before anything (the contract bounds IDs only
	// before them).
	aloneEnd = `(?![A-Za-z0-9_-])`

	// What may stand between a context word and its UUID.
	sep = `[ \t\['"` + "`" + `:=]++`

	// lnav compiles patterns with PCRE2_DOTALL and, to show or query a
	// message, matches the pattern against all of its lines: every search
	// below stays on the first line, as the parser's does.
	oneLine = `[^\n]`

	// skip moves the search for IDs and level words over one character, or
	// over a whole payload (`label:{json}`, `label:[json]`, the JSON valid),
	// atomically: nothing inside a payload's value is ever looked at. The
	// message-ID search also steps over "session ID", whose UUID is the
	// session's.
	payload = runStart + `[A-Za-z0-9_]++:(?&json)`
	skip    = `(?>` + payload + `|` + oneLine + `)`

	// JSON (RFC 8259) as a PCRE2 grammar, called by name: possessive
	// throughout, because JSON never needs to backtrack; its whitespace
	// stops at the line's end.
	jsonGrammar = `(?(DEFINE)` +
		`(?<json>\{[ \t\r]*+(?:(?&jstr)[ \t\r]*+:(?&jval)(?:,[ \t\r]*+(?&jstr)[ \t\r]*+:(?&jval))*+)?+\}|\[[ \t\r]*+(?:(?&jval)(?:,(?&jval))*+)?+\])` +
		`(?<jval>[ \t\r]*+(?:(?&jstr)|-?+(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+|true|false|null|(?&json))[ \t\r]*+)` +
		`(?<jstr>"(?:[^"\\\x00-\x1f]++|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*+")` +
		`)`
)

// contactID: the first CHANNEL_TENANT_UUID outside payloads, CHANNEL
// [A-Z][A-Z0-9]* and never USER, TENANT up to the '_' before the UUID.
const contactID = `(?=(?:` + skip + `*?` + runStart +
	`(?<contactID>(?!USER_)(?<channel>[A-Z][A-Z0-9]*)_[A-Za-z0-9_]+_` + uuid + `))?)`

// userID: the first USER_TENANT_UUID (a customer) or USER_ and an agent's
// login (letters, digits and the contract's ._%+-@, without its trailing
// dots), outside payloads.
const userID = `(?=(?:` + skip + `*?` + runStart + `(?<userID>` + userIDForm + `))?)`

// userIDForm is a user ID of either form, from its USER_.
const userIDForm = `USER_(?:[A-Za-z0-9_]+_` + uuid + `|[A-Za-z0-9._%+@-]*[A-Za-z0-9_%+@-](?=\.*+(?![A-Za-z0-9._%+@-])))`

// sessionID: the first UUID standing alone after session, sessionID,
// session ID (any case) or ctlivetoken, outside payloads.
const sessionID = `(?=(?:` + skip + `*?` + wordStart + `(?i:session[ \t]++id|sessionid|session|ctlivetoken)` + wordEnd +
	sep + `(?<sessionID>` + uuid + `)` + aloneEnd + `)?)`

// messageID: the first UUID standing alone after id or messageId that is
// not the sessionID (an unset sessionID never matches the back reference).
const messageID = `(?=(?:(?>` + payload + `|` + wordStart + `(?i:session[ \t]++id)` + wordEnd + `|` + oneLine + `)*?` +
	wordStart + `(?i:messageid|id)` + wordEnd + sep + `(?!\k<sessionID>` + aloneEnd + `)(?<messageID>` + uuid + `)` + aloneEnd + `)?)`

// errorType: the first word ending in Error or Exception right before a
// ':', else the first word starting with Unhandled right before one;
// payloads are not skipped (the contract's exception rule looks at the
// whole first line).
const errorType = `(?=(?|` + oneLine + `*?` + wordStart + `(?<errorType>[A-Za-z0-9]*(?i:error|exception))(?=:)` +
	`|` + oneLine + `*?` + wordStart + `(?<errorType>(?i:unhandled)[A-Za-z0-9]*)(?=:)|))`

// level: an exception (a word ending in Error or Exception right before a
// ':', a word starting with Unhandled, the word exception), else the words
// error, failed, failure outside payloads, else warn, warning outside
// payloads. The first alternative that matches wins, in this order; no
// capture is lnav's info.
const level = `(?=(?|` + oneLine + `*?(?<level>(?i:error|exception)):` +
	`|` + oneLine + `*?` + wordStart + `(?<level>(?i:unhandled))` +
	`|` + oneLine + `*?` + wordStart + `(?<level>(?i:exception))` + wordEnd +
	`|` + skip + `*?` + wordStart + `(?<level>(?i:error|failed|failure))` + wordEnd +
	`|` + skip + `*?` + wordStart + `(?<level>(?i:warning|warn))` + wordEnd +
	`|))`

// tenant: the first leading token after the function's that is capitals,
// digits and '_' with a capital and not a component; else the tenant part
// of the contactID; else of the userID when it is a customer's (the first
// user ID, never a later one).
var tenant = func() string {
	tt := `(?!(?:` + strings.Join(Components, "|") + `)\])[A-Z0-9_]*[A-Z][A-Z0-9_]*`
	return `(?=(?|\[` + token + `\](?: \[(?!` + tt + `\])` + token + `\])*+ \[(?<tenant>` + tt + `)\]` +
		`|` + skip + `*?` + runStart + `(?!USER_)[A-Z][A-Z0-9]*_(?<tenant>[A-Za-z0-9_]+)_` + uuid +
		`|(?:(?!` + runStart + userIDForm + `)` + skip + `)*?` + runStart + `USER_(?<tenant>[A-Za-z0-9_]+)_` + uuid +
		`|))`
}()

// leading: the function (the first leading token) and the other leading
// tokens, which the body (the contract's message) follows.
const leading = `(?:\[(?<function>` + token + `)\](?: \[` + token + `\])*+)?[ \t]*`

// RawPattern is the raw format's one regular expression. The searches are
// lookaheads from the start of the body, so each finds the first match in
// the whole body; the body capture is what follows the leading tokens.
func RawPattern() string {
	return `^` + prefix + timestamp + `(?:$|` + messageStart +
		level + contactID + userID + sessionID + messageID + errorType + tenant +
		leading + `(?<body>.*))` + jsonGrammar
}

// marshal writes v as indented JSON after a comment header (lnav reads
// comments in format files).
func marshal(header string, v any) []byte {
	var b bytes.Buffer
	for _, l := range strings.Split(strings.TrimSpace(header), "\n") {
		b.WriteString(strings.TrimRight("// "+l, " ") + "\n")
	}
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return b.Bytes()
}
