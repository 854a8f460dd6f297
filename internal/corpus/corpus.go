package corpus

import "strings"

// Record is one log record as Fluent Bit hands it to the plugin.
type Record struct {
	// Line is the record's text. An exception's stack frames follow its
	// first line, joined with "\n", as Fluent Bit's multiline filter
	// delivers them.
	Line string
	// Want is what the parser must find in Line, known by construction.
	Want Expect
	// Case is the use case the generator was playing when it wrote the
	// line. It is not a contract field: a line of the endContact flow may
	// carry no endContact keyword, and so no event.
	Case Case

	// saved marks the line with which the simulator saved the transcript
	// of the line's contact (see Lifecycles).
	saved bool
}

// Expect holds the contract's fields for one record. An empty string (zero
// count, false) means the parser must NOT report the field, unless the
// field's bit is set in Unchecked.
//
// Covered: service, time, function, tenant, contactID, channel, userID,
// sessionID, messageID, event, level, errorType, url, the number of stack
// frames, and whether at least one payload parses. Not covered: scopes,
// message, the payloads' contents, error (the message text) and the frames'
// text.
type Expect struct {
	Service, Time, Function, Tenant, ContactID, Channel, UserID, SessionID, MessageID, Event, Level, ErrorType string

	URL         string
	StackFrames int
	HasPayload  bool

	// Unchecked lists the fields whose value the contract leaves open for
	// this record (see the package comment); tests must not compare them.
	Unchecked Field
}

// Field names one field of Expect; Fields are bits, so a set of them is
// their union.
type Field uint32

const (
	FieldService Field = 1 << iota
	FieldTime
	FieldFunction
	FieldTenant
	FieldContactID
	FieldChannel
	FieldUserID
	FieldSessionID
	FieldMessageID
	FieldEvent
	FieldLevel
	FieldErrorType
	FieldURL
	FieldStackFrames
	FieldHasPayload
)

var fieldNames = []string{"service", "time", "function", "tenant", "contactID", "channel", "userID",
	"sessionID", "messageID", "event", "level", "errorType", "url", "stackFrames", "hasPayload"}

// String returns the contract names of the fields in f, comma-separated.
func (f Field) String() string {
	var names []string
	for i, n := range fieldNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// Checked reports whether the record's expectation for f is exact.
func (e Expect) Checked(f Field) bool { return e.Unchecked&f == 0 }

// StringFields lists the fields of Expect that hold a string, in order.
var StringFields = []Field{FieldService, FieldTime, FieldFunction, FieldTenant, FieldContactID, FieldChannel,
	FieldUserID, FieldSessionID, FieldMessageID, FieldEvent, FieldLevel, FieldErrorType, FieldURL}

// Get returns the value of one string field (see StringFields); "" for the
// others.
func (e Expect) Get(f Field) string {
	switch f {
	case FieldService:
		return e.Service
	case FieldTime:
		return e.Time
	case FieldFunction:
		return e.Function
	case FieldTenant:
		return e.Tenant
	case FieldContactID:
		return e.ContactID
	case FieldChannel:
		return e.Channel
	case FieldUserID:
		return e.UserID
	case FieldSessionID:
		return e.SessionID
	case FieldMessageID:
		return e.MessageID
	case FieldEvent:
		return e.Event
	case FieldLevel:
		return e.Level
	case FieldErrorType:
		return e.ErrorType
	case FieldURL:
		return e.URL
	}
	return ""
}

// Case is a use case of the source document, plus the routine, warning and
// error traffic around them.
type Case string

const (
	CaseNewContact     Case = "newContact"
	CaseJoinContact    Case = "joinContact"
	CaseMessage        Case = "message"
	CaseEndContact     Case = "endContact"
	CaseSaveTranscript Case = "saveTranscript"
	CaseAgentLogin     Case = "agentLogin"
	CaseRoutine        Case = "routine"
	CaseWarning        Case = "warning"
	CaseError          Case = "error"
	CaseException      Case = "exception"
)

// Cases lists every Case, in the order the package comment documents them.
var Cases = []Case{CaseMessage, CaseNewContact, CaseJoinContact, CaseEndContact, CaseSaveTranscript,
	CaseAgentLogin, CaseRoutine, CaseWarning, CaseError, CaseException}

// Generate returns n records of CTLive traffic (see the package comment).
// The same seed and n give the same records on every platform and Go
// release; a longer corpus of the same seed is not an extension of a
// shorter one, since half of n goes to each of the two windows.
func Generate(seed int64, n int) []Record {
	if n <= 0 {
		return nil
	}
	out := make([]Record, 0, n)
	generate(seed, n, corpusStyle, func(r Record) { out = append(out, r) })
	return out
}

// Lines returns the texts of Generate(seed, n), for benchmarks. The texts
// share one backing array (each slice's capacity ends where it ends, so an
// append cannot overwrite its neighbour); no expectations are kept, so a
// large n stays cheap.
func Lines(seed int64, n int) [][]byte {
	if n <= 0 {
		return nil
	}
	buf := make([]byte, 0, n*200) // records average ~180 bytes
	ends := make([]int, 0, n)
	generate(seed, n, corpusStyle, func(r Record) {
		buf = append(buf, r.Line...)
		ends = append(ends, len(buf))
	})
	out := make([][]byte, len(ends))
	start := 0
	for i, end := range ends {
		out[i] = buf[start:end:end]
		start = end
	}
	return out
}
