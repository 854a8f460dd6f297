package parser

import "bytes"

// Credentials (contract, "Credentials and personal data"). They are found
// in the same pass as the fields, from their own triggers: the words that
// introduce them (session, ctlivetoken, ct7Token, Authorization, Bearer),
// a word starting "eyJ" (a JWT), and ':' or '=' after a label that names
// a secret. Unlike IDs, a credential counts inside a payload too:
// redaction is not field extraction.

// FindSecrets appends the credentials in b (any text: a stack frame, a
// value of another record key) to dst and returns it. Secret.Text points
// into b.
func FindSecrets(b []byte, dst []Secret) []Secret {
	if len(b) < minSecretText || len(b) < minUnlabelled && bytes.IndexByte(b, ':') < 0 && bytes.IndexByte(b, '=') < 0 {
		return dst // most values of a record: "stdout", a pod name
	}
	r := Result{Secrets: dst}
	s := scan{secretsOnly: true}
	s.words(b, &r)
	return r.Secrets
}

// ValueSecrets appends to dst the credentials of value, a value of a record
// (not a line) that label names: the whole value when the label names a
// secret ({"password": "x"}, {"ct7Token": "x"}), the credential of an
// Authorization header value ({"authorization": "Basic x"}), and whatever
// FindSecrets finds inside it.
func ValueSecrets(label, value []byte, dst []Secret) []Secret {
	if len(value) > 0 && MayNameSecret(label) {
		if kind := secretLabel(label); kind != SecretNone {
			dst = append(dst, Secret{Text: value, Kind: kind})
		} else if hasSuffixFold(label, "authorization") {
			dst = authorizationValue(value, dst)
		}
	}
	return FindSecrets(value, dst)
}

// MayNameSecret is a quick test on a record key: false when it cannot name
// a secret (ValueSecrets then only looks inside the value).
func MayNameSecret(label []byte) bool {
	if len(label) < 3 {
		return false
	}
	switch label[len(label)-1] | 0x20 { // the last letter of every label that names one
	case 'd', 't', 'n', 'y':
		return true
	}
	return false
}

// authorizationValue is the credential of an Authorization header's value:
// after its scheme, or the whole value when it has none.
func authorizationValue(v []byte, dst []Secret) []Secret {
	if w := wordEnd(v, 0); w > 0 && w < len(v) && v[w] == ' ' {
		t := w
		for t < len(v) && v[t] == ' ' {
			t++
		}
		if end := tokenEnd(v, t); end > t {
			kind := SecretBasic
			if eqFold(v[:w], "bearer") {
				kind = SecretBearer
			}
			return append(dst, Secret{Text: v[t:end], Kind: kind})
		}
	}
	return append(dst, Secret{Text: v, Kind: SecretBearer})
}

// minSecretText is the shortest text that can hold a credential, `pwd=x`;
// minUnlabelled the shortest without a label's ':' or '=', `ct7Token x`.
const (
	minSecretText = 5
	minUnlabelled = 10
)

func (s *scan) secret(text []byte, k SecretKind, r *Result) {
	if len(text) > 0 {
		r.Secrets = append(r.Secrets, Secret{Text: text, Kind: k})
	}
}

// labelled handles the ':' or '=' at c after a label that names a secret:
// `password=x`, `"pwd": "x"`, `ct7Token:x`, `api_key=x`, and JSON escaped
// inside a JSON string (`\"secret\":\"x\"`).
func (s *scan) labelled(b []byte, c int, r *Result) {
	j := c
	for j > 0 && b[j-1] == ' ' {
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
	if !MayNameSecret(b[max(j-3, 0):j]) {
		return
	}
	start := j
	for start > 0 && is(b[start-1], cIdent) {
		start--
	}
	kind := secretLabel(b[start:j])
	if kind == SecretNone {
		return
	}
	v := c + 1
	for v < len(b) && b[v] == ' ' {
		v++
	}
	if text := value(b, v); text != nil && text[0] != '{' && text[0] != '[' {
		s.secret(text, kind, r)
	}
}

// secretLabel says what a label's value is: a password or secret (little
// entropy), a token or API key, or nothing.
func secretLabel(l []byte) SecretKind {
	switch {
	case hasSuffixFold(l, "password"), hasSuffixFold(l, "passwd"), hasSuffixFold(l, "pwd"), hasSuffixFold(l, "secret"):
		return SecretPassword
	case hasSuffixFold(l, "token"), hasSuffixFold(l, "apikey"):
		return SecretToken
	case len(l) >= 7 && eqFold(l[len(l)-7:len(l)-4], "api") && l[len(l)-4] == '_' && eqFold(l[len(l)-3:], "key"):
		return SecretToken // api_key
	}
	return SecretNone
}

// value returns the value starting at b[v]: up to its closing quote when it
// is quoted (a backslash-escaped quote too, for JSON inside a JSON string),
// else a run of token characters. nil when empty.
func value(b []byte, v int) []byte {
	if v >= len(b) {
		return nil
	}
	escaped := b[v] == '\\' && v+1 < len(b) && (b[v+1] == '"' || b[v+1] == '\'')
	if escaped {
		v++
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
		return nonEmpty(b[start:min(len(b), tokenEnd(b, start))])
	}
	return nonEmpty(b[v:tokenEnd(b, v)])
}

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
	for i < len(b) && tokenChar[b[i]] {
		i++
	}
	return i
}

// tokenAfter takes the value after a token's label word at b[..e]
// (`ct7Token: x`, `ct7Token Bearer x`, `ctlivetoken=x` that is not a UUID).
func (s *scan) tokenAfter(b []byte, e int, r *Result) {
	v := e
	for v < len(b) && is(b[v], cSep) {
		v++
	}
	if v == e {
		return
	}
	if w := wordEnd(b, v); eqFold(b[v:w], "bearer") && w < len(b) && b[w] == ' ' {
		v = w + 1
	}
	if text := value(b, v); text != nil {
		s.secret(text, SecretToken, r)
	}
}

// minBareBearer is the shortest token taken after a `Bearer` that no
// `Authorization` introduces: "bearer of" in chat text is not a credential,
// a real bearer token is longer.
const minBareBearer = 16

// bearer handles the word `bearer` ending at e: the token after it.
func (s *scan) bearer(b []byte, e int, r *Result) {
	v := e
	for v < len(b) && b[v] == ' ' {
		v++
	}
	if v == e {
		return
	}
	if end := tokenEnd(b, v); end-v >= minBareBearer {
		s.secret(b[v:end], SecretBearer, r)
	}
}

// authorization handles an `Authorization` header (or its JSON, or
// Proxy-Authorization) ending at e: `Authorization: Bearer x` gives a
// token, any other scheme (`Basic x`, `ApiKey x`) a secret with little
// entropy, a value without a scheme a token.
func (s *scan) authorization(b []byte, e int, r *Result) {
	v := e
	for v < len(b) && is(b[v], cSep) && b[v] != '[' {
		v++
	}
	if v == e || v >= len(b) {
		return
	}
	if w := wordEnd(b, v); w > v && w < len(b) && b[w] == ' ' {
		t := w
		for t < len(b) && b[t] == ' ' {
			t++
		}
		if end := tokenEnd(b, t); end > t {
			kind := SecretBasic
			if eqFold(b[v:w], "bearer") {
				kind = SecretBearer
			}
			s.secret(b[t:end], kind, r)
			return
		}
	}
	if end := tokenEnd(b, v); end > v {
		s.secret(b[v:end], SecretBearer, r)
	}
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
// part (empty for unsigned tokens).
func jwtEnd(b []byte, w int) int {
	i := w
	for i < len(b) && base64URL[b[i]] {
		i++
	}
	if i-w < minJWTHeader || i >= len(b) || b[i] != '.' {
		return 0
	}
	j := i + 1
	for j < len(b) && base64URL[b[j]] {
		j++
	}
	if j == i+1 || j >= len(b) || b[j] != '.' {
		return 0
	}
	k := j + 1
	for k < len(b) && base64URL[b[k]] {
		k++
	}
	return k
}

// minJWTHeader: the shortest header, {"alg":"none"}, is 20 base64url bytes;
// ten keep words like "eyJunk.x.y" out.
const minJWTHeader = 10
