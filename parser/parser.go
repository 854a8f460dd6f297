package parser

import (
	"bytes"
	"strings"
	"unsafe"
)

// DefaultComponents are the names the contract's tenant rule excludes:
// they stand in leading tokens in capitals but are never tenants. CTLive's
// components, the level words, and CTLive's message types (`[ERROR] [AGM]`
// and `[TEXT] ... CHAT_AGM_...` belong to tenant AGM).
var DefaultComponents = []string{
	"REDIS", "MONGODB", "MONGO", "DOMAIN", "CT7PROTOCOL", "HTTP", "CTI", "JWT", "API", "SOCKETIO",
	"ERROR", "WARN", "WARNING", "INFO", "DEBUG", "TRACE", "FATAL",
	"TEXT", "IMAGE", "LINK", "MENU", "MENU_RESPONSE", "DOCUMENT", "AUDIO", "VIDEO", "LOCATION", "QUICK_REPLY",
}

// Options tune tenant recognition; both lists come from plugin configuration.
type Options struct {
	// Components are extra names that are never tenants, added to
	// DefaultComponents. Leading tokens are capitals, so they are compared
	// upper-cased: `kafka` excludes [KAFKA].
	Components []string
	// KnownTenants, when not empty, is an allow-list: only these leading
	// tokens are taken as tenants, compared exactly (contract: tenant names
	// are compared exactly everywhere). Tenants read from a contactID or
	// userID are structural and are kept regardless.
	KnownTenants []string
}

// Parser turns CTLive lines into Results. It is immutable after New and safe
// for concurrent use.
type Parser struct {
	components   [][]string // upper case, by length: a token is compared with those of its own
	knownTenants []string   // as configured
}

// New returns a Parser for the given options.
func New(o Options) *Parser {
	p := &Parser{}
	for _, c := range append(append([]string(nil), DefaultComponents...), o.Components...) {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			if len(c) >= len(p.components) {
				p.components = append(p.components, make([][]string, len(c)+1-len(p.components))...)
			}
			p.components[len(c)] = append(p.components[len(c)], c)
		}
	}
	for _, t := range o.KnownTenants {
		if t = strings.TrimSpace(t); t != "" {
			p.knownTenants = append(p.knownTenants, t)
		}
	}
	return p
}

// Parse parses one record's line into r. A line that holds several physical
// lines (a stack trace joined by Fluent Bit's multiline filter) is one event:
// the first line gives the fields, the following `at ...` lines the stack.
// Parse never fails: a line that is not CTLive-shaped leaves r with no
// fields (see Result.Shaped). Credentials are found in every line, shaped
// or not, and in every physical line of it (Result.Secrets).
func (p *Parser) Parse(line []byte, r *Result) {
	r.reset()
	r.Secrets, r.TooManySecrets, r.secretsBase, r.secretsCutAt = r.secretBuf[:0], false, 0, 0
	r.cleaned = bytes.IndexByte(line, 0x1b) >= 0
	if r.cleaned {
		r.clean = stripANSI(r.clean[:0], line)
		line = r.clean
	}
	first, rest := line, []byte(nil)
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		first, rest = line[:i], line[i+1:]
	}
	body := p.header(first, r)
	p.body(body, r)
	// The payload values, as offsets into the text read (Result.Source):
	// the rescan below and Result.InSecret ask where they stand.
	shift := offsetIn(line, body)
	for k := range r.spanBuf {
		r.spanBuf[k].start += shift
		r.spanBuf[k].end += shift
	}
	r.spanBase = uintptr(unsafe.Pointer(unsafe.SliceData(line)))
	if r.Service != nil && rest == nil && !(r.memo.current && r.memo.quietService) {
		// The compose prefix names a service as a client chose it: it is
		// looked at for credentials too (a JWT there stayed in clear),
		// once per prefix the memo holds.
		n := len(r.Secrets)
		findSecretsIn(r.Service, r, nil)
		if r.memo.current {
			r.memo.quietService = len(r.Secrets) == n
		}
	}
	if rest != nil {
		r.Stack = stackFrames(rest, r.stackBuf[:0], &r.memo)
		if cap(r.Stack) > cap(r.stackBuf) {
			r.stackBuf = r.Stack[:0] // keep the grown store for the next exception
		}
		// The whole text: a credential's context word may end the first
		// line (`session\n<uuid>`); what the first line holds is found twice
		// and merged by the plugin. What the first line holds counts once
		// towards MaxSecrets: 2,049 credentials are not 4,098.
		// The first line's payloads are known to the rescan too: credentials
		// not kept inside them move no tenant (secretJSON).
		r.secretsBase = len(r.Secrets)
		findSecretsIn(line, r, r.spanBuf)
	}
	if cap(r.Secrets) > cap(r.secretBuf) {
		r.secretBuf = r.Secrets[:0]
	}
	if len(r.Secrets) == 0 {
		r.Secrets = nil
	}
	p.resolve(r)
}

// header consumes the compose prefix and the timestamp and returns the body.
func (p *Parser) header(first []byte, r *Result) []byte {
	if svc, n := composePrefix(first, &r.memo); n > 0 {
		r.Service = svc
		first = first[n:]
	}
	if text, t, n := timestamp(first, &r.memo); n > 0 {
		r.TimeText, r.Time = text, t
		first = first[n:]
	}
	return trimSpace(first)
}

// leadingTokens reads the run of `[token]`s, separated by single spaces, at
// the start of the body and returns the rest of the body.
func (p *Parser) leadingTokens(body []byte, r *Result) []byte {
	scopes := r.scopeBuf[:0]
	if r.scopeMore != nil {
		scopes = r.scopeMore[:0] // this Result met a line with more tokens before
	}
	i := 0
	for i < len(body) && body[i] == '[' {
		j := i + 1
		for j < len(body) && !tokenStop[body[j]] {
			j++
		}
		if j == i+1 || j >= len(body) || body[j] != ']' {
			break
		}
		scopes = append(scopes, body[i+1:j])
		i = j + 1
		if i+1 < len(body) && body[i] == ' ' && body[i+1] == '[' {
			i++
			continue
		}
		break
	}
	if len(scopes) == 0 {
		return body
	}
	if cap(scopes) > len(r.scopeBuf) && r.scopeMore == nil {
		r.scopeMore = scopes[:0]
	}
	r.Scopes = scopes
	r.Function = scopes[0]
	for _, tok := range scopes[1:] {
		if p.isTenantToken(tok) {
			r.Tenant = tok
			break
		}
	}
	return body[i:]
}

// tokenStop marks the bytes that end a token's text: brackets and whitespace.
var tokenStop = func() (t [256]bool) {
	for _, c := range []byte("[] \t\n\r\v\f") {
		t[c] = true
	}
	return t
}()

// isTenantToken: capitals, digits and '_' with at least one capital, not a
// component, and on the allow-list when there is one.
func (p *Parser) isTenantToken(tok []byte) bool {
	upper := false
	for _, c := range tok {
		switch {
		case is(c, cUpper):
			upper = true
		case c >= '0' && c <= '9', c == '_':
		default:
			return false
		}
	}
	if !upper {
		return false
	}
	if len(tok) < len(p.components) {
		for _, c := range p.components[len(tok)] {
			if string(tok) == c {
				return false
			}
		}
	}
	if len(p.knownTenants) == 0 {
		return true
	}
	for _, t := range p.knownTenants {
		if string(tok) == t {
			return true
		}
	}
	return false
}

func (p *Parser) body(body []byte, r *Result) {
	r.Message = nonEmpty(trimSpace(p.leadingTokens(body, r)))
	s := scan{payloadSpans: r.spanBuf[:0]}
	s.words(body, r)
	s.finish(r)
	r.spanBuf = s.payloadSpans // kept for Parse's rescan of a multi-line record
}

// resolve fills what depends on several parts of the line.
func (p *Parser) resolve(r *Result) {
	if r.Stack != nil {
		r.Event = EventException
	}
	if r.Event == EventException {
		r.Level = LevelError
	}
	if !r.Shaped() {
		r.reset() // not a CTLive line: nothing may be added to the record
	}
}

// stackFrames collects the `at ...` lines that follow the first line.
// Continuation lines may carry their own compose prefix and timestamp when
// the multiline filter joined `docker compose logs` output; both are skipped.
func stackFrames(rest []byte, frames [][]byte, m *headerMemo) [][]byte {
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if _, n := composePrefix(line, m); n > 0 {
			line = line[n:]
		}
		if _, _, n := timestamp(line, m); n > 0 {
			line = line[n:]
		}
		// Starts with `at ` once leading blanks are skipped, then trimmed
		// (contract): a bare `    at ` is the frame "at".
		for len(line) > 0 && is(line[0], cSpace) {
			line = line[1:]
		}
		if len(line) >= 3 && line[0] == 'a' && line[1] == 't' && line[2] == ' ' {
			frames = append(frames, trimSpace(line))
		}
	}
	if len(frames) == 0 {
		return nil
	}
	return frames
}
