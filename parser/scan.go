package parser

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// scan holds what one pass over a line's body has seen so far. Positions are
// stored plus one so the zero value means "not seen" without initialisation.
type scan struct {
	event         Event
	eventPos1     int
	transcriptPos int // +1
	savePos       int // +1

	exception        bool
	errType, errMsg  []byte // from the first `SomethingError:` / `SomethingException:`
	unhType, unhMsg  []byte // from the first `Unhandled...:` when there is no error type
	errWord, warnWrd bool

	// The first standalone UUID after `id`/`messageId`, and the first
	// other one: the messageID is the first that is not the sessionID,
	// known only at the end, and if the first is, the next other one is
	// not. Hex digits compare in either case.
	msgIDs  [2][]byte
	nMsgIDs int

	// payloadSpans are the payload values met so far, in order and apart:
	// a payload is never looked for inside another. The two passes that ask
	// whether a position is inside one (triggers, and word starts) each ask
	// in increasing order, so each keeps a cursor: linear in the line.
	payloadSpans     []span
	trigCur, wordCur int
	customerTenant   []byte // tenant of the userID when it is USER_TENANT_uuid
	skipRun          int    // end of what the underscore handler consumed
	secretsOnly      bool   // FindSecrets: credentials, nothing else
	finals           bool   // FindSecretsInFinals: no token in brackets

	// The last run of token characters measured, [tokFrom, tokTo), and the
	// last JWT measured (see tokenEnd and jwtEnd).
	tokFrom, tokTo             int
	runFrom, runTo             int     // the last run without blanks measured (blankEnd)
	closedFrom, closedTo       int     // the last bracketed value measured (closedEnd)
	text                       []byte  // what words scans: payloadSpans are offsets into it
	punctEnd                   uintptr // the end of the last value trimmed (trimSentenceEnd)
	punctN                     int     // the punctuation counted before it
	punctDone                  bool    // and a byte that is not punctuation before that
	extAt, extN                int     // the last JSON value measured (extent): its start +1, its length
	extDecodes                 bool
	jwtFrom, jwtHeadEnd, jwtTo int
	sessionSpelled             int8    // spellsSession's answer: 0 not asked yet, 1 yes, 2 no
	memberFrom                 int     // where the last memberWalk started, +1
	memberIs                   bool    // and its answer
	pctValue                   [2]span // the last unquoted URL-encoded value measured at each level (pctValueEnd)
	idMarkerAt                 int     // the next CTLive ID marker found (idMarkerIn), +1; len+1: none
}

// words finds everything in the body except the leading tokens, in one
// left-to-right pass over 64-byte blocks. Each block is classified at once
// (classifyBlock: letters, letters-or-digits, the trigger bytes, and the
// word starts whose first two letters may begin a word acted on), and the
// pass stops only where something can start: a colon (url, exception types,
// payload labels, labelled secrets), '=' (labelled secrets), an underscore
// (contactID, userID), and a word that starts with a letter and whose first
// three letters begin a word the parser acts on (keywords, the context words
// before session and message IDs, the words that introduce a credential).
// Left to right matters: "the first" keyword or ID wins, and a payload is
// known before the words inside it are met. Within a block the triggers go
// first: a payload found at a colon only covers bytes after it, and IDs and
// keywords fill different fields, so the word starts of the block are
// judged the same either way.
func (s *scan) words(b []byte, r *Result) {
	s.text = b
	n := len(b)
	// A block and the byte after it (a word start's pair is two), or the
	// last ones zero-padded: NUL is in no class.
	var tail [blockSize + 1]byte
	prevAlnum := uint64(0) // the byte before the body counts as a boundary
	prevBackslash := uint64(0)
	gluedNext := uint64(0) // JWT candidates after a percent-escape that start in the next block
	for i := 0; i < n; i += blockSize {
		block := &tail
		if i+blockSize < n {
			block = (*[blockSize + 1]byte)(b[i : i+blockSize+1])
		} else {
			copy(tail[:], b[i:])
		}
		letters, alnum, trig, backslash, pairs := classifyBlock(block)
		starts := letters &^ (alnum<<1 | prevAlnum)
		// The letter of an escape (`\n`) starts a word all the same (the
		// contract: `C:\newContact` holds newContact), and the text after
		// the escape is looked at for credentials too (`\nsession <uuid>`).
		escapedStarts := starts & (backslash<<1 | prevBackslash)
		prevAlnum, prevBackslash = alnum>>63, backslash>>63
		starts &= pairs
		starts |= gluedNext
		gluedNext = 0
		for ; trig != 0; trig &= trig - 1 {
			p := i + bits.TrailingZeros64(trig)
			if b[p] != '%' {
				s.at(b, p, r)
			} else if w := jwtAfterEscape(b, p); w >= 0 {
				// A word start of its own, taken in order with the others
				// (a JWT's payload part, which starts eyJ too, after it).
				if w-i < blockSize {
					starts |= 1 << (w - i)
				} else {
					gluedNext |= 1 << (w - i - blockSize)
				}
				if encodesLabelEnd(b, p) {
					s.percentLabelled(b, p, w, r) // `token%3DeyJ…` that is no JWT is the label's all the same
				}
			} else if w := percentEscapeEnd(b, p); w > 0 {
				s.sessionAfterEscape(b, w, r)
				if encodesLabelEnd(b, p) {
					s.percentLabelled(b, p, w, r)
				}
			}
		}
		for ; escapedStarts != 0; escapedStarts &= escapedStarts - 1 {
			s.escaped(b, i+bits.TrailingZeros64(escapedStarts), r)
		}
		for ; starts != 0; starts &= starts - 1 {
			w := i + bits.TrailingZeros64(starts)
			if w+2 < n && wordTrigrams.has(b[w], b[w+1], b[w+2]) {
				s.word(b, w, r)
			}
		}
	}
	s.finishIDs(r)
}

// encodesLabelEnd reports whether the percent-escape at b[p] may encode
// the '=' or ':' after a label (`%3D`, `%3a`, `%253D`): percentLabelled
// is asked only then, as most escapes encode something else.
func encodesLabelEnd(b []byte, p int) bool {
	if p+2 < len(b) && b[p+1] == '2' && b[p+2] == '5' {
		p += 2 // encoded twice
	}
	return p+2 < len(b) && b[p+1] == '3' && (b[p+2]|0x20 == 'd' || b[p+2]|0x20 == 'a')
}

// jwtAfterEscape returns where a JWT candidate (`eyJ`) starts that the
// URL percent-escape at b[p] glues to what precedes it
// (`?next=%2Fcb%3Fjwt%3DeyJ…`, `%22eyJ…`, `Bearer%20eyJ…`, encoded twice
// `%253DeyJ…`), or -1: no word starts there, yet the contract replaces a
// JWT wherever it stands. The '%' is a trigger of the body pass, which
// makes the candidate a word start.
func jwtAfterEscape(b []byte, p int) int {
	glued := func(e int) bool { // the two hex digits before b[e], then eyJ
		return e+3 <= len(b) && is(b[e-2], cHex) && is(b[e-1], cHex) && b[e] == 'e' && b[e+1] == 'y' && b[e+2] == 'J'
	}
	switch {
	case glued(p + 3):
		return p + 3
	case p+2 < len(b) && b[p+1] == '2' && b[p+2] == '5' && glued(p+5): // %25 and the escape's digits
		return p + 5
	}
	return -1
}

// percentEscapeEnd returns where the text after the URL percent-escape at
// b[p] starts (`%3F`, or `%253F` encoded twice), or -1 when b[p] starts no
// escape.
func percentEscapeEnd(b []byte, p int) int {
	w := p + 3
	if p+5 <= len(b) && b[p+1] == '2' && b[p+2] == '5' && is(b[p+3], cHex) && is(b[p+4], cHex) {
		w = p + 5
	}
	if w > len(b) || !is(b[w-2], cHex) || !is(b[w-1], cHex) {
		return -1
	}
	return w
}

// byteIs sets the high bit of each byte of x equal to c, exactly (no
// borrows between bytes).
func byteIs(x uint64, c byte) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	v := x ^ (uint64(c) * ones)
	return ^((v&low7 + low7) | v | low7)
}

func (s *scan) at(b []byte, p int, r *Result) {
	switch b[p] {
	case ':':
		s.labelled(b, p, r)
		if p+2 < len(b) && b[p+1] == '/' && b[p+2] == '/' {
			s.userinfo(b, p+3, r)
		}
		if !s.secretsOnly {
			s.colon(b, p, r)
		}
	case '=':
		s.labelled(b, p, r)
	default:
		if !s.secretsOnly {
			s.underscore(b, p, r)
		}
	}
}

// colon handles `url:value`, `SomethingError:` and `Unhandled...:`
// exception types, and `label:{json}` payloads (not inside a payload).
func (s *scan) colon(b []byte, c int, r *Result) {
	n := len(b)
	ws := c
	for ws > 0 && alnum[b[ws-1]] {
		ws--
	}
	if w := b[ws:c]; len(w) > 0 {
		if len(w) == 3 && r.URL == nil && eqFold(w, "url") {
			v := c + 1
			for v < n && !is(b[v], cSpace) {
				v++
			}
			r.URL = nonEmpty(b[c+1 : v])
		}
		if s.errType == nil && (hasSuffixFold(w, "error") || hasSuffixFold(w, "exception")) {
			s.exception = true
			s.errType, s.errMsg = w, trimSpace(s.restOfText(b, c))
		}
		if s.unhType == nil && hasPrefixFold(w, "unhandled") {
			s.exception = true
			s.unhType, s.unhMsg = w, trimSpace(s.restOfText(b, c))
		}
	}
	if c+1 < n && (b[c+1] == '{' || b[c+1] == '[') && !s.inPayloadTrig(c) {
		s.payload(b, c, r)
	}
}

// restOfText is the text after the colon at b[c]: the rest of the line,
// or, inside a payload (`resp:{"error":"MongoServerError: E11000 dup"}`),
// the rest of the JSON string the colon stands in, without its closing
// quote and what follows.
func (s *scan) restOfText(b []byte, c int) []byte {
	rest := b[c+1:]
	if !s.inPayloadTrig(c) {
		return rest
	}
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			i++
		case '"':
			return rest[:i]
		}
	}
	return rest
}

// trigramSet is a bitset over the first three bytes of a word, five bits
// each: the low five bits of a letter are the same in either case, so one
// entry covers every spelling. Other bytes share entries with letters; the
// set only filters, and s.word decides.
type trigramSet [1 << 15 / 64]uint64

func trigramIndex(a, b, c byte) uint { return uint(a&31)<<10 | uint(b&31)<<5 | uint(c&31) }

func (t *trigramSet) has(a, b, c byte) bool {
	x := trigramIndex(a, b, c)
	return t[x>>6]>>(x&63)&1 != 0
}

// wordStarts begin the words s.word acts on, lower case: every such word
// starts with one of them (eqFold and hasPrefixFold compare so). `id` is
// two letters and any third byte follows it.
var wordStarts = []string{"save", "warn", "login", "error", "failed", "newcontact", "endcontact",
	"agentlogin", "transcript", "joincontact", "unhandled", "session", "messageid", "ctlivetoken",
	"ct7token", "authorization", "bearer", "basic", "eyj", "exception", "sid", "begin", "id"}

// wordTrigrams: the beginnings of the keywords and of the context words of
// session and message IDs. `id` is two letters: any third byte passes.
var wordTrigrams = func() (t trigramSet) {
	for _, w := range wordStarts {
		for c := 0; c < 32; c++ {
			if len(w) == 2 || c == 0 {
				third := byte(c)
				if len(w) > 2 {
					third = w[2]
				}
				x := trigramIndex(w[0], w[1], third)
				t[x>>6] |= 1 << (x & 63)
			}
		}
	}
	return
}()

// word handles the word starting at b[w]: keywords (events and levels), the
// context words that stand before a session or message ID, and the words
// that introduce a credential.
func (s *scan) word(b []byte, w int, r *Result) {
	e := wordEnd(b, w+1)
	word := b[w:e]
	if b[w] == 'e' && e-w >= 3 && b[w+1] == 'y' && b[w+2] == 'J' {
		if w == s.jwtHeadEnd+1 && w < s.jwtTo && s.jwtHeadEnd-s.jwtFrom >= minJWTHeader {
			// The payload part of the JWT just taken (it starts eyJ too):
			// read as a JWT of its own it takes a sentence's period after
			// the signature for an empty third part, and the digest of the
			// two merged was not the JWT's. Skipped only then: read from
			// here, a JWT after a bare header (`eyJ….<JWT>`) reaches on.
			if _, end := jwtParts(b, w); end == s.jwtTo+1 && b[s.jwtTo] == '.' {
				return
			}
		}
		if end := s.jwtEnd(b, w); end > 0 {
			s.secret(b[w:end], SecretJWT, r)
		}
		return
	}
	if s.secretsOnly {
		s.secretWord(b, w, e, r)
		return
	}
	switch len(word) {
	case 2:
		if eqFold(word, "id") {
			s.idAfter(b, w, e, r)
		}
	case 3:
		if eqFold(word, "sid") {
			s.sessionCredentialAfter(b, w, e, r)
		}
	case 4:
		if string(word) == "AUTH" {
			s.redisAuth(b, w, e, r)
		} else if eqFold(word, "sess") {
			s.sessionCredentialAfter(b, w, e, r) // connect-redis's `sess:<uuid>`
		} else if eqFold(word, "save") {
			s.sawSave(w)
		} else if eqFold(word, "warn") && !s.inPayloadWord(w) {
			s.warnWrd = true
		}
	case 5:
		if eqFold(word, "login") {
			s.sawEvent(EventAgentLogin, w)
		} else if eqFold(word, "saved") {
			s.sawSave(w)
		} else if eqFold(word, "error") && !s.inPayloadWord(w) {
			s.errWord = true
		} else if eqFold(word, "basic") {
			s.basic(b, e, r)
		} else if string(word) == "BEGIN" {
			s.privateKey(b, w, e, r)
		}
	case 6:
		if eqFold(word, "failed") && !s.inPayloadWord(w) {
			s.errWord = true
		} else if eqFold(word, "bearer") {
			s.bearer(b, e, r)
		}
	case 7:
		if eqFold(word, "session") {
			s.sessionAfter(b, w, e, r)
		} else if eqFold(word, "failure") && !s.inPayloadWord(w) {
			s.errWord = true
		} else if eqFold(word, "warning") && !s.inPayloadWord(w) {
			s.warnWrd = true
		}
	case 8:
		if eqFold(word, "ct7token") {
			s.tokenAfter(b, e, r)
		} else if eqFold(word, "sessions") {
			s.sessionCredentialAfter(b, w, e, r)
		}
	case 9:
		if eqFold(word, "sessionid") {
			s.sessionAfter(b, w, e, r)
		} else if eqFold(word, "messageid") {
			if id := uuidAfter(b, e); id != nil && !s.inPayloadWord(w) && !s.payloadOpens(b, e, r) {
				s.sawMessageID(id)
			}
		} else if eqFold(word, "exception") {
			s.exception = true // the event's own name (contract: event)
		}
	case 10:
		switch {
		case eqFold(word, "sessionkey"), eqFold(word, "sessionids"):
			s.sessionCredentialAfter(b, w, e, r)
		case eqFold(word, "newcontact"):
			s.sawEvent(EventNewContact, w)
		case eqFold(word, "endcontact"):
			s.sawEvent(EventEndContact, w)
		case eqFold(word, "agentlogin"):
			s.sawEvent(EventAgentLogin, w)
		case eqFold(word, "transcript"):
			if s.transcriptPos == 0 {
				s.transcriptPos = w + 1
			}
		}
	case 11:
		if eqFold(word, "joincontact") {
			s.sawEvent(EventJoinContact, w)
		} else if eqFold(word, "ctlivetoken") {
			if !s.sessionAfter(b, w, e, r) {
				s.tokenAfter(b, e, r)
			}
		} else if eqFold(word, "sessionuuid") {
			s.sessionCredentialAfter(b, w, e, r)
		}
	case 12:
		if eqFold(word, "sessiontoken") {
			s.sessionCredentialAfter(b, w, e, r)
		}
	case 13:
		if eqFold(word, "authorization") {
			s.authorization(b, e, r)
		}
	case 14:
		if eqFold(word, "savetranscript") {
			s.sawEvent(EventSaveTranscript, w)
		}
	}
	if len(word) >= 9 && hasPrefixFold(word, "unhandled") {
		s.exception = true
	}
}

// secretWord is word for FindSecrets: only the words that introduce a
// credential.
func (s *scan) secretWord(b []byte, w, e int, r *Result) {
	word := b[w:e]
	if s.sessionWord(b, w, e, r) {
		return
	}
	switch {
	case eqFold(word, "id"):
		s.idAfter(b, w, e, r)
	case eqFold(word, "ctlivetoken"):
		if !s.sessionAfter(b, w, e, r) {
			s.tokenAfter(b, e, r)
		}
	case eqFold(word, "ct7token"):
		s.tokenAfter(b, e, r)
	case eqFold(word, "authorization"):
		s.authorization(b, e, r)
	case eqFold(word, "bearer"):
		s.bearer(b, e, r)
	case eqFold(word, "basic"):
		s.basic(b, e, r)
	case string(word) == "AUTH":
		s.redisAuth(b, w, e, r)
	case string(word) == "BEGIN":
		s.privateKey(b, w, e, r)
	}
}

// inPayloadTrig and inPayloadWord report whether position i lies inside a
// payload's value. Each serves one of the body pass's two increasing
// sequences of positions (see scan.payloadSpans).
func (s *scan) inPayloadTrig(i int) bool { return s.inPayload(i, &s.trigCur) }
func (s *scan) inPayloadWord(i int) bool { return s.inPayload(i, &s.wordCur) }

func (s *scan) inPayload(i int, cur *int) bool {
	k := *cur
	for k < len(s.payloadSpans) && s.payloadSpans[k].end <= i {
		k++
	}
	*cur = k
	return k < len(s.payloadSpans) && s.payloadSpans[k].start <= i
}

func (s *scan) sawEvent(e Event, pos int) {
	if s.eventPos1 == 0 {
		s.event, s.eventPos1 = e, pos+1
	}
}

func (s *scan) sawSave(pos int) {
	if s.savePos == 0 {
		s.savePos = pos + 1
	}
}

// payload records `label:{json}` (or `[json]`) whose colon is at c. A value
// that does not parse is left out, and is text: the contract's payloads are
// the values that parse. (Reading a value cut at the line's end, or one
// that closes but is not JSON, as data let client text outside any payload
// hide the server's contactID after it: `?q=U%20a:[[&contactID=<id>` in
// a URL, and the typed user ID before it named the tenant.)
func (s *scan) payload(b []byte, c int, r *Result) {
	start := c
	for start > 0 && is(b[start-1], cIdent) {
		start--
	}
	if start == c {
		return
	}
	n, decodes := s.extent(b, c+1, r)
	if n == 0 {
		return
	}
	end := c + 1 + n
	s.payloadSpans = append(s.payloadSpans, span{c + 1, end})
	if !decodes {
		return // left out, but what it says is still a payload's
	}
	label := b[start:c]
	if r.hasLabel(label) {
		return // the first value of a label wins
	}
	if r.Payloads == nil {
		r.Payloads = r.payloadBuf[:0]
	}
	r.Payloads = append(r.Payloads, Payload{Label: label, JSON: b[c+1 : end]})
	if cap(r.Payloads) > cap(r.payloadBuf) {
		r.payloadBuf = r.Payloads[:0] // keep the grown store for the next line
	}
}

// labelSetFrom is how many payloads a line holds before their labels are
// looked up in a set rather than one by one: a line with thousands of
// payloads must stay linear.
const labelSetFrom = 16

// hasLabel reports whether a payload with this label was already kept.
func (r *Result) hasLabel(label []byte) bool {
	if len(r.Payloads) < labelSetFrom {
		for _, p := range r.Payloads {
			if bytes.Equal(p.Label, label) {
				return true
			}
		}
		return false
	}
	if len(r.Payloads) == labelSetFrom {
		if r.labels == nil {
			r.labels = make(map[string]struct{})
		}
		clear(r.labels)
		for _, p := range r.Payloads {
			r.labels[string(p.Label)] = struct{}{}
		}
	}
	if _, ok := r.labels[string(label)]; ok {
		return true
	}
	r.labels[string(label)] = struct{}{}
	return false
}

// extent is jsonExtent of b[v:], remembered for the last v: a label may
// name both a credential and a payload (`password:[...]`), and a value that
// does not parse costs json-iterator an error's text.
func (s *scan) extent(b []byte, v int, r *Result) (n int, decodes bool) {
	if s.extAt == v+1 {
		return s.extN, s.extDecodes
	}
	n, decodes = jsonExtent(b[v:], &r.jsonBuf)
	s.extAt, s.extN, s.extDecodes = v+1, n, decodes
	return n, decodes
}

// payloadOpens reports whether a payload's value opens right after the
// context word ending at e (`session:["<uuid>"]`): the UUID after it is
// then inside the payload, which the colon has not reached yet when the
// word sits in an earlier block.
func (s *scan) payloadOpens(b []byte, e int, r *Result) bool {
	if e+1 >= len(b) || b[e] != ':' || b[e+1] != '[' {
		return false
	}
	n, _ := s.extent(b, e+1, r)
	return n > 0
}

// uuidSep: what may stand between a context word and its UUID (the
// contract's sessionID and messageID rules): spaces, '[', quotes, ':', '='
// (cSep), and a backtick, which quotes too (JavaScript, Markdown). Only
// here: as a separator of every label's value a backtick let values out
// (helper-65).
func uuidSep(c byte) bool { return is(c, cSep) || c == '`' }

// uuidAfter returns the UUID standing alone that follows the word ending at
// e, separated from it only by uuidSep's bytes (at least one: a UUID glued
// to the word does not stand alone), or nil.
func uuidAfter(b []byte, e int) []byte {
	u := e
	for u < len(b) && uuidSep(b[u]) {
		u++
	}
	if u == e {
		return nil
	}
	return uuidStandingAt(b, u)
}

// sessionAfter handles a session context word at b[w:e]: the UUID after it
// is a credential wherever it stands, and the record's sessionID when it is
// not inside a payload. It reports whether there was one.
func (s *scan) sessionAfter(b []byte, w, e int, r *Result) bool {
	id := uuidAfter(b, e)
	if id == nil {
		// Not the contract's sessionID, but still its credential when only
		// escapes or line breaks stand between (`sessionId\":\"<uuid>`,
		// `session\n<uuid>`).
		if id = uuidAfterLoosely(b, e, true); id != nil {
			s.secret(id, SecretSession, r)
			return true
		}
		// Nor when a past participle stands between and a label's ':'
		// or '=' after it (`session created: <uuid>`, `ctlivetoken
		// expired: <uuid>`): the UUID is what the sentence says the
		// session is (uuidAfterAWord).
		if id = uuidAfterAWord(b, e); id != nil {
			s.secret(id, SecretSession, r)
			return true
		}
		return false
	}
	s.sawSession(id, w, e, b, r)
	return true
}

// uuidAfterAWord returns the UUID standing alone after the word ending at
// e when one more word follows it across blanks, a past participle (of
// letters, ending in -ed: `session created: <uuid>`, `ctlivetoken
// expired: <uuid>`), then a label's ':' or '=' and blanks or quotes, else
// nil. Only a participle says what happened to the session: a noun names
// something else's ID (`session messageId: <uuid>`, `session
// transcriptId:`, `session room:`; helper-83, helper-84). Bounded: the
// word is at most maxProseWord letters, the blanks around it a few bytes.
func uuidAfterAWord(b []byte, e int) []byte {
	u := skipProseBlanks(b, e)
	if u == e {
		return nil
	}
	w := u
	for u < len(b) && u-w <= maxProseWord && is(b[u], cLetter) {
		u++
	}
	if word := b[w:u]; u-w < 3 || u-w > maxProseWord || !hasSuffixFold(word, "ed") {
		return nil
	}
	if u >= len(b) || b[u] != ':' && b[u] != '=' {
		return nil
	}
	v := skipProseBlanks(b, u+1)
	for n := 0; n < 2 && v < len(b); n++ {
		if b[v] == '"' || b[v] == '\'' {
			v++
		} else if k := wideBlank(b, v); k > 0 {
			v += k // a curly quote
		} else {
			break
		}
	}
	return uuidStandingAt(b, v)
}

// skipProseBlanks returns e past at most four blanks, ASCII or not
// (wideBlank).
func skipProseBlanks(b []byte, e int) int {
	u := e
	for n := 0; n < 4 && u < len(b); n++ {
		if b[u] == ' ' || b[u] == '\t' {
			u++
		} else if k := wideBlank(b, u); k > 0 {
			u += k
		} else {
			break
		}
	}
	return u
}

// maxProseWord bounds the word uuidAfterAWord lets stand between a session
// word and its UUID.
const maxProseWord = 24

// sessionCredentialAfter handles a word at b[w:e] that names a session
// outside the contract's sessionID rule (`sessions [<uuid>]`,
// `ctlive.sid=<uuid>`, express-session's `connect.sid`,
// `sessionKey=<uuid>`): the UUID after it is a credential (contract:
// Credentials), never the sessionID field. After '_', '-' or '.' the word
// ends another (a tenant `ACME_SID`, a login `USER_john.sid`,
// `message_sid:`), unless it names a cookie: `=` follows it
// (`connect.sid=`, `__Host-sid=`), or a quote and ':' as a key of the
// cookies object Node prints (`{ 'connect.sid': '<uuid>' }`).
func (s *scan) sessionCredentialAfter(b []byte, w, e int, r *Result) {
	if w > 0 && (b[w-1] == '_' || b[w-1] == '-' || b[w-1] == '.') && !cookieNameEnd(b, e) {
		return
	}
	id := uuidAfter(b, e)
	if id == nil {
		id = uuidAfterLoosely(b, e, false)
	}
	if id != nil {
		s.secret(id, SecretSession, r)
	}
}

// cookieNameEnd reports whether a cookie's name ends at b[e]: `=`, or a
// closing quote and ':' (a key).
func cookieNameEnd(b []byte, e int) bool {
	return e < len(b) && (b[e] == '=' || (b[e] == '"' || b[e] == '\'') && e+1 < len(b) && b[e+1] == ':')
}

// sessionAfterEscape handles a session word glued to the URL
// percent-escape that ends at b[w] (`%3Fctlivetoken%3D<uuid>` in an
// encoded redirect): by the contract's words the escape's hex digit
// starts the word, so no field comes from it, but the UUID after it is a
// session's credential all the same. Only the session words and Basic:
// the other credential rules read values that an escape does not delimit.
func (s *scan) sessionAfterEscape(b []byte, w int, r *Result) {
	if w >= len(b) || (b[w]|0x20 != 's' && b[w]|0x20 != 'c' && b[w]|0x20 != 'b') {
		return
	}
	e := wordEnd(b, w+1)
	if eqFold(b[w:e], "basic") {
		s.basic(b, e, r) // `Authorization%3A%20Basic%20<base64>`: basic reads the encoded space after it
		return
	}
	was := s.secretsOnly
	s.secretsOnly = true
	if !s.sessionWord(b, w, e, r) && eqFold(b[w:e], "ctlivetoken") {
		s.sessionAfter(b, w, e, r)
	}
	s.secretsOnly = was
}

// sessionWord applies the session rules to the word at b[w:e] when it
// names a session (the contract's session, sessionID; and sessions,
// sessionKey, sessionUUID, sessionToken, sid, sess) and reports whether it
// does. secretWord and
// sessionAfterEscape share it; word keeps its own switch on the length.
func (s *scan) sessionWord(b []byte, w, e int, r *Result) bool {
	switch word := b[w:e]; {
	case eqFold(word, "session"), eqFold(word, "sessionid"):
		s.sessionAfter(b, w, e, r)
	case eqFold(word, "sessions"), eqFold(word, "sessionkey"), eqFold(word, "sessionids"), eqFold(word, "sid"), eqFold(word, "sess"),
		eqFold(word, "sessionuuid"), eqFold(word, "sessiontoken"):
		s.sessionCredentialAfter(b, w, e, r)
	default:
		return false
	}
	return true
}

func (s *scan) sawSession(id []byte, w, e int, b []byte, r *Result) {
	s.secret(id, SecretSession, r)
	if r.SessionID == nil && !s.secretsOnly && !s.inPayloadWord(w) && !s.payloadOpens(b, e, r) {
		r.SessionID = id
	}
}

// idAfter handles the word `id` at b[w:e]: "session ID <uuid>" names a
// session, any other "id <uuid>" a message.
func (s *scan) idAfter(b []byte, w, e int, r *Result) {
	id := uuidAfter(b, e)
	if id == nil {
		if sessionObjectBefore(b, w) || s.sessionMemberBefore(b, w) { // escaped inside a JSON string
			if id = uuidAfterLoosely(b, e, false); id != nil {
				s.secret(id, SecretSession, r)
			}
		}
		return
	}
	if w >= 8 && (b[w-1] == '_' || b[w-1] == '-' || b[w-1] == '.') && eqFold(b[w-8:w-1], "session") && (w == 8 || !alnum[b[w-9]]) {
		// session_id=, Session-Id:, req.session.id: not the contract's
		// sessionID (the word is "id"), but a session all the same, and so
		// not a message ID: not even a candidate, which would take the
		// place of a real one after it (sawMessageID keeps two).
		s.secret(id, SecretSession, r)
		return
	}
	if sessionObjectBefore(b, w) || s.sessionMemberBefore(b, w) {
		// {"session":{"id":"<uuid>"}}, { session: { id: '<uuid>' } }, and
		// the id after other members: the same session as an object
		// (express-session), not a message ID.
		s.secret(id, SecretSession, r)
		return
	}
	sp := w
	for sp > 0 && (b[sp-1] == ' ' || b[sp-1] == '\t') {
		sp--
	}
	if sp < w {
		prev := sp
		for prev > 0 && alnum[b[prev-1]] {
			prev--
		}
		if eqFold(b[prev:sp], "session") {
			s.sawSession(id, w, e, b, r)
			return
		}
	}
	if !s.secretsOnly && !s.inPayloadWord(w) && !s.payloadOpens(b, e, r) {
		s.sawMessageID(id)
	}
}

// sessionObjectBefore reports whether the key `id` at b[w] opens an object
// that is a session's value: `session":{"id`, `session: { id`, also escaped
// inside a JSON string (`session\":{\"id`). It looks back a few bytes at
// most.
func sessionObjectBefore(b []byte, w int) bool {
	j := skipBack(b, w, quotes)
	j = skipBack(b, j, blanks)
	return j > 0 && b[j-1] == '{' && sessionObjectOpens(b, j-1)
}

// sessionObjectOpens reports whether the '{' at b[o] opens a session's
// value: after a session label's ':' or '=' (`"session":{`, `req.session
// = {`), or after the class name util.inspect prints (`Session {`,
// `session: Session {`).
func sessionObjectOpens(b []byte, o int) bool {
	j := skipBack(b, o, blanks)
	if j > 0 && (b[j-1] == ':' || b[j-1] == '=') {
		j = skipBack(b, j-1, blanks|quotes)
	}
	return sessionWordBefore(b, j)
}

// sessionMemberBefore reports whether the key `id` at b[w] is a member,
// not the first, of an object that is a session's value
// (`"session":{"agent":"USER_x","id":"<uuid>"}`, `session: { agent:
// 'USER_x', id: '<uuid>' }`, util.inspect's `Session { … }`). Only an
// `id` after a ',' on a line that spells a session (spellsSession) is
// looked at: it walks back at most maxMemberLookBack bytes to the
// object's '{', over quoted strings (JSON escaped inside a string,
// `\"agent\":1`, walks the same: its backslashes are skipped) and nested
// brackets, so every `id` costs a bounded look.
func (s *scan) sessionMemberBefore(b []byte, w int) bool {
	j := skipBack(b, w, quotes)
	k := j
	for k > 0 && j-k < 16 && (b[k-1] == ' ' || b[k-1] == '\t' || b[k-1] == '\n' || b[k-1] == '\r') {
		k-- // a printed object's indent
	}
	if k == 0 || b[k-1] != ',' || !s.spellsSession(b) {
		// Not after another member (prose's `message id <uuid>`), or no
		// session on the line: no walk.
		return false
	}
	is := s.memberWalk(b, j)
	s.memberFrom, s.memberIs = j+1, is
	return is
}

// memberWalk walks back from b[j] to the '{' of the object that b[j]
// stands in and reports whether that object is a session's. A walk that
// reaches where the last one started (s.memberFrom) outside any string or
// nesting has the last one's answer: the members of one object are walked
// over once, so a line of `,id` after `,id` costs linear time, not
// maxMemberLookBack bytes each (helper-83: 3 MB of them took 1.2 s).
func (s *scan) memberWalk(b []byte, j int) bool {
	lastStart := s.memberFrom - 1 // -1: no walk yet
	depth := 0
	var quote byte // the quote of the string being walked back over, or 0
	for i := j - 1; i >= 0 && j-i <= maxMemberLookBack; i-- {
		c := b[i]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		if depth == 0 && i == lastStart-1 {
			return s.memberIs // from here on, the last walk's steps
		}
		switch c {
		case '"', '\'':
			quote = c
		case '}', ']':
			depth++
		case '[':
			if depth == 0 {
				return false // an array's element, not an object's member
			}
			depth--
		case '{':
			if depth > 0 {
				depth--
				continue
			}
			return sessionObjectOpens(b, i)
		}
	}
	return false
}

// maxMemberLookBack bounds sessionMemberBefore's walk.
const maxMemberLookBack = 512

// spellsSession reports whether the text b (the scan's, s.text) holds
// "ession" or "ESSION" anywhere, found once a line: most lines with an
// `id <uuid>` have no session object, and this spares them
// sessionMemberBefore's walk. A session key in a case of its own
// (`SeSSion`) is left to the first-member rule (sessionObjectBefore).
func (s *scan) spellsSession(b []byte) bool {
	if s.sessionSpelled == 0 {
		s.sessionSpelled = 2
		if bytes.Contains(b, []byte("ession")) || bytes.Contains(b, []byte("ESSION")) {
			s.sessionSpelled = 1
		}
	}
	return s.sessionSpelled == 1
}

// sessionWordBefore reports whether b[:j] ends with session, in any case
// and after anything: jsession, userSession, JSESSION, x-session. A
// possession's UUID taken for a session costs only its correlation; a
// jsessionid's left in clear would be a credential.
func sessionWordBefore(b []byte, j int) bool {
	w := j - len("session")
	return w >= 0 && eqFold(b[w:j], "session")
}

// skipBack's sets, bits of a mask over the bytes below 64: every "id" word
// asks sessionObjectBefore, and a shift beats searching a string. A set
// with quotes takes the backslash too (`\"` inside a JSON string).
const (
	blanks = 1<<' ' | 1<<'\t'
	quotes = 1<<'"' | 1<<'\''
)

// skipBack returns i less the bytes of set just before it, at most four; a
// set with quotes holds the backslash too (an escaped JSON string's \").
func skipBack(b []byte, i int, set uint64) int {
	for k := 0; k < 4 && i > 0; k++ {
		c := b[i-1]
		if !(c < 64 && set>>c&1 != 0 || c == '\\' && set&quotes != 0) {
			break
		}
		i--
	}
	return i
}

func (s *scan) sawMessageID(id []byte) {
	if s.nMsgIDs == 0 || s.nMsgIDs == 1 && !bytes.EqualFold(id, s.msgIDs[0]) {
		s.msgIDs[s.nMsgIDs] = id
		s.nMsgIDs++
	}
}

// underscore handles the run of letters, digits and '_' around the first
// underscore of a run: contactIDs (CHANNEL_TENANT_uuid) and userIDs
// (USER_TENANT_uuid, USER_login). The first of each wins.
func (s *scan) underscore(b []byte, u int, r *Result) {
	if u < s.skipRun {
		return // an underscore of a run already looked at
	}
	if s.inPayloadTrig(u) {
		s.skipRun = identEnd(b, u+1) // IDs are never taken from a payload
		return
	}
	start := u
	for start > 0 && is(b[start-1], cIdent) {
		start--
	}
	end := identEnd(b, u+1)
	s.skipRun = end
	run := b[start:end]
	if !is(run[0], cUpper) {
		return
	}
	firstU := u - start
	channel := run[:firstU]
	if !isChannel(channel) {
		return
	}
	isUser := string(channel) == "USER"
	// An ID's run ends with _ and the UUID's first eight hex digits, just
	// before its first dash. Whatever follows the UUID, it is the ID's: the
	// contract asks only that nothing stand before it
	// (CHAT_AGM_<uuid>-transcript.pdf is AGM's contact).
	lastU := len(run) - 9
	if lastU > firstU+1 && run[lastU] == '_' && end < len(b) && b[end] == '-' {
		if idEnd := uuidAt(b, start+lastU+1); idEnd > 0 {
			tenant := run[firstU+1 : lastU]
			if isUser {
				// Only the record's own userID, the first, gives a tenant
				// (contract: tenant, "else of a USER_TENANT_UUID userID"):
				// a customer named after an agent's login does not.
				if r.UserID == nil {
					r.UserID = b[start:idEnd]
					s.customerTenant = tenant
				}
			} else if r.ContactID == nil {
				r.ContactID, r.Channel = b[start:idEnd], channel
				if r.Tenant == nil {
					r.Tenant = tenant
				}
			}
			s.skipRun = idEnd
			return
		}
	}
	if isUser && firstU == 4 && r.UserID == nil {
		if loginEnd := agentLogin(b, start+5); loginEnd > 0 {
			r.UserID = b[start:loginEnd]
			s.skipRun = loginEnd
		}
	}
}

// finishIDs falls back to the userID's tenant when it is a customer's.
func (s *scan) finishIDs(r *Result) {
	if r.Tenant == nil {
		r.Tenant = s.customerTenant
	}
}

// agentLogin matches an agent's login (letters, digits and ._%+-@, no
// trailing '.') at b[i:] and returns where it ends, or 0.
func agentLogin(b []byte, i int) int {
	j := i
	for j < len(b) && is(b[j], cLogin) {
		j++
	}
	for j > i && b[j-1] == '.' {
		j--
	}
	if j == i {
		return 0
	}
	return j
}

// isChannel: [A-Z][A-Z0-9]*.
func isChannel(c []byte) bool {
	if len(c) == 0 || !is(c[0], cUpper) {
		return false
	}
	for _, x := range c[1:] {
		if !is(x, cUpper) && (x < '0' || x > '9') {
			return false
		}
	}
	return true
}

// uuidAtSWAR returns the end of the 8-4-4-4-12 hex UUID starting at b[i],
// or 0 (uuidAt: classify_simd.go, classify_swar.go).
func uuidAtSWAR(b []byte, i int) int {
	if i < 0 || len(b)-i < 36 {
		return 0
	}
	u := b[i : i+36 : i+36]
	if u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' {
		return 0
	}
	// Six overlapping eight-byte words cover the 32 hex digits; the three
	// dashes they include are masked out of the hex test.
	bad := nonHex(binary.LittleEndian.Uint64(u[0:])) |
		nonHex(binary.LittleEndian.Uint64(u[9:]))&^(0x80<<(8*4)) | // u[13]
		nonHex(binary.LittleEndian.Uint64(u[14:]))&^(0x80<<(8*4)) | // u[18]
		nonHex(binary.LittleEndian.Uint64(u[19:]))&^(0x80<<(8*4)) | // u[23]
		nonHex(binary.LittleEndian.Uint64(u[24:])) |
		nonHex(binary.LittleEndian.Uint64(u[28:]))
	if bad != 0 {
		return 0
	}
	return i + 36
}

// finish resolves event precedence, level and the messageID.
func (s *scan) finish(r *Result) {
	ev, pos1 := s.event, s.eventPos1
	if s.transcriptPos > 0 && s.savePos > 0 {
		pair := min(s.transcriptPos, s.savePos)
		if ev == EventNone || pair < pos1 {
			ev = EventSaveTranscript
		}
	}
	if s.exception {
		ev = EventException
		if s.errType != nil {
			r.ErrorType, r.Error = s.errType, nonEmpty(s.errMsg)
		} else if s.unhType != nil {
			r.ErrorType, r.Error = s.unhType, nonEmpty(s.unhMsg)
		}
	}
	r.Event = ev
	switch {
	case s.exception || s.errWord:
		r.Level = LevelError
	case s.warnWrd:
		r.Level = LevelWarn
	default:
		r.Level = LevelInfo
	}
	for _, id := range s.msgIDs[:s.nMsgIDs] {
		if !bytes.EqualFold(id, r.SessionID) && !isSession(id, r.Secrets) {
			if r.MessageID == nil {
				r.MessageID = id
			} else {
				r.NextMessageID = id
			}
		}
	}
}

// isSession reports whether the line's redaction takes the UUID id for a
// session (`session_id=`, `ctlivetoken, <uuid>`): a credential is not a
// message ID (contract: messageID "is not the sessionID"), and its field
// would hold the session's digest.
func isSession(id []byte, secrets []Secret) bool {
	for _, sc := range secrets {
		if sc.Kind == SecretSession && bytes.EqualFold(sc.Text, id) {
			return true
		}
	}
	return false
}
