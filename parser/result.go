package parser

import (
	"sort"
	"time"
	"unsafe"
)

// Event is the CTLive use case a line belongs to.
type Event uint8

const (
	EventNone Event = iota
	EventNewContact
	EventEndContact
	EventJoinContact
	EventAgentLogin
	EventSaveTranscript
	EventException
)

var eventNames = [...]string{
	EventNone:           "",
	EventNewContact:     "newContact",
	EventEndContact:     "endContact",
	EventJoinContact:    "joinContact",
	EventAgentLogin:     "agentLogin",
	EventSaveTranscript: "saveTranscript",
	EventException:      "exception",
}

// String returns the contract's name for the event ("" for EventNone).
func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return ""
}

// Level is the severity the contract derives from a line's words.
type Level uint8

const (
	LevelNone Level = iota // not CTLive-shaped: no level is added
	LevelInfo
	LevelWarn
	LevelError
)

var levelNames = [...]string{LevelNone: "", LevelInfo: "info", LevelWarn: "warn", LevelError: "error"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return ""
}

// Payload is one `label:{json}` or `label:[json]` found in a line. JSON is
// the raw value, already validated by the JSON seam; encoders transcode it
// without building Go maps.
type Payload struct {
	Label []byte
	JSON  []byte
}

// Value decodes the payload into Go values (maps, slices, float64, string,
// bool, nil). It allocates; the plugin's encoders never call it.
func (p Payload) Value() (interface{}, error) { return decodeJSON(p.JSON) }

// SecretKind says what a credential is, and so how it may leave the plugin
// (contract, "Credentials and personal data").
type SecretKind uint8

const (
	SecretNone SecretKind = iota
	// Tokens: high-entropy, replaced by a stable digest.
	SecretSession // a UUID after session/sessionID/session ID/ctlivetoken, inside payloads too
	SecretJWT     // three base64url parts joined by '.', the first starting "eyJ"
	SecretBearer  // the token of a Bearer credential (or of a scheme-less Authorization value)
	SecretToken   // a value labelled ...token (ct7Token, ctlivetoken that is not a UUID) or api key
	// Secrets with little entropy, replaced by a fixed text: a digest of a
	// password can be guessed.
	SecretBasic    // the credential of an Authorization scheme other than Bearer (Basic, ...)
	SecretPassword // a value labelled ...password, ...passwd, ...pwd or ...secret
)

// IsToken reports whether the secret is a high-entropy token, which may
// leave as a digest; the others leave only as a fixed text.
func (k SecretKind) IsToken() bool { return k >= SecretSession && k <= SecretToken }

// Secret is one credential found in a line: Text points into the line
// (like every field of a Result).
type Secret struct {
	Text []byte
	Kind SecretKind
	// JSON: Text is a JSON value that is not a string (`"pwd":4711`,
	// `"password":["x"]`): its replacement must be a JSON string.
	JSON bool
}

// Result holds the fields of one parsed line. Byte-slice fields point into
// the parsed line (or into the Result's own buffer when the line held ANSI
// escapes), so they are valid as long as that line is. A field that is nil
// was not found; the parser never reports an empty value.
//
// A Result is reused across calls to avoid allocation; it must not be copied
// after Parse, because Scopes, Stack and Payloads may point into its own
// fixed-size arrays.
type Result struct {
	Service   []byte
	TimeText  []byte    // the line's timestamp, as written
	Time      time.Time // the same instant, UTC, nanoseconds kept; zero if TimeText is nil
	Function  []byte
	Scopes    [][]byte
	Tenant    []byte
	ContactID []byte
	Channel   []byte
	UserID    []byte
	SessionID []byte
	MessageID []byte
	// NextMessageID is the line's next message ID candidate, if any: the
	// message ID when the redaction of the whole record finds MessageID is
	// a session another key names (enrich).
	NextMessageID []byte
	Event         Event
	Message       []byte
	URL           []byte
	Payloads      []Payload
	Level         Level
	Error         []byte
	ErrorType     []byte
	Stack         [][]byte

	// Secrets are the credentials anywhere in the line (every physical line,
	// inside payloads too), in the order found, possibly overlapping. They
	// are not fields: the plugin replaces them before anything leaves it.
	// Found in shaped and unshaped lines alike.
	Secrets []Secret
	// TooManySecrets: the line holds more than MaxSecrets credentials (only
	// the first are in Secrets); the plugin replaces it whole.
	TooManySecrets bool
	secretsBase    int     // Secrets found before the pass at hand: MaxSecrets counts from here
	secretsCutAt   uintptr // where the lowest credential not kept starts (TooManySecrets)
	spanBase       uintptr // the text spanBuf's payload values are offsets into (Source)

	// Backing stores, reused from line to line so that a Result parses
	// without allocating once it has met its largest line: a small inline
	// array for the tokens most lines have, growable slices for the rest.
	scopeBuf   [4][]byte
	scopeMore  [][]byte
	stackBuf   [][]byte
	payloadBuf []Payload
	spanBuf    []span   // payload value spans of the line being scanned
	secretBuf  []Secret // Secrets' store
	labels     map[string]struct{}
	clean      []byte // ANSI-free copy of the line, reused across calls
	cleaned    bool   // the fields point into clean, not the line
	jsonBuf    []byte // scratch for the JSON seam, reused across calls
	memo       headerMemo
}

// span is a payload value's extent in the body, [start, end).
type span struct{ start, end int }

// Source returns the text the Result's fields and secrets point into:
// line itself, or the Result's copy of it without ANSI escapes.
func (r *Result) Source(line []byte) []byte {
	if r.cleaned {
		return r.clean
	}
	return line
}

// Shaped reports whether the line is CTLive-shaped: it yielded a prefix, a
// timestamp, a leading token, an ID or an event. Records whose line is not
// shaped pass through the plugin unchanged.
func (r *Result) Shaped() bool {
	return r.Service != nil || r.TimeText != nil || r.Function != nil ||
		r.ContactID != nil || r.UserID != nil || r.SessionID != nil ||
		r.MessageID != nil || r.Event != EventNone
}

// reset clears the fields but not the backing arrays and buffers, which are
// overwritten before use: zeroing the whole struct costs as much as parsing
// a short line.
func (r *Result) reset() {
	r.Service, r.TimeText, r.Time = nil, nil, time.Time{}
	r.Function, r.Scopes, r.Tenant = nil, nil, nil
	r.ContactID, r.Channel, r.UserID, r.SessionID, r.MessageID, r.NextMessageID = nil, nil, nil, nil, nil, nil
	r.Event, r.Message, r.URL, r.Payloads, r.Level = EventNone, nil, nil, nil, LevelNone
	r.Error, r.ErrorType, r.Stack = nil, nil, nil
}

// InSecret reports whether t, a field Parse set (a slice of the line it
// read: Tenant, Channel), overlaps a credential in Secrets or, past
// MaxSecrets, may overlap one not kept: credentials are found left to
// right, so those not kept start at or after the lowest of them, and a
// field that ends before it stands. A credential that starts inside a
// payload value counts for neither (InPayloadAt): no field is read there.
func (r *Result) InSecret(t []byte) bool {
	if len(t) == 0 {
		return false
	}
	a := uintptr(unsafe.Pointer(unsafe.SliceData(t)))
	end := a + uintptr(len(t))
	if r.TooManySecrets && r.secretsCutAt != 0 && r.secretsCutAt < end {
		return true // (no cut: every credential not kept was inside a payload, where no field is read)
	}
	for _, sec := range r.Secrets {
		s := uintptr(unsafe.Pointer(unsafe.SliceData(sec.Text)))
		if s < end && a < s+uintptr(len(sec.Text)) && !r.inPayloadAddr(s) {
			return true
		}
	}
	return false
}

// InPayloadAt reports whether the byte at off of the text Parse read
// (Source) lies inside a payload value. No field is read there (contract:
// IDs and the tenant never come from a payload), so a credential that
// starts there and runs on, its end guessed (`data:{"text":"pwd='x"}room[CHAT_AGM_…]`),
// holds no tenant.
func (r *Result) InPayloadAt(off int) bool {
	return off >= 0 && r.inPayloadAddr(r.spanBase+uintptr(off))
}

func (r *Result) inPayloadAddr(p uintptr) bool {
	if len(r.spanBuf) == 0 || p < r.spanBase {
		return false
	}
	return spanAt(r.spanBuf, int(p-r.spanBase))
}

// spanAt reports whether offset at lies inside one of spans, which are
// apart and in order (a binary search).
func spanAt(spans []span, at int) bool {
	k := sort.Search(len(spans), func(k int) bool { return spans[k].end > at })
	return k < len(spans) && spans[k].start <= at
}
