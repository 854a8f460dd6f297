package corpus

import (
	"fmt"
	"strings"
)

// The generator writes each line from a format and typed arguments; the
// argument's type says which contract field it fills, so Want is set by
// construction rather than by re-parsing the text. Arguments are consumed
// in text order (no indexed verbs), which makes "the first ID in the body"
// the first argument of its type.

// userID is a CTLive user ID; tenant is set for customers
// (USER_<TENANT>_<uuid>) and empty for agents (USER_<login>).
type userID struct{ id, tenant string }

func (u userID) String() string { return u.id }

func customerID(tenant, uuid string) userID { return userID{"USER_" + tenant + "_" + uuid, tenant} }
func agentID(login string) userID           { return userID{"USER_" + login, ""} }

// sessionID is a session UUID written right after a session keyword.
type sessionID string

// messageID is a UUID written right after the word id or messageId.
type messageID string

// tenantTok marks the leading token that is the line's tenant.
type tenantTok string

// contactRef is a contact ID with its parts.
type contactRef struct{ id, channel, tenant string }

func (c contactRef) String() string { return c.id }

func newContactRef(channel, tenant, uuid string) contactRef {
	return contactRef{channel + "_" + tenant + "_" + uuid, channel, tenant}
}

// draft is a body (and its following physical lines) with what it holds.
type draft struct {
	body  string
	more  []string
	want  Expect
	saved bool // the line that saves the contact's transcript
}

// mk writes "[tok] [tok] " and the formatted text; toks holds strings and
// at most one tenantTok (never first: the first token is the function).
func mk(toks []any, format string, args ...any) *draft {
	d := &draft{}
	d.want.Level = "info"
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('[')
		switch v := t.(type) {
		case string:
			b.WriteString(v)
			if i == 0 {
				d.want.Function = v
			}
		case tenantTok:
			if i == 0 {
				panic("corpus: the first token is the function, not the tenant")
			}
			b.WriteString(string(v))
			if d.want.Tenant == "" {
				d.want.Tenant = string(v)
			}
		default:
			panic(fmt.Sprintf("corpus: token of type %T", t))
		}
		b.WriteByte(']')
	}
	if format != "" {
		if len(toks) > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, format, args...)
	}
	d.body = b.String()

	var contactTenant, userTenant string
	laterCustomer := false
	for _, a := range args {
		switch v := a.(type) {
		case contactRef:
			if d.want.ContactID == "" {
				d.want.ContactID, d.want.Channel, contactTenant = v.id, v.channel, v.tenant
			}
		case userID:
			if d.want.UserID == "" {
				d.want.UserID, userTenant = v.id, v.tenant
			} else if v.tenant != "" {
				laterCustomer = true
			}
		case sessionID:
			if d.want.SessionID == "" {
				d.want.SessionID = string(v)
			}
		case messageID:
			if d.want.MessageID == "" {
				d.want.MessageID = string(v)
			}
		}
	}
	if d.want.Tenant == "" {
		switch {
		case contactTenant != "":
			d.want.Tenant = contactTenant
		case userTenant != "":
			d.want.Tenant = userTenant
		case laterCustomer:
			// "the tenant part of a USER_TENANT_UUID userID" could mean
			// the line's userID (an agent here) or any customer ID.
			panic("corpus: tenant would depend on which user ID the contract means: " + d.body)
		}
	}
	return d
}

func tk(toks ...any) []any { return toks }

func (d *draft) ev(e string) *draft  { d.want.Event = e; return d }
func (d *draft) warn() *draft        { d.want.Level = "warn"; return d }
func (d *draft) fail() *draft        { d.want.Level = "error"; return d }
func (d *draft) payload() *draft     { d.want.HasPayload = true; return d }
func (d *draft) url(u string) *draft { d.want.URL = u; return d }
func (d *draft) save() *draft        { d.saved = true; return d }

// exc makes the draft an exception of type errType ("" when the contract
// leaves the type open for this line) followed by the given lines; the
// frames among them are those starting with "at " once indented.
func (d *draft) exc(errType string, more ...string) *draft {
	d.want.Event, d.want.Level, d.want.ErrorType = "exception", "error", errType
	if errType == "" {
		d.want.Unchecked |= FieldErrorType
	}
	d.more = more
	d.want.StackFrames = 0
	for _, l := range more {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), "at ") {
			d.want.StackFrames++
		}
	}
	return d
}

// keywordWords are the words that would change a line's event, level or
// IDs; generated opaque values must not contain them as whole words.
var keywordWords = map[string]bool{
	"error": true, "failed": true, "failure": true, "warn": true, "warning": true,
	"login": true, "save": true, "saved": true, "transcript": true, "exception": true,
	"newcontact": true, "endcontact": true, "joincontact": true, "agentlogin": true, "savetranscript": true,
	"session": true, "sessionid": true, "ctlivetoken": true, "id": true, "messageid": true, "user": true,
}

// hasKeywordWord reports whether s holds a word (a run of letters and
// digits) that is a keyword, starts with "unhandled" or ends with "error"
// or "exception", in any case.
func hasKeywordWord(s string) bool {
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isAlnum(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			w := strings.ToLower(s[start:i])
			if keywordWords[w] || strings.HasPrefix(w, "unhandled") ||
				strings.HasSuffix(w, "error") || strings.HasSuffix(w, "exception") {
				return true
			}
			start = -1
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
