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
}

// words finds, in the body, event and level keywords, exception types,
// `url:`, payloads and the standalone UUIDs that sessionID and messageID
// come from. Each part is found from its own trigger, so no pass looks at
// every word: colons (url, exception types, payload labels) and dashes
// (UUIDs) by IndexByte, and keywords at the word starts whose first two
// letters begin some keyword, eight bytes at a time.
func (s *scan) words(b []byte, r *Result) {
	s.colons(b, r)
	s.uuids(b, r)
	s.keywords(b, r)
}

// colons handles every `word:`: `url:value`, `SomethingError:` and
// `Unhandled...:` exception types, and `label:{json}` payloads (scanning for
// labels resumes after a payload's value).
func (s *scan) colons(b []byte, r *Result) {
	n := len(b)
	for off := 0; off < n; {
		k := bytes.IndexByte(b[off:], ':')
		if k < 0 {
			return
		}
		c := off + k
		off = c + 1
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
			if end := s.payload(b, c, r); end > 0 {
				off = end
			}
		}
	}
}

// uuids finds the UUIDs standing alone, from the dash that ends their first
// group of eight hex digits.
func (s *scan) uuids(b []byte, r *Result) {
	n := len(b)
	for off := 8; off < n; {
		k := bytes.IndexByte(b[off:], '-')
		if k < 0 {
			return
		}
		u := off + k - 8
		off += k + 1
		if u > 0 && (is(b[u-1], cIdent) || b[u-1] == '-') {
			continue
		}
		if end := uuidAt(b, u); end > 0 && (end == n || !is(b[end], cIdent) && b[end] != '-') {
			s.standaloneUUID(b, u, end, r)
			off = end
		}
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

// keywords visits the word starts eight bytes at a time (a word start is a
// letter or digit after a byte that is neither) and looks closer only where
// the first two letters begin some keyword.
func (s *scan) keywords(b []byte, r *Result) {
	n := len(b)
	carry := uint64(0x80) // the byte before the body counts as a boundary
	i := 0
	for ; i+8 <= n; i += 8 {
		non := nonAlnum(binary.LittleEndian.Uint64(b[i:]))
		starts := highs &^ non & (non<<8 | carry)
		carry = non >> 56
		for ; starts != 0; starts &= starts - 1 {
			// Inlined: this runs at every word start.
			w := i + bits.TrailingZeros64(starts)>>3
			if w+1 < n {
				x := uint16(b[w]|0x20)<<8 | uint16(b[w+1]|0x20)
				if keywordBigrams[x>>6]>>(x&63)&1 != 0 {
					s.keyword(b[w:wordEnd(b, w+1)], w, s.inPayload(w))
				}
			}
		}
	}
	for ; i+1 < n; i++ {
		if alnum[b[i]] && (i == 0 || !alnum[b[i-1]]) {
			x := uint16(b[i]|0x20)<<8 | uint16(b[i+1]|0x20)
			if keywordBigrams[x>>6]>>(x&63)&1 != 0 {
				s.keyword(b[i:wordEnd(b, i+1)], i, s.inPayload(i))
			}
		}
	}
}

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

// payload records `label:{json}` (or `[json]`) whose colon is at c, and
// returns where the value ends, or 0 when there is no label or the value
// does not parse.
func (s *scan) payload(b []byte, c int, r *Result) int {
	start := c
	for start > 0 && is(b[start-1], cIdent) {
		start--
	}
	if start == c {
		return 0
	}
	n := skipJSON(b[c+1:], &r.jsonBuf)
	if n == 0 {
		return 0
	}
	end := c + 1 + n
	if s.nPayloads < len(s.payloads) {
		s.payloads[s.nPayloads] = [2]int{c + 1, end}
		s.nPayloads++
	}
	label := b[start:c]
	for _, p := range r.Payloads {
		if bytes.Equal(p.Label, label) {
			return end // the first value of a label wins
		}
	}
	if r.Payloads == nil {
		r.Payloads = r.payloadBuf[:0]
	}
	r.Payloads = append(r.Payloads, Payload{Label: label, JSON: b[c+1 : end]})
	return end
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

// ids finds contactID and userID: runs of letters, digits and '_' that hold
// an underscore, so the search jumps from '_' to '_'.
func (s *scan) ids(b []byte, r *Result) {
	var customerTenant []byte
	for off := 0; off < len(b); {
		k := bytes.IndexByte(b[off:], '_')
		if k < 0 {
			break
		}
		u := off + k
		start := u
		for start > 0 && is(b[start-1], cIdent) {
			start--
		}
		end := u + 1
		for end < len(b) && is(b[end], cIdent) {
			end++
		}
		off = end
		run := b[start:end]
		if !is(run[0], cUpper) {
			continue
		}
		firstU := u - start
		channel := run[:firstU]
		if !isChannel(channel) {
			continue
		}
		isUser := string(channel) == "USER"
		lastU := bytes.LastIndexByte(run, '_')
		if lastU > firstU+1 && end-start-lastU-1 == 8 && end < len(b) && b[end] == '-' {
			if idEnd := uuidAt(b, start+lastU+1); idEnd > 0 && (idEnd == len(b) || !is(b[idEnd], cAlnum) && b[idEnd] != '-') {
				tenant := run[firstU+1 : lastU]
				if isUser {
					if r.UserID == nil {
						r.UserID = b[start:idEnd]
					}
					if customerTenant == nil {
						customerTenant = tenant
					}
				} else if r.ContactID == nil {
					r.ContactID, r.Channel = b[start:idEnd], channel
					if r.Tenant == nil {
						r.Tenant = tenant
					}
				}
				off = idEnd
				continue
			}
		}
		if isUser && firstU == 4 && r.UserID == nil {
			if loginEnd := agentLogin(b, start+5); loginEnd > 0 {
				r.UserID = b[start:loginEnd]
				off = loginEnd
			}
		}
	}
	if r.Tenant == nil {
		r.Tenant = customerTenant
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
	if len(b)-i < 36 {
		return 0
	}
	u := b[i : i+36 : i+36]
	if u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' {
		return 0
	}
	// OR-ing the classes of the hex positions would accept a dash; AND them.
	k := uint8(cHex)
	for _, c := range u[:8] {
		k &= class[c]
	}
	for _, c := range u[9:13] {
		k &= class[c]
	}
	for _, c := range u[14:18] {
		k &= class[c]
	}
	for _, c := range u[19:23] {
		k &= class[c]
	}
	for _, c := range u[24:36] {
		k &= class[c]
	}
	if k == 0 {
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
		if !bytes.Equal(id, r.SessionID) {
			r.MessageID = id
			break
		}
	}
}
