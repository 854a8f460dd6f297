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

	msgIDs  [4][]byte // standalone UUIDs after `id`/`messageId`, in order
	nMsgIDs int

	payloads  [8][2]int // value spans of the payloads, for "outside a payload"
	nPayloads int

	customerTenant    []byte // tenant of the first USER_TENANT_uuid
	skipDash, skipRun int    // ends of what the dash and underscore handlers consumed
}

// words finds everything in the body except the leading tokens, in one
// left-to-right pass that looks at eight bytes at a time and stops only at
// the bytes that can start something: a colon (url, exception types,
// payload labels), a dash (the first dash of a UUID standing alone), an
// underscore (contactID, userID) and a word start whose first two letters
// begin a keyword. Left to right matters: "the first" keyword or ID wins,
// and a payload is known before the words inside it are met.
func (s *scan) words(b []byte, r *Result) {
	n := len(b)
	carry := uint64(0x80) // the byte before the body counts as a boundary
	i := 0
	for ; i+8 <= n; i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		non := nonAlnum(x)
		starts := highs &^ non & (non<<8 | carry)
		carry = non >> 56
		// Colons, dashes and underscores first: a payload found at a colon
		// only covers bytes after it, so the word starts before it are
		// judged the same either way.
		for trig := byteIs(x, ':') | byteIs(x, '-') | byteIs(x, '_'); trig != 0; trig &= trig - 1 {
			s.at(b, i+bits.TrailingZeros64(trig)>>3, r)
		}
		for ; starts != 0; starts &= starts - 1 {
			if w := i + bits.TrailingZeros64(starts)>>3; w+1 < n {
				x := uint16(b[w]|0x20)<<8 | uint16(b[w+1]|0x20)
				if keywordBigrams[x>>6]>>(x&63)&1 != 0 {
					s.keyword(b[w:wordEnd(b, w+1)], w, s.inPayload(w))
				}
			}
		}
	}
	for ; i < n; i++ {
		switch c := b[i]; {
		case c == ':' || c == '-' || c == '_', alnum[c] && (i == 0 || !alnum[b[i-1]]):
			s.at(b, i, r)
		}
	}
	s.finishIDs(r)
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
		s.colon(b, p, r)
	case '-':
		s.dash(b, p, r)
	case '_':
		s.underscore(b, p, r)
	default:
		if p+1 < len(b) {
			x := uint16(b[p]|0x20)<<8 | uint16(b[p+1]|0x20)
			if keywordBigrams[x>>6]>>(x&63)&1 != 0 {
				s.keyword(b[p:wordEnd(b, p+1)], p, s.inPayload(p))
			}
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
			s.errType, s.errMsg = w, trimSpace(b[c+1:])
		}
		if s.unhType == nil && hasPrefixFold(w, "unhandled") {
			s.exception = true
			s.unhType, s.unhMsg = w, trimSpace(b[c+1:])
		}
	}
	if c+1 < n && (b[c+1] == '{' || b[c+1] == '[') && !s.inPayload(c) {
		s.payload(b, c, r)
	}
}

// dash looks for a UUID standing alone whose first dash is at d.
func (s *scan) dash(b []byte, d int, r *Result) {
	u := d - 8
	if u < 0 || d < s.skipDash || u > 0 && (is(b[u-1], cIdent) || b[u-1] == '-') {
		return
	}
	if end := uuidAt(b, u); end > 0 && (end == len(b) || !is(b[end], cIdent) && b[end] != '-') {
		s.standaloneUUID(b, u, end, r)
		s.skipDash = end // its other dashes
	}
}

// keywordBigrams holds the first two letters (lower case) of every
// keyword, as a bitset over the 16-bit pair.
var keywordBigrams = func() (t [1 << 16 / 64]uint64) {
	for _, kw := range []string{"save", "saved", "savetranscript", "warn", "warning", "login", "error",
		"failed", "failure", "newcontact", "endcontact", "agentlogin", "transcript", "joincontact", "unhandled"} {
		x := uint16(kw[0])<<8 | uint16(kw[1])
		t[x>>6] |= 1 << (x & 63)
	}
	return
}()

func (s *scan) keyword(w []byte, i int, inPayload bool) {
	switch len(w) {
	case 4:
		if eqFold(w, "save") {
			s.sawSave(i)
		} else if eqFold(w, "warn") && !inPayload {
			s.warnWrd = true
		}
	case 5:
		if eqFold(w, "login") {
			s.sawEvent(EventAgentLogin, i)
		} else if eqFold(w, "saved") {
			s.sawSave(i)
		} else if eqFold(w, "error") && !inPayload {
			s.errWord = true
		}
	case 6:
		if eqFold(w, "failed") && !inPayload {
			s.errWord = true
		}
	case 7:
		if !inPayload && eqFold(w, "failure") {
			s.errWord = true
		} else if !inPayload && eqFold(w, "warning") {
			s.warnWrd = true
		}
	case 10:
		switch {
		case eqFold(w, "newcontact"):
			s.sawEvent(EventNewContact, i)
		case eqFold(w, "endcontact"):
			s.sawEvent(EventEndContact, i)
		case eqFold(w, "agentlogin"):
			s.sawEvent(EventAgentLogin, i)
		case eqFold(w, "transcript"):
			if s.transcriptPos == 0 {
				s.transcriptPos = i + 1
			}
		}
	case 11:
		if eqFold(w, "joincontact") {
			s.sawEvent(EventJoinContact, i)
		}
	case 14:
		if eqFold(w, "savetranscript") {
			s.sawEvent(EventSaveTranscript, i)
		}
	}
	if len(w) >= 9 && hasPrefixFold(w, "unhandled") {
		s.exception = true
	}
}

// inPayload reports whether position i lies inside a payload's value.
func (s *scan) inPayload(i int) bool {
	for _, p := range s.payloads[:s.nPayloads] {
		if i >= p[0] && i < p[1] {
			return true
		}
	}
	return false
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
// that does not parse is left out.
func (s *scan) payload(b []byte, c int, r *Result) {
	start := c
	for start > 0 && is(b[start-1], cIdent) {
		start--
	}
	if start == c {
		return
	}
	n := skipJSON(b[c+1:], &r.jsonBuf)
	if n == 0 {
		return
	}
	end := c + 1 + n
	if s.nPayloads < len(s.payloads) {
		s.payloads[s.nPayloads] = [2]int{c + 1, end}
		s.nPayloads++
	}
	label := b[start:c]
	for _, p := range r.Payloads {
		if bytes.Equal(p.Label, label) {
			return // the first value of a label wins
		}
	}
	if r.Payloads == nil {
		r.Payloads = r.payloadBuf[:0]
	}
	r.Payloads = append(r.Payloads, Payload{Label: label, JSON: b[c+1 : end]})
	if cap(r.Payloads) > cap(r.payloadBuf) {
		r.payloadBuf = r.Payloads[:0] // keep the grown store for the next line
	}
}

// standaloneUUID classifies the UUID at b[u:end] by the word that stands
// just before it, separated only by spaces, '[', quotes, ':' or '='.
func (s *scan) standaloneUUID(b []byte, u, end int, r *Result) {
	k := u
	for k > 0 && is(b[k-1], cSep) {
		k--
	}
	if k == u {
		return
	}
	ws := k
	for ws > 0 && is(b[ws-1], cAlnum) {
		ws--
	}
	w, id := b[ws:k], b[u:end]
	switch {
	case eqFold(w, "session"), eqFold(w, "sessionid"), eqFold(w, "ctlivetoken"):
		if r.SessionID == nil {
			r.SessionID = id
		}
	case eqFold(w, "id"):
		// "session ID" names a session, not a message.
		sp := ws
		for sp > 0 && (b[sp-1] == ' ' || b[sp-1] == '\t') {
			sp--
		}
		if sp < ws {
			prev := sp
			for prev > 0 && is(b[prev-1], cAlnum) {
				prev--
			}
			if eqFold(b[prev:sp], "session") {
				if r.SessionID == nil {
					r.SessionID = id
				}
				return
			}
		}
		s.sawMessageID(id)
	case eqFold(w, "messageid"):
		s.sawMessageID(id)
	}
}

func (s *scan) sawMessageID(id []byte) {
	if s.nMsgIDs < len(s.msgIDs) {
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
	start := u
	for start > 0 && is(b[start-1], cIdent) {
		start--
	}
	end := u + 1
	for end < len(b) && is(b[end], cIdent) {
		end++
	}
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
	// before its first dash.
	lastU := len(run) - 9
	if lastU > firstU+1 && run[lastU] == '_' && end < len(b) && b[end] == '-' {
		if idEnd := uuidAt(b, start+lastU+1); idEnd > 0 && (idEnd == len(b) || !is(b[idEnd], cAlnum) && b[idEnd] != '-') {
			tenant := run[firstU+1 : lastU]
			if isUser {
				if r.UserID == nil {
					r.UserID = b[start:idEnd]
				}
				if s.customerTenant == nil {
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

// finishIDs falls back to a customer userID's tenant.
func (s *scan) finishIDs(r *Result) {
	if r.Tenant == nil {
		r.Tenant = s.customerTenant
	}
}

// agentLogin matches an agent's login (letters, digits and ._%+-@, no
// trailing '.') at b[i:] and returns where it ends, or 0. A login running
// into '_' is part of some longer identifier, not a user ID.
func agentLogin(b []byte, i int) int {
	j := i
	for j < len(b) && is(b[j], cLogin) {
		j++
	}
	if j < len(b) && b[j] == '_' {
		return 0
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

// uuidAt returns the end of the 8-4-4-4-12 hex UUID starting at b[i], or 0.
func uuidAt(b []byte, i int) int {
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

// nonHex sets the high bit of each byte of x that is not a hex digit (the
// same carry-free range tests as nonAlnum).
func nonHex(x uint64) uint64 {
	high := x & highs
	y := x &^ highs
	digit := (y + (0x80-'0')*ones) &^ (y + (0x7f-'9')*ones)
	l := y | 0x20*ones
	letter := (l + (0x80-'a')*ones) &^ (l + (0x7f-'f')*ones)
	hex := (digit | letter) & highs &^ high
	return highs &^ hex
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
		if !bytes.Equal(id, r.SessionID) {
			r.MessageID = id
			break
		}
	}
}
