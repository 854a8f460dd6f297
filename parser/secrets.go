package parser

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"
	"unsafe"
)

// Credentials (contract, "Credentials and personal data"). They are found
// in the same pass as the fields, from their own triggers: the words that
// introduce them (session, ctlivetoken, ct7Token, Authorization, Bearer),
// a word starting "eyJ" (a JWT), and ':' or '=' after a label that names
// a secret. Unlike IDs, a credential counts inside a payload too:
// redaction is not field extraction.

// FindSecrets appends the credentials in b (any text: a stack frame, a
// value of another record key) to dst and returns it. Secret.Text points
// into b.
//
// It keeps at most MaxSecrets in dst: a caller that finds dst that full
// must treat b as hostile and replace it whole.
func FindSecrets(b []byte, dst []Secret) []Secret { return findSecrets(b, dst, false) }

// FindSecretsInFinals is FindSecrets for a line read with each ANSI
// escape's final byte kept (StripANSIKeepingFinals), the reading that
// finds a credential whose first letter ends an escape. There a bracket
// after a bare ct7Token or Bearer opens no token: the escapes' letters
// break the IDs and stack frames that tokenInBrackets must recognise
// (`\x1b[90mat\x1b[39m Bearer (…)` reads `matm Bearer (…)`), and the line
// without escapes, which the parser reads, has the bracket's token.
func FindSecretsInFinals(b []byte, dst []Secret) []Secret { return findSecrets(b, dst, true) }

func findSecrets(b []byte, dst []Secret, finals bool) []Secret {
	if !mayHoldSecrets(b) {
		return dst
	}
	r := Result{Secrets: dst}
	s := scan{secretsOnly: true, finals: finals}
	s.words(b, &r)
	return r.Secrets
}

// mayHoldSecrets is false for texts too short to hold a credential: most
// values of a record ("stdout", a pod name).
func mayHoldSecrets(b []byte) bool {
	return len(b) >= minSecretText && (len(b) >= minUnlabelled || bytes.IndexByte(b, ':') >= 0 || bytes.IndexByte(b, '=') >= 0)
}

// findSecretsIn appends the credentials in b to into.Secrets, MaxSecrets
// at most past into.secretsBase; payloads are b's payload values, as
// offsets into b (see secretJSON).
func findSecretsIn(b []byte, into *Result, payloads []span) {
	if !mayHoldSecrets(b) {
		return
	}
	r := Result{Secrets: into.Secrets, TooManySecrets: into.TooManySecrets,
		secretsBase: into.secretsBase, secretsCutAt: into.secretsCutAt}
	s := scan{secretsOnly: true, payloadSpans: payloads}
	s.words(b, &r)
	into.Secrets, into.TooManySecrets, into.secretsCutAt = r.Secrets, r.TooManySecrets, r.secretsCutAt
}

// ValueSecrets appends to dst the credentials of value, a value of a record
// (not a line) that label names: the whole value when the label names a
// secret ({"password": "x"}, {"ct7Token": "x"}), the credential of an
// Authorization header value ({"authorization": "Basic x"}), and whatever
// FindSecrets finds inside it.
func ValueSecrets(label, value []byte, dst []Secret) []Secret {
	if len(value) == 0 {
		return dst
	}
	kind, named := SecretNone, MayNameSecret(label)
	if named {
		kind = secretLabel(label)
	}
	if kind == SecretPassword && otherPasswordLabel(label) && !otherPasswordText(value) {
		kind = SecretNone // {"pass": true}, {"privateKey": "CHAT_AGM_<uuid>"}
	}
	switch {
	case kind != SecretNone:
		dst = append(dst, Secret{Text: value, Kind: kind})
	case named && hasSuffixFold(label, "authorization"):
		dst = authorizationValue(value, dst)
	case named && len(label) == len("connect.sid") && eqFold(label, "connect.sid") && sessionCookieValue(value):
		dst = append(dst, Secret{Text: value, Kind: SecretToken})
	case SessionLabel(label): // {"sessionId": "<uuid>"}, {"sessions": ["<uuid>"]}, {"sess": "<uuid>"}
		if id := sessionValue(value); id != nil {
			dst = append(dst, Secret{Text: id, Kind: SecretSession})
		}
	}
	return FindSecrets(value, dst)
}

// MayNameSecret is a quick test on a record key: false when it cannot name
// a password, a token or an Authorization header. Session labels
// (SessionLabel: `sessions`, `sess`) are tested apart; a session's value is
// a UUID, never shorter than the values the test lets callers skip.
func MayNameSecret(label []byte) bool {
	if len(label) < 3 {
		return false
	}
	switch label[len(label)-1] | 0x20 { // the last letter of every label that names one
	case 'd', 't', 'n', 'y':
		return true
	case 's', 'e': // pass, passphrase, SECRET_KEY_BASE
		return label[len(label)-3]|0x20 == 'a' && label[len(label)-2]|0x20 == 's'
	case 'm': // privateKeyPem, passwordConfirm
		l3, l2 := label[len(label)-3]|0x20, label[len(label)-2]|0x20
		return l3 == 'p' && l2 == 'e' || l3 == 'i' && l2 == 'r'
	case '1', '2': // password1, password2, password_2, pwd-2
		c := label[len(label)-2]
		return c|0x20 == 'd' || c == '_' || c == '-'
	case 'w': // password_new
		return label[len(label)-3]|0x20 == 'n' && label[len(label)-2]|0x20 == 'e'
	}
	return false
}

// authorizationValue is the credential of an Authorization header's value:
// after its scheme, or the whole value when it has none.
func authorizationValue(v []byte, dst []Secret) []Secret {
	if w := schemeEnd(v, 0); w > 0 && w < len(v) && (v[w] == ' ' || v[w] == '\t') && !generatedWord(v[:w]) {
		t := w
		for t < len(v) && (v[t] == ' ' || v[t] == '\t') {
			t++
		}
		if end := tokenEnd(v, t); end > t {
			kind := SecretBasic
			switch {
			case eqFold(v[:w], "bearer"):
				kind = SecretBearer
			case !eqFold(v[:w], "basic"):
				end = len(v) // Digest, AWS4-HMAC-SHA256: every parameter is the credential
			}
			return append(dst, Secret{Text: v[t:end], Kind: kind})
		}
	}
	return append(dst, Secret{Text: v, Kind: SecretBearer})
}

// knownScheme reports whether w names an HTTP authentication scheme
// (IANA's registry and common vendor ones): after the bare word
// "authorization" only such a word starts a credential.
func knownScheme(w []byte) bool {
	for _, name := range [...]string{"basic", "bearer", "digest", "negotiate", "ntlm", "apikey", "token",
		"aws4-hmac-sha256", "aws4-ecdsa-p256-sha256", "goog4-hmac-sha256", "goog4-rsa-sha256", "oss4-hmac-sha256",
		"jdcloud2-hmac-sha256", "hoba", "mutual", "vapid", "scram-sha-1", "scram-sha-256", "scram-sha-256-plus",
		"oauth", "privatetoken", "dpop",
		"sharedkey", "sharedkeylite", "ssws", "splunk", "key", "hmac-sha256", "hmac", "kerberos", "gssapi", "googlelogin"} {
		if eqFold(w, name) {
			return true
		}
	}
	return false
}

// MixesLettersAndDigits reports whether v holds both an ASCII letter and a
// digit: a generated token does, a word of prose or a placeholder
// ("undefined", "production") does not.
func MixesLettersAndDigits(v []byte) bool {
	letter, digit := false, false
	for _, c := range v {
		letter = letter || is(c, cLetter)
		digit = digit || '0' <= c && c <= '9'
	}
	return letter && digit
}

// schemeEnd returns the end of the authentication scheme's name at b[i]
// (an RFC 9110 token as schemes are written: letters, digits, '-', '_',
// '.': `Basic`, `AWS4-HMAC-SHA256`), i when there is none.
func schemeEnd(b []byte, i int) int {
	for i < len(b) && (is(b[i], cAlnum) || b[i] == '-' || b[i] == '_' || b[i] == '.') {
		i++
	}
	return i
}

// minSecretText is the shortest text that can hold a credential, `pwd=x`;
// minUnlabelled the shortest without a label's ':' or '=', `ct7Token x`.
const (
	minSecretText = 5
	minUnlabelled = 10
)

func (s *scan) secret(text []byte, k SecretKind, r *Result) {
	s.secretJSON(text, k, false, r)
}

// trimSentenceEnd drops the punctuation that ends a sentence after a token
// (`ctlivetoken=<uuid>.`, `Bearer x!`): generated tokens do not end so, and
// with it the token's digest would differ from its bare echoes', which then
// stayed in clear. A value of punctuation alone is kept whole. Callers trim
// before they judge a value's length: a short one is "[redacted]", never
// digested. The values of labels glued in one run end together, so the
// punctuation before the last end measured is counted once: linear.
func (s *scan) trimSentenceEnd(t []byte) []byte {
	if len(t) == 0 {
		return t
	}
	end := uintptr(unsafe.Pointer(unsafe.SliceData(t))) + uintptr(len(t))
	if end != s.punctEnd || !s.punctDone && len(t) > s.punctN {
		n := 0
		for n < len(t) && sentencePunct(t[len(t)-1-n]) {
			n++
		}
		s.punctEnd, s.punctN, s.punctDone = end, n, n < len(t)
	}
	if s.punctN >= len(t) {
		return t
	}
	return t[:len(t)-s.punctN]
}

func sentencePunct(c byte) bool { return c == '.' || c == '!' || c == '?' || c == ':' }

// MaxSecrets bounds the credentials one text may hold: past it the text is
// hostile, Result.TooManySecrets is set, and the plugin replaces it whole.
// It bounds the memory a line of nothing but `pwd=x` costs.
const MaxSecrets = 4096

func (s *scan) secretJSON(text []byte, k SecretKind, json bool, r *Result) {
	if len(text) == 0 {
		return
	}
	if len(r.Secrets)-r.secretsBase >= MaxSecrets {
		r.TooManySecrets = true
		// The credentials not kept start at or after the lowest of them:
		// a field that ends before it and overlaps none kept is in none
		// (Result.InSecret).
		// One inside the payload being read holds no field: IDs and the
		// tenant never come from a payload (contract), so 4,097 `pwd=a`
		// typed in a chat before the line's contactID do not move it.
		if at := uintptr(unsafe.Pointer(unsafe.SliceData(text))); (r.secretsCutAt == 0 || at < r.secretsCutAt) && !s.inAPayload(text) {
			r.secretsCutAt = at
		}
		return
	}
	r.Secrets = append(r.Secrets, Secret{Text: text, Kind: k, JSON: json})
}

// escaped handles a word that follows a backslash: in JSON written inside
// a string (`\"msg\":\"hi\nsession <uuid>\"`) the letter after the
// backslash belongs to the escape, and the word the credential rules look
// for starts after it. Only credentials are taken there: by the contract a
// word is a run of letters and digits, so fields stay as they are.
func (s *scan) escaped(b []byte, w int, r *Result) {
	switch b[w] {
	case 'n', 'r', 't', 'b', 'f':
		w++
	case 'u':
		if w+5 > len(b) || !isHex4(b[w+1:w+5]) {
			return
		}
		w += 5
	default:
		return
	}
	if w >= len(b) || !is(b[w], cLetter) {
		return
	}
	e := wordEnd(b, w+1)
	if b[w] == 'e' && e-w >= 3 && b[w+1] == 'y' && b[w+2] == 'J' {
		if end := s.jwtEnd(b, w); end > 0 {
			s.secret(b[w:end], SecretJWT, r)
		}
		return
	}
	was := s.secretsOnly
	s.secretsOnly = true
	s.secretWord(b, w, e, r)
	s.secretsOnly = was
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !is(c, cHex) {
			return false
		}
	}
	return true
}

// uuidAfterLoosely is uuidAfter for credentials only: besides its
// separators, line breaks, tabs, backslashes (escapes of JSON inside a
// string), the letters of \n, \r, \t right after a backslash, commas,
// MongoDB's UUID( constructor, the rest of looseSep, URL percent-escapes
// of them (percentSep) and one word that names what the session word's
// value is (sessionNameWord); or the value paired with the word
// (pairedValue). The UUID must stand alone on its left too: `_` or `-`
// glues it to what precedes (`CHAT_SID_<uuid>` is a contactID whose
// tenant ends in SID, not a session).
//
// names says whether a name word may stand between (the contract's session
// words: `session_id`, `session token`); sid, sess and sessions name none
// (`sid id [<uuid>]` is Sid's message ID).
func uuidAfterLoosely(b []byte, e int, names bool) []byte {
	u := e
	if v := pairedValue(b, e); v > 0 {
		return uuidStandingAt(b, v) // `'ctlivetoken', '<uuid>'`
	}
	upper := capitalsOnly(b, e) // `[SID] [<uuid>]`: a tenant's token, not a session's
	nameEnd, spacedName := -1, false
	for u < len(b) && u-e < 32 {
		c := b[u]
		if n := wideBlank(b, u); n > 0 {
			u += n // `session\u00a0<uuid>`, `session ID, “<uuid>”`
			continue
		}
		if looseSep(c) {
			if c == ']' && upper && !spacedName { // `[SESSION ID] [<uuid>]` is a session's; `[SESSION_KEY]` a tenant
				break
			}
			u++
			continue
		}
		if c == '%' {
			if n := percentSep(b, u); n > 0 {
				u += n // `ctlivetoken%3D<uuid>` inside an encoded URL
				continue
			}
		}
		if n := signedCookiePrefix(b, u); n > 0 {
			u += n
			continue
		}
		if names && nameEnd < 0 && nameJoin(b[e:u]) {
			if n := sessionNameWord(b, u); n > 0 {
				spacedName = u == e+1 && b[e] == ' '
				u += n
				nameEnd = u
				continue
			}
		}
		if n := mongoUUIDPrefix(b[u:]); n > 0 {
			u += n // MongoDB's `sessionId: UUID("<uuid>")`, `new UUID(...)`
			continue
		}
		if u > e && b[u-1] == '\\' && (c == 'n' || c == 'r' || c == 't') {
			u++
			continue
		}
		break
	}
	if u == e || u == nameEnd || b[u-1] == '_' || b[u-1] == '-' {
		return nil
	}
	return uuidStandingAt(b, u)
}

// capitalsOnly reports whether the word that ends at b[e] has no
// lower-case letter: the shape of a tenant (contract: tenant), whose
// token a closing bracket ends.
func capitalsOnly(b []byte, e int) bool {
	for w := e - 1; w >= 0 && alnum[b[w]]; w-- {
		if b[w] >= 'a' && b[w] <= 'z' {
			return false
		}
	}
	return true
}

// nameJoin reports whether gap, the bytes between a session word and the
// word after it, join the two into one name (`session_id`, `session-id`,
// `session.id`, `session id`, a form's `session[id]`, `session+id`,
// `session%20id`): only then can that word say what the value is. Across
// more (`[USER_sid] id [<uuid>]`) the word is the message's `id`.
func nameJoin(gap []byte) bool {
	if len(gap) == 1 {
		return joinsName(gap[0])
	}
	// The same, percent-encoded once or twice (a form body's
	// `session%5Bid%5D=`, `session%20id`).
	if w := percentEscapeEnd(gap, 0); w == len(gap) {
		c, _ := hexDigits(gap[w-2 : w])
		return joinsName(byte(c))
	}
	return false
}

func joinsName(c byte) bool {
	switch c {
	case '_', '-', '.', ' ', '[', '+':
		return true
	}
	return false
}

// looseSep is what uuidAfterLoosely skips between a session word and its
// UUID besides percent-escapes: the contract's separators, blanks and line
// breaks, backslashes, commas (`Sec-WebSocket-Protocol: ctlivetoken, <uuid>`),
// brackets of every kind (`[session] [<uuid>]`, `session (<uuid>)`,
// `(session) <uuid>`), arrows and bars (`session -> <uuid>`, `session |
// <uuid>`), '+' (a space in a form-encoded query) and what joins a word
// to the name after it (`session_key`, `session.id`).
func looseSep(c byte) bool {
	switch c {
	case '\\', ',', '[', ']', '(', ')', '<', '>', '{', '}', '|', '+', '_', '-', '.':
		return true
	}
	return uuidSep(c) || is(c, cSpace)
}

// percentSep returns the length of the percent-escape at b[u] when it
// encodes a byte looseSep skips (`%3D`, `%3a`, `%20`, `%22`, `%5B`), once
// or twice (`%253D`), else 0.
func percentSep(b []byte, u int) int {
	w := percentEscapeEnd(b, u)
	if w < 0 {
		return 0
	}
	if c, _ := hexDigits(b[w-2 : w]); c != '%' && looseSep(byte(c)) {
		return w - u
	}
	return 0
}

// sessionNameWord returns the length of the word at b[u] when it is one
// that can name what follows a session word (`session token`, `session
// key`, `session UUID:`, `session_id+<uuid>`, a form's `session[id]=`),
// else 0.
func sessionNameWord(b []byte, u int) int {
	for _, w := range [...]string{"token", "key", "cookie", "uuid", "id"} {
		if e := u + len(w); e <= len(b) && eqFold(b[u:e], w) && (e == len(b) || !alnum[b[e]]) {
			return len(w)
		}
	}
	return 0
}

// signedCookiePrefix returns the length of express-session's signed-cookie
// prefix at b[u], glued to the session's UUID (`s:<uuid>.<sig>`, URL
// encoded once `s%3A` or twice `s%253A`), else 0.
func signedCookiePrefix(b []byte, u int) int {
	if u >= len(b) || b[u]|0x20 != 's' {
		return 0
	}
	for _, p := range [...]string{"s:", "s%3a", "s%253a"} {
		if e := u + len(p); e < len(b) && eqFold(b[u:e], p) && is(b[e], cHex) {
			return len(p)
		}
	}
	return 0
}

// mongoUUIDPrefix returns the length of `UUID(` or `new UUID(` (any
// case) at the start of b, or of a URN's `urn:uuid:`, else 0.
func mongoUUIDPrefix(b []byte) int {
	for _, p := range [...]string{"uuid(", "new uuid(", "urn:uuid:"} {
		if len(b) >= len(p) && eqFold(b[:len(p)], p) {
			return len(p)
		}
	}
	return 0
}

// uuidStandingAt returns the UUID at b[u] when nothing of an identifier
// follows it, else nil.
func uuidStandingAt(b []byte, u int) []byte {
	end := uuidAt(b, u)
	if end == 0 || end < len(b) && (is(b[end], cIdent) || b[end] == '-') {
		return nil
	}
	return b[u:end]
}

// maxPairGap bounds the blanks around a name/value pair's comma (a
// pretty-printed list indents each element on its own line). Each
// trigger looks only at the blanks next to its own name, which no other
// trigger's look covers, so the scan stays linear.
const maxPairGap = 1024

// maxHeaderName bounds the name pairedValue reads back over.
const maxHeaderName = 64

// pairedValue returns where the value starts when the header name ending
// at b[e] stands beside its value, else 0:
//   - as one element of a list of names and values, as Node.js logs a
//     request's rawHeaders (`[ 'Authorization', 'Basic x' ]`), a JSON
//     array (`["ctlivetoken","<uuid>"]`, also escaped inside a JSON
//     string) or a list of pairs (`[ 'authorization', [ 'Basic x' ] ]`):
//     the name follows '[' or ',' and its value is the next element;
//   - as the name of a name/value object, as HAR files and undici's
//     Headers print them: `{"name":"Authorization","value":"Basic x"}`,
//     `{ name: 'Authorization', value: 'Basic x' }`.
//
// A list of names alone (`allowedHeaders: [ 'Authorization', 'ctlivetoken' ]`)
// matches the first form too: plausiblePairedValue then tells a value
// from a name.
func pairedValue(b []byte, e int) int {
	escaped := e+1 < len(b) && b[e] == '\\' && b[e+1] == '"'
	if !escaped && (e >= len(b) || !isQuote(b[e])) {
		return 0
	}
	// The name's opening quote.
	ns := e
	for ns > 0 && e-ns < maxHeaderName && (is(b[ns-1], cAlnum) || b[ns-1] == '-' || b[ns-1] == '_') {
		ns--
	}
	open := ns - 1
	if escaped {
		open--
	}
	if open < 0 || !quoteAtIs(b, open, escaped) {
		return 0
	}
	// The comma after the name, and what follows it.
	i := e + 1
	if escaped {
		i++
	}
	i = skipBlanks(b, i)
	if i >= len(b) || b[i] != ',' {
		return 0
	}
	i = skipBlanks(b, i+1)
	if v := valueKeyEnd(b, i); v > 0 {
		return openingQuoteEnd(b, skipBlanks(b, v), escaped) // the name/value object
	}
	// A list: the name is an element (after '[' or ',').
	j := open - 1
	for j >= 0 && open-j <= maxPairGap && is(b[j], cSpace) {
		j--
	}
	if j < 0 || b[j] != '[' && b[j] != ',' {
		return 0
	}
	for i < len(b) && b[i] == '[' { // a list of pairs
		i = skipBlanks(b, i+1)
	}
	return openingQuoteEnd(b, i, escaped)
}

func isQuote(c byte) bool { return c == '\'' || c == '"' || c == '`' }

// quoteAtIs reports whether a quote (`\"` when escaped) stands at b[i].
func quoteAtIs(b []byte, i int, escaped bool) bool {
	if escaped {
		return i+1 < len(b) && b[i] == '\\' && b[i+1] == '"'
	}
	return isQuote(b[i])
}

// openingQuoteEnd returns where the quoted value opening at b[i] starts,
// or 0.
func openingQuoteEnd(b []byte, i int, escaped bool) int {
	if i >= len(b) || !quoteAtIs(b, i, escaped) {
		return 0
	}
	if escaped {
		return i + 2
	}
	return i + 1
}

// skipBlanks skips at most maxPairGap bytes of white space.
func skipBlanks(b []byte, i int) int {
	for start := i; i < len(b) && i-start < maxPairGap && is(b[i], cSpace); i++ {
	}
	return i
}

// valueKeyEnd returns the end of a `value` key and its ':' at b[i]
// (`"value":`, `value:`, `\"value\":`), or 0.
func valueKeyEnd(b []byte, i int) int {
	for k := 0; k < 2 && i < len(b) && (isQuote(b[i]) || b[i] == '\\'); k++ {
		i++ // `"`, or `\"`
	}
	if i+5 > len(b) || !eqFold(b[i:i+5], "value") {
		return 0
	}
	i += 5
	for k := 0; k < 2 && i < len(b) && (isQuote(b[i]) || b[i] == '\\'); k++ {
		i++
	}
	i = skipBlanks(b, i)
	if i >= len(b) || b[i] != ':' {
		return 0
	}
	return i + 1
}

// plausiblePairedValue reports whether the value pairedValue found at
// b[v] can be a credential rather than the next header's name or an ID:
// a known authentication scheme and its credential, or one generated
// token (16 or more bytes mixing letters and digits) that holds no CTLive
// ID (`CHAT_AGM_<uuid>`, a Redis key's hash field after `ct7Token`).
func plausiblePairedValue(b []byte, v int) bool {
	if w := schemeEnd(b, v); w > v && w < len(b) && (b[w] == ' ' || b[w] == '\t') && knownScheme(b[v:w]) {
		return true
	}
	t := b[v:tokenEnd(b, v)]
	return len(t) >= minTokenEntropy && MixesLettersAndDigits(t) && !holdsCTLiveID(t)
}

// PairedValue reports whether value, the element after name in a list
// (Node's rawHeaders as a record's own array: ["ctlivetoken", "<uuid>"]),
// reads as name's credential by the rules the line's pairs follow
// (pairedValue): a session's UUID after a session word or ctlivetoken, a
// plausible credential (plausiblePairedValue) after Authorization or
// ct7Token. Any other name, or a value that is a name itself or an ID
// (`["token", "<message id>"]`, `["password", "token"]`), pairs with
// nothing.
func PairedValue(name, value []byte) bool {
	switch {
	case eqFold(name, "ctlivetoken") || SessionLabel(name):
		return sessionValue(value) != nil
	case hasSuffixFold(name, "authorization") || eqFold(name, "ct7token"):
		return len(value) > 0 && plausiblePairedValue(value, 0)
	}
	return false
}

func allDigits(t []byte) bool {
	for _, c := range t {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(t) > 0
}

// NamedValue reports whether value, the "value" of a name/value object
// whose "name" is name ({"name": "CTLIVE_SSO_SECRET", "value": "x"}, as
// HAR, undici and Kubernetes write them), is name's credential: what
// PairedValue takes, or any value of a name that labels a credential
// (LabelNamesSecret, as a record key's) but one that names a CTLive ID:
// {"name": "ct7Token", "value": "CHAT_AGM_<uuid>"} is the line's
// contactID (helper-85). The object's explicit pairing is read as a key's
// label is: a token need not look generated (helper-86: letters-only
// tokens, UUID API keys, schemeless Authorization values).
func NamedValue(name, value []byte) bool {
	return PairedValue(name, value) || len(value) > 0 && LabelNamesSecret(name) && !namesCTLiveID(value)
}

// namesCTLiveID reports whether t holds a CTLive ID: a contactID or
// customer's userID (holdsCTLiveID), or an agent's `USER_` login. A value
// that does is no password (helper-84).
func namesCTLiveID(t []byte) bool {
	return holdsCTLiveID(t) || bytes.Contains(t, []byte("USER_"))
}

// holdsCTLiveID reports whether t holds a UUID right after a '_': a
// contactID or a customer's userID.
func holdsCTLiveID(t []byte) bool {
	return anyUnderscore(t, func(j int) bool { return uuidAt(t, j+1) > 0 })
}

// anyUnderscore reports whether at(j) holds for some '_' at t[j], trying
// them in order.
func anyUnderscore(t []byte, at func(j int) bool) bool {
	for j := bytes.IndexByte(t, '_'); j >= 0; {
		if at(j) {
			return true
		}
		k := bytes.IndexByte(t[j+1:], '_')
		if k < 0 {
			return false
		}
		j += 1 + k
	}
	return false
}

// LabelNamesSecret reports whether a record key names a credential: its
// whole value is one, whatever its type.
func LabelNamesSecret(label []byte) bool {
	return MayNameSecret(label) && (secretLabel(label) != SecretNone || hasSuffixFold(label, "authorization"))
}

// labelled handles the ':' or '=' at c after a label that names a secret:
// `password=x`, `"pwd": "x"`, `ct7Token:x`, `api_key=x`, and JSON escaped
// inside a JSON string (`\"secret\":\"x\"`).
func (s *scan) labelled(b []byte, c int, r *Result) {
	j := c
	for j > 0 && (b[j-1] == ' ' || b[j-1] == '\t') {
		j--
	}
	if j > 0 && (b[j-1] == '"' || b[j-1] == '\'') {
		j--
		if j > 0 && b[j-1] == '\\' {
			j--
		}
	}
	if j == 0 {
		return
	}
	if j >= 4 && eqFold(b[j-4:j], "auth") && (j == 4 || !is(b[j-5], cIdent) && b[j-5] != '-' && b[j-5] != '.') {
		s.authOption(b, c, r)
		return
	}
	start, labelEnd := -1, j
	if c := b[j-1]; c == ']' || c|0x20 == 'd' { // `user[password]=`, `%5D=`: most labels end otherwise
		start, labelEnd = bracketedKey(b, j)
	}
	if !MayNameSecret(b[max(labelEnd-3, 0):labelEnd]) {
		return
	}
	if start < 0 {
		start = labelStart(b, j)
	}
	kind := secretLabel(b[start:labelEnd])
	if kind == SecretNone {
		if labelEnd == j {
			s.sessionLabelled(b, start, j, c, r)
		}
		return
	}
	label := b[start:labelEnd]
	v := c + 1
	if b[c] == '=' && v < len(b) && b[v] == '>' {
		v++ // a Map's or Ruby's `'password' => 'x'`
	}
	for v < len(b) && (b[v] == ' ' || b[v] == '\t' || kind == SecretToken && (b[v] == ':' || b[v] == '=')) {
		v++ // a token's value never starts with a separator: `ct7Token:=x` is x's
	}
	if labelEnd < j && v < len(b) && namesCTLiveID(b[v:min(s.blankEnd(b, v), v+maxIDPrefix)]) {
		return // a nested key's value naming a CTLive ID (`contact[secret]=CHAT_AGM_…`) is the record's
	}
	if kind == SecretPassword && otherPasswordLabel(label) && !s.otherPasswordValue(b, label, start, j, c, v) {
		return // pass, a key: common words, so their values are read with care
	}
	if kind == SecretToken && eqFold(label, "ctlivetoken") && s.sessionIsValue(b, c, v) {
		// The contract's sessionID rule, which the word handler applies
		// (sessionAfter): any run of its separators (`ctlivetoken:=<uuid>`,
		// `ctlivetoken: ["<uuid>"]`), and the session's own digest.
		return
	}
	// In JSON (a quoted label) a value that is not a string is replaced by
	// a string, so the JSON stays valid: `"password":4711`, `"pwd":["x"]`.
	inJSON := j < c && b[j] == '"' || j+1 < c && b[j] == '\\'
	if kind == SecretToken && v < len(b) && b[v] == '[' {
		// One token in brackets (`ct7Token: [x]`, `"ct7Token":["x"]`) is a
		// token all the same: digested, the brackets and the JSON kept.
		if text, quoted := s.bracketedValue(b, v); text != nil && (quoted || !inJSON) {
			s.tokenValue(text, label, quoted, inJSON, r)
			return
		}
	}
	if v < len(b) && (b[v] == '(' || b[v] == '<') {
		if kind == SecretToken && !inJSON && v+1 < len(b) && tokenChar[b[v+1]] {
			// `ct7Token=(x)`: the token inside, as `ct7Token=x` has it
			// (one credential, one digest), when the brackets hold it
			// alone; else as a password's below (an ID alone too: a
			// digest would replace its every copy, the record's contactID
			// with it).
			if t, end := v+1, s.tokenEnd(b, v+1); closedAlone(b, v, end) && !idInOpener(b, v) {
				s.tokenValue(b[t:end], label, false, false, r)
				return
			}
		}
		// `password=(hunter2)`: no value a rule reads starts so;
		// replaced through its closing bracket.
		s.secretJSON(b[v:s.closedEnd(b, v)], SecretPassword, false, r)
		return
	}
	if v < len(b) && (b[v] == '{' || b[v] == '[') {
		if n, _ := s.extent(b, v, r); n > 0 {
			s.secretJSON(b[v:v+n], SecretPassword, true, r) // a structure: no entropy to rely on
		} else {
			// Not JSON (`password:[hunter2]`, a cut line): the value is
			// whatever stands up to the next blank, brackets and all.
			s.secretJSON(b[v:s.blankEnd(b, v)], SecretPassword, false, r)
		}
		return
	}
	if text := s.value(b, v); text != nil {
		quoted := v < len(b) && (b[v] == '"' || b[v] == '\'' || b[v] == '\\')
		if kind == SecretToken {
			s.tokenValue(text, label, quoted, inJSON, r)
			return
		}
		s.secretJSON(text, kind, inJSON && !quoted, r)
	}
}

// labelStart returns where the label that ends at b[j] starts: its run
// of letters, digits and '_', and the dashes of a header's name
// (X-Api-Key, X-Auth-Token).
func labelStart(b []byte, j int) int {
	start := j
	for start > 0 && is(b[start-1], cIdent) {
		start--
		if start >= 2 && b[start-1] == '-' && is(b[start-2], cIdent) {
			start--
		}
	}
	return start
}

// bracketedKey returns the last key of a nested form parameter whose
// name ends at b[j] (`user[password]`, as qs and Rails name them;
// `user%5Bpassword%5D`, as a browser encodes a form, once or twice), as
// b[start:end], or start -1 and end j when the name does not end in one:
// the label is then the name itself. The key is letters, digits, '_' and
// '-', at most maxBracketedKey bytes.
func bracketedKey(b []byte, j int) (start, end int) {
	var opener string
	switch {
	case j >= 5 && b[j-5] == '%' && b[j-4] == '2' && b[j-3] == '5' && b[j-2] == '5' && b[j-1]|0x20 == 'd':
		end, opener = j-5, "%255b"
	case j >= 3 && b[j-3] == '%' && b[j-2] == '5' && b[j-1]|0x20 == 'd':
		end, opener = j-3, "%5b"
	case j >= 1 && b[j-1] == ']':
		end, opener = j-1, "["
	default:
		return -1, j
	}
	if end < 3 || !MayNameSecret(b[end-3:end]) {
		return -1, j // no label ends so (`room [CHAT_AGM_<uuid>]:`): no walk back
	}
	// The key runs back to the opener: a raw '[' or an escape's '%' stops
	// the run (an encoded opener's hex digits are word bytes: `%5Bpassword`).
	run := end
	for run > 0 && end-run < maxBracketedKey && (is(b[run-1], cIdent) || b[run-1] == '-') {
		run--
	}
	o := run - 1
	if len(opener) > 1 {
		start = o + len(opener)
	} else {
		start = run
	}
	if o < 0 || start >= end || o+len(opener) > len(b) || !openerAt(b, o, opener) || !nameBeforeBrackets(b, o) {
		// A bracketed word standing alone (`[password]:`) or after
		// brackets with no name (`[AGM][CT_SECRET]:`) is prose or a log's
		// tag, not a form's key.
		return -1, j
	}
	return start, end
}

// nameBeforeBrackets reports whether a parameter's name stands before the
// opener at b[o]: `user[`, or one after brackets that follow a name
// (`users[0][`, at most four, each at most maxBracketedKey bytes). Log
// tags glued together (`[AGM][CT_SECRET]:`) have none.
func nameBeforeBrackets(b []byte, o int) bool {
	for k := 0; k < 4 && o > 0; k++ {
		if is(b[o-1], cIdent) {
			return true
		}
		if b[o-1] != ']' {
			return false
		}
		i := o - 2
		for i >= 0 && o-i <= maxBracketedKey && (is(b[i], cIdent) || b[i] == '-') {
			i--
		}
		if i < 0 || b[i] != '[' {
			return false
		}
		o = i
	}
	return false
}

// openerAt reports whether b[o:] starts with opener, its letter b in
// either case (`%5B`, `%5b`) and every other byte exactly.
func openerAt(b []byte, o int, opener string) bool {
	for i := 0; i < len(opener); i++ {
		c := b[o+i]
		if opener[i] == 'b' {
			c |= 0x20
		}
		if c != opener[i] {
			return false
		}
	}
	return true
}

// maxBracketedKey bounds the key bracketedKey reads back.
const maxBracketedKey = 64

// percentLabelled handles the URL percent-escape at b[p:w] when it
// encodes the '=' or ':' after a credential's label: a query or JSON
// that was URL-encoded once or twice (`next=%2Flogin%3Fuser%3Dbob%26password%3Dhunter2`,
// `state=%7B%22password%22%3A+%22x%22%7D`, `%253D`). The label is the
// one labelled reads (secretLabel), a form's nested key too
// (bracketedKey), after any escape glued before it (`%26password`) and
// before the quotes, escaped quotes and blanks that may close a key,
// raw or encoded. The value starts after blanks (`+`, `%20`, `%0A`) and
// may open with a quote: then it runs to the same quote encoded as many
// times (at most maxEncodedQuoted bytes), else to a separator encoded
// as many times as the label's or fewer (pctValueEnd): one encoded more
// times is the value's own (`%2526` after `%3D`). A value that holds a
// CTLive ID is not taken: an encoded URL carries the record's IDs. pass
// and the key labels follow their rules (otherPasswordText; pass
// unquoted only after '='). ct7Token and ctlivetoken are left to their
// word rules, which read encoded separators themselves (skipTokenSep).
func (s *scan) percentLabelled(b []byte, p, w int, r *Result) {
	sep, level, _ := pctEscape(b, p)
	if sep != '=' && sep != ':' {
		return
	}
	j := p
	var keyQuote byte // a raw quote that closes the key (`'password'%3A`)
	for k := 0; k < 4 && j > 0; k++ {
		if c := b[j-1]; c == '"' || c == '\'' || c == '+' || c == '\\' {
			if c == '"' || c == '\'' {
				keyQuote = c
			}
			j--
			continue
		}
		if c, _, st := pctEscapeBefore(b, j); st < j && (c == '"' || c == '\'' || c == ' ' || c == '+' || c == '\\') {
			j = st
			continue
		}
		break
	}
	start, labelEnd := bracketedKey(b, j)
	if labelEnd < 3 || !MayNameSecret(b[labelEnd-3:labelEnd]) {
		return
	}
	if start < 0 {
		start = labelStart(b, j)
		if start > 0 && b[start-1] == '%' {
			if e := percentEscapeEnd(b, start-1); e > 0 && e < j {
				start = e // the escape's hex digits are not the label's
			}
		}
	}
	label := b[start:labelEnd]
	kind := secretLabel(label)
	if kind == SecretNone || eqFold(label, "ct7token") || eqFold(label, "ctlivetoken") {
		return
	}
	v, quote, quoteLevel := pctValueStart(b, w)
	if quoteLevel == 0 && quote != 0 && quote != keyQuote && !(quote == '\'' && keyQuote == 0 && quotedWord(b, v)) {
		// A raw quote after `%3D` ends the text it stands in
		// (`"url":"/x?pwd%3D"`, `{ url: '/x?pwd%3D' }`); but
		// encodeURIComponent leaves JavaScript's quotes raw:
		// `password%3A%20'x'`, `filter=password%3D'x'`.
		return
	}
	end := -1
	if quote != 0 {
		_, l, st := pctEscapeBefore(b, v)
		c, l2, _ := pctEscapeBefore(b, st)
		escaped := l > 0 && l2 == l && c == '\\' // `%5C%22`: JSON escaped inside a string, then encoded
		end = pctQuoteEnd(b, v, quote, quoteLevel, escaped)
	}
	if end < 0 {
		quote, end = 0, s.pctValueEnd(b, v, level)
	}
	text := b[v:end]
	if len(text) == 0 || s.idMarkerIn(b, v, end) {
		return // an encoded URL carries the record's IDs: never a credential's
	}
	if otherPasswordLabel(label) && (!otherPasswordText(text) || quote == 0 && passLabel(label) && sep != '=') {
		return // pass, a key: common words (`Boarding+pass%3A+seat+12A`)
	}
	if kind == SecretToken {
		s.tokenValue(text, label, quote != 0, false, r)
		return
	}
	s.secret(text, kind, r)
}

// idMarkerIn reports whether b[v:end] holds a CTLive ID's marker: a UUID
// right after CHANNEL_TENANT_ (a contactID, a customer's userID) or
// `USER_`. Asked with v never decreasing (percentLabelled's values come
// left to right), it keeps the next marker found: each byte is searched
// once a line.
func (s *scan) idMarkerIn(b []byte, v, end int) bool {
	if s.idMarkerAt == 0 || s.idMarkerAt-1 < v {
		m := idMarkerFrom(b, max(v, s.idMarkerAt))
		if m < 0 {
			m = len(b) // none: past every value
		}
		s.idMarkerAt = m + 1
	}
	return s.idMarkerAt-1 < end
}

// tenantBefore reports whether the run before the '_' at b[u] is
// CHANNEL_TENANT, as a CTLive ID's is, and not one word (`sk_<uuid>`, an
// API key's prefix): it holds another '_' within maxIDPrefix bytes.
func tenantBefore(b []byte, u int) bool {
	for i := u - 1; i > 0 && u-i < maxIDPrefix && is(b[i], cIdent); i-- {
		if b[i] == '_' {
			return true
		}
	}
	return false
}

// idMarkerFrom returns where the first CTLive ID marker at or after b[i]
// starts (idMarkerIn), or -1.
func idMarkerFrom(b []byte, i int) int {
	for i < len(b) {
		k := bytes.IndexByte(b[i:], '_')
		if k < 0 {
			return -1
		}
		u := i + k
		if uuidAt(b, u+1) > 0 && tenantBefore(b, u) {
			return u
		}
		if u >= 4 && string(b[u-4:u]) == "USER" {
			return u - 4
		}
		i = u + 1
	}
	return -1
}

// quotedWord reports whether b[v:] is a word closed by a raw apostrophe:
// token characters only (no blank, comma or bracket), within
// maxEncodedQuoted bytes.
func quotedWord(b []byte, v int) bool {
	for i := v; i < len(b) && i-v <= maxEncodedQuoted; i++ {
		if b[i] == '\'' {
			return i > v
		}
		if !tokenChar[b[i]] {
			return false
		}
	}
	return false
}

// maxEncodedQuoted bounds the look for an encoded value's closing quote.
const maxEncodedQuoted = 256

// pctEscape describes the URL percent-escape at b[i]: the byte it
// encodes, how many times it was encoded (1: `%3D`, 2: `%253D`) and
// where it ends; level 0 when none starts there.
func pctEscape(b []byte, i int) (c byte, level, end int) {
	if i >= len(b) || b[i] != '%' {
		return 0, 0, i
	}
	e := percentEscapeEnd(b, i)
	if e < 0 {
		return 0, 0, i
	}
	x, _ := hexDigits(b[e-2 : e])
	if level = 1; e-i == 5 {
		level = 2
	}
	return byte(x), level, e
}

// pctEscapeBefore is pctEscape for the escape that ends at b[j]: its
// byte, level and start (j when none ends there).
func pctEscapeBefore(b []byte, j int) (c byte, level, start int) {
	switch {
	case j >= 5 && b[j-5] == '%' && b[j-4] == '2' && b[j-3] == '5' && is(b[j-2], cHex) && is(b[j-1], cHex):
		start, level = j-5, 2
	case j >= 3 && b[j-3] == '%' && is(b[j-2], cHex) && is(b[j-1], cHex):
		start, level = j-3, 1
	default:
		return 0, 0, j
	}
	x, _ := hexDigits(b[j-2 : j])
	return byte(x), level, start
}

// pctValueStart returns where the value after an encoded separator that
// ends at b[w] starts: past blanks, a form's `+` or encoded (`%20`,
// `%0A`, `%2B`), and escaped JSON's backslash; with the quote that opens
// it and how many times that quote was encoded (0: raw), or quote 0.
func pctValueStart(b []byte, w int) (v int, quote byte, level int) {
	v = w
	for k := 0; k < 8 && v < len(b); k++ {
		switch b[v] {
		case '+', '\\': // not a raw blank: the encoded text ends there (`x%3D data:{…}`)
			v++
			continue
		case '"', '\'':
			return v + 1, b[v], 0
		}
		c, l, e := pctEscape(b, v)
		switch {
		case l > 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '+' || c == '\\'):
			v = e
		case l > 0 && (c == '"' || c == '\''):
			return e, c, l
		default:
			return v, 0, 0
		}
	}
	return v, 0, 0
}

// pctQuoteEnd returns where the value at b[v] that quote opened ends: at
// the same quote encoded level times (a raw one for level 0), within
// maxEncodedQuoted bytes; or -1. A quote escaped by a backslash encoded
// as many times (`%5C%22`) is the value's own, unless the value opened
// with one (escaped): then it closes the value, without its backslash.
// An encoded value holds no raw blank: one ends the look.
func pctQuoteEnd(b []byte, v int, quote byte, level int, escaped bool) int {
	for i := v; i < len(b) && i-v <= maxEncodedQuoted; i++ {
		switch {
		case level == 0 && b[i] == quote:
			return i
		case level == 0 && b[i] == '\n', level > 0 && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n'):
			return -1
		case level > 0 && b[i] == '%':
			c, l, e := pctEscape(b, i)
			if l != level {
				continue
			}
			if c == '\\' {
				if escaped {
					if q, l2, _ := pctEscape(b, e); l2 == level && q == quote {
						return i
					}
				}
				if _, l2, e2 := pctEscape(b, e); l2 == level {
					i = e2 - 1 // the escaped byte is the value's
				}
				continue
			}
			if c == quote {
				return i
			}
		}
	}
	return -1
}

// pctValueEnd returns the end of the unquoted value at b[v] whose label's
// separator was encoded level times: at a raw byte outside tokenChar but
// '(', ')' and an apostrophe inside a word (encodeURIComponent leaves
// them), a raw '+' (a form's blank), or an escape of a separator encoded
// level times or fewer (an encoded '+' counts one level deeper: a form's
// blank inside the value, `%2B` after `%3D`). The last value measured at
// each level is kept: a value met again from a later label inside it ends
// where it did, so runs of labels stay linear.
func (s *scan) pctValueEnd(b []byte, v, level int) int {
	m := &s.pctValue[level-1]
	if v >= m.start && v < m.end {
		return m.end
	}
	i := v
	for i < len(b) {
		c := b[i]
		if c == '%' {
			if x, l, e := pctEscape(b, i); l > 0 {
				if x == '+' {
					l++ // a form's blank one level deeper: `%2B` is the value's own space after `%3D`
				}
				if l <= level && pctSeparator(x) {
					break
				}
				i = e
				continue
			}
		} else if c == '+' || !tokenChar[c] && c != '(' && c != ')' && !(c == '\'' && i+1 < len(b) && tokenChar[b[i+1]]) {
			break // a quote before a blank or a separator closes the string the URL stands in
		}
		i++
	}
	m.start, m.end = v, i
	return i
}

// pctSeparator: the bytes that end an encoded value when encoded as many
// times as its label's separator.
func pctSeparator(c byte) bool {
	switch c {
	case '&', ' ', '+', '\t', '\n', '\r', '"', '\'', ',', ';', ']', '}', '#', '?':
		return true
	}
	return false
}

// authOption handles the value after `auth:` or `auth=` at b[c]: Node's
// http.request option `auth: 'user:password'`, Basic credentials
// unencoded, replaced as a password. Only the key `auth` itself (not
// `last_auth`, `x-auth`) and a value in single quotes, as util.inspect
// prints the option (JSON's `"auth":"required:true"` is data, often chat
// text), that is no URL and holds no CTLive ID: a Redis key
// `auth:CHAT_AGM_<uuid>:agent` is the record's contactID (helper-83,
// helper-84). A value with a scheme (`auth: 'Basic <base64>'`) is the
// word rules' (basic, bearer); anything else (`auth: true`) is left.
func (s *scan) authOption(b []byte, c int, r *Result) {
	v := c + 1
	for v < len(b) && (b[v] == ' ' || b[v] == '\t') {
		v++
	}
	if v >= len(b) || b[v] != '\'' && b[v] != '"' {
		return
	}
	text := s.value(b, v)
	if b[v] == '"' && bytes.IndexByte(text, '\'') < 0 {
		return // util.inspect quotes with '"' only a string that holds a '\''
	}
	if len(text) < 3 || len(text) > maxBasicCredential || namesCTLiveID(text) {
		return
	}
	if i := bytes.IndexByte(text, ':'); i > 0 && i < len(text)-1 && !bytes.HasPrefix(text[i:], []byte("://")) && bytes.IndexByte(text, '\n') < 0 && !(allDigits(text[:i]) && allDigits(text[i+1:])) {
		s.secret(text, SecretPassword, r) // not a URL, nor a time or host:port (`10:30`)
	}
}

// sessionIsValue reports whether the value at b[v] of the label whose ':'
// or '=' is b[c] is the UUID the sessionID rule takes after it, and
// nothing more: `ctlivetoken=<uuid>.x` is one token, replaced whole.
func (s *scan) sessionIsValue(b []byte, c, v int) bool {
	var text []byte
	if v < len(b) && b[v] == '[' {
		text, _ = s.bracketedValue(b, v)
	} else {
		text = s.value(b, v)
	}
	return text != nil && sessionValue(text) != nil && uuidAfter(b, c) != nil
}

// tokenValue takes text, the value of a token's label: digested, or
// "[redacted]" whole when it is too short for a digest to be safe and the
// label is not one of the contract's tokens (ct7Token, ctlivetoken).
func (s *scan) tokenValue(text, label []byte, quoted, inJSON bool, r *Result) {
	text = beforeBlankEscape(text)
	t := s.trimSentenceEnd(text)
	if len(t) < minTokenEntropy && !eqFold(label, "ct7token") && !eqFold(label, "ctlivetoken") {
		s.secretJSON(text, SecretPassword, inJSON && !quoted, r) // punctuation and all
		return
	}
	s.secretJSON(t, SecretToken, inJSON && !quoted, r)
}

// beforeBlankEscape cuts a token's value that is a JWT followed by a JSON
// escape of a blank (`"q":"token=<JWT>\n"`) at the escape: the JWT rule
// takes the JWT alone, and a digest of both would differ from the JWT's
// own everywhere else. Other escapes stay in the value (`k9Xq\t2Lm…` is
// one token, replaced whole).
func beforeBlankEscape(t []byte) []byte {
	if len(t) < 3 || t[0] != 'e' || t[1] != 'y' || t[2] != 'J' {
		return t
	}
	_, end := jwtParts(t, 0)
	if end > 0 && end+1 < len(t) && t[end] == '\\' {
		if c := t[end+1]; c == 'n' || c == 'r' || c == 't' {
			return t[:end]
		}
	}
	return t
}

// inAPayload reports whether t starts inside a payload value the scan met
// (spanAt): one that runs on past the value's end, its end guessed, holds
// no field all the same (Result.InPayloadAt).
func (s *scan) inAPayload(t []byte) bool {
	if len(s.payloadSpans) == 0 || len(s.text) == 0 {
		return false
	}
	at := offsetIn(s.text, t)
	if at < 0 || at > len(s.text) {
		return false
	}
	return spanAt(s.payloadSpans, at)
}

// endsBracketedValue: what may follow a bracketed value's `]` (a list's or
// an object's next member, a cookie's next pair, a closing quote).
func endsBracketedValue(c byte) bool {
	switch c {
	case ',', ';', '}', ']', ')', '"', '\'':
		return true
	}
	return false
}

// offsetIn is where t, a slice of b, starts in b.
func offsetIn(b, t []byte) int {
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(t))) - uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// bracketedValue returns the one value inside the brackets opening at
// b[v] (`[x]`, `[ "x" ]`) and whether it was quoted, or nil when the
// brackets hold anything else.
func (s *scan) bracketedValue(b []byte, v int) ([]byte, bool) {
	i := skipBlanks(b, v+1)
	if i >= len(b) {
		return nil, false
	}
	quoted := b[i] == '"' || b[i] == '\'' || b[i] == '\\' && i+1 < len(b) && (b[i+1] == '"' || b[i+1] == '\'')
	text := s.value(b, i)
	if text == nil {
		return nil, false
	}
	e := offsetIn(b, text) + len(text)
	if quoted {
		if e < len(b) && b[e] == '\\' {
			e++
		}
		if e >= len(b) || b[e] != '"' && b[e] != '\'' {
			return nil, false // a quote left open: not one value
		}
		e++
	}
	if e = skipBlanks(b, e); e >= len(b) || b[e] != ']' {
		return nil, false
	}
	// Nothing glued after the bracket: `[x].y`, `[x]&z=1` are one value
	// each, replaced whole as before.
	if e++; e < len(b) && !is(b[e], cSpace) && !endsBracketedValue(b[e]) {
		return nil, false
	}
	return text, quoted
}

// closedEnd returns where a value opening with '(' or '<' at b[v] ends:
// at the next blank, or where the string it stands in ends, so that
// `data:{"text":"password=(x"}room[CHAT_AGM_…]` does not take the contactID
// glued after the payload: a '"' (before the backslash of an escaped one,
// `\"`, which ends a JSON string inside a JSON string), or a single quote
// or a backtick before a delimiter of a JavaScript literal
// (`{'text':'pwd=(x'}`). The brackets inside are the value's
// (`password=(Pa55)w0rd` is one). The last end found is kept for the
// values inside it (`password=(pwd=(…`): linear.
func (s *scan) closedEnd(b []byte, v int) int {
	if v >= s.closedFrom && v < s.closedTo {
		return s.closedTo
	}
	end := s.blankEnd(b, v)
	e := end
	slashes := 0 // backslashes right before b[k]
	for k := v + 1; k < end; k++ {
		switch c := b[k]; {
		case c == '\\':
			slashes++
			continue
		case c == '"':
			e = k - slashes%2
		case (c == '\'' || c == '`') && (k+1 == end || endsBracketedValue(b[k+1])):
			e = k
		default:
			slashes = 0
			continue
		}
		break
	}
	s.closedFrom, s.closedTo = v, e
	return e
}

// blankEnd returns where the run of bytes that are not blanks holding b[v]
// ends. The last run measured is kept: labels inside one run
// (`password:[password:[...`) measure it once, and the line stays linear.
func (s *scan) blankEnd(b []byte, v int) int {
	if v >= s.runFrom && v < s.runTo {
		return s.runTo
	}
	e := v
	for e < len(b) && !is(b[e], cSpace) {
		e++
	}
	s.runFrom, s.runTo = v, e
	return e
}

// minTokenEntropy: a value labelled ...token or api key shorter than this
// is replaced by "[redacted]", not digested: an unkeyed digest of a short
// value (`otp_token=483920`) is found by trying them all. ct7Token and
// ctlivetoken values are the contract's tokens and are always digested.
const minTokenEntropy = 16

// sessionValue is the UUID a session-labelled value holds alone: the
// whole value, but for blanks, quotes, brackets, `:` and `=` around it (the
// separators the contract's sessionID rule allows), a cookie's `;` or a
// list's `,` after it, and a `urn:uuid:` prefix. nil when it holds
// anything else.
func sessionValue(v []byte) []byte {
	i, j := 0, len(v)
	for i < j && aroundValue(v[i]) {
		i++
	}
	for j > i && aroundValue(v[j-1]) {
		j--
	}
	if j-i > 36 && hasPrefixFold(v[i:j], "urn:uuid:") {
		i += len("urn:uuid:")
	} else if j-i > 36 {
		if n := signedCookiePrefix(v[:j], i); n > 0 && j-i >= 36+n {
			// express-session's signed cookie: `s:<uuid>.<signature>`,
			// or its value alone
			if i += n; j-i > 36 && v[i+36] == '.' {
				j = i + 36
			}
		}
	}
	if j-i != 36 || uuidAt(v[:j], i) != j {
		return nil
	}
	return v[i:j]
}

// aroundValue: the bytes sessionValue trims from either end.
func aroundValue(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '\'', '`', '[', ']', '{', '}', '(', ')', '<', '>', ':', '=', ';', ',':
		return true
	}
	return false
}

// SessionLabel reports whether a record key names a session: `session`,
// `sessionId`, `session_id`, `x-session-id`, `session.id`, any case (the
// contract's session words as keys; contract: Credentials, "in any field").
func SessionLabel(l []byte) bool {
	return sessionIDLabel(l) || sessionNameLabel(l)
}

// sessionNameLabel reports whether a record key names a session with a
// word outside the contract's: `sid` alone or after a dot (express-session's
// `connect.sid`, `ctlive.sid`), connect-redis's `sess`,
// and session words followed by key, cookie, token, uuid or a plural
// (`sessionKey`, `session_cookie`, `sessionUuid`, `sessions`,
// `sessionIds`, `session ids`).
func sessionNameLabel(l []byte) bool {
	if eqFold(l, "sid") || eqFold(l, "sess") || len(l) > 4 && l[len(l)-4] == '.' && hasSuffixFold(l, "sid") {
		return true // not `message_sid`, `msg-sid`: a Twilio message's SID
	}
	if len(l) >= 8 && l[len(l)-1]|0x20 == 's' {
		l = l[:len(l)-1] // sessions, sessionIds
	}
	for _, w := range [...]string{"key", "cookie", "token", "uuid", "id"} {
		if stem, ok := dropNameWord(l, w); ok {
			l = stem
			break
		}
	}
	return sessionWordBefore(l, len(l))
}

// dropNameWord drops name (any case) from the end of l, and the joiner
// before it (`session_id`, `session-key`, `session.id`, `session id`),
// and reports whether l ended with name.
func dropNameWord(l []byte, name string) ([]byte, bool) {
	if !hasSuffixFold(l, name) {
		return l, false
	}
	l = l[:len(l)-len(name)]
	if n := len(l); n > 0 && (l[n-1] == '_' || l[n-1] == '-' || l[n-1] == '.' || l[n-1] == ' ') {
		l = l[:n-1]
	}
	return l, true
}

// sessionIDLabel is SessionLabel for the contract's session words.
func sessionIDLabel(l []byte) bool {
	if sessionWordBefore(l, len(l)) {
		return true
	}
	if len(l) < 9 {
		return false
	}
	stem, ok := dropNameWord(l, "id")
	return ok && sessionWordBefore(stem, len(stem))
}

// compoundSessionLabel reports whether a label before `=` or `:` names a
// session with session inside a longer word (jsessionid, userSessionId,
// JSESSIONID, websession): the word rules only see session as a word of
// its own (session, sessionId, session_id).
func compoundSessionLabel(l []byte) bool {
	if !sessionIDLabel(l) {
		return false
	}
	q := len(l) // where session ends
	if !hasSuffixFold(l, "session") {
		stem, _ := dropNameWord(l, "id")
		q = len(stem)
	}
	p := q - len("session")
	return p > 0 && alnum[l[p-1]]
}

// secretKeyLabel reports whether l is a secret's name followed by the
// word key (`secretKey`, `SECRET_KEY`, `jwtSecretKey`).
func secretKeyLabel(l []byte) bool {
	stem, ok := dropNameWord(l, "key")
	return ok && hasSuffixFold(stem, "secret")
}

// uuidSessionLabel reports whether a label names a session's UUID as such
// (`sessionUUID`, `session_uuid`, `userSessionUuid`): a session's
// credential, not the contract's sessionID (its words end in id).
func uuidSessionLabel(l []byte) bool {
	stem, ok := dropNameWord(l, "uuid")
	return ok && sessionWordBefore(stem, len(stem))
}

// passLabel reports whether l ends with the word pass: nodemailer's and
// many Node clients' `auth: { user, pass }`, `DB_PASS`, `smtpPass`; not
// `bypass` or `compass`, where pass is no word of its own.
func passLabel(l []byte) bool {
	if !hasSuffixFold(l, "pass") {
		return false
	}
	p := len(l) - 4
	if hasSuffixFold(l, "bypass") {
		return false // byPass too
	}
	return p == 0 || !is(l[p-1], cLetter) || l[p] == 'P' && l[p-1] >= 'a' && l[p-1] <= 'z'
}

// keyLabel reports whether l names a private or secret key with words
// around secret: `secretAccessKey` and `aws_secret_access_key` (the AWS
// SDKs' and CLI's names), jsonwebtoken's `secretOrPublicKey`, `private_key` and `privateKey` (a Google service
// account's JSON, PEM files), `SECRET_KEY_BASE` (Rails, Phoenix).
func keyLabel(l []byte) bool {
	if stem, ok := dropNameWord(l, "base"); ok {
		return secretKeyLabel(stem)
	}
	stem, ok := dropNameWord(l, "key")
	if !ok {
		return false
	}
	if hasSuffixFold(stem, "private") {
		return true
	}
	return len(stem) <= maxPEMLabel && containsFold(stem, "secret") // secretAccessKey, secretOrPublicKey
}

// containsFold reports whether w holds kw (lower case) in any case.
func containsFold(w []byte, kw string) bool {
	for i := 0; i+len(kw) <= len(w); i++ {
		if eqFold(w[i:i+len(kw)], kw) {
			return true
		}
	}
	return false
}

// otherPasswordLabel is passLabel, passphrase and keyLabel (and a key's
// `_pem`), asked only of
// a label whose last letter one of them ends with: every label before a
// ':' or '=' that may name a secret is asked.
func otherPasswordLabel(l []byte) bool {
	if passwordRepeated(l) {
		return true // read with care: `passwordConfirm: true` is a flag, not the password
	}
	switch l[len(l)-1] | 0x20 {
	case 's':
		return passLabel(l)
	case 'e':
		if stem, ok := dropNameWord(l, "phrase"); ok && hasSuffixFold(stem, "pass") {
			return true // passphrase, pass_phrase, PASS-PHRASE
		}
		return keyLabel(l)
	case 'y':
		return keyLabel(l)
	case 'm':
		stem, ok := dropNameWord(l, "pem")
		return ok && keyLabel(stem) // private_key_pem, privateKeyPem
	}
	return false
}

// secretLabel says what a label's value is: a password or secret (little
// entropy), a token or API key, or nothing. The contract names password,
// passwd, pwd and secret; pass, passphrase and the private and secret keys
// (passLabel, keyLabel) are the same credentials in other words.
func secretLabel(l []byte) SecretKind {
	switch {
	case passwordLabel(l), hasSuffixFold(l, "secret"):
		return SecretPassword
	case len(l) >= 9 && secretKeyLabel(l):
		return SecretPassword // secretKey, secret_key, jwtSecretKey: a secret all the same
	case len(l) >= 4 && otherPasswordLabel(l):
		return SecretPassword
	case hasSuffixFold(l, "token"), hasSuffixFold(l, "apikey"):
		return SecretToken
	case len(l) >= 7 && eqFold(l[len(l)-7:len(l)-4], "api") && (l[len(l)-4] == '_' || l[len(l)-4] == '-') && eqFold(l[len(l)-3:], "key"):
		return SecretToken // api_key, X-Api-Key
	}
	return SecretNone
}

// passwordLabel reports whether l ends with one of the contract's
// password labels: password, passwd, pwd.
func passwordLabel(l []byte) bool {
	return hasSuffixFold(l, "password") || hasSuffixFold(l, "passwd") || hasSuffixFold(l, "pwd")
}

// passwordRepeated reports whether l labels a password typed again or
// changed, a password label then a word (Rails' password_confirmation,
// passwordConfirm, Django's password1 and password2, password_new): the
// same secret as the password beside it, which the contract's labels
// alone left in clear. These read their values with care, as pass does
// (otherPasswordLabel): a flag (`passwordConfirm: true`) is none.
func passwordRepeated(l []byte) bool {
	if len(l) < 4 {
		return false
	}
	var words []string // the words of passwordAgain that end as l does: most labels have none
	switch l[len(l)-1] | 0x20 {
	case 'n':
		words = passwordAgain[:2] // confirmation, again
	case 'm':
		words = passwordAgain[2:3] // confirm
	case 't':
		words = passwordAgain[3:4] // repeat
	case '1', '2', 'w', 'd':
		words = passwordAgain[4:] // 1, 2, new, old
	}
	for _, again := range words {
		if len(l) <= len(again) || !hasSuffixFold(l, again) {
			continue
		}
		rest := l[:len(l)-len(again)]
		if c := rest[len(rest)-1]; c == '_' || c == '-' || c == '.' {
			rest = rest[:len(rest)-1]
		}
		if passwordLabel(rest) {
			return true
		}
	}
	return false
}

// passwordAgain: the words after a password's label that name it again
// (lower case: hasSuffixFold).
var passwordAgain = []string{"confirmation", "again", "confirm", "repeat", "1", "2", "new", "old"}

// value returns the value starting at b[v]: up to its closing quote when it
// is quoted (a backslash-escaped quote too, for JSON inside a JSON string),
// else a run of token characters. nil when empty.
func (s *scan) value(b []byte, v int) []byte {
	if v >= len(b) {
		return nil
	}
	escaped := b[v] == '\\' && v+1 < len(b) && (b[v+1] == '"' || b[v+1] == '\'')
	if escaped {
		v++
	}
	if b[v] == '`' && !escaped {
		// A shell's or a template's `x y`, closed before a blank or the
		// end and holding no CTLive ID (prose in backticks is no password,
		// helper-84); a run of backticks, or text glued after the closing
		// one, is no quote (“``x``”, “`abc`x” read as a token, backticks
		// and all).
		if v+1 < len(b) && b[v+1] != '`' {
			if q := bytes.IndexByte(b[v+1:min(len(b), v+1+maxQuotedValue)], '`'); q > 0 && bytes.IndexByte(b[v+1:v+1+q], '\n') < 0 {
				if end := v + 2 + q; (end == len(b) || !tokenChar[b[end]]) && !namesCTLiveID(b[v+1:v+1+q]) {
					return b[v+1 : v+1+q]
				}
			}
		}
		return nonEmpty(b[v:s.tokenEnd(b, v)])
	}
	if q := b[v]; q == '"' || q == '\'' {
		start := v + 1
		for i := start; i < len(b); i++ {
			switch b[i] {
			case '\\':
				if escaped && i+1 < len(b) && b[i+1] == q {
					return nonEmpty(b[start:i])
				}
				i++ // an escaped character of the value
			case q:
				return nonEmpty(b[start:i])
			case '\n':
				return nonEmpty(b[start:i])
			}
		}
		return nonEmpty(b[start:min(len(b), s.tokenEnd(b, start))])
	}
	return nonEmpty(b[v:s.tokenEnd(b, v)])
}

// maxQuotedValue bounds the look for a backtick's closing one.
const maxQuotedValue = 1024

// tokenChar marks what an unquoted credential is made of: printable ASCII
// and UTF-8 bytes, but not what separates values in logs, headers, query
// strings and JSON.
var tokenChar = func() (t [256]bool) {
	for c := 0x21; c < 0x100; c++ {
		t[c] = c != 0x7f
	}
	for _, c := range []byte("\"',;&()<>[]{}\\") {
		t[c] = false
	}
	return
}()

func tokenEnd(b []byte, i int) int {
	for i < len(b) {
		if tokenChar[b[i]] {
			i++
			continue
		}
		// A backslash and the byte it escapes are the value's, but for a
		// quote (`\"`: the value's end inside a JSON string) and a colour
		// written as an escape: `Hun\wter2` is one password, and a JSON
		// text's `\n` only replaces more.
		if b[i] == '\\' && i+1 < len(b) && (tokenChar[b[i+1]] || b[i+1] == '\\') && b[i+1] != '"' && b[i+1] != '\'' && !escapedCSI(b, i) {
			i += 2
			continue
		}
		return i
	}
	return i
}

// escapedCSI reports whether b[i:] is an ANSI escape written as a JSON or
// JavaScript escape (`\u001b[`, `\x1B[`, what util.inspect prints of a
// coloured string): the colour after a value, not a part of it. The plugin
// reads what such escapes hide in its views (enrich/views.go).
func escapedCSI(b []byte, i int) bool {
	r := b[i+1:]
	switch {
	case len(r) >= 6 && r[0] == 'u' && eqFold(r[1:5], "001b") && r[5] == '[':
		return true
	case len(r) >= 4 && r[0] == 'x' && eqFold(r[1:3], "1b") && r[3] == '[':
		return true
	}
	return false
}

// tokenEnd is tokenEnd for the line the scan is on, remembering the last
// run it measured: a run of token characters holds every later label in
// it (`pwd=pwd=pwd=…`), and measuring the rest of the run again from each
// would be quadratic in the line.
func (s *scan) tokenEnd(b []byte, i int) int {
	if i >= s.tokFrom && i < s.tokTo {
		return s.tokTo
	}
	end := tokenEnd(b, i)
	s.tokFrom, s.tokTo = i, end
	return end
}

// tokenAfter takes the value after a token's label word at b[..e]
// (`ct7Token: x`, `ct7Token Bearer x`, `ctlivetoken=x` that is not a UUID).
func (s *scan) tokenAfter(b []byte, e int, r *Result) {
	v := skipTokenSep(b, e)
	if p := pairedValue(b, e); p > 0 {
		if !plausiblePairedValue(b, p) {
			return
		}
		v = p
	}
	if v == e {
		return
	}
	from := e
	if w := wordEnd(b, v); eqFold(b[v:w], "bearer") && w < len(b) && b[w] == ' ' {
		v, from = w+1, w
	}
	if t := s.tokenInBrackets(b, from, v); t != nil {
		s.secret(t, SecretToken, r) // `ct7Token (x)`, `ct7Token {x}`, as `ct7Token [x]` and `ct7Token=(x)` have it
		return
	}
	if text := s.value(b, v); text != nil {
		s.secret(s.trimSentenceEnd(text), SecretToken, r) // ct7Token, ctlivetoken: the contract's tokens, digested however short
	}
}

// tokenInBrackets returns the token that the bracket or quote at b[v]
// holds alone and closed (closedAlone, closedInSentence) when only blanks
// stand between it and a credential's word ending at e (`ct7Token (x)`,
// `Bearer <x>`, `Bearer "x"`; a label's ':' or '=' is labelled's), or
// nil. An ID there, or a token that holds one or the start of one, is
// left where it stands: it may be the record's contactID, and a digest
// would replace its every copy. So is punctuation alone, and a stack
// frame's location.
func (s *scan) tokenInBrackets(b []byte, e, v int) []byte {
	if s.finals || v <= e || v+1 >= len(b) || !tokenChar[b[v+1]] {
		return nil
	}
	switch b[v] {
	case '(', '<', '[', '{', '"', '\'':
	default:
		return nil
	}
	for _, c := range b[e:v] {
		if c != ' ' && c != '\t' {
			return nil
		}
	}
	end := s.tokenEnd(b, v+1)
	if !closedAlone(b, v, end) && !closedInSentence(b, v, end) || idInOpener(b, v) {
		return nil
	}
	t := b[v+1 : end]
	if !hasAlnum(t) || holdsCTLiveID(t) || holdsIDPrefix(t) || isFrameLocation(t) || b[v] == '(' && inStackFrame(b, e) {
		return nil
	}
	// Without its sentence's punctuation, as a bare token is taken
	// (`"x!"`, `[x:]`): its bare copies get the same digest.
	t = s.trimSentenceEnd(t)
	if bytes.IndexAny(bytes.TrimRight(t, "="), `=:\`) >= 0 {
		// A label inside (`(ct7Token=x)`), a URL, or a JSON escape (`x\t`):
		// the rules for labels and the plugin's decoded views take what is
		// there, each value with its own digest and copies (helper-73).
		return nil
	}
	return t
}

// inStackFrame reports whether the word ending at b[e] is a stack frame's
// function, after `at` (and `new` or `async`): `at Bearer (native)`,
// `at new ct7Token (<anonymous>)`, `at async Bearer (/app/x.js)`; its
// location in parentheses is no token.
func inStackFrame(b []byte, e int) bool {
	w := e
	for w > 0 && !is(b[w-1], cSpace) {
		w-- // back over the word itself
	}
	for range 2 {
		p := w
		for p > 0 && (b[p-1] == ' ' || b[p-1] == '\t') {
			p--
		}
		if p == w {
			return false
		}
		s := p
		for s > 0 && is(b[s-1], cLetter) {
			s--
		}
		word := b[s:p]
		if s > 0 && b[s-1] == '\\' && len(word) > 2 && (word[0] == 'n' || word[0] == 't' || word[0] == 'r') {
			word = word[1:] // a JSON-escaped stack: `\n\tat ct7Token (native)`
		}
		switch {
		case string(word) == "at":
			return true
		case string(word) != "new" && string(word) != "async":
			return false
		}
		w = s
	}
	return false
}

// closedInSentence reports whether the opener at b[o] closes at b[end]
// and a sentence's punctuation, then a blank or the text's end, follows
// (`ct7Token (x), next`, `Bearer <x>;`): the brackets hold the token alone
// all the same.
func closedInSentence(b []byte, o, end int) bool {
	if end+1 >= len(b) || b[end] != closerOf(b[o]) {
		return false
	}
	switch b[end+1] {
	case ',', ';', ':', '!', '?':
		e := end + 2
		return e == len(b) || is(b[e], cSpace)
	}
	return false
}

// holdsIDPrefix reports whether t holds a CTLive ID's CHANNEL_TENANT_
// start anywhere (letters and digits, '_', letters and digits, '_'),
// letters of either case: an ID that an escape breaks, or a letter glued
// inside (`CHAT_mAGM_m<uuid>`, as a reading that keeps each colour
// escape's final byte saw `CHAT_\x1b[1mAGM_\x1b[1m<uuid>`: helper-68,
// helper-70), is still the record's ID.
func holdsIDPrefix(t []byte) bool {
	return anyUnderscore(t, func(j int) bool {
		a := j
		for a > 0 && alnum[t[a-1]] {
			a--
		}
		k := j + 1
		for k < len(t) && alnum[t[k]] {
			k++
		}
		return a < j && is(t[a], cLetter) && k > j+1 && k < len(t) && t[k] == '_'
	})
}

// hasAlnum reports whether t holds a letter or a digit: punctuation alone
// (`ct7Token (!!)`) is no token.
func hasAlnum(t []byte) bool {
	for _, c := range t {
		if alnum[c] {
			return true
		}
	}
	return false
}

// isFrameLocation reports whether t is a stack frame's location as V8
// prints it, whatever colours its `at` carries: ending in :line:column
// (`/app/auth.js:10:5`, `node:internal/x:95`), `native`, a `node:`
// module, or a script's name or path (`index.js`, `/app/x.mjs`).
func isFrameLocation(t []byte) bool {
	if string(t) == "native" || hasPrefixFold(t, "node:") {
		return true
	}
	if lineColumnAt(t) < len(t) {
		return true
	}
	for _, ext := range [...]string{".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"} {
		if hasSuffixFold(t, ext) {
			return true
		}
	}
	return false
}

// lineColumnAt returns where t's `:<line>:<column>` or `:<line>` starts,
// or len(t) when it ends in neither.
func lineColumnAt(t []byte) int {
	i := len(t)
	for range 2 {
		d := i
		for d > 0 && '0' <= t[d-1] && t[d-1] <= '9' {
			d--
		}
		if d == i || d == 0 || t[d-1] != ':' {
			return i
		}
		i = d - 1
	}
	return i
}

// minBareBearer is the shortest token taken after a `Bearer` that no
// `Authorization` introduces: "bearer of" in chat text is not a credential,
// a real bearer token is longer.
const minBareBearer = 16

// privateKey handles the word BEGIN at b[w:e] in a PEM armour
// (`-----BEGIN PRIVATE KEY-----`, RSA's, EC's, OPENSSH's, ENCRYPTED's,
// `-----BEGIN PGP PRIVATE KEY BLOCK-----`): the key after it is replaced by
// "[redacted]" (a key is no token to correlate), the armours kept
// (pemKey says how far it runs).
func (s *scan) privateKey(b []byte, w, e int, r *Result) {
	if w < 5 || string(b[w-5:w]) != "-----" || e >= len(b) || b[e] != ' ' {
		return
	}
	i := e
	for i < len(b) && i-e <= maxPEMLabel && (b[i] >= 'A' && b[i] <= 'Z' || b[i] == ' ') {
		i++
	}
	if label := b[e:i]; !bytes.HasSuffix(label, []byte(" PRIVATE KEY")) && !bytes.HasSuffix(label, []byte(" PRIVATE KEY BLOCK")) ||
		!bytes.HasPrefix(b[i:], []byte("-----")) {
		return
	}
	body := i + len("-----")
	if end := pemKey(b, body); end > body {
		s.secret(b[body:end], SecretPassword, r)
	}
}

// pemKey returns the end of the PEM key whose body starts at b[i], or i
// when none does. A key is lines of base64 (minPEMLine characters or more
// but the last) between separators: blanks and line breaks, backslash
// escapes (`\n` in a JSON string), util.inspect's joins of a long string
// (`'…\n' +` then `'…'` on the next line) or of its lines in an array
// (`[ '-----BEGIN…', '…', … ]`); an encrypted key's
// `Proc-Type:` and `DEK-Info:` headers too. When an `-----END` follows
// the lines, the key runs to it; else (a line or a string cut short) it is
// its lines, the first of minPEMBody characters or more. A JSON string's
// quote or any other word stops it, so prose, IDs and other credentials
// after an armour stay (helper-89). A call stops at the next armour's
// dashes at the latest: linear in the line.
func pemKey(b []byte, i int) int {
	end, first := i, 0
	for j := i; ; {
		j = pemSeparators(b, j)
		if bytes.HasPrefix(b[j:], []byte("-----END ")) {
			if first == 0 {
				return i
			}
			return j
		}
		k := j
		for k < len(b) && !is(b[k], cSpace) && b[k] != '\'' && b[k] != '\\' && b[k] != '"' && b[k] != ',' {
			k++
		}
		switch t := b[j:k]; {
		case len(t) == 0:
			return pemCut(i, end, first)
		case string(t) == "+": // a join
		case string(t) == "Proc-Type:" || string(t) == "DEK-Info:":
			// Its value, one word: `4,ENCRYPTED`, `AES-128-CBC,<hex>`.
			if k = pemHeaderValue(b, pemSeparators(b, k)); k < 0 {
				return pemCut(i, end, first)
			}
		case allBase64(t) && (len(t) >= minPEMLine || bytes.HasPrefix(b[pemSeparators(b, k):], []byte("-----END "))):
			if first == 0 {
				first = len(t)
			}
			end = k
		default:
			return pemCut(i, end, first)
		}
		j = k
	}
}

// pemSeparators returns the end of the separators between a PEM key's
// lines that start at b[j] (pemKey); an escaped quote is none.
func pemSeparators(b []byte, j int) int {
	for j < len(b) {
		switch c := b[j]; {
		case is(c, cSpace), c == '\'', c == ',':
			j++ // `,` between util.inspect's quoted lines of a key split into an array
		case c == '\\' && j+1 < len(b) && b[j+1] != '"':
			j += 2
		default:
			return j
		}
	}
	return j
}

// pemHeaderValue returns the end of an encrypted PEM key's header value
// at b[j] (`4,ENCRYPTED`, `AES-128-CBC,0123ABCD`: letters, digits, `,` and
// single dashes, at most maxPEMHeader bytes), or -1 when there is none.
func pemHeaderValue(b []byte, j int) int {
	k := j
	for k < len(b) && k-j < maxPEMHeader && (alnum[b[k]] || b[k] == ',' || b[k] == '-' && !(k+1 < len(b) && b[k+1] == '-')) {
		k++
	}
	if k == j || k-j == maxPEMHeader {
		return -1
	}
	return k
}

// pemCut is pemKey's answer for a key that no `-----END` closes: its
// lines, when the first is as long as a key's.
func pemCut(i, end, first int) int {
	if first < minPEMBody {
		return i
	}
	return end
}

func allBase64(t []byte) bool {
	for _, c := range t {
		if !pemBody[c] {
			return false
		}
	}
	return true
}

// maxPEMLabel bounds the words between BEGIN and PRIVATE KEY; minPEMBody
// is the fewest base64 characters the first line of a key without its
// `-----END` must have, minPEMLine the fewest of any line but the last (a
// key's lines hold 64).
const (
	maxPEMHeader = 80
	maxPEMLabel  = 40
	minPEMBody   = 40
	minPEMLine   = 16
)

// pemBody marks base64's characters.
var pemBody = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
	}
	return
}()

// otherPasswordValue reports whether the value at b[v] of a label
// b[start:j] that otherPasswordLabel names, whose ':' or '=' is b[c], is
// that credential. These labels are common words (`Boarding pass: seat
// 12A`, `second_pass: 3 of 5`, `firstPass: [CHAT_AGM_<uuid>]`,
// `boarding_pass:{…}`, `privateKey: null`), so (helper-88 to helper-91):
//   - a structure or a bracketed value is data, not the credential;
//   - a JSON-escaped quote (`\"x\"`) only after a label quoted so too;
//   - never a value otherPasswordText refuses (an ID, a placeholder), nor
//     a quoted one quotedOtherPassword refuses (a quote left open);
//   - pass unquoted only after '=': a compound label (`db_pass=`,
//     `smtpPass=`, `smtp.pass=`), an environment variable (`PASS=`), a
//     query or form (`?pass=`, `&pass=`, `;pass=`, `pass=x&`), a
//     command-line flag (`--pass=`) or a logfmt pair (`user=bob pass=x`).
func (s *scan) otherPasswordValue(b, label []byte, start, j, c, v int) bool {
	if v >= len(b) {
		return false
	}
	switch b[v] {
	case '{', '[', '(', '<':
		return false
	}
	quoted := b[v] == '"' || b[v] == '\'' || b[v] == '`' || b[v] == '\\'
	if b[v] == '\\' && !(j < c && b[j] == '\\') {
		return false
	}
	text := s.value(b, v)
	if text == nil || !otherPasswordText(text) || quoted && !quotedOtherPassword(text, b[v]) {
		return false
	}
	if quoted || !passLabel(label) {
		return true
	}
	if b[c] != '=' {
		return false
	}
	end := v + len(text)
	switch {
	case len(label) > len("pass"): // db_pass=, smtpPass=
	case start > 0 && (b[start-1] == '?' || b[start-1] == '&' || b[start-1] == ';' || b[start-1] == '.'):
	case start+len(label) < j: // a form's nested key, `user[pass]=` (bracketedKey)
	case end < len(b) && b[end] == '&':
	case start >= 2 && b[start-1] == '-' && b[start-2] == '-':
	case allCaps(label):
	case logfmtBefore(b, start):
	default:
		return false
	}
	return true
}

// logfmtBefore reports whether the label at b[start] follows another
// `key=value` pair of a logfmt line (`user=bob pass=x`), looked for within
// maxLogfmtPair bytes.
func logfmtBefore(b []byte, start int) bool {
	if start < 2 || b[start-1] != ' ' {
		return false
	}
	for i := start - 2; i >= 0 && start-i <= maxLogfmtPair && b[i] != ' '; i-- {
		if b[i] == '=' {
			return i > 0 && is(b[i-1], cIdent)
		}
	}
	return false
}

// maxLogfmtPair bounds logfmtBefore's look back.
const maxLogfmtPair = 64

// quotedOtherPassword reports whether text, a value in quotes q after a
// label otherPasswordLabel names, reads as one: chat text's quote left
// open (`my boarding pass: 'B7, I am at the gate…`) runs to the next quote
// anywhere, across a JSON string's end and IDs (helper-91). So it holds
// no line break, no bracket or brace, no `"` inside other quotes, at most
// maxOtherQuoted bytes, and no CTLive ID or other UUID anywhere (the
// window otherPasswordText reads is the whole value).
func quotedOtherPassword(text []byte, q byte) bool {
	if len(text) > maxOtherQuoted || q != '"' && bytes.IndexByte(text, '"') >= 0 {
		return false
	}
	for _, c := range text {
		switch c {
		case '\n', '\r', '{', '}', '[', ']':
			return false
		}
	}
	return !idIn(text, len(text))
}

// maxOtherQuoted bounds quotedOtherPassword's value: Rails' SECRET_KEY_BASE
// is 128 hex digits. A PEM key under a label is longer; its own rule
// (privateKey) takes its body.
const maxOtherQuoted = 256

// otherPasswordText reports whether text may be the value of a label that
// otherPasswordLabel names: holding no CTLive ID (holdsID), nor a boolean
// or a placeholder (`pass: true`, `"canPass":"yes"`, `privateKey: null`).
func otherPasswordText(text []byte) bool {
	if holdsID(text) {
		return false
	}
	if len(text) == 1 && (text[0] == '0' || text[0] == '1') {
		return false
	}
	for _, w := range [...]string{"true", "false", "yes", "no", "on", "off", "ok", "null", "undefined", "none"} {
		if eqFold(text, w) { // eqFold folds letters only: the digits are compared above
			return false
		}
	}
	return true
}

// allCaps reports whether l has no lower-case letter: an environment
// variable's name (`SMTP_PASS`).
func allCaps(l []byte) bool {
	for _, c := range l {
		if c >= 'a' && c <= 'z' {
			return false
		}
	}
	return true
}

// sessionLabelled handles the ':' or '=' at b[c] after a label b[start:j]
// that names no secret but may name a session: the UUID after a label
// with session inside a word (`jsessionid=<uuid>`, `userSessionId:
// <uuid>`, `sessionUUID: <uuid>`), and the value of express-session's
// cookie, `connect.sid`, or under a session's name of its own when it is
// signed (sessionCookieValue, signedCookie). Apart from labelled to keep
// that one small enough to inline into the body pass.
func (s *scan) sessionLabelled(b []byte, start, j, c int, r *Result) {
	if l := b[start:j]; compoundSessionLabel(l) || uuidSessionLabel(l) {
		if id := uuidAfter(b, c); id != nil {
			s.secret(id, SecretSession, r)
		}
		return
	}
	connect := j-start == 3 && start >= 8 && b[start-1] == '.' && eqFold(b[start-8:j], "connect.sid")
	if l := b[start:j]; !connect && !SessionLabel(l) && !hasSuffixFold(l, "sid") {
		return
	}
	v := c + 1
	if b[c] == '=' && v < len(b) && b[v] == '>' {
		v++ // a Map's `'connect.sid' => 's:…'`
	}
	for v < len(b) && (b[v] == ' ' || b[v] == '\t') {
		v++
	}
	if text := s.value(b, v); text != nil && sessionCookieValue(text) && (connect || signedCookie(text)) {
		quoted := b[v] == '"' || b[v] == '\'' || b[v] == '\\'
		s.tokenValue(text, b[start:j], quoted, j < c && b[j] == '"', r)
	}
}

// signedCookie reports whether v, a signed cookie's value (sessionCookieValue
// says it starts so), holds the signature express-session appends: a '.'
// 18 or more bytes in (after `s:` or `s%3A` and an ID), then 16 or more
// bytes. express-session's cookie under a name of its own (`sessionId=`,
// `sid=`, `__Host-sid=`, `ctlive.sid=`; Express's security guide advises
// renaming it) is taken only so.
func signedCookie(v []byte) bool {
	d := bytes.IndexByte(idPrefix(v), '.')
	return d >= 18 && len(v)-d-1 >= 16
}

// sessionCookieValue reports whether v, the value of express-session's
// cookie, connect.sid, is a session ID signed as express-session always
// signs it (`s:<id>.<signature>`, `s%3A…` encoded once, `s%253A…` twice)
// that the session rule does not take: a CTLive session UUID as the ID
// is that rule's, digested as the sessionID is, and an unsigned value is
// no cookie express-session set (a placeholder, a CTLive ID).
func sessionCookieValue(v []byte) bool {
	n := 0
	switch {
	case len(v) > 2 && v[0] == 's' && v[1] == ':':
		n = 2
	case len(v) > 4 && v[0] == 's' && eqFold(v[1:4], "%3a"):
		n = 4
	case len(v) > 6 && v[0] == 's' && eqFold(v[1:6], "%253a"):
		n = 6
	default:
		return false
	}
	return uuidAt(v, n) == 0 && !namesCTLiveID(idPrefix(v[n:]))
}

// idPrefix is as much of a value's start as a CTLive ID can take: the
// rules that leave a value holding an ID look there only, since a value
// may run to the end of the line, and a line of such labels
// (`connect.sid=s%3Aconnect.sid=…`, `x_pass=x_pass=…`) must not be read
// once per label.
func idPrefix(v []byte) []byte { return v[:min(len(v), maxIDPrefix)] }

// holdsID reports whether v's start (idPrefix) names a CTLive ID
// (`'[CHAT_AGM_<uuid>]'`, `room=CHAT_AGM_<uuid>`, `transfer to USER_bob`),
// or holds a UUID with anything else (`id=<uuid>`, `session <uuid>`: a
// message's or a session's, which their own rules take). A value that is
// a UUID alone may be a generated password; it is not refused.
func holdsID(v []byte) bool { return idIn(idPrefix(v), len(v)) }

// idIn is holdsID for the window p of a value n bytes long.
func idIn(p []byte, n int) bool {
	if namesCTLiveID(p) {
		return true
	}
	for i := 0; i+36 <= len(p); i++ {
		if p[i+8] == '-' && uuidAt(p, i) > 0 {
			return n != 36
		}
	}
	return false
}

// maxIDPrefix: `CHANNEL_TENANT_<uuid>` with a long channel and tenant.
const maxIDPrefix = 128

// bearer handles the word `bearer` ending at e: the token after it.
// basic handles the word Basic ending at b[e] outside an Authorization
// header (`headers: { auth: 'Basic <base64>' }`, an encoded
// `Basic%20<base64>`): the base64 after it is Basic credentials when it
// decodes to printable text with a ':' (user:password), as an
// Authorization header's would be (contract: Credentials). A word that
// does not decode so (`basic plan`) is prose.
func (s *scan) basic(b []byte, e int, r *Result) {
	v := e
	for v < len(b) && v-e < 6 {
		if b[v] == ' ' || b[v] == '\t' || b[v] == '+' {
			v++
		} else if v+3 <= len(b) && b[v] == '%' && b[v+1] == '2' && b[v+2] == '0' {
			v += 3
		} else if k := wideBlank(b, v); k > 0 {
			v += k
		} else {
			break
		}
	}
	if v == e {
		return
	}
	if v < len(b) && (b[v] == '"' || b[v] == '\'') {
		v++ // `Basic "<base64>"`
	}
	t := v
	for t < len(b) && t-v <= maxBasicCredential && base64Char(b[t]) {
		t++
	}
	for n := 0; n < 2 && t < len(b) && b[t] == '='; n++ {
		t++
	}
	if t-v < 8 || t-v > maxBasicCredential || t < len(b) && (alnum[b[t]] || b[t] == '_' || b[t] == '-') {
		return
	}
	if basicCredentials(b[v:t]) {
		s.secret(b[v:t], SecretBasic, r)
	}
}

// redisAuth handles Redis's AUTH command as node-redis prints a failed
// one (`command: 'AUTH', args: [ 'hunter2' ]`, `args: [ 'user', 'pw' ]`):
// the arguments are the password (and user name), replaced as passwords.
// Only that dump: a bare `AUTH x` in prose is no command.
func (s *scan) redisAuth(b []byte, w, e int, r *Result) {
	if e >= len(b) || b[e] != '\'' && b[e] != '"' || w < 1 || b[w-1] != b[e] {
		return
	}
	// node-redis's `command: 'AUTH'`: the label before the quoted word.
	k := skipBack(b, w-1, blanks)
	if k < 1 || b[k-1] != ':' || k < 8 || !eqFold(b[k-8:k-1], "command") {
		return
	}
	v := e + 1
	if v < len(b) && b[v] == ',' {
		v++
	}
	for v < len(b) && (b[v] == ' ' || b[v] == '\n') {
		v++
	}
	if v+len("args:") > len(b) || string(b[v:v+len("args:")]) != "args:" {
		return
	}
	v += len("args:")
	for v < len(b) && b[v] == ' ' {
		v++
	}
	if v >= len(b) || b[v] != '[' {
		return
	}
	for n := 0; n < 3; n++ { // AUTH takes a password, or a user name and a password
		v++
		for v < len(b) && (b[v] == ' ' || b[v] == '\n' || b[v] == ',') {
			v++
		}
		if v >= len(b) || b[v] != '\'' && b[v] != '"' {
			return
		}
		text := s.value(b, v)
		if text == nil {
			return
		}
		if !namesCTLiveID(text) {
			s.secret(text, SecretPassword, r)
		}
		v += len(text) + 1 // on its closing quote
	}
}

// maxBasicCredential bounds the Basic credentials and auth options read.
const maxBasicCredential = 512

func base64Char(c byte) bool { return alnum[c] || c == '+' || c == '/' }

// basicCredentials reports whether t, standard base64 with or without its
// padding, decodes to printable text holding a ':' (RFC 7617's user-id
// ":" password; UTF-8 beyond ASCII too, as RFC 7617 allows).
func basicCredentials(t []byte) bool {
	t = bytes.TrimRight(t, "=")
	var buf [maxBasicCredential]byte
	n, err := base64.RawStdEncoding.Decode(buf[:], t)
	if err != nil || n < 3 {
		return false
	}
	colon := false
	for _, c := range buf[:n] {
		if c < 0x20 || c == 0x7f {
			return false
		}
		colon = colon || c == ':'
	}
	return colon && utf8.Valid(buf[:n])
}

func (s *scan) bearer(b []byte, e int, r *Result) {
	v := e
	for v < len(b) && (b[v] == ' ' || b[v] == '\t') {
		v++
	}
	if v == e {
		return
	}
	t := s.tokenInBrackets(b, e, v) // `Bearer (x)`, `Bearer "x"`
	if t == nil {
		t = s.trimSentenceEnd(b[v:s.tokenEnd(b, v)])
	}
	if len(t) >= minBareBearer {
		s.secret(t, SecretBearer, r)
	}
}

// idInOpener reports whether the opener at b[o] holds exactly a CTLive
// ID, CHANNEL_TENANT_<uuid> or USER_TENANT_<uuid> as the parser reads one,
// and its closer (`authorization: [CHAT_AGM_<uuid>]` names a contact, not
// a credential). Anything else there, a token that only starts like one
// (`Bearer (SK_9f8e…)`, `(USER_s3cr3t…)`, `(CHAT_AGM_<uuid>:x)`), is the
// credential. The same inside a payload and in FindSecrets' readings: they
// read the line itself too (its decoded view, its stack), where the ID may
// be the record's contactID, and a digest would replace its every copy.
func idInOpener(b []byte, o int) bool {
	i := o + 1
	if i >= len(b) || !is(b[i], cUpper) {
		return false
	}
	c := i + 1
	for c < len(b) && (is(b[c], cUpper) || '0' <= b[c] && b[c] <= '9') {
		c++ // the channel: [A-Z][A-Z0-9]*
	}
	if c >= len(b) || b[c] != '_' {
		return false
	}
	end := identEnd(b, i)
	lastU := end - i - 9
	if lastU <= c-i+1 || b[i+lastU] != '_' || end >= len(b) || b[end] != '-' {
		return false
	}
	e := uuidAt(b, i+lastU+1)
	return e > 0 && e < len(b) && b[e] == closerOf(b[o])
}

// closedAlone reports whether the token from the opener at b[o] to end is
// all the brackets hold: its closer is at b[end], then a sentence's period
// or the end of a string (`"`, `\"`, `'`) may follow, and then a blank,
// a delimiter or the text's end (`(abc,def)`, `(x)tail`, `<x>)tail`,
// `(x)'tail` are not).
func closedAlone(b []byte, o, end int) bool {
	if end >= len(b) || b[end] != closerOf(b[o]) {
		return false
	}
	e := end + 1
	if e < len(b) && b[e] == '.' {
		e++
	}
	if e+1 < len(b) && b[e] == '\\' && b[e+1] == '"' {
		e++
	}
	if e < len(b) && (b[e] == '"' || b[e] == '\'') {
		return e+1 == len(b) || is(b[e+1], cSpace) || endsBracketedValue(b[e+1])
	}
	return e == len(b) || is(b[e], cSpace)
}

// closerOf is the byte that closes the opener c.
func closerOf(c byte) byte {
	switch c {
	case '(':
		return ')'
	case '[':
		return ']'
	case '<':
		return '>'
	case '{':
		return '}'
	}
	return c // a quote
}

// skipOpener steps over a bracket or a quote that opens a credential
// (`Bearer (x)`, `Basic [x]`, `Bearer "x"`, `"(Basic x)"`): the token
// starts after it, and ends at its closer, which no token holds.
func (s *scan) skipOpener(b []byte, v int) int {
	if v+1 < len(b) && tokenChar[b[v+1]] && !idInOpener(b, v) {
		switch b[v] {
		case '(', '[', '<', '"', '\'':
			return v + 1
		case '{':
			// Only around one token (`Bearer {x}`): `{CHAT_AGM_<uuid>, x}`
			// keeps its ID, as at b954909, where braces opened nothing.
			if closedAlone(b, v, s.tokenEnd(b, v+1)) {
				return v + 1
			}
		}
	}
	return v
}

// authorization handles an `Authorization` header (or its JSON, or
// Proxy-Authorization) ending at e: `Authorization: Bearer x` gives a
// token, any other scheme (`Basic x`, `ApiKey x`) a secret with little
// entropy, a value without a scheme a token.
func (s *scan) authorization(b []byte, e int, r *Result) {
	v := e
	labelled := false // a ':', '=' or quote stands between the word and its value
	for v < len(b) {
		if n := wideBlank(b, v); n > 0 {
			v += n // `Authorization:\u00a0Basic x`
			continue
		}
		if !is(b[v], cSep) && !(b[v] == '>' && v > e && b[v-1] == '=') { // Ruby's `=>` too
			break
		}
		switch b[v] {
		case ':', '=', '"', '\'':
			labelled = true
		}
		if b[v] == '[' {
			// Only before a quote: `"authorization":["Basic x"]` (or a
			// pretty-printed array), never `authorization [AGM]`.
			q := quoteAt(b, v+1)
			if q < 0 {
				break
			}
			v = q
		}
		v++
	}
	if p := pairedValue(b, e); p > 0 {
		if !plausiblePairedValue(b, p) {
			return // `allowedHeaders: [ 'Authorization', 'ctlivetoken' ]`
		}
		v, labelled = p, true // `'Authorization', 'Basic x'`
	}
	if v == e || v >= len(b) {
		return
	}
	if labelled {
		v = s.skipOpener(b, v) // `Authorization=(Basic x)`; never `authorization [CHAT_AGM_…]`
	}
	if !labelled && !knownScheme(b[v:schemeEnd(b, v)]) {
		// Prose (`authorization granted contact=…`) keeps its words; a
		// bare generated token still is one.
		if t := s.trimSentenceEnd(b[v:s.tokenEnd(b, v)]); len(t) >= minTokenEntropy && MixesLettersAndDigits(t) && bytes.IndexByte(t, '=') < 0 {
			s.secret(t, SecretBearer, r)
		}
		return
	}
	if w := schemeEnd(b, v); w > v && w < len(b) && (b[w] == ' ' || b[w] == '\t') {
		t := w
		for t < len(b) && (b[t] == ' ' || b[t] == '\t') {
			t++
		}
		if labelled || knownScheme(b[v:w]) {
			t = s.skipOpener(b, t)
		}
		if generatedWord(b[v:w]) {
			// A scheme-less token (`tok0a1b… done`), or a vendor's scheme
			// this list lacks (`AWS4-ECDSA-P256-SHA256 Credential=…`): both
			// words go, the second with its parameters.
			s.secret(s.trimSentenceEnd(b[v:w]), SecretBearer, r)
			if end := s.tokenEnd(b, t); end > t {
				if second := s.trimSentenceEnd(b[t:end]); generatedWord(second) && bytes.IndexByte(second, '=') < 0 {
					s.secret(second, SecretBearer, r) // a second token: digested, and its copies too
				} else {
					s.secret(b[t:authParamsEnd(b, t, end)], SecretBasic, r)
				}
			}
			return
		}
		if end := s.tokenEnd(b, t); end > t {
			kind := SecretBasic
			switch {
			case eqFold(b[v:w], "bearer"):
				kind = SecretBearer
			case !eqFold(b[v:w], "basic"):
				// Digest and the like: a list of name=value pairs, every
				// one of them part of the credential (RFC 9110 11.4).
				end = authParamsEnd(b, t, end)
			}
			if kind == SecretBearer {
				end = t + len(s.trimSentenceEnd(b[t:end]))
			}
			s.secret(b[t:end], kind, r)
			return
		}
	}
	if end := s.tokenEnd(b, v); end > v {
		t := s.trimSentenceEnd(b[v:end])
		kind := SecretBearer
		if len(t) < minTokenEntropy {
			kind, t = SecretBasic, b[v:end] // a short value without a scheme: no entropy to rely on
		}
		s.secret(t, kind, r)
	}
}

// generatedWord reports whether the word after an Authorization label may
// be a scheme-less token rather than a scheme (`Authorization:
// tok0a1b2c3d4e5f6 done` is the token, not the scheme of "done"): long,
// letters and digits mixed, and no scheme knownScheme lists (a vendor's
// scheme it lacks looks the same: the caller replaces what follows too).
func generatedWord(w []byte) bool {
	return len(w) >= minTokenEntropy && MixesLettersAndDigits(w) && !knownScheme(w)
}

// userinfo handles the authority of a URL that starts at b[i], after
// "://": in `https://admin:S3cret@host/`, the password is a secret with
// little entropy. The last '@' before the path ends the user information
// (a password may hold an unescaped '@'). The scan stops at the first '/',
// so the scans of a line's URLs do not overlap: linear.
func (s *scan) userinfo(b []byte, i int, r *Result) {
	at := -1
	for j := i; j < len(b); j++ {
		if !authorityByte[b[j]] {
			if b[j] == '\\' && j+1 < len(b) && authorityByte[b[j+1]] {
				j++ // `admin:S3cr\et99@`: a careless password's backslash
				continue
			}
			break
		}
		if b[j] == '@' {
			at = j
		}
	}
	if at < 0 {
		return
	}
	if k := bytes.IndexByte(b[i:at], ':'); k >= 0 && i+k+1 < at {
		s.secret(b[i+k+1:at], SecretPassword, r)
	}
}

// authorityByte: what may stand in a URL's authority as it is written in
// a log line (RFC 3986 3.2, and the unescaped '@' and ':' of a careless
// password), up to the path, query, fragment, white space or a quote.
var authorityByte = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range []byte("/?#\"'<>[]{}|\\^`") {
		t[c] = false
	}
	return
}()

// skipTokenSep skips what may stand between a token's label and its
// value: blanks, quotes, '[', ':' and '=', and also `=>`, a dash between
// blanks (`ct7Token - x`) and the URL-encoded '=', ':' and space (`%3D`,
// `%3A`, `%20`) of a token in a query string that was itself encoded.
func skipTokenSep(b []byte, v int) int {
	for v < len(b) {
		switch {
		case is(b[v], cSep):
			v++
		case b[v] == '>' && v > 0 && b[v-1] == '=':
			v++
		case b[v] == '-' && v > 0 && (b[v-1] == ' ' || b[v-1] == '\t' || b[v-1] == '-') && v+1 < len(b) && (b[v+1] == ' ' || b[v+1] == '\t' || b[v+1] == '-'):
			v++ // `ct7Token - x`, `ct7Token -- x`
		case b[v] == '%' && v+2 < len(b) && encodedSep(b[v+1], b[v+2]):
			v += 3
		case b[v] == '%' && v+4 < len(b) && b[v+1] == '2' && b[v+2] == '5' && encodedSep(b[v+3], b[v+4]):
			v += 5 // encoded twice: %253D
		default:
			return v
		}
	}
	return v
}

// encodedSep: the hex digits of a URL-encoded '=', ':', space or '"'.
func encodedSep(h, l byte) bool {
	l |= 0x20
	return h == '3' && (l == 'd' || l == 'a') || h == '2' && (l == '0' || l == '2')
}

// quoteAt returns where the quote that follows b[i:] after white space (a
// pretty-printed array puts a line break there) and more '[' stands, or -1.
func quoteAt(b []byte, i int) int {
	for i < len(b) && (is(b[i], cSpace) || b[i] == '[') {
		i++
	}
	if i < len(b) && (b[i] == '"' || b[i] == '\'') {
		return i
	}
	return -1
}

// authParamsEnd returns the end of the auth-param list of an Authorization
// value that starts at b[t] and whose first token ends at first:
// `username="u", realm="r", response="6629…"` (RFC 9110 11.2), quoted
// values with their escapes, JSON's `\"` too. It stops at the first thing
// that is not a name=value pair after a comma, so it is linear.
func authParamsEnd(b []byte, t, first int) int {
	end := first
	i := t
	brokeLine := false
	for {
		n := i
		for n < len(b) && paramName(b[n]) {
			n++
		}
		eq := n
		for eq < len(b) && (b[eq] == ' ' || b[eq] == '\t') {
			eq++ // `username = "u"`: RFC 9110 allows blanks around '='
		}
		if n == i || eq >= len(b) || b[eq] != '=' {
			if n == i || brokeLine {
				return end // nothing more, or the next line is not the list's (a stack frame)
			}
			return max(end, n) // a token68, or a value without a name
		}
		v := eq + 1
		for v < len(b) && (b[v] == ' ' || b[v] == '\t') {
			v++
		}
		switch {
		case v < len(b) && b[v] == '"':
			v = quotedEnd(b, v+1, false)
		case v+1 < len(b) && b[v] == '\\' && b[v+1] == '"':
			v = quotedEnd(b, v+2, true)
		default:
			for v < len(b) && (tokenChar[b[v]] || b[v] == ';') && b[v] != ',' {
				v++ // `SignedHeaders=host;range;x-amz-date`
			}
		}
		end = max(end, v)
		i = v
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i >= len(b) || b[i] != ',' {
			return end
		}
		// Empty elements (`a=b,, c=d`, RFC 9110 5.6.1) and a line break
		// after a comma (a header folded, or printed over lines).
		brokeLine = false
		for i < len(b) && (b[i] == ',' || is(b[i], cSpace)) {
			brokeLine = brokeLine || b[i] == '\n'
			i++
		}
	}
}

// paramName: the characters of an auth-param's name (an RFC 9110 token but
// '=' and ',').
func paramName(c byte) bool { return tokenChar[c] && c != '=' && c != ',' }

// quotedEnd returns where the quoted string whose content starts at b[i]
// ends, its closing quote included: `"` (a backslash escaping the next
// byte), or `\"` when the value is itself inside a JSON string. The end of
// the line closes it too.
func quotedEnd(b []byte, i int, jsonEscaped bool) int {
	for ; i < len(b) && b[i] != '\n'; i++ {
		switch {
		case jsonEscaped && b[i] == '\\' && i+1 < len(b) && b[i+1] == '"':
			return i + 2
		case !jsonEscaped && b[i] == '\\':
			i++
		case !jsonEscaped && b[i] == '"':
			return i + 1
		}
	}
	return i
}

// base64URL marks the alphabet of a JWT's parts.
var base64URL = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
	}
	return
}()

// jwtEnd returns the end of the JWT starting at b[w] ("eyJ", the base64url
// of `{"`), or 0: a header part, '.', a payload part, '.', a signature
// part (empty for unsigned tokens). Every "eyJ" after a '-' or '_' of one
// run of base64url starts a candidate whose parts end in the same places,
// so the scan remembers them: measuring them again from each candidate
// would be quadratic in the line.
func (s *scan) jwtEnd(b []byte, w int) int {
	if w < s.jwtFrom || w >= s.jwtHeadEnd {
		s.jwtFrom = w
		s.jwtHeadEnd, s.jwtTo = jwtParts(b, w)
	}
	if s.jwtHeadEnd-w < minJWTHeader {
		return 0
	}
	return s.jwtTo
}

// jwtParts measures the JWT whose header starts at b[w]: where the header
// ends, and where the token ends (0 when the parts are not there).
func jwtParts(b []byte, w int) (headEnd, end int) {
	i := w
	for i < len(b) && base64URL[b[i]] {
		i++
	}
	if i >= len(b) || b[i] != '.' {
		return i, 0
	}
	j := i + 1
	for j < len(b) && base64URL[b[j]] {
		j++
	}
	if j == i+1 || j >= len(b) || b[j] != '.' {
		return i, 0
	}
	k := j + 1
	for k < len(b) && base64URL[b[k]] {
		k++
	}
	return i, k
}

// minJWTHeader: the shortest header, {"alg":"none"}, is 20 base64url bytes;
// ten keep words like "eyJunk.x.y" out.
const minJWTHeader = 10
