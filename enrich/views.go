package enrich

import (
	"bytes"

	"github.com/ctlive/ctlive-fluent-bit/parser"
)

// A credential can hide from the rules behind the escapes of the text it
// stands in: an ANSI colour inside `session` or a UUID, a JSON escape
// (`\u0073ession`, `pass\u0077ord`, `jdoe\u0040example.com`) that the
// encoders decode on the way out. So a text with ESC or '\' is also read
// as a reader sees it (its view: colours stripped, escapes resolved), the
// credentials are found there, and their spans are replaced in the text
// itself, escapes and all.

// view returns b's view and, for each of its bytes, where it stands in b;
// ok is false when b has nothing to resolve. Both are valid until the next
// call. noESC says b is known to hold no ESC (the parser's Source of a line
// has its escapes stripped), which spares a scan.
func (w *Work) view(b []byte, noESC bool) (text []byte, pos []int32, ok bool) {
	esc, bs := !noESC && bytes.IndexByte(b, 0x1b) >= 0, bytes.IndexByte(b, '\\') >= 0
	if !esc && !bs {
		return nil, nil, false
	}
	text = b
	if esc {
		w.vtext, w.vpos = parser.StripANSI(w.vtext[:0], w.vpos[:0], b)
		w.lineViewed = false // the store holds b's now
		text, pos = w.vtext, w.vpos
	}
	if bytes.IndexByte(text, '\\') >= 0 {
		w.utext, w.upos = parser.Unescape(w.utext[:0], w.upos[:0], text)
		if pos != nil {
			for k, p := range w.upos {
				w.upos[k] = pos[p] // through both readings, to b
			}
		}
		text, pos = w.utext, w.upos
	}
	if pos == nil { // an ESC that starts nothing: the text as it is
		return nil, nil, false
	}
	return text, pos, true
}

// withoutEscapes returns a view's text without the ANSI escapes its JSON
// escapes decode to, and where each byte stands in the text viewed (pos
// composed); ok is false when it holds none. Valid until the next call.
func (w *Work) withoutEscapes(text []byte, pos []int32) (etext []byte, epos []int32, ok bool) {
	if bytes.IndexByte(text, 0x1b) < 0 {
		return nil, nil, false
	}
	w.etext, w.epos = parser.StripANSI(w.etext[:0], w.epos[:0], text)
	for k, p := range w.epos {
		w.epos[k] = pos[p]
	}
	return w.etext, w.epos, true
}

// rawSpan maps [a, b) of a view to raw, the text it was read from: from
// where its first byte stands to where the next one does, so what its last
// byte was read from goes whole (`\u0061`), and so do the ANSI escapes inside
// it; complete ANSI escapes right after it stay (contract: the line is kept
// as received apart from the replacements).
func rawSpan(pos []int32, raw []byte, a, b int) (int, int) {
	end := len(raw)
	if b < len(pos) {
		end = int(pos[b])
	}
	if b > a && raw[pos[b-1]] != '\\' { // a JSON escape's tail is left to it
		end = keepTrailingANSI(raw, int(pos[b-1])+1, end)
	}
	return int(pos[a]), end
}

// maxTrailingANSI bounds the escapes keepTrailingANSI gives back to one
// span, and maxANSILength the length of each: past them the rest is
// replaced with the span, as before. Many spans can share one long gap
// (overlapping values, each to the text's end, then escapes written as
// JSON escapes, which hold no ESC): looking back further cost each the
// gap's length.
const (
	maxTrailingANSI = 16
	maxANSILength   = 32
)

// keepTrailingANSI moves end back over the complete ANSI escapes (ESC [,
// parameter bytes, a letter) that fill raw[from:end] up to end.
func keepTrailingANSI(raw []byte, from, end int) int {
	for k := 0; k < maxTrailingANSI && end > from; k++ {
		lo := max(from, end-maxANSILength)
		esc := bytes.LastIndexByte(raw[lo:end], 0x1b)
		if esc < 0 || parser.ANSIEscapeEnd(raw, lo+esc) != end {
			break
		}
		end = lo + esc
	}
	return end
}

// addViewSecrets adds replacements for what b's view shows: its
// credentials (read as the value of label when it is a record key's, as
// Stage.findSecrets reads b), and with `mask userID` its personal data.
// noESC: as view.
func (s *Stage) addViewSecrets(w *Work, label, b []byte, noESC bool) {
	text, pos, ok := w.view(b, noESC)
	if !ok {
		return
	}
	if s.redact {
		if !s.readingSecrets(w, label, b, text, pos, false) {
			return
		}
		// A JSON string holding a colour (`\u001b[33m`, or util.inspect's
		// `\x1B[33m`) decodes to an escape that breaks a label or a value:
		// the view is read without its escapes too, for what the first
		// reading did not replace (an escape can also break the label the
		// first reading found: `\u001b[pass\u0077ord=…` reads `assword`).
		if etext, epos, ok := w.withoutEscapes(text, pos); ok && !s.readingSecrets(w, label, b, etext, epos, true) {
			return
		}
	}
	if s.mask.users() {
		w.spans = personalSpans(text, w.spans[:0])
		for _, sp := range w.spans {
			ra, rb := rawSpan(pos, b, sp[0], sp[1])
			off, n := w.personal(s.mask.hmac, text[sp[0]:sp[1]])
			w.reps = append(w.reps, rep{start: ra, end: rb, off: off, n: n, masked: true})
		}
	}
}

// readingSecrets adds replacements for the credentials of text, a reading
// of b (pos: where each of its bytes stands in b), the value of label when
// it is not nil. With skipCovered, those an earlier reading's replacements
// cover are skipped. It reports false when b was replaced whole
// (parser.MaxSecrets).
func (s *Stage) readingSecrets(w *Work, label, b, text []byte, pos []int32, skipCovered bool) bool {
	w.vsecrets = viewSecrets(label, text, w.vsecrets[:0])
	if len(w.vsecrets) >= parser.MaxSecrets {
		w.whole(b)
		return false
	}
	var covered coverage
	if skipCovered && len(w.vsecrets) > 0 {
		covered = w.spansOf(w.reps)
	}
	// Only a value that becomes an echo outlives the view and is copied,
	// once per token that no other holds: overlapping values (`password:[`
	// repeated, each to the text's end) copied whole cost memory quadratic
	// in the text.
	for _, sec := range w.withoutNestedTokens(text, w.vsecrets) {
		at := offset(text, sec.Text)
		if at < 0 {
			continue
		}
		ra, rb := rawSpan(pos, b, at, at+len(sec.Text))
		if skipCovered && covered.has(ra, rb) {
			continue
		}
		v := sec.Text
		if sec.Kind.IsToken() && len(v) >= minEcho {
			v = w.keep(v)
		}
		s.addSecretAt(w, ra, rb, v, sec)
	}
	return true
}

// viewSecrets finds the credentials of a text or its view: as the value of
// label, a record key, when there is one (an `authorization` value, split
// by an escape or not, is a credential only as that key's value).
func viewSecrets(label, text []byte, dst []parser.Secret) []parser.Secret {
	if label != nil {
		return parser.ValueSecrets(label, text, dst)
	}
	return parser.FindSecrets(text, dst)
}

// keep copies v where it outlives the view it was read from (as an echo).
func (w *Work) keep(v []byte) []byte {
	off := len(w.texts)
	w.texts = append(w.texts, v...)
	return w.texts[off:len(w.texts):len(w.texts)]
}

// whole replaces all of b: a text with more credentials than
// parser.MaxSecrets is hostile, and looking at each would cost memory
// without bound. The replacement covers every other one.
func (w *Work) whole(b []byte) {
	off, n := w.text(redacted)
	w.reps = append(w.reps, rep{start: 0, end: len(b), off: off, n: n, low: true, whole: true})
}
