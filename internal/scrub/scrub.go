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
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
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
// Without "://", raw is taken to start with the authority, as in a URL
// whose scheme was forgotten ("u:p@h:1").
func URL(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		return raw[:i+3] + urlRest(raw[i+3:])
	}
	return urlRest(raw)
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
// credentials and query values, HTTP authorization tokens (Bearer, Basic,
// ApiKey) and JWTs. Line breaks are kept: a panic's stack is one entry.
func Line(s string) string {
	return jwts(schemes(urls(secrets(s, registered()))))
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
	s = controls(labels(Line(s))) // labels first: a header's value ends at its line's end
	s = secrets(s, registered())  // a line break turned into a space must not complete a secret
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

// urls scrubs every scheme://... in s as URL does.
func urls(s string) string { return rewrite(s, nextURL) }

func nextURL(s string, i int) (int, int, string) {
	from := i
	for {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			return -1, 0, ""
		}
		k += i
		i = k + 3
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
		end := k + 3
		for end < len(s) && !endsURL(s[end]) {
			end++
		}
		// Punctuation after a URL in prose ("to http://h/?q=x: refused")
		// belongs to the sentence.
		for end > k+3 && strings.IndexByte(".,:;)!?", s[end-1]) >= 0 {
			end--
		}
		return start, end, s[start:k+3] + urlRest(s[k+3:end])
	}
}

const maxScheme = 32

// urlRest scrubs what follows "scheme://": authority, path, query, fragment.
func urlRest(r string) string {
	a := strings.IndexAny(r, "/?#")
	if a < 0 {
		a = len(r)
	}
	auth := r[:a]
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		auth = Mask + auth[at:] // the last '@': an unescaped one in a password stays hidden
	}
	r = r[a:]
	q := strings.IndexAny(r, "?#")
	if q < 0 {
		return auth + r
	}
	var b strings.Builder
	b.WriteString(auth)
	b.WriteString(r[:q])
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
	for i < len(s) {
		if !isLetter(s[i]) || i > 0 && isLetter(s[i-1]) {
			i++
			continue
		}
		w := i
		for w < len(s) && isLetter(s[w]) {
			w++
		}
		word := s[i:w]
		i = w
		if !strings.EqualFold(word, "bearer") && !strings.EqualFold(word, "basic") && !strings.EqualFold(word, "apikey") {
			continue
		}
		sp := w
		for sp < len(s) && (s[sp] == ' ' || s[sp] == '\t') {
			sp++
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
		for v < len(s) && (isQuoteOrSpace(s[v]) || s[v] == '[') {
			v++
		}
		end := v
		for end < len(s) && !endsValue(s[end], header) {
			end++
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
func isNameByte(c byte) bool   { return isLetter(c) || isDigit(c) || c == '_' || c == '-' }
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

// endsValue: a header's value runs to the end of the line or its quote; any
// other value to the next white space or delimiter.
func endsValue(c byte, header bool) bool {
	switch c {
	case '\r', '\n', '"', '\'', '\\':
		return true
	}
	if header {
		return false
	}
	return c <= ' ' || c == ',' || c == ';' || c == '&' || c == '}' || c == ']' || c == ')' || c == '<' || c == '>'
}
