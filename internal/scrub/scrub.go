// Package scrub keeps credentials out of the plugin's own log lines: the
// user information and query values of URLs, the secrets the configuration
// holds, and whatever looks like a credential in a downstream's answer (a
// proxy that echoes request headers would otherwise put the API key in the
// agent's log).
//
// It runs once per log line, never per record: the code favours clarity
// over speed, but every function is linear in its input, and Answer's
// output is bounded by its max.
package scrub

import (
	"errors"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/parser"
)

// Mask replaces what is removed.
const Mask = "***"

// MinSecret is the shortest registered secret that is searched for: a
// shorter string turns up in ordinary text all the time, and masking every
// "ab" would make the log unreadable while protecting nothing a log line
// could reveal about it.
const MinSecret = 4

var registry struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret holding another goes first
}

// Register makes s, and s without surrounding white space, a secret that
// Line and Answer never print. The configuration reader registers every
// secret key's value at start; the registry is process-wide, as a Go
// plugin's instances share one process and one log.
func Register(s string) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, v := range []string{s, strings.TrimSpace(s)} {
		if len(v) >= MinSecret && !slices.Contains(registry.secrets, v) {
			registry.secrets = append(registry.secrets, v)
		}
	}
	slices.SortStableFunc(registry.secrets, func(a, b string) int { return len(b) - len(a) })
}

func registered() []string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	return registry.secrets
}

// URL returns raw with its user information replaced by Mask and every
// query (and fragment) value replaced by Mask, names kept:
// "tcp://u:p@h:1?shared_key=x" becomes "tcp://***@h:1?shared_key=***".
// Whatever the slashes after the scheme, or without one, everything up to
// the last '@' before the query is user information: "//u:p@h",
// "http:/u:p@h", "u:p@h:1" and "http://u:pa/ss@h" all keep only "@h". A
// path holding an '@' is masked up to it too: a log line can do without
// it, but not with half a password.
func URL(raw string) string {
	n := schemeLen(raw)
	return raw[:n] + urlRest(raw[n:])
}

// schemeLen is the length of raw's "scheme:" when a '/' follows it, else 0:
// "u:p@h" starts with its user, not a scheme.
func schemeLen(raw string) int {
	i := 0
	for i < len(raw) && i <= maxScheme && isSchemeByte(raw[i]) {
		i++
	}
	if i == 0 || !isLetter(raw[0]) || i+1 >= len(raw) || raw[i] != ':' || raw[i+1] != '/' {
		return 0
	}
	return i + 1
}

// ParseError is the reason of a url.Parse error without what it quotes:
// url.Error quotes the whole URL (password included), and an EscapeError
// the bad escape, which may be part of the password.
func ParseError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ee url.EscapeError
	if errors.As(err, &ee) {
		return "a bad %-escape (in the user, password or path?)"
	}
	return Line(err.Error())
}

// Line is s, a log line the plugin wrote, without registered secrets, URL
// credentials and query values (of any URL-ish text: "scheme:/", "//host",
// a relative "/path?query", a bare "user:password@host"), HTTP
// authorization tokens (Bearer, Basic, ApiKey), session IDs (a UUID after
// session, sessionID, session ID or ctlivetoken) and JWTs. Line breaks are
// kept: a panic's stack is one entry.
func Line(s string) string {
	return jwts(schemes(sessions(userinfos(relatives(urls(secrets(s, registered())))))))
}

// found masks what the plugin's own credential rules find in s, a
// server's text (parser.FindSecrets: Authorization values of every scheme,
// labelled tokens and passwords, sessions, JWTs, a URL's password), so that
// a log line holds no more than a record would. Past parser.MaxSecrets the
// whole text is masked. Not for the plugin's own messages, which name keys
// (`bearer_token: contains …`).
func found(s string) string {
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	secrets := parser.FindSecrets(b, nil)
	if len(secrets) == 0 {
		return s
	}
	if len(secrets) >= parser.MaxSecrets {
		return Mask
	}
	spans := make([][2]int, 0, len(secrets))
	for _, sec := range secrets {
		at := int(uintptr(unsafe.Pointer(unsafe.SliceData(sec.Text))) - uintptr(unsafe.Pointer(unsafe.StringData(s))))
		if at >= 0 && at+len(sec.Text) <= len(s) && len(sec.Text) > 0 {
			spans = append(spans, [2]int{at, at + len(sec.Text)})
		}
	}
	slices.SortFunc(spans, func(x, y [2]int) int { return x[0] - y[0] })
	var out strings.Builder
	last := 0
	for _, sp := range spans {
		if sp[1] <= last {
			continue // inside one already masked
		}
		if sp[0] < last {
			sp[0] = last
		} else {
			out.WriteString(s[last:sp[0]])
			out.WriteString(Mask)
		}
		last = sp[1]
	}
	out.WriteString(s[last:])
	return out.String()
}

// Answer is what of a downstream's answer may go into a log line:
// everything Line removes and every value labelled like a credential
// (Authorization, Cookie, password, secret, token, api_key, shared_key,
// ctlivetoken, ct7Token, ...) are masked, control characters become spaces
// (a server must not be able to write lines of its own into the agent's
// log), then the text is cut to at most max bytes, plus "..." when cut.
// Scrubbing comes before cutting so that a cut cannot leave half a token
// unmasked.
func Answer(b []byte, max int) string {
	s := strings.ToValidUTF8(strings.TrimSpace(string(b)), "\uFFFD")
	// JSON may escape every '/' (PHP's json_encode does) and write ASCII
	// as \u00XX (Go's writes &, < and > so): undone first, so that an
	// echoed base64 credential or key is one run again.
	s = unescapeASCII(strings.ReplaceAll(s, `\/`, "/"))
	s = controls(labels(Line(found(s)))) // labels first: a header's value ends at its line's end
	s = secrets(s, registered())         // a line break turned into a space must not complete a secret
	return cut(s, max)
}

// secrets replaces every occurrence of each of list.
func secrets(s string, list []string) string {
	for _, v := range list {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return s
}

// rewrite returns s with each span that next finds replaced. next(s, i)
// reports the first span at or after i, [start, end) and its replacement,
// or start < 0 when there is none.
func rewrite(s string, next func(s string, i int) (start, end int, repl string)) string {
	var b strings.Builder
	last := 0
	for last < len(s) {
		start, end, repl := next(s, last)
		if start < 0 {
			break
		}
		b.WriteString(s[last:start])
		b.WriteString(repl)
		last = end
	}
	if b.Len() == 0 && last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// urls scrubs every scheme:/... (any number of slashes) in s as URL does.
func urls(s string) string { return rewrite(s, nextURL) }

func nextURL(s string, i int) (int, int, string) {
	from := i
	for {
		k := strings.Index(s[i:], ":/")
		if k < 0 {
			return -1, 0, ""
		}
		k += i
		i = k + 2
		// The scheme: a letter, then letters, digits, '+', '-' or '.'.
		start := k
		for start > from && k-start < maxScheme && isSchemeByte(s[start-1]) {
			start--
		}
		for start < k && !isLetter(s[start]) {
			start++
		}
		if start == k {
			continue
		}
		end := urlEnd(s, k+2)
		return start, end, s[start:k+1] + urlRest(s[k+1:end])
	}
}

// urlEnd is where the URL-ish text from i ends: at white space, a quote or
// a bracket, less the punctuation that belongs to the sentence around it
// ("to http://h/?q=x: refused").
func urlEnd(s string, i int) int {
	end := i
	for end < len(s) && !endsURL(s[end]) {
		end++
	}
	for end > i && strings.IndexByte(".,:;)!?", s[end-1]) >= 0 {
		end--
	}
	return end
}

// relatives scrubs URLs without a scheme as URL does: a relative
// "/path?query" (a redirect's Location) or a protocol-relative
// "//user:pw@host/…", starting a word.
func relatives(s string) string { return rewrite(s, nextRelative) }

func nextRelative(s string, i int) (int, int, string) {
	for {
		k := strings.IndexByte(s[i:], '/')
		if k < 0 {
			return -1, 0, ""
		}
		k += i
		if k > 0 && !startsURL(s[k-1]) {
			i = k + 1
			continue
		}
		end := urlEnd(s, k)
		i = max(end, k+1)
		if strings.ContainsAny(s[k:end], "?#@") {
			return k, end, urlRest(s[k:end])
		}
	}
}

// startsURL: what may stand before a URL without a scheme; a backslash
// too, as JSON may escape every '/' ("http:\/\/u:pw@h\/x?sig=v").
func startsURL(c byte) bool { return c <= ' ' || strings.IndexByte("\"'`(<[=,\\", c) >= 0 }

// userinfos masks the user information of a bare "user:password@host",
// wherever it stands (a URL whose scheme and slashes were left out or
// already scrubbed): a run of user information characters holding a ':'
// and ending in an '@' that a host follows. An e-mail address has no ':',
// and stays.
func userinfos(s string) string { return rewrite(s, nextUserinfo) }

func nextUserinfo(s string, i int) (int, int, string) {
	for {
		k := strings.IndexByte(s[i:], '@')
		if k < 0 {
			return -1, 0, ""
		}
		k += i
		// The run of user information and '@' around k: every '@' in it
		// has the same start and end, so the run is judged once.
		start := k
		for start > i && (isUserinfoByte(s[start-1]) || s[start-1] == '@') {
			start--
		}
		end, last := k, -1
		for end < len(s) && (isUserinfoByte(s[end]) || s[end] == '@') {
			if s[end] == '@' && end+1 < len(s) && isHostStart(s[end+1]) {
				last = end // the last '@' before a host: the password may hold one
			}
			end++
		}
		i = end
		if last > start && strings.IndexByte(s[start:last], ':') >= 0 {
			return start, last, Mask
		}
	}
}

// wordsFrom yields the bounds of each word of s from i on (see nextWord).
func wordsFrom(s string, i int) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		for {
			start, end := nextWord(s, i)
			if start < 0 || !yield(start, end) {
				return
			}
			i = end
		}
	}
}

// nextWord returns the bounds of the first word (a run of letters) at or
// after i, or -1 when there is none. A letter after a JSON-escaped white
// space starts a word: "\tBasic" holds the word Basic.
func nextWord(s string, i int) (start, end int) {
	for i < len(s) {
		if n := spaceLen(s, i); n > 0 {
			i += n // an escaped "\t" is white space, not a word starting with t
			continue
		}
		if !isLetter(s[i]) || i > 0 && isLetter(s[i-1]) && !afterEscape(s, i) {
			i++
			continue
		}
		end = i
		for end < len(s) && isLetter(s[end]) {
			end++
		}
		return i, end
	}
	return -1, 0
}

// sessions masks a session ID: a UUID after session, sessionID, session_id,
// session ID or ctlivetoken (the contract's rule for the sessionID field),
// separated by spaces, quotes, ':' or '='.
func sessions(s string) string { return rewrite(s, nextSession) }

func nextSession(s string, i int) (int, int, string) {
	for i, w := range wordsFrom(s, i) {
		word := s[i:w]
		switch {
		case strings.EqualFold(word, "ctlivetoken"), strings.EqualFold(word, "session"), strings.EqualFold(word, "sessionid"):
		default:
			continue
		}
		v := w
		if strings.EqualFold(word, "session") {
			// "session_id", "session-id", "session ID"
			if v+3 <= len(s) && (s[v] == '_' || s[v] == '-') && strings.EqualFold(s[v+1:v+3], "id") {
				v += 3
			} else if sp := skipSeparators(s, v); sp > v && sp+2 <= len(s) && strings.EqualFold(s[sp:sp+2], "id") &&
				(sp+2 == len(s) || !isLetter(s[sp+2])) {
				v = sp + 2
			}
		}
		v = skipSeparators(s, v)
		if end := uuidEnd(s, v); end > 0 {
			return v, end, Mask
		}
	}
	return -1, 0, ""
}

// skipSeparators skips what may stand between a name and its value: white
// space (JSON-escaped too), quotes, backslashes, ':' and '='.
func skipSeparators(s string, i int) int {
	for i < len(s) {
		if n := spaceLen(s, i); n > 0 {
			i += n
		} else if isQuoteOrSpace(s[i]) || s[i] == ':' || s[i] == '=' {
			i++
		} else {
			break
		}
	}
	return i
}

// uuidEnd is the end of the UUID (8-4-4-4-12 hex digits, any case) at i,
// or 0 when there is none or it runs on into more letters or digits.
func uuidEnd(s string, i int) int {
	const form = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
	if len(s)-i < len(form) {
		return 0
	}
	for k := 0; k < len(form); k++ {
		c := s[i+k]
		if form[k] == '-' && c != '-' || form[k] == 'x' && !isHex(c) {
			return 0
		}
	}
	end := i + len(form)
	if end < len(s) && (isLetter(s[end]) || isDigit(s[end])) {
		return 0
	}
	return end
}

// spaceLen is the length of the white space at i, JSON-escaped or not: a
// space or tab, or "\t", "\n", "\r", or "\u0009", "\u0020", "\u000a",
// "\u000d" as a server's JSON writes them. 0 when there is none.
func spaceLen(s string, i int) int {
	switch {
	case s[i] == ' ' || s[i] == '\t':
		return 1
	case s[i] != '\\' || i+1 == len(s):
		return 0
	case s[i+1] == 't' || s[i+1] == 'n' || s[i+1] == 'r':
		return 2
	case s[i+1] == 'u' && i+6 <= len(s) && isEscapedSpace(s[i+2:i+6]):
		return 6
	}
	return 0
}

// isEscapedBlank: a JSON-escaped tab or space at i ("\t", "\u0009", "\u0020").
func isEscapedBlank(s string, i int) bool {
	switch spaceLen(s, i) {
	case 2:
		return s[i+1] == 't'
	case 6:
		return strings.EqualFold(s[i+2:i+6], "0009") || s[i+2:i+6] == "0020"
	}
	return false
}

func isEscapedSpace(hex string) bool {
	for _, h := range []string{"0009", "0020", "000a", "000d"} {
		if strings.EqualFold(hex, h) {
			return true
		}
	}
	return false
}

// afterEscape reports whether a JSON-escaped white space ends just before
// i: the letter before i is then the escape's, not part of a word
// ("\tBasic" is the word Basic).
func afterEscape(s string, i int) bool {
	if i >= 2 && s[i-2] == '\\' && strings.IndexByte("tnr", s[i-1]) >= 0 {
		return true
	}
	return i >= 6 && s[i-6] == '\\' && s[i-5] == 'u' && isEscapedSpace(s[i-4:i])
}

const maxScheme = 32

// urlRest scrubs what follows "scheme:": slashes, authority, path, query,
// fragment. Everything before the last '@' ahead of the query is masked:
// the user information, wherever malformed slashes put it, and an
// unescaped '@' in a password.
func urlRest(r string) string {
	slashes := 0
	for slashes < len(r) && r[slashes] == '/' {
		slashes++
	}
	q := strings.IndexAny(r, "?#")
	if q < 0 {
		q = len(r)
	}
	hier := r[slashes:q]
	if at := strings.LastIndexByte(hier, '@'); at >= 0 {
		hier = Mask + hier[at:]
	}
	if q == len(r) {
		return r[:slashes] + hier
	}
	var b strings.Builder
	b.WriteString(r[:slashes])
	b.WriteString(hier)
	for _, part := range splitKeep(r[q:], "?#&;") {
		sep, v := part[:1], part[1:]
		b.WriteString(sep)
		if eq := strings.IndexByte(v, '='); eq >= 0 {
			b.WriteString(v[:eq+1])
			b.WriteString(Mask)
		} else if v != "" {
			b.WriteString(Mask) // a bare item may be a token itself
		}
	}
	return b.String()
}

// splitKeep splits s, which starts with one of seps, before each of seps.
func splitKeep(s, seps string) []string {
	var parts []string
	for len(s) > 0 {
		n := strings.IndexAny(s[1:], seps)
		if n < 0 {
			n = len(s) - 1
		}
		parts = append(parts, s[:n+1])
		s = s[n+1:]
	}
	return parts
}

// schemes masks the credential after an HTTP authorization scheme:
// "Bearer abc", "Basic dXNlcjpwdw==", "ApiKey a2V5".
func schemes(s string) string { return rewrite(s, nextScheme) }

func nextScheme(s string, i int) (int, int, string) {
	for i, w := range wordsFrom(s, i) {
		word := s[i:w]
		if !strings.EqualFold(word, "bearer") && !strings.EqualFold(word, "basic") && !strings.EqualFold(word, "apikey") {
			continue
		}
		sp := w
		for sp < len(s) && spaceLen(s, sp) > 0 {
			sp += spaceLen(s, sp)
		}
		end := sp
		for end < len(s) && isTokenByte(s[end]) {
			end++
		}
		if sp > w && end > sp {
			return sp, end, Mask
		}
	}
	return -1, 0, ""
}

// jwts masks JSON Web Tokens: three base64url parts joined by '.', the
// first starting "eyJ" (`{"` encoded); the signature may be empty.
func jwts(s string) string { return rewrite(s, nextJWT) }

func nextJWT(s string, i int) (int, int, string) {
	for {
		k := strings.Index(s[i:], "eyJ")
		if k < 0 {
			return -1, 0, ""
		}
		k += i
		i = k + 3
		if k > 0 && isB64URL(s[k-1]) {
			continue
		}
		end, dots := k, 0
		for end < len(s) {
			if isB64URL(s[end]) {
				end++
			} else if s[end] == '.' && dots < 2 && isB64URL(s[end-1]) {
				dots++
				end++
			} else {
				break
			}
		}
		if dots == 2 {
			return k, end, Mask
		}
	}
}

// credentialNames end the names of values that are credentials, compared
// without regard to case: "X-Api-Key", "client_secret", "ct7Token",
// "ctlivetoken", "db_password" all end in one.
var credentialNames = []string{"password", "passwd", "pwd", "secret", "token",
	"apikey", "api_key", "api-key", "shared_key", "sharedkey", "access_key", "private_key"}

// headerNames are header names whose whole value, spaces included, is a
// credential: "Authorization: Digest username=..., response=...".
var headerNames = []string{"authorization", "cookie"}

// labels masks the value after a credential's name and a ':' or '=', in
// the forms servers write: `password=x`, `"token":"x"`, `\"api_key\": \"x\"`,
// `Authorization: Basic x` (to the end of the line or the quote),
// `"authorization":["ApiKey x"]`.
func labels(s string) string { return rewrite(s, nextLabel) }

func nextLabel(s string, i int) (int, int, string) {
	for i < len(s) {
		if !isNameByte(s[i]) {
			i++
			continue
		}
		w := i
		for w < len(s) && isNameByte(s[w]) {
			w++
		}
		word := strings.ToLower(s[i:w])
		i = w
		header := hasSuffix(word, headerNames)
		if !header && !hasSuffix(word, credentialNames) {
			continue
		}
		// The separator: closing quotes, spaces, then ':' or '=', then
		// spaces, opening quotes or a JSON array's '['.
		v := w
		for v < len(s) && isQuoteOrSpace(s[v]) {
			v++
		}
		if v == len(s) || s[v] != ':' && s[v] != '=' {
			continue
		}
		v++
		quoted := false // the value is a JSON string: only its closing quote ends it
		for v < len(s) {
			if n := spaceLen(s, v); n > 0 {
				v += n // "Authorization:\tBasic …" in a server's JSON
			} else if isQuoteOrSpace(s[v]) || s[v] == '[' {
				quoted = s[v] == '"'
				v++
			} else {
				break
			}
		}
		end := v
		if header && quoted {
			// `"authorization":"Digest username=\"u\", response=\"x\""`:
			// its escaped quotes are part of the value.
			for end < len(s) && s[end] != '"' && s[end] != '\n' && s[end] != '\r' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			end = min(end, len(s))
		} else {
			for end < len(s) && !endsValue(s, end, header) {
				end++
			}
		}
		if end > v && s[v:end] != Mask {
			return v, end, Mask
		}
	}
	return -1, 0, ""
}

func hasSuffix(word string, names []string) bool {
	for _, n := range names {
		if strings.HasSuffix(word, n) {
			return true
		}
	}
	return false
}

// controls makes s one line: control characters (C0, DEL, C1, Unicode's
// line and paragraph separators) become spaces.
func controls(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// cut keeps at most max bytes of s, at a character boundary, and says so.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func isLetter(c byte) bool     { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isSchemeByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '+' || c == '-' || c == '.' }
func isB64URL(c byte) bool     { return isLetter(c) || isDigit(c) || c == '-' || c == '_' }
func isHex(c byte) bool        { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isHostStart(c byte) bool  { return isLetter(c) || isDigit(c) || c == '[' }

// isUserinfoByte: RFC 3986 userinfo characters (unreserved, %-escapes,
// sub-delimiters but quotes and brackets, which belong to the text around).
func isUserinfoByte(c byte) bool {
	return isLetter(c) || isDigit(c) || strings.IndexByte("-._~%!$&*+,;=:", c) >= 0
}
func isNameByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' || c == '-' }
func isQuoteOrSpace(c byte) bool {
	return c == '"' || c == '\'' || c == '\\' || c == ' ' || c == '\t'
}

// isTokenByte: RFC 7235 token68 characters, plus '.' (JWTs, API keys).
func isTokenByte(c byte) bool {
	return isB64URL(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '='
}

// endsURL: white space, control characters, quotes and the brackets that
// delimit URLs in text (RFC 3986 appendix C).
func endsURL(c byte) bool {
	return c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '\\'
}

// endsValue: a header's value runs to the end of the line or its quote
// (JSON-escaped white space inside it, "Basic\tx", does not end it); any
// other value to the next white space or delimiter.
func endsValue(s string, i int, header bool) bool {
	switch c := s[i]; c {
	case '\r', '\n', '"', '\'':
		return true
	case '\\':
		// Any escape ends a value but, in a header's, an escaped tab or
		// space: \" ends its string, \n and \r its line.
		return !header || !isEscapedBlank(s, i)
	default:
		if header {
			return false
		}
		return c <= ' ' || c == ',' || c == ';' || c == '&' || c == '}' || c == ']' || c == ')' || c == '<' || c == '>'
	}
}

// unescapeASCII replaces each JSON escape \u00XX of a printable ASCII
// character but the quote and the backslash (which would end or escape
// what follows) by the character itself.
func unescapeASCII(s string) string {
	if !strings.Contains(s, `\u00`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' && s[i+2] == '0' && s[i+3] == '0' {
			if c, err := strconv.ParseUint(s[i+4:i+6], 16, 8); err == nil && c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
				b.WriteByte(byte(c))
				i += 5
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
