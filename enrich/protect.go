package enrich

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sort"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/parser"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/redact"
	"github.com/tinylib/msgp/msgp"
)

// Redaction works on replacements: a span of a text and what stands there
// instead. The line's are found by the parser (Result.Secrets) and by the
// masked fields; the spans are merged, the redacted line is written once,
// and every field, which points into the line, is moved onto the redacted
// line (remap). A token or masked value found once is also replaced
// wherever else it stands in the record (an echo): the same session UUID
// in another key, or after no context word.

// rep is one replacement, [start, end) of the text at hand, by text
// w.texts[off:off+n].
type rep struct {
	start, end int
	off, n     int
	low        bool // a secret with little entropy: stays "[redacted]" when merged
	pending    bool // off and n not written yet: the digest of the span, written by merge
	masked     bool // personal data masked on request, no credential (protect keeps the tenant under it)
	whole      bool // the whole text, hostile past parser.MaxSecrets: no one credential (w.whole)
}

// echo is a value replaced in the line, to replace wherever else it stands.
type echo struct {
	orig   []byte // points into the line (or the record)
	off, n int    // its replacement in w.texts
	word   bool   // only where it stands as a whole word (an agent's login)
	low    bool   // a secret with little entropy
	masked bool   // personal data masked on request (rep.masked)
	fold   bool   // found in any ASCII case: a session UUID, whose digest lower-cases it
}

// minEcho is the shortest token replaced wherever it stands: shorter ones
// are replaced only where a rule finds them, so a short value cannot wreck
// unrelated text.
const minEcho = 8

var redacted = []byte(redact.Redacted)

// protect replaces credentials and personal data in ev: its line, its
// fields and every other text of its record.
func (s *Stage) protect(ev *record.Event, line []byte, shaped bool, w *Work) {
	w.reps, w.echoes, w.lineEchoes = w.reps[:0], w.echoes[:0], 0
	w.indexed = [2]bool{} // a new record: new echoes
	w.lineViewed = false
	r := &ev.Fields
	newLine := line
	// A body of the shape the memo knows quiet (a tail input's `log` and
	// `stream`) holds nothing else: only others are walked for tokens.
	quietBody := line != nil && w.memo.clean(ev.Body, line)
	if s.redact && !quietBody {
		s.addRecordEchoes(ev, line, w)
	}
	if line != nil {
		src := r.Source(line)
		cleaned := unsafe.SliceData(src) != unsafe.SliceData(line)
		rawFound := false // a credential in the line as received
		if s.redact {
			if r.TooManySecrets {
				w.whole(src)
			}
			kept := w.withoutNestedTokens(src, r.Secrets)
			for _, sec := range kept {
				s.addSecret(w, src, sec)
			}
			w.eachNestedToken(r.Secrets, kept, func(sec parser.Secret) { s.echoToken(w, sec.Text, sec) })
			if cleaned {
				rawFound = s.echoRawSecrets(w, line, src)
				rawFound = s.finalsSecrets(w, line, src) || rawFound
			}
		}
		s.addViewSecrets(w, nil, src, true) // the parser stripped every ESC
		if s.mask.on() && shaped {
			s.addMasked(w, src, r)
		}
		if s.mask.users() {
			s.addEmails(w, src)
		}
		found := len(w.reps) // the credentials found in the line, and masking's: echoes come next
		s.addEchoes(w, src)
		if len(w.reps) == 0 && rawFound {
			// Only the line as received holds something (a credential
			// that is nothing but escapes there): the fields stand.
			newLine = s.redactLine(line, w)
		} else if len(w.reps) > 0 {
			// Asked of each replacement as found, before merging joins a
			// masked contactID with a session echo inside its UUID.
			// The tenant is the one routing read (a tenant inside a
			// credential the parser found was never set: tenantInSecret),
			// unless a credential only the plugin's own readings found
			// holds it (`\e[1pwd=HUNTER2_S3cr3t_<uuid>`): then the record
			// has no tenant and is routed again. A credential's echo over
			// its text does not move it: every sink shows the same tenant
			// (contract: one record has one tenant). The channel stands
			// unless a credential holds it.
			tenant := r.Tenant
			tenantHidden := shaped && w.credentialAt(found, src, r.Tenant, r)
			channel, keepChannel := r.Channel, shaped && !r.InSecret(r.Channel) && !w.credentialAt(found, src, r.Channel, r)
			// A message ID a credential covers is that credential (a session
			// another key or a continuation line names): no message ID
			// (contract: messageID "is not the sessionID").
			messageIsSecret := r.MessageID != nil && w.redactedAt(src, r.MessageID)
			nextMessage := r.NextMessageID // the message ID then, if clear and not to be masked
			if nextMessage != nil && (w.redactedAt(src, nextMessage) || s.mask.has(record.FieldMessageID)) {
				nextMessage = nil
			}
			w.merge(src, s.tokens)
			out := w.apply(src)
			if shaped {
				w.remap(r, src)
				// The remapped fields show the replacements; the tenant is
				// the routed one again (see above), the channel where no
				// credential holds it.
				if tenantHidden {
					s.reroute(ev)
				} else {
					r.Tenant = tenant
				}
				if keepChannel {
					r.Channel = channel
				}
				if messageIsSecret {
					r.MessageID = nil
					if nextMessage != nil {
						r.MessageID = w.move(nextMessage, src)
					}
				}
				w.revalidate(r)
			}
			if !cleaned {
				newLine = out
			} else {
				// The fields come from the line without its ANSI escapes; the
				// line itself leaves as received, escapes and all.
				newLine = s.redactLine(line, w)
			}
		}
	}
	r.Secrets = nil // spans of the text before redaction: stale
	body, changed := s.rewriteBody(ev, line, newLine, quietBody, w)
	if changed {
		ev.SetBody(body, newLine)
	}
	s.protectMeta(ev, w)
}

// redactedAt reports whether a replacement that is not masking covers part
// of f, a field inside src (see rep.masked). Asked before merge.
func (w *Work) redactedAt(src, f []byte) bool {
	at := offset(src, f)
	if at < 0 {
		return false
	}
	for _, x := range w.reps {
		if x.start < at+len(f) && at < x.end && !x.masked {
			return true
		}
	}
	return false
}

// protectMeta replaces what the entry's metadata map holds: the forward
// sink passes it on.
func (s *Stage) protectMeta(ev *record.Event, w *Work) {
	// An empty map (0x80) is what nearly every entry's metadata holds.
	if len(ev.Meta) == 0 || emptyMap(ev.Meta) || !s.anyNeedsRedaction(ev.Meta, nil, 0, w) {
		return
	}
	start := len(w.arena)
	if _, changed := s.rewriteInto(ev.Meta, nil, nil, nil, 0, w); changed {
		ev.SetMeta(w.arena[start:len(w.arena):len(w.arena)])
	}
}

// emptyMap reports whether v is an empty map in any of msgpack's encodings:
// Fluent Bit's log event encoder writes every entry's metadata as a map32,
// df 00000000 (src/flb_mp.c, flb_mp_map_header_init).
func emptyMap(v []byte) bool {
	switch len(v) {
	case 1:
		return v[0] == 0x80
	case 3:
		return v[0] == 0xde && v[1]|v[2] == 0
	case 5:
		return v[0] == 0xdf && v[1]|v[2]|v[3]|v[4] == 0
	}
	return false
}

// protectMarker replaces what a log group's marker holds (its metadata and
// its attributes, e.g. an OpenTelemetry resource): the forward sink passes
// markers on.
func (s *Stage) protectMarker(ev *record.Event, w *Work) {
	w.reps, w.echoes, w.lineEchoes = w.reps[:0], w.echoes[:0], 0
	w.indexed = [2]bool{}
	if s.anyNeedsRedaction(ev.Body, nil, 0, w) {
		start := len(w.arena)
		if _, changed := s.rewriteInto(ev.Body, nil, nil, nil, 0, w); changed {
			ev.SetBody(w.arena[start:len(w.arena):len(w.arena)], nil)
		}
	}
	s.protectMeta(ev, w)
}

// redactLine writes the line as received with the replacements made in its
// copy without ANSI escapes (w.reps, merged), each over the span its text
// covers in the line, escapes inside it included; and what only the line
// as received shows.
func (s *Stage) redactLine(line []byte, w *Work) []byte {
	w.lineView(line)
	w.saved = append(w.saved[:0], w.reps...)
	w.reps = w.reps[:0]
	for _, x := range w.saved {
		a, b := rawSpan(w.vpos, line, x.start, x.end)
		w.reps = append(w.reps, rep{start: a, end: b, off: x.off, n: x.n, low: x.low, masked: x.masked})
	}
	if s.redact {
		w.secrets = parser.FindSecrets(line, w.secrets[:0])
		for _, sec := range w.withoutNestedTokens(line, w.secrets) {
			s.addRawSecret(w, line, sec)
		}
	}
	if s.mask.users() {
		s.addEmails(w, line)
	}
	w.indexed = [2]bool{}
	w.echoesIn(line, 0, len(w.echoes))
	w.merge(line, s.tokens)
	return w.apply(line)
}

// offset returns where t starts in src, or -1 when t is not a part of it.
func offset(src, t []byte) int {
	if len(t) == 0 || len(src) == 0 {
		return -1
	}
	d := uintptr(unsafe.Pointer(unsafe.SliceData(t))) - uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	if d > uintptr(len(src)) || int(d)+len(t) > len(src) {
		return -1 // also t before src: the difference wrapped around
	}
	return int(d)
}

// echoRawSecrets handles a line with ANSI escapes, whose fields come from
// src, its copy without them: an escape can hide a credential from that
// reading (`\x1b[ session` strips to "ession", `\x1b[ "pwd":"…"` to
// `wd":"…"`), so each credential of the line as received is replaced where
// its bytes stand in src too, and a token's value is echoed like one src
// shows; so is one of little entropy, from four bytes on.
//
// It reports whether the line as received holds a credential: the line
// must then be rewritten even when src showed none.
func (s *Stage) echoRawSecrets(w *Work, line, src []byte) (found bool) {
	w.secrets = parser.FindSecrets(line, w.secrets[:0])
	if len(w.secrets) >= parser.MaxSecrets {
		// As many as are looked for, so perhaps more: the line and its
		// fields leave as one replacement, as when the parser finds so
		// many (Result.TooManySecrets).
		w.whole(src)
		return true
	}
	kept := w.withoutNestedTokens(line, w.secrets)
	if len(kept) == 0 {
		return false
	}
	if w.lineView(line); !bytes.Equal(w.vtext, src) {
		w.whole(src) // cannot be: src is the parser's copy without escapes
		return true
	}
	for _, sec := range kept {
		start := offset(line, sec.Text)
		if start < 0 {
			continue
		}
		a, b := textSpan(w.vpos, start, start+len(sec.Text))
		if a == b {
			continue // nothing but escapes
		}
		v := src[a:b]
		s.addSecretAt(w, a, b, v, sec)
		// The record's other values may repeat a value shorter than an
		// echo of a token is (minEcho): found in the line as received, it
		// is a credential all the same. Shorter than four bytes, it would
		// wreck unrelated text.
		if len(v) >= 4 && (!sec.Kind.IsToken() || len(v) < minEcho) {
			e := echo{orig: v, low: !sec.Kind.IsToken()}
			if e.low {
				e.off, e.n = w.text(redacted) // unquoted wherever it stands
			} else {
				e.off, e.n = w.token(s.tokens, v)
			}
			w.echoes = append(w.echoes, e)
		}
	}
	return true
}

// maxTextEchoes bounds the echoes made of one text's tokens (a CTLive line
// or value holds one or two); the innermost are made first.
const maxTextEchoes = 64

// eachNestedToken calls fn with each token of secrets that kept, their
// list without nested tokens (withoutNestedTokens), lacks: the outer
// token's replacement covers one there, but a bare copy elsewhere is its
// own (`ct7Token=abc12345\\x_token=<t> … <t>`). The innermost first, at
// most maxTextEchoes: in a run of glued labels each lies over the rest of
// the run, and digesting thousands of them cost the run's length as many
// times.
func (w *Work) eachNestedToken(secrets, kept []parser.Secret, fn func(parser.Secret)) {
	if len(kept) == len(secrets) {
		return // nothing nested: kept is secrets
	}
	type place struct {
		p *byte
		n int
	}
	in := make(map[place]bool, len(kept))
	for _, k := range kept {
		in[place{unsafe.SliceData(k.Text), len(k.Text)}] = true
	}
	made := 0
	for i := len(secrets) - 1; i >= 0 && made < maxTextEchoes; i-- {
		sec := secrets[i]
		if !sec.Kind.IsToken() || in[place{unsafe.SliceData(sec.Text), len(sec.Text)}] {
			continue
		}
		fn(sec)
		made++
	}
}

// echoToken makes an echo of the token sec, whose value as read is v,
// when it is long enough to be one (minEcho).
func (s *Stage) echoToken(w *Work, v []byte, sec parser.Secret) {
	if !sec.Kind.IsToken() || len(v) < minEcho {
		return
	}
	off, n := w.token(s.tokens, v)
	w.echoes = append(w.echoes, tokenEcho(v, off, n, sec.Kind))
}

// tokenEcho is the echo of a token's value v replaced by w.texts[off:off+n].
// The same UUID written in another case is the same session (its digest
// lower-cases it): found in any case, also when a ctlivetoken rule found
// it as a token.
func tokenEcho(v []byte, off, n int, kind parser.SecretKind) echo {
	return echo{orig: v, off: off, n: n, fold: kind == parser.SecretSession || redact.IsUUID(v)}
}

// finalsSecrets looks for credentials in the line read with each escape's
// final byte kept (parser.StripANSIKeepingFinals): an escape can end in a
// credential's first letter, which the text without escapes then lacks
// (`session \x1b[=ab4e7aff-…` left the UUID in clear). Each is replaced
// where its bytes stand in src, and echoed whole. It reports whether it
// found any.
func (s *Stage) finalsSecrets(w *Work, line, src []byte) bool {
	w.ftext, w.fpos = parser.StripANSIKeepingFinals(w.ftext[:0], w.fpos[:0], line)
	w.fsecrets = parser.FindSecretsInFinals(w.ftext, w.fsecrets[:0])
	if len(w.fsecrets) == 0 {
		return false
	}
	if len(w.fsecrets) >= parser.MaxSecrets {
		w.whole(src)
		return true
	}
	if w.lineView(line); !bytes.Equal(w.vtext, src) {
		w.whole(src) // cannot be: src is the parser's copy without escapes
		return true
	}
	covered := w.spansOf(w.reps)
	for _, sec := range w.withoutNestedTokens(w.ftext, w.fsecrets) {
		at := offset(w.ftext, sec.Text)
		if at < 0 || len(sec.Text) == 0 {
			continue
		}
		a, b := textSpan(w.vpos, int(w.fpos[at]), int(w.fpos[at+len(sec.Text)-1])+1)
		if a == b || b-a == len(sec.Text) {
			continue // no final byte in it: src's own reading saw it
		}
		if covered.has(a, b) {
			// src's own reading replaced all of it. A copy elsewhere is
			// still its own (`ct7Token: a\e[0;b4e7…` is the UUID
			// ab4e7…), unless it stands in a row right here, an escape's
			// letter glued to src's credential (`\e[1mabc…` is abc…,
			// and an echo of mabc… would take the escape's m).
			raw := int(w.fpos[at])
			if end := int(w.fpos[at+len(sec.Text)-1]) + 1; !bytes.Equal(line[raw:end], sec.Text) {
				s.echoToken(w, sec.Text, sec)
			}
			continue
		}
		s.addSecretAt(w, a, b, sec.Text, sec)
	}
	return true
}

// coverage is the union of replacements' spans: disjoint, in order.
type coverage [][2]int

// spansOf returns the union of the spans of reps (w.spans is its store).
func (w *Work) spansOf(reps []rep) coverage {
	c := w.spans[:0]
	for _, x := range reps {
		c = append(c, [2]int{x.start, x.end})
	}
	slices.SortFunc(c, func(p, q [2]int) int { return p[0] - q[0] })
	merged := c[:0]
	for _, sp := range c {
		if k := len(merged) - 1; k >= 0 && sp[0] <= merged[k][1] {
			merged[k][1] = max(merged[k][1], sp[1])
			continue
		}
		merged = append(merged, sp)
	}
	w.spans = c
	return coverage(merged)
}

// has reports whether c covers all of [a, b).
func (c coverage) has(a, b int) bool {
	k, _ := slices.BinarySearchFunc(c, a, func(sp [2]int, a int) int {
		if sp[1] <= a {
			return -1
		}
		if sp[0] > a {
			return 1
		}
		return 0
	})
	return k < len(c) && c[k][0] <= a && b <= c[k][1]
}

// lineView makes w.vtext and w.vpos the line's text without escapes and
// where each of its bytes stands (parser.StripANSI), once per record: the
// line's two other readings and redactLine share it. A view of another
// text (Work.view) takes the store back.
func (w *Work) lineView(line []byte) {
	if !w.lineViewed {
		w.vtext, w.vpos = parser.StripANSI(w.vtext[:0], w.vpos[:0], line)
		w.lineViewed = true
	}
}

// textSpan returns where the bytes [start, end) of a line stand in its text
// without escapes, given pos (StripANSI's: pos[k] is the index in the line
// of the text's byte k, increasing).
func textSpan(pos []int32, start, end int) (a, b int) {
	a = sort.Search(len(pos), func(k int) bool { return int(pos[k]) >= start })
	b = a + sort.Search(len(pos)-a, func(k int) bool { return int(pos[a+k]) >= end })
	return a, b
}

// addRawSecret is addSecret for a credential found in the line as
// received, in redactLine (w.vtext and w.vpos hold the line's text without
// escapes). Escapes inside its value are not part of it: its replacement
// is that of the text a reader sees, as in the fields (echoRawSecrets
// made its echoes from the same text). Escapes that close it stay in the
// line, and one it ends inside of (a closing quote that is an escape's
// parameter byte) stays whole.
func (s *Stage) addRawSecret(w *Work, line []byte, sec parser.Secret) {
	if bytes.IndexByte(sec.Text, 0x1b) < 0 {
		s.addRep(w, offset(line, sec.Text), sec.Text, sec)
		return
	}
	start := offset(line, sec.Text)
	if start < 0 {
		return
	}
	a, b := textSpan(w.vpos, start, start+len(sec.Text))
	if a == b {
		s.addRep(w, start, sec.Text, sec) // nothing but escapes: replaced whole
		return
	}
	// The replacement covers the value's bytes a reader sees and what
	// stands between them: the escapes around it, and one it ends inside
	// of, stay.
	w.reps = append(w.reps, s.repFor(w, int(w.vpos[a]), int(w.vpos[b-1])+1, w.vtext[a:b], sec))
}

// addRep adds the replacement of the credential sec, whose value as read
// is v, over v's bytes at start (no echo: see addSecretAt).
func (s *Stage) addRep(w *Work, start int, v []byte, sec parser.Secret) {
	if start < 0 {
		return
	}
	w.reps = append(w.reps, s.repFor(w, start, start+len(v), v, sec))
}

// repFor is the replacement of [start, end) of the text at hand, which
// holds the credential sec whose value, as read, is v.
func (s *Stage) repFor(w *Work, start, end int, v []byte, sec parser.Secret) rep {
	if sec.Kind.IsToken() {
		off, n := w.token(s.tokens, v)
		return rep{start: start, end: end, off: off, n: n}
	}
	t := redacted
	if sec.JSON {
		t = quotedRedacted
	}
	off, n := w.text(t)
	return rep{start: start, end: end, off: off, n: n, low: true}
}

func (s *Stage) addSecret(w *Work, src []byte, sec parser.Secret) {
	at := offset(src, sec.Text)
	if at < 0 {
		return
	}
	s.addSecretAt(w, at, at+len(sec.Text), sec.Text, sec)
}

// addRecordEchoes makes an echo of every token the record's other values
// hold (a value its key labels, `"ct7Token": "…"`, or one a rule finds in
// it): the line and the other values must not show it in clear either.
// At most parser.MaxSecrets: past them the echoes are looked up in one
// pass, and a record with more is hostile.
func (s *Stage) addRecordEchoes(ev *record.Event, line []byte, w *Work) {
	walkTexts(ev.Body, nil, line, 0, func(label, text []byte) bool {
		w.secrets = parser.ValueSecrets(label, text, w.secrets[:0])
		// Only a value that looks generated: a placeholder (`"token":
		// "production"`) stays in the line's prose.
		echoGenerated := func(sec parser.Secret) {
			// Kind and length first: a password's value may run over the
			// rest of the text, and there may be thousands.
			if v := bytes.TrimSpace(sec.Text); sec.Kind.IsToken() && len(v) >= minEcho && parser.MixesLettersAndDigits(v) { // a value read from a file keeps its line break
				s.echoToken(w, v, sec)
			}
		}
		kept := w.withoutNestedTokens(text, w.secrets)
		for _, sec := range kept {
			echoGenerated(sec)
		}
		w.eachNestedToken(w.secrets, kept, echoGenerated)
		return len(w.echoes) < parser.MaxSecrets
	})
}

// quotedRedacted replaces a JSON value that is not a string (`"pwd":4711`,
// `"password":["x"]`): a string keeps the JSON valid.
var quotedRedacted = []byte(`"` + redact.Redacted + `"`)

// addSecretAt replaces [start, end) of the text at hand, which holds the
// credential sec whose value, as read, is v.
func (s *Stage) addSecretAt(w *Work, start, end int, v []byte, sec parser.Secret) {
	x := s.repFor(w, start, end, v, sec)
	w.reps = append(w.reps, x)
	if sec.Kind.IsToken() && len(v) >= minEcho {
		w.echoes = append(w.echoes, tokenEcho(v, x.off, x.n, sec.Kind))
	}
}

// addMasked replaces the values of the masked fields. An agent's user ID
// keeps its USER_ prefix and the login becomes its HMAC, the same as the
// login (or e-mail address) written anywhere else.
func (s *Stage) addMasked(w *Work, src []byte, r *parser.Result) {
	for _, f := range [...]struct {
		i int
		v []byte
	}{
		{record.FieldUserID, r.UserID}, {record.FieldSessionID, r.SessionID},
		{record.FieldContactID, r.ContactID}, {record.FieldMessageID, r.MessageID},
	} {
		if f.v == nil || !s.mask.has(f.i) {
			continue
		}
		at := offset(src, f.v)
		if at < 0 {
			continue
		}
		v := f.v
		if f.i == record.FieldUserID {
			at, v = at+len("USER_"), v[len("USER_"):]
			off, n := w.personal(s.mask.hmac, v)
			w.echoes = append(w.echoes, echo{orig: v, off: off, n: n, word: true, masked: true})
			w.reps = append(w.reps, rep{start: at, end: at + len(v), off: off, n: n, masked: true})
			continue
		}
		off, n := w.personal(s.mask.hmac, v)
		w.reps = append(w.reps, rep{start: at, end: at + len(v), off: off, n: n, masked: true})
		// A contactID is the contact's whatever stands after its UUID (the
		// parser's rule): its other places are masked even glued to a word.
		w.echoes = append(w.echoes, echo{orig: v, off: off, n: n, word: f.i != record.FieldContactID, masked: true})
	}
}

// addEmails replaces every e-mail address in src, and the login of every
// user ID (`USER_<login>`, anywhere: a second agent, a payload, a stack
// frame), by its HMAC.
func (s *Stage) addEmails(w *Work, src []byte) {
	w.spans = personalSpans(src, w.spans[:0])
	for _, sp := range w.spans {
		off, n := w.personal(s.mask.hmac, src[sp[0]:sp[1]])
		w.reps = append(w.reps, rep{start: sp[0], end: sp[1], off: off, n: n, masked: true})
	}
}

// personalSpans appends the spans of b's personal data: e-mail addresses,
// and the part after USER_ of every user ID (an agent's login of letters,
// digits and ._%+-@ with no trailing '.', or a customer's TENANT_uuid).
func personalSpans(b []byte, dst [][2]int) [][2]int {
	for i := 0; i < len(b); {
		k := bytes.IndexByte(b[i:], '@')
		if k < 0 {
			break
		}
		at := i + k
		if start, end := emailAround(b, at); end > start {
			dst = append(dst, [2]int{start, end})
			i = end
			continue
		}
		i = at + 1
	}
	for i := 0; i < len(b); {
		k := bytes.Index(b[i:], userPrefix)
		if k < 0 {
			break
		}
		start := i + k + len(userPrefix)
		// A customer's TENANT_<uuid>, whatever follows it (the parser's
		// userID); else an agent's login. Found first, so that the login's
		// run, which may reach the line's end, is measured once.
		end := customerIDEnd(b, start)
		if end == 0 {
			end = start
			for end < len(b) && isLogin(b[end]) {
				end++
			}
			for end > start && b[end-1] == '.' {
				end--
			}
		}
		if end > start {
			dst = append(dst, [2]int{start, end})
		}
		i = max(end, start)
	}
	return dst
}

var userPrefix = []byte("USER_")

// customerIDEnd returns the end of a customer's TENANT_<uuid> at b[i]
// (after USER_), or 0: a run of letters, digits and '_' whose last '_' is
// followed by a UUID.
func customerIDEnd(b []byte, i int) int {
	j := i
	for j < len(b) && (isAlnum(b[j]) || b[j] == '_') {
		j++
	}
	// The run stops at the UUID's first '-', after '_' and eight hex digits.
	if j-i < 10 || b[j-9] != '_' || len(b)-j < 28 || !redact.IsUUID(b[j-8:j+28]) {
		return 0
	}
	return j + 28
}

func isLogin(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '@'
}

// emailAround returns the e-mail address around the '@' at b[at] (local
// part of letters, digits and ._%+-; a domain of labels with a dot), or
// start == end.
func emailAround(b []byte, at int) (start, end int) {
	start = at
	for start > 0 && isEmailLocal(b[start-1]) {
		start--
	}
	end = at + 1
	dot := false
	for end < len(b) && (isAlnum(b[end]) || b[end] == '-' || b[end] == '.') {
		if b[end] == '.' {
			dot = true
		}
		end++
	}
	for end > at+1 && b[end-1] == '.' { // a sentence's full stop
		end--
	}
	if at-start > len("USER_") && string(b[start:start+len("USER_")]) == "USER_" {
		start += len("USER_") // an agent's user ID: the login is the address
	}
	if start == at || end == at+1 || !dot || !bytes.Contains(b[at+1:end], []byte(".")) {
		return 0, 0
	}
	return start, end
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isEmailLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// addEchoes replaces the other places of src where a replaced value
// stands; the echoes found so far are the line's.
func (s *Stage) addEchoes(w *Work, src []byte) {
	w.lineEchoes = len(w.echoes)
	w.echoesIn(src, 0, w.lineEchoes)
	w.viewEchoesIn(src, true, 0, w.lineEchoes)
}

// credentialAt reports whether a replacement of w.reps[:found] that is one
// credential's covers a byte of t (a slice of src): not masking's, and not
// the whole text's past parser.MaxSecrets, which names no credential (the
// parser's cut decides then: Result.InSecret). A reading's own overflow
// (4,096 `p\u0077d=x` only the escape reading sees) moves no tenant, nor
// does a credential that starts inside a payload (Result.InPayloadAt).
func (w *Work) credentialAt(found int, src, t []byte, r *parser.Result) bool {
	at := offset(src, t)
	if at < 0 {
		return false
	}
	for _, rp := range w.reps[:found] {
		if !rp.masked && !rp.whole && rp.start < at+len(t) && at < rp.end && !r.InPayloadAt(rp.start) {
			return true
		}
	}
	return false
}

// viewEchoesIn adds a replacement for every place of b's view where one of
// w.echoes[from:to] stands: a payload's `\u0061b4e…` is the session
// ab4e… once the encoders decode it. noESC: as view.
func (w *Work) viewEchoesIn(b []byte, noESC bool, from, to int) {
	if from == to {
		return
	}
	text, pos, ok := w.view(b, noESC)
	if !ok {
		return
	}
	w.readingEchoesIn(b, text, pos, from, to)
	// A copy split by a colour written as an escape (`ab4e7aff-8627-\u001b[0m434a-…`)
	// stands whole only without the escapes it decodes to.
	if etext, epos, ok := w.withoutEscapes(text, pos); ok {
		w.readingEchoesIn(b, etext, epos, from, to)
	}
}

// readingEchoesIn is echoesIn over text, a reading of b (pos: where each of
// its bytes stands in b), its replacements moved onto b.
func (w *Work) readingEchoesIn(b, text []byte, pos []int32, from, to int) {
	mark := len(w.reps)
	w.echoesIn(text, from, to)
	for k := mark; k < len(w.reps); k++ {
		w.reps[k].start, w.reps[k].end = rawSpan(pos, b, w.reps[k].start, w.reps[k].end)
	}
}

// addOccurrences adds a replacement for every place of b where e stands.
// The place it was found at comes again and is merged away.
func (w *Work) addOccurrences(b []byte, e echo) {
	orig := e.orig
	index := bytes.Index
	if e.fold {
		index = foldIndex
	}
	for i := 0; i+len(orig) <= len(b); {
		k := index(b[i:], orig)
		if k < 0 {
			return
		}
		at := i + k
		end := at + len(orig)
		i = end
		if e.word && (at > 0 && isAlnum(b[at-1]) || end < len(b) && isAlnum(b[end])) {
			continue
		}
		w.reps = append(w.reps, rep{start: at, end: end, off: e.off, n: e.n, low: e.low, masked: e.masked})
	}
}

// merge sorts the replacements and joins those that overlap: one span, one
// text. A span inside another is dropped, unless it is a secret with
// little entropy: the whole span is then "[redacted]". Spans that overlap
// in part become one, "[redacted]" if either is such a secret, else the
// digest of the whole.
func (w *Work) merge(src []byte, tokens *redact.Digester) {
	if len(w.reps) > 1 {
		slices.SortFunc(w.reps, func(a, b rep) int {
			if a.start != b.start {
				return a.start - b.start
			}
			return b.end - a.end // the larger first
		})
	}
	out := w.reps[:0]
	for _, x := range w.reps {
		if len(out) == 0 || x.start >= out[len(out)-1].end {
			out = append(out, x)
			continue
		}
		last := &out[len(out)-1]
		if x.end <= last.end {
			if x.low && !last.low {
				last.low, last.pending = true, false
				last.off, last.n = w.text(redacted)
			}
			continue
		}
		last.end = x.end
		last.low = last.low || x.low
		if last.low {
			last.pending = false
			last.off, last.n = w.text(redacted)
		} else {
			// The digest of the whole, once the span stops growing: a chain
			// of overlapping spans digested at every step was quadratic.
			last.pending = true
		}
	}
	for i := range out {
		if x := &out[i]; x.pending {
			x.off, x.n = w.token(tokens, src[x.start:x.end])
			x.pending = false
		}
	}
	w.reps = out
}

// apply writes src with the replacements (sorted, apart) into the arena and
// returns it.
func (w *Work) apply(src []byte) []byte {
	start := len(w.arena)
	prev := 0
	w.shift = w.shift[:0]
	delta := 0
	for _, x := range w.reps {
		w.arena = append(w.arena, src[prev:x.start]...)
		w.arena = append(w.arena, w.texts[x.off:x.off+x.n]...)
		prev = x.end
		delta += x.n - (x.end - x.start)
		w.shift = append(w.shift, delta)
	}
	w.arena = append(w.arena, src[prev:]...)
	w.out = w.arena[start:len(w.arena):len(w.arena)]
	w.Redacted += int64(len(w.reps))
	return w.out
}

// pos maps a position of the text before apply to the text after it. A
// position inside a replaced span maps to the span's start, or its end when
// it ends a field (the field then takes the whole replacement).
func (w *Work) pos(p int, isEnd bool) int {
	// k: how many replacements start before p. A line has one or two;
	// a hostile one thousands, where the search keeps remap linear.
	k := 0
	if len(w.reps) <= 8 {
		for k < len(w.reps) && w.reps[k].start < p {
			k++
		}
	} else {
		k, _ = slices.BinarySearchFunc(w.reps, p, func(x rep, p int) int { return x.start - p })
	}
	before := 0
	if k > 0 {
		before = w.shift[k-1]
		if x := w.reps[k-1]; x.end > p {
			at := x.start
			if k > 1 {
				at += w.shift[k-2]
			}
			if isEnd {
				return at + x.n
			}
			return at
		}
	}
	return p + before
}

// move returns f, a part of src, as the same part of the redacted text.
func (w *Work) move(f, src []byte) []byte {
	at := offset(src, f)
	if at < 0 || at+len(f) <= w.reps[0].start {
		return f // before every replacement: the same bytes, in place
	}
	a, b := w.pos(at, false), w.pos(at+len(f), true)
	return w.out[a:b:b]
}

// remap moves every field of r onto the redacted text.
func (w *Work) remap(r *parser.Result, src []byte) {
	for _, f := range [...]*[]byte{&r.Service, &r.TimeText, &r.Function, &r.Tenant, &r.ContactID,
		&r.Channel, &r.UserID, &r.SessionID, &r.MessageID, &r.Message, &r.URL, &r.Error, &r.ErrorType} {
		if *f != nil {
			*f = w.move(*f, src)
		}
	}
	for i := range r.Scopes {
		r.Scopes[i] = w.move(r.Scopes[i], src)
	}
	for i := range r.Stack {
		r.Stack[i] = w.move(r.Stack[i], src)
	}
	for i := range r.Payloads {
		p := &r.Payloads[i]
		p.Label, p.JSON = w.move(p.Label, src), w.move(p.JSON, src)
	}
}

// revalidate drops a payload that a replacement made invalid JSON (a
// password written as a bare JSON number becomes `[redacted]`): the
// contract leaves out a payload that does not parse.
func (w *Work) revalidate(r *parser.Result) {
	kept := r.Payloads[:0]
	for _, p := range r.Payloads {
		if parser.ValidJSON(p.JSON, &w.json) {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	r.Payloads = kept
}

// redactText returns b with its credentials (found by the parser's rules),
// the line's echoes and, with `mask userID`, e-mail addresses replaced: a
// text of the record other than the line. b itself when there is nothing
// to replace.
func (s *Stage) redactText(label, b []byte, w *Work) []byte {
	mark := len(w.echoes)
	w.reps = w.reps[:0]
	w.indexed[1] = false // this text's own echoes are new
	if s.findSecrets(label, b, w) {
		if len(w.secrets) >= parser.MaxSecrets {
			w.whole(b)
		}
		for _, sec := range w.withoutNestedTokens(b, w.secrets) {
			s.addSecret(w, b, sec)
		}
	}
	s.addViewSecrets(w, label, b, false)
	if s.mask.users() {
		s.addEmails(w, b)
	}
	w.echoesIn(b, 0, mark)             // the line's
	w.echoesIn(b, mark, len(w.echoes)) // this text's own
	w.viewEchoesIn(b, false, 0, len(w.echoes))
	w.echoes = w.echoes[:mark] // which echo only in it
	if len(w.reps) == 0 {
		return b
	}
	w.merge(b, s.tokens)
	return w.apply(b)
}

// findSecrets puts the credentials of b, a text of the record that label
// (a map key, or nil) names, in w.secrets and reports whether there are any.
func (s *Stage) findSecrets(label, b []byte, w *Work) bool {
	w.secrets = w.secrets[:0]
	if !s.redact {
		return false
	}
	w.secrets = viewSecrets(label, b, w.secrets)
	return len(w.secrets) > 0
}

// needsRedaction reports whether redactText would change b.
func (s *Stage) needsRedaction(label, b []byte, w *Work) bool {
	if len(b) < minText && (label == nil || !parser.MayNameSecret(label)) && w.echoesLongerThan(len(b)) {
		return false // "stdout", a key: too short for any rule, and for every echo
	}
	if s.findSecrets(label, b, w) {
		return true
	}
	if s.mask.users() && (bytes.IndexByte(b, '@') >= 0 || bytes.Contains(b, userPrefix)) {
		return true
	}
	if text, pos, ok := w.view(b, false); ok { // what a reader sees behind escapes
		if s.redact && len(viewSecrets(label, text, w.vsecrets[:0])) > 0 {
			return true
		}
		if etext, _, ok := w.withoutEscapes(text, pos); s.redact && ok && len(viewSecrets(label, etext, w.vsecrets[:0])) > 0 {
			return true
		}
		if s.mask.users() && len(personalSpans(text, w.spans[:0])) > 0 {
			return true
		}
	}
	return !w.echoesLongerThan(len(b)) && w.anyEchoIn(b, 0, len(w.echoes))
}

// minText is the shortest text that can hold something to replace when no
// key names it a secret: `pwd=x`, or an e-mail address a@b.cd.
const minText = 5

// maxWalkDepth bounds how deep the record's values are walked: the walk is
// recursive, and a record is whatever a client sent. A deeper value is
// looked at as raw bytes (its strings are in there) and replaced whole when
// it holds a credential.
const maxWalkDepth = 64

// rewriteBody writes the record again when its line changed or another of
// its texts (a key or a value, at any depth) holds something to replace.
// It reports false, and writes nothing, when neither is the case.
func (s *Stage) rewriteBody(ev *record.Event, line, newLine []byte, quietBody bool, w *Work) ([]byte, bool) {
	lineChanged := unsafe.SliceData(line) != unsafe.SliceData(newLine)
	// The memo judged the remembered record's values against that
	// record's echoes; echoes make fewer values quiet, so its verdict
	// holds only for a record with none.
	quietBody = quietBody && len(w.echoes) == 0
	if !lineChanged && !quietBody {
		if !s.bodyNeedsRedaction(ev.Body, line, w) {
			return nil, false
		}
	} else if !lineChanged {
		return nil, false
	}
	start := len(w.arena)
	_, changed := s.rewriteInto(ev.Body, nil, line, newLine, 0, w)
	return w.arena[start:len(w.arena):len(w.arena)], changed || lineChanged
}

// bodyNeedsRedaction is anyNeedsRedaction for a record, with the shape
// nearly every record has read in place: short string keys, the line, and
// short string values ({"log": ..., "stream": "stdout"}) need no call.
// The map's header may have any size: Fluent Bit's log event encoder writes
// a map32 even for one key (src/flb_mp.c, flb_mp_map_header_init).
func (s *Stage) bodyNeedsRedaction(body, line []byte, w *Work) bool {
	n, b, isMap, err := readContainer(body)
	if err != nil || !isMap || s.mask.users() { // not a map, or short texts may be personal data
		return s.anyNeedsRedaction(body, line, 0, w)
	}
	// allQuiet: every entry but the line was read here and is quiet. Only
	// then, at the end of the walk, may the memo remember this shape: an
	// early return has not looked at the rest.
	allQuiet := true
	for ; n > 0; n-- {
		if len(b) == 0 || b[0]&0xe0 != 0xa0 { // a key that is not a fixstr
			return s.anyNeedsRedaction(body, line, 0, w)
		}
		kn := int(b[0] & 0x1f)
		if len(b) < 1+kn {
			return false // malformed: the encoders stop there too
		}
		key := b[1 : 1+kn]
		b = b[1+kn:]
		if !w.quiet(key) {
			if allQuiet = false; s.needsRedaction(nil, key, w) {
				return true
			}
		}
		if len(b) > 0 && b[0]&0xe0 == 0xa0 { // a fixstr value, read in place
			vn := int(b[0] & 0x1f)
			if len(b) < 1+vn {
				allQuiet = false
				return false
			}
			v := b[1 : 1+vn]
			b = b[1+vn:]
			if w.quiet(v) && !parser.MayNameSecret(key) {
				continue
			}
			if allQuiet = false; s.needsRedaction(key, v, w) {
				return true
			}
			continue
		}
		if _, _, ok := labelledNonText(key, b); ok && s.redact {
			allQuiet = false
			return true
		}
		v, rest, ok := record.ReadText(b)
		if !ok {
			allQuiet = false
			if rest = walkTexts(b, key, line, 1, func(label, text []byte) bool {
				return !s.needsRedaction(label, text, w)
			}); rest == nil {
				return true // something needs replacing (or it is malformed: checked whole)
			}
			b = rest
			continue
		}
		b = rest
		if isLine(v, line) {
			continue
		}
		if allQuiet = false; s.needsRedaction(key, v, w) {
			return true
		}
	}
	if allQuiet {
		w.memo.remember(body, line)
	}
	return false
}

// shapeMemo remembers the last record whose texts, but its line, were all
// too short to hold anything to replace: records of one source repeat
// their other keys and values byte for byte ("log", "stream": "stdout"),
// and a repeat needs no second look. It compares the record's bytes before
// and after the line's (the line's length header excluded).
type shapeMemo struct {
	before, after []byte
}

func (m *shapeMemo) clean(body, line []byte) bool {
	before, after, ok := aroundLine(body, line)
	return ok && m.before != nil && bytes.Equal(before, m.before) && bytes.Equal(after, m.after)
}

func (m *shapeMemo) remember(body, line []byte) {
	if before, after, ok := aroundLine(body, line); ok && len(before)+len(after) <= maxMemo {
		m.before = append(m.before[:0], before...)
		m.after = append(m.after[:0], after...)
	}
}

// maxMemo bounds the bytes a memo keeps.
const maxMemo = 256

// aroundLine splits body around the line's value, its msgpack header
// excluded; ok is false when the line is not a string inside body.
func aroundLine(body, line []byte) (before, after []byte, ok bool) {
	at := offset(body, line)
	if at < 0 {
		return nil, nil, false
	}
	h := 0
	switch {
	case at >= 1 && body[at-1]&0xe0 == 0xa0 && len(line) < 32:
		h = 1
	case at >= 2 && body[at-2] == 0xd9:
		h = 2
	case at >= 3 && body[at-3] == 0xda:
		h = 3
	case at >= 5 && body[at-5] == 0xdb:
		h = 5
	default:
		return nil, nil, false
	}
	return body[:at-h], body[at+len(line):], true
}

// quiet reports whether t is too short for anything to replace in it: no
// rule takes fewer than minUnlabelled bytes without a ':' or '=', an
// e-mail address has an '@', and every echo is longer than t (a masked
// login, or a short secret echoed from a coloured line, may be shorter
// than minEcho). Personal data (`mask userID`) is not ruled out: callers
// that may meet it check s.mask.users() themselves.
func (w *Work) quiet(t []byte) bool {
	n := len(t)
	if n >= minUnlabelled || !w.echoesLongerThan(n) {
		return false
	}
	if n == 0 {
		return true
	}
	if cap(t) < 8 { // at the very end of a buffer: byte by byte
		return bytes.IndexByte(t, ':') < 0 && bytes.IndexByte(t, '=') < 0 && bytes.IndexByte(t, '@') < 0
	}
	// Eight bytes at once (a record's short values and keys), those past
	// the text masked off; a ninth byte on its own.
	x := binary.LittleEndian.Uint64(t[:8])
	if n < 8 {
		x &= 1<<(8*n) - 1
	} else if n == 9 && marks[t[8]] {
		return false
	}
	return hasByte(x, ':')|hasByte(x, '=')|hasByte(x, '@') == 0
}

// echoesLongerThan reports whether every echo of the record is longer than
// n bytes, so that none can stand in a text of n bytes. Past a few echoes
// it answers false rather than look at each for every text.
func (w *Work) echoesLongerThan(n int) bool {
	if len(w.echoes) > maxQuietEchoes {
		return false
	}
	for _, e := range w.echoes {
		if len(e.orig) <= n {
			return false
		}
	}
	return true
}

// maxQuietEchoes: a CTLive line has one or two.
const maxQuietEchoes = 8

// marks are the bytes quiet looks for.
var marks = [256]bool{':': true, '=': true, '@': true}

// hasByte sets the high bit of each byte of x equal to c, exactly (see
// parser's byteIs).
func hasByte(x uint64, c byte) uint64 {
	const low7, ones = 0x7f7f7f7f7f7f7f7f, 0x0101010101010101
	v := x ^ uint64(c)*ones
	return ^((v&low7 + low7) | v | low7)
}

// minUnlabelled is parser's: the shortest credential without a label's ':'
// or '=', `ct7Token x`.
const minUnlabelled = 10

// anyNeedsRedaction reports whether some text (string or binary, keys
// included) of the msgpack value v, but the line, needs replacing.
func (s *Stage) anyNeedsRedaction(v, line []byte, depth int, w *Work) bool {
	need := false
	walkTexts(v, nil, line, depth, func(label, text []byte) bool {
		need = s.needsRedaction(label, text, w)
		return !need
	})
	return need
}

// walkTexts calls fn with every text of the msgpack value v but the line,
// and with the map key it is the value of (nil for keys and array items),
// until fn returns false. It returns what follows v (nil when v is
// malformed or fn stopped the walk). A value nested deeper than
// maxWalkDepth is handed over as raw bytes: its strings are in there.
func walkTexts(v, label, line []byte, depth int, fn func(label, text []byte) bool) []byte {
	if depth >= maxWalkDepth {
		rest, err := msgp.Skip(v)
		if err != nil || !fn(nil, v[:len(v)-len(rest)]) {
			return nil
		}
		return rest
	}
	if t, rest, ok := record.ReadText(v); ok {
		if !isLine(t, line) && !fn(label, t) {
			return nil
		}
		return rest
	}
	switch msgp.NextType(v) {
	case msgp.MapType, msgp.ArrayType:
		n, rest, isMap, err := readContainer(v)
		if err != nil {
			return nil
		}
		var pairs namedValue
		for i := uint32(0); i < n && rest != nil; i++ {
			var key []byte
			if isMap {
				key = keyText(rest)
				if rest = walkTexts(rest, nil, line, depth+1, fn); rest == nil {
					return nil
				}
				if v, after, ok := labelledNonText(key, rest); ok {
					if !fn(key, v) { // ValueSecrets takes all of it
						return nil
					}
					rest = after
					continue
				}
			}
			value := rest
			rest = walkTexts(rest, pairs.label(label, key, value, isMap), line, depth+1, fn)
			pairs.saw(key, value, isMap)
		}
		return rest
	}
	rest, err := record.Skip(v)
	if err != nil {
		return nil
	}
	return rest
}

// labelledNonText reports whether the value at the start of b, under key,
// is a credential that is not a text ({"password": ["x"]}, {"pin_pwd":
// 4711}, {"ct7Token": {"v": "x"}}): it is replaced whole. It returns the
// value's bytes and what follows it.
func labelledNonText(key, b []byte) (v, rest []byte, ok bool) {
	if key == nil || !parser.LabelNamesSecret(key) {
		return nil, nil, false
	}
	switch msgp.NextType(b) {
	case msgp.StrType, msgp.BinType, msgp.NilType, msgp.InvalidType:
		return nil, nil, false
	}
	rest, err := msgp.Skip(b)
	if err != nil {
		return nil, nil, false
	}
	return b[:len(b)-len(rest)], rest, true
}

// keyText returns the map key at the start of b when it is a text, else nil.
func keyText(b []byte) []byte {
	t, _, _ := record.ReadText(b)
	return t
}

// rewriteInto appends v to w.arena with its texts redacted and the line
// replaced by newLine, and returns what follows v and whether anything
// changed. label is the map key v is the value of, or nil.
func (s *Stage) rewriteInto(v, label, line, newLine []byte, depth int, w *Work) ([]byte, bool) {
	if depth >= maxWalkDepth {
		rest, err := msgp.Skip(v)
		if err != nil {
			w.arena = append(w.arena, v...)
			return nil, false
		}
		raw := v[:len(v)-len(rest)]
		if s.needsRedaction(nil, raw, w) {
			w.arena = msgp.AppendString(w.arena, redact.Redacted)
			return rest, true
		}
		w.arena = append(w.arena, raw...)
		return rest, false
	}
	switch typ := msgp.NextType(v); typ {
	case msgp.StrType, msgp.BinType:
		t, rest, ok := record.ReadText(v)
		if !ok {
			w.arena = append(w.arena, v...)
			return nil, false
		}
		out := newLine
		if !isLine(t, line) {
			if !s.mask.users() && w.quiet(t) && (label == nil || !parser.MayNameSecret(label)) {
				// A short key or value ("stream": "stdout"): the rule
				// bodyNeedsRedaction reads them by.
				w.arena = append(w.arena, v[:len(v)-len(rest)]...)
				return rest, false
			}
			mark := len(w.arena)
			if out = s.redactText(label, t, w); unsafe.SliceData(out) == unsafe.SliceData(t) {
				w.arena = append(w.arena, v[:len(v)-len(rest)]...)
				return rest, false
			}
			// redactText wrote out at the arena's end, where this value's
			// encoding goes: move it aside first.
			w.scratch = append(w.scratch[:0], out...)
			w.arena, out = w.arena[:mark], w.scratch
		}
		if typ == msgp.BinType {
			w.arena = msgp.AppendBytes(w.arena, out)
		} else {
			w.arena = msgp.AppendStringFromBytes(w.arena, out)
		}
		return rest, true
	case msgp.MapType, msgp.ArrayType:
		n, rest, isMap, err := readContainer(v)
		if err != nil {
			w.arena = append(w.arena, v...)
			return nil, false
		}
		if isMap {
			w.arena = msgp.AppendMapHeader(w.arena, n)
		} else {
			w.arena = msgp.AppendArrayHeader(w.arena, n)
		}
		changed := false
		var pairs namedValue
		for i := uint32(0); i < n && rest != nil; i++ {
			var key []byte
			var c bool
			if isMap {
				key = keyText(rest)
				if rest, c = s.rewriteInto(rest, nil, line, newLine, depth+1, w); rest == nil {
					break
				}
				changed = changed || c
				if _, after, ok := labelledNonText(key, rest); ok && s.redact {
					w.arena = msgp.AppendString(w.arena, redact.Redacted)
					rest, changed = after, true
					continue
				}
			}
			value := rest
			rest, c = s.rewriteInto(rest, pairs.label(label, key, value, isMap), line, newLine, depth+1, w)
			pairs.saw(key, value, isMap)
			changed = changed || c
		}
		return rest, changed
	}
	rest, err := msgp.Skip(v)
	if err != nil {
		w.arena = append(w.arena, v...)
		return nil, false
	}
	w.arena = append(w.arena, v[:len(v)-len(rest)]...)
	return rest, false
}

// childLabel is the label an element of a container is read under, by
// walkTexts and rewriteInto alike: its key in a map; in an array, the
// array's own label ({"sessionId": ["<uuid>"]}); and the key `id` of a map
// labelled as a session takes that label ({"session": {"id": "<uuid>"}},
// express-session's req.session.id as a record).
func childLabel(label, key []byte, isMap bool) []byte {
	if !isMap {
		return label
	}
	if len(key) == 2 && key[0]|0x20 == 'i' && key[1]|0x20 == 'd' && label != nil && parser.SessionLabel(label) {
		return label
	}
	return key
}

// namedValue reads a container's name/value pairs as `Name: value`, as
// the line's rules do (README, What leaves the agent):
//   - in a map, the text of its "name" key labels its "value" key's when
//     it names a credential and the value can be one (parser.NamedValue:
//     HAR's and undici's headers, Kubernetes' env: {"name":
//     "Authorization", "value": "Basic x"}, {"name": "connect.sid",
//     "value": "<uuid>"}; never a CTLive ID, nor a message's UUID under
//     "token");
//   - in an array, a text labels the element right after it only as the
//     line's lists do (parser.PairedValue: Node's rawHeaders
//     ["ctlivetoken", "<uuid>"]), so a list of field names (`["password",
//     "token", "AGM"]`) or `["token", "<message id>"]` keeps its values.
//
// walkTexts and rewriteInto read every container through it, so both see
// the same labels (helper-81, helper-83, helper-85).
type namedValue struct{ name []byte }

// label is the label of the element whose key is key (nil in an array)
// and whose encoding starts value.
func (p *namedValue) label(label, key, value []byte, isMap bool) []byte {
	if p.name != nil {
		if isMap && bytes.EqualFold(key, []byte("value")) && parser.NamedValue(p.name, keyText(value)) || !isMap && parser.PairedValue(p.name, keyText(value)) {
			return p.name
		}
	}
	return childLabel(label, key, isMap)
}

// saw takes note of the element just read: its key, and its value's
// encoding as it stood in the record.
func (p *namedValue) saw(key, value []byte, isMap bool) {
	if isMap {
		if bytes.EqualFold(key, []byte("name")) {
			p.name = namesCredential(keyText(value))
		}
		return
	}
	p.name = namesCredential(keyText(value))
}

// namesCredential returns t when it is a header's or a variable's name that
// labels a credential (LabelNamesSecret, SessionLabel), else nil.
func namesCredential(t []byte) []byte {
	if len(t) == 0 || len(t) > 64 || !(parser.LabelNamesSecret(t) || parser.SessionLabel(t)) {
		return nil
	}
	return t
}

// isLine reports whether t is the record's line itself (the same memory).
func isLine(t, line []byte) bool {
	return line != nil && len(t) == len(line) && unsafe.SliceData(t) == unsafe.SliceData(line)
}

func readContainer(v []byte) (n uint32, rest []byte, isMap bool, err error) {
	if len(v) > 0 && v[0]&0xf0 == 0x80 { // fixmap: most records
		return uint32(v[0] & 0x0f), v[1:], true, nil
	}
	if msgp.NextType(v) == msgp.MapType {
		n, rest, err = msgp.ReadMapHeaderBytes(v)
		return n, rest, true, err
	}
	n, rest, err = msgp.ReadArrayHeaderBytes(v)
	return n, rest, false, err
}
