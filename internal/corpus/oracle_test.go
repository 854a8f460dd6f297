package corpus

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// oracle re-derives a record's contract fields from its text with regular
// expressions, following docs/contract.md rule by rule, independently of how
// the generator built the record. Where the generator's Want and the
// oracle disagree, one of them misreads the contract.

var (
	reANSI    = regexp.MustCompile(`\x1b\[[^A-Za-z]*[A-Za-z]`)
	rePrefix  = regexp.MustCompile(`^([A-Za-z0-9._-]+) +\| `)
	reTime    = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) `)
	reToken   = regexp.MustCompile(`^\[([^\s\[\]]+)\]`)
	reTenant  = regexp.MustCompile(`^[A-Z0-9_]*[A-Z][A-Z0-9_]*$`)
	uuidPat   = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
	reUUID    = regexp.MustCompile(`^` + uuidPat + `$`)
	reContact = regexp.MustCompile(`([A-Z][A-Z0-9]*)_([A-Z0-9_]+)_(` + uuidPat + `)`)
	reCust    = regexp.MustCompile(`^USER_([A-Z0-9_]+)_` + uuidPat)
	reAgent   = regexp.MustCompile(`^USER_[A-Za-z0-9._%+\-@]+`)
	reSession = regexp.MustCompile(`(?i)(session(?: +id)?|sessionid|ctlivetoken)[ \["':=]+(` + uuidPat + `)`)
	reMsgID   = regexp.MustCompile(`(?i)(id|messageid)[ \["':=]+(` + uuidPat + `)`)
	reLabel   = regexp.MustCompile(`[A-Za-z0-9_]+:[\{\[]`)
	reWord    = regexp.MustCompile(`[A-Za-z0-9]+`)
	reTypeCol = regexp.MustCompile(`[A-Za-z0-9]+:`)
	reURL     = regexp.MustCompile(`url:(\S+)`)
)

var components = map[string]bool{"REDIS": true, "MONGODB": true, "MONGO": true, "DOMAIN": true, "CT7PROTOCOL": true,
	"HTTP": true, "CTI": true, "JWT": true, "API": true, "SOCKETIO": true}

func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

// alone reports whether s[i:j] is not preceded or followed by a letter,
// digit, '-' or '_'.
func alone(s string, i, j int) bool {
	if i > 0 && (isWordByte(s[i-1]) || s[i-1] == '-') {
		return false
	}
	if j < len(s) && (isWordByte(s[j]) || s[j] == '-') {
		return false
	}
	return true
}

func oracle(line string) Expect {
	var e Expect
	line = reANSI.ReplaceAllString(line, "")
	first, rest, _ := strings.Cut(line, "\n")
	if rest != "" {
		for _, l := range strings.Split(rest, "\n") {
			if strings.HasPrefix(strings.TrimLeft(l, " \t"), "at ") {
				e.StackFrames++
			}
		}
	}
	body := first
	if m := rePrefix.FindStringSubmatch(body); m != nil {
		e.Service = m[1]
		body = body[len(m[0]):]
	}
	if m := reTime.FindStringSubmatch(body); m != nil {
		e.Time = m[1]
		body = body[len(m[0]):]
	}

	// Leading tokens: function, then the tenant among the others.
	var tokens []string
	for pos := 0; ; {
		s := body[pos:]
		if len(tokens) > 0 {
			if !strings.HasPrefix(s, " [") {
				break
			}
			s = s[1:]
			pos++
		}
		m := reToken.FindStringSubmatch(s)
		if m == nil {
			break
		}
		tokens = append(tokens, m[1])
		pos += len(m[0])
	}
	if len(tokens) > 0 {
		e.Function = tokens[0]
		for _, t := range tokens[1:] {
			if reTenant.MatchString(t) && !components[t] {
				e.Tenant = t
				break
			}
		}
	}

	// contactID: the first CHANNEL_TENANT_UUID not preceded by a word byte.
	var contactTenant string
	for _, m := range reContact.FindAllStringSubmatchIndex(body, -1) {
		if m[0] > 0 && isWordByte(body[m[0]-1]) || body[m[2]:m[3]] == "USER" {
			continue
		}
		e.ContactID, e.Channel, contactTenant = body[m[0]:m[1]], body[m[2]:m[3]], body[m[4]:m[5]]
		break
	}

	// userID: the first USER_ not preceded by a word byte.
	var userTenant string
	for i := 0; i+5 <= len(body); i++ {
		if !strings.HasPrefix(body[i:], "USER_") || i > 0 && isWordByte(body[i-1]) {
			continue
		}
		if m := reCust.FindStringSubmatch(body[i:]); m != nil {
			e.UserID, userTenant = m[0], m[1]
			break
		}
		if m := reAgent.FindString(body[i:]); m != "" {
			if id := strings.TrimRight(m, "."); id != "USER_" {
				e.UserID = id
				break
			}
		}
	}
	if e.Tenant == "" {
		e.Tenant = contactTenant
	}
	if e.Tenant == "" {
		e.Tenant = userTenant
	}

	for _, m := range reSession.FindAllStringSubmatchIndex(body, -1) {
		if (m[0] == 0 || !isAlnum(body[m[0]-1])) && alone(body, m[4], m[5]) {
			e.SessionID = body[m[4]:m[5]]
			break
		}
	}
	for _, m := range reMsgID.FindAllStringSubmatchIndex(body, -1) {
		if (m[0] == 0 || !isAlnum(body[m[0]-1])) && alone(body, m[4], m[5]) && body[m[4]:m[5]] != e.SessionID {
			e.MessageID = body[m[4]:m[5]]
			break
		}
	}
	if m := reURL.FindStringSubmatchIndex(body); m != nil && (m[0] == 0 || !isAlnum(body[m[0]-1])) {
		e.URL = body[m[2]:m[3]]
	}

	// Payloads, and the body without them for the level's words.
	outside := body
	for pos := 0; pos < len(body); {
		loc := reLabel.FindStringIndex(body[pos:])
		if loc == nil {
			break
		}
		start := pos + loc[1] - 1
		dec := json.NewDecoder(strings.NewReader(body[start:]))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			pos = start
			continue
		}
		end := start + int(dec.InputOffset())
		e.HasPayload = true
		outside = strings.Replace(outside, body[start:end], " ", 1)
		pos = end
	}

	words := reWord.FindAllStringIndex(body, -1)
	exception := e.StackFrames > 0
	var has = map[string]bool{}
	for _, w := range words {
		lw := strings.ToLower(body[w[0]:w[1]])
		has[lw] = true
		if strings.HasPrefix(lw, "unhandled") ||
			(strings.HasSuffix(lw, "error") || strings.HasSuffix(lw, "exception")) && w[1] < len(body) && body[w[1]] == ':' {
			exception = true
		}
	}
	if exception {
		e.Event = "exception"
		if m := reTypeCol.FindString(body); m != "" {
			e.ErrorType = strings.TrimSuffix(m, ":")
		}
	} else {
		saveT := has["transcript"] && (has["save"] || has["saved"])
		for _, w := range words {
			switch lw := strings.ToLower(body[w[0]:w[1]]); {
			case lw == "newcontact":
				e.Event = "newContact"
			case lw == "endcontact":
				e.Event = "endContact"
			case lw == "joincontact":
				e.Event = "joinContact"
			case lw == "agentlogin" || lw == "login":
				e.Event = "agentLogin"
			case lw == "savetranscript" || saveT && (lw == "transcript" || lw == "save" || lw == "saved"):
				e.Event = "saveTranscript"
			case lw == "exception":
				e.Event = "exception"
			}
			if e.Event != "" {
				break
			}
		}
	}

	shaped := e.Service != "" || e.Time != "" || len(tokens) > 0 || e.ContactID != "" || e.UserID != "" ||
		e.SessionID != "" || e.MessageID != "" || e.Event != ""
	if shaped {
		e.Level = "info"
		for _, w := range reWord.FindAllString(outside, -1) {
			switch strings.ToLower(w) {
			case "error", "failed", "failure":
				e.Level = "error"
			case "warn", "warning":
				if e.Level == "info" {
					e.Level = "warn"
				}
			}
		}
		if e.Event == "exception" {
			e.Level = "error"
		}
	}
	return e
}

// diff returns the fields where got (the oracle) and want differ, skipping
// want's unchecked fields.
func diff(got, want Expect) []string {
	var out []string
	for _, f := range StringFields {
		if want.Checked(f) && got.Get(f) != want.Get(f) {
			out = append(out, f.String()+": oracle "+quote(got.Get(f))+", want "+quote(want.Get(f)))
		}
	}
	if want.Checked(FieldStackFrames) && got.StackFrames != want.StackFrames {
		out = append(out, "stackFrames differ")
	}
	if want.Checked(FieldHasPayload) && got.HasPayload != want.HasPayload {
		out = append(out, "hasPayload differs")
	}
	return out
}

func quote(s string) string {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(s)
	return strings.TrimSpace(b.String())
}
