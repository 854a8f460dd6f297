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
		// A JSON string holding a colour (`\u001b[33m`) decodes to an
		// escape: the reader sees neither, and a credential behind it.
		if bytes.IndexByte(text, 0x1b) >= 0 {
			w.etext, w.epos = parser.StripANSI(w.etext[:0], w.epos[:0], text)
			for k, p := range w.epos {
				w.epos[k] = pos[p]
			}
			text, pos = w.etext, w.epos
		}
	}
	if pos == nil { // an ESC that starts nothing: the text as it is
		return nil, nil, false
	}
	return text, pos, true
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
// span: past it the rest is replaced with the span, as before.
const maxTrailingANSI = 16

// keepTrailingANSI moves end back over the complete ANSI escapes (ESC [,
// parameter bytes, a letter) that fill raw[from:end] up to end.
func keepTrailingANSI(raw []byte, from, end int) int {
	for k := 0; k < maxTrailingANSI && end > from; k++ {
		esc := bytes.LastIndexByte(raw[from:end], 0x1b)
		if esc < 0 || parser.ANSIEscapeEnd(raw, from+esc) != end {
			break
		}
		end = from + esc
	}
	return end
}

// addViewSecrets adds replacements for what b's view shows: its
// credentials, and with `mask userID` its personal data. noESC: as view.
func (s *Stage) addViewSecrets(w *Work, b []byte, noESC bool) {
	text, pos, ok := w.view(b, noESC)
	if !ok {
		return
	}
	if s.redact {
		w.vsecrets = parser.FindSecrets(text, w.vsecrets[:0])
		if len(w.vsecrets) >= parser.MaxSecrets {
			w.whole(b)
			return
		}
		// Only a value that becomes an echo outlives the view and is
		// copied, once per token that no other holds: overlapping values
		// (`password:[` repeated, each to the text's end) copied whole
		// cost memory quadratic in the text.
		for _, sec := range w.withoutNestedTokens(text, w.vsecrets) {
			at := offset(text, sec.Text)
			if at < 0 {
				continue
			}
			ra, rb := rawSpan(pos, b, at, at+len(sec.Text))
			v := sec.Text
			if sec.Kind.IsToken() && len(v) >= minEcho {
				v = w.keep(v)
			}
			s.addSecretAt(w, ra, rb, v, sec)
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
	w.reps = append(w.reps, rep{start: 0, end: len(b), off: off, n: n, low: true})
}
