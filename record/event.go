package record

import (
	"encoding/binary"
	"slices"
	"time"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/parser"
	"github.com/tinylib/msgp/msgp"
)

// The contract's fields, in the order they are added to a record.
const (
	FieldService = iota
	FieldTime
	FieldFunction
	FieldScopes
	FieldTenant
	FieldContactID
	FieldChannel
	FieldUserID
	FieldSessionID
	FieldMessageID
	FieldEvent
	FieldMessage
	FieldURL
	FieldPayload
	FieldLevel
	FieldError
	FieldErrorType
	FieldStack
	numFields
)

// FieldNames are the contract's record keys, indexed by the Field constants.
var FieldNames = [numFields]string{
	"service", "time", "function", "scopes", "tenant", "contactID", "channel", "userID",
	"sessionID", "messageID", "event", "message", "url", "payload", "level", "error", "errorType", "stack",
}

// fieldIndex maps a record key to its Field constant, or -1.
func fieldIndex(key []byte) int {
	switch string(key) { // no allocation: the compiler compares in place
	case "service":
		return FieldService
	case "time":
		return FieldTime
	case "function":
		return FieldFunction
	case "scopes":
		return FieldScopes
	case "tenant":
		return FieldTenant
	case "contactID":
		return FieldContactID
	case "channel":
		return FieldChannel
	case "userID":
		return FieldUserID
	case "sessionID":
		return FieldSessionID
	case "messageID":
		return FieldMessageID
	case "event":
		return FieldEvent
	case "message":
		return FieldMessage
	case "url":
		return FieldURL
	case "payload":
		return FieldPayload
	case "level":
		return FieldLevel
	case "error":
		return FieldError
	case "errorType":
		return FieldErrorType
	case "stack":
		return FieldStack
	}
	return -1
}

// fieldKey is a field's key as an encoder writes it, padded to 16 bytes:
// appending it is one 16-byte store, not a call to runtime.memmove (~20
// instructions for each of a record's ~9 fields). Every key fits: the
// longest, `"errorType":` in JSON, is 12 bytes.
type fieldKey struct {
	b [16]byte
	n int
}

func newFieldKey(enc []byte) fieldKey {
	k := fieldKey{n: len(enc)}
	if copy(k.b[:], enc) != len(enc) {
		panic("record: a field key longer than 16 bytes: " + string(enc))
	}
	return k
}

// append writes the key to dst with room for at least room more bytes
// after it, so the value that follows is appended without growing.
func (k *fieldKey) append(dst []byte, room int) []byte {
	n := len(dst)
	if cap(dst)-n < len(k.b)+room {
		dst = slices.Grow(dst, len(k.b)+room)
	}
	*(*[16]byte)(dst[n : n+16]) = k.b
	return dst[:n+k.n]
}

// Layout says where the added fields go in an enriched record. It is
// fixed at plugin start and shared by every flush; the Enrich stage
// attaches it to each Event, so encoders never take it separately.
type Layout struct {
	LogKey    string // the key holding the CTLive line
	NestUnder string // when set, the fields go in a map under this key

	suppress uint32 // fields never added: the one named like LogKey
}

// payloadLevel is the level (see MaxDepth) of the payload field's values:
// the record is 1, the payload map 2, or 3 under nest_under.
func (l *Layout) payloadLevel() int {
	if l.NestUnder != "" {
		return 4
	}
	return 3
}

// NewLayout returns the layout for a log key ("" is "log") and an optional
// key to nest the fields under.
func NewLayout(logKey, nestUnder string) *Layout {
	if logKey == "" {
		logKey = "log"
	}
	l := &Layout{LogKey: logKey, NestUnder: nestUnder}
	if i := fieldIndex([]byte(logKey)); i >= 0 && nestUnder == "" {
		l.suppress = 1 << i // the line itself must stay as received
	}
	return l
}

// Event is one entry with what the plugin knows about it. The Enrich stage
// fills it (Reset, then the fields, then Complete); encoders and sinks only
// read it. Every value in it is already as it may leave the plugin:
// credentials are replaced in Line, in Fields and in the record itself.
type Event struct {
	Entry
	Line   []byte        // the value of LogKey when it is a string or binary
	Fields parser.Result // valid when Shaped
	Shaped bool          // the line is CTLive-shaped: fields are added
	Tenant []byte        // the record's one tenant, for routing and templates (may be a default)
	Routed bool          // this output instance sends the record

	tag        string
	layout     *Layout
	keyFields  uint32 // bit i: the input has a key named like field i (or NestUnder, bit 31)
	isMap      bool   // Body is a map: only then can fields be added
	bodyLen    uint32 // entries in Body when isMap
	bodyFields []byte // Body's entries: Body without its map header
	present    uint32 // bit i: field i has a value
	timeSet    bool   // Timestamp is the line's own, not the entry's
	rewritten  bool   // Body is not the one received (credentials replaced): Raw is stale
	deepJSON   bool   // a payload nests deeper than MaxDepth allows where it goes
}

// Reset starts the event from a decoded entry: it reads the record's map
// header and finds the line (the string or binary value of the layout's
// LogKey), which it returns (nil when there is none). The event must not
// be copied afterwards (its Fields point into themselves).
//
// m, when not nil, remembers the shape of the last record's map around its
// line: a record whose bytes before and after the line are the same (a
// tail input's {"log": ..., "stream": "stdout"}) has its line and keys
// known without walking them again.
func (ev *Event) Reset(e *Entry, tag string, l *Layout, m *KeyMemo) []byte {
	ev.Entry = *e
	ev.tag, ev.layout = tag, l
	ev.Line, ev.Shaped, ev.Tenant, ev.Routed = nil, false, nil, true
	ev.present, ev.isMap, ev.timeSet, ev.rewritten, ev.deepJSON = 0, false, false, false, false
	if e.Group != NotGroup {
		return nil
	}
	n, fields, err := msgp.ReadMapHeaderBytes(e.Body)
	if err != nil {
		return nil // not a map: passed on unchanged
	}
	ev.isMap, ev.bodyLen, ev.bodyFields = true, n, fields
	if line, ok := m.recall(l, n, fields); ok {
		ev.Line, ev.keyFields = line, m.keyFields
		return line
	}
	ev.Line, ev.keyFields = ev.scanKeys(l)
	m.remember(l, n, fields, ev.Line, ev.keyFields)
	return ev.Line
}

// KeyMemo is what Event.Reset remembers of the last record it walked: the
// map's bytes before its line (the line's string header excluded) and
// after it. Parsing is left to right, so a map with the same bytes around
// a string in that place has the same keys, and that string is its line.
// One per worker: it is not safe for concurrent use.
type KeyMemo struct {
	layout        *Layout
	bodyLen       uint32
	before, after []byte
	keyFields     uint32
}

// maxKeyMemo bounds the bytes a KeyMemo keeps: a record's other keys and
// short values.
const maxKeyMemo = 512

func (m *KeyMemo) recall(l *Layout, n uint32, fields []byte) ([]byte, bool) {
	if m == nil || m.layout != l || m.bodyLen != n || len(fields) <= len(m.before)+len(m.after) ||
		string(fields[:len(m.before)]) != string(m.before) {
		return nil, false
	}
	rest := fields[len(m.before):]
	h, ln, ok := strAt(rest)
	if !ok || string(rest[h+ln:]) != string(m.after) {
		return nil, false
	}
	return rest[h : h+ln], true
}

func (m *KeyMemo) remember(l *Layout, n uint32, fields, line []byte, keyFields uint32) {
	if m == nil {
		return
	}
	m.layout = nil // until a shape is known
	if line == nil {
		return
	}
	d := uintptr(unsafe.Pointer(unsafe.SliceData(line))) - uintptr(unsafe.Pointer(unsafe.SliceData(fields)))
	if d > uintptr(len(fields)) || int(d)+len(line) > len(fields) {
		return // not inside the map (cannot happen for a line read from it)
	}
	at, h := int(d), 0
	switch ln := len(line); {
	case ln < 32 && at >= 1 && fields[at-1] == 0xa0|byte(ln):
		h = 1
	case ln < 1<<8 && at >= 2 && fields[at-2] == 0xd9 && int(fields[at-1]) == ln:
		h = 2
	case ln < 1<<16 && at >= 3 && fields[at-3] == 0xda && int(binary.BigEndian.Uint16(fields[at-2:])) == ln:
		h = 3
	default:
		return // a binary line, or a string header strAt does not read
	}
	before, after := fields[:at-h], fields[at+len(line):]
	if len(before)+len(after) > maxKeyMemo {
		return
	}
	m.before = append(m.before[:0], before...)
	m.after = append(m.after[:0], after...)
	m.layout, m.bodyLen, m.keyFields = l, n, keyFields
}

// SetBody replaces the record with body, the same map with values
// rewritten (credentials replaced), and line, its new LogKey value.
func (ev *Event) SetBody(body, line []byte) {
	ev.Body, ev.rewritten = body, true
	if n, fields, err := msgp.ReadMapHeaderBytes(body); err == nil {
		ev.isMap, ev.bodyLen, ev.bodyFields = true, n, fields
	}
	if ev.Line != nil {
		ev.Line = line
	}
}

// SetMeta replaces the entry's metadata map with meta, the same map with
// values rewritten (credentials replaced).
func (ev *Event) SetMeta(meta []byte) { ev.Meta, ev.rewritten = meta, true }

// SetTime makes t, the line's own timestamp, the record's time.
func (ev *Event) SetTime(t time.Time) { ev.Timestamp, ev.timeSet = t, true }

// Complete marks the event's Fields final: when shaped, the fields that
// have a value are added to the record (but the one named like the line).
func (ev *Event) Complete(shaped bool) {
	ev.Shaped = shaped && ev.isMap
	if ev.Shaped {
		ev.present = ev.fieldMask() &^ ev.layout.suppress
		if ev.Has(FieldPayload) {
			levels := MaxDepth - ev.layout.payloadLevel() + 1
			for _, p := range ev.Fields.Payloads {
				if jsonDeeper(p.JSON, levels) {
					ev.deepJSON = true
				}
			}
		}
	}
}

// Truncated reports whether the encoders cut something of the record at
// MaxDepth: a map or array of the record or its metadata (written as
// null), or of a payload's JSON (written as the string of its text).
func (ev *Event) Truncated() bool { return ev.TooDeep || ev.deepJSON }

// Layout is the layout the event was enriched for.
func (ev *Event) Layout() *Layout { return ev.layout }

// IsRecord reports whether the event is a log record (not a group marker).
func (ev *Event) IsRecord() bool { return ev.Group == NotGroup }

func (ev *Event) fieldMask() uint32 {
	r := &ev.Fields
	var m uint32
	set := func(i int, ok bool) {
		if ok {
			m |= 1 << i
		}
	}
	set(FieldService, r.Service != nil)
	set(FieldTime, r.TimeText != nil)
	set(FieldFunction, r.Function != nil)
	set(FieldScopes, r.Scopes != nil)
	set(FieldTenant, r.Tenant != nil)
	set(FieldContactID, r.ContactID != nil)
	set(FieldChannel, r.Channel != nil)
	set(FieldUserID, r.UserID != nil)
	set(FieldSessionID, r.SessionID != nil)
	set(FieldMessageID, r.MessageID != nil)
	set(FieldEvent, r.Event != parser.EventNone)
	set(FieldMessage, r.Message != nil)
	set(FieldURL, r.URL != nil)
	set(FieldPayload, r.Payloads != nil)
	set(FieldLevel, r.Level != parser.LevelNone)
	set(FieldError, r.Error != nil)
	set(FieldErrorType, r.ErrorType != nil)
	set(FieldStack, r.Stack != nil)
	return m
}

// Has reports whether the event carries field i (a Field constant).
func (ev *Event) Has(i int) bool { return ev.present&(1<<i) != 0 }

// FieldCount is how many contract fields the event adds.
func (ev *Event) FieldCount() int {
	n := 0
	for m := ev.present; m != 0; m &= m - 1 {
		n++
	}
	return n
}

// Value returns the single-valued field i as bytes (nil when absent or when
// the field is a list or map: scopes, payload, stack).
func (ev *Event) Value(i int) []byte {
	if !ev.Has(i) {
		return nil
	}
	r := &ev.Fields
	switch i {
	case FieldEvent:
		return eventBytes[r.Event]
	case FieldLevel:
		return levelBytes[r.Level]
	}
	if off := valueOffset[i]; off != 0 {
		return *(*[]byte)(unsafe.Add(unsafe.Pointer(r), off-1))
	}
	return nil
}

// valueOffset is, plus one, where field i's []byte lies in parser.Result
// (0: not a []byte field). Value reads through it: the switch it replaces
// was a call of ~24 instructions for each field of every record encoded.
var valueOffset = [numFields]uintptr{
	FieldService:   unsafe.Offsetof(parser.Result{}.Service) + 1,
	FieldTime:      unsafe.Offsetof(parser.Result{}.TimeText) + 1,
	FieldFunction:  unsafe.Offsetof(parser.Result{}.Function) + 1,
	FieldTenant:    unsafe.Offsetof(parser.Result{}.Tenant) + 1,
	FieldContactID: unsafe.Offsetof(parser.Result{}.ContactID) + 1,
	FieldChannel:   unsafe.Offsetof(parser.Result{}.Channel) + 1,
	FieldUserID:    unsafe.Offsetof(parser.Result{}.UserID) + 1,
	FieldSessionID: unsafe.Offsetof(parser.Result{}.SessionID) + 1,
	FieldMessageID: unsafe.Offsetof(parser.Result{}.MessageID) + 1,
	FieldMessage:   unsafe.Offsetof(parser.Result{}.Message) + 1,
	FieldURL:       unsafe.Offsetof(parser.Result{}.URL) + 1,
	FieldError:     unsafe.Offsetof(parser.Result{}.Error) + 1,
	FieldErrorType: unsafe.Offsetof(parser.Result{}.ErrorType) + 1,
}

// Byte forms of the enums, built once so Value never allocates.
var eventBytes, levelBytes = func() (e [8][]byte, l [4][]byte) {
	for i := range e {
		if s := parser.Event(i).String(); s != "" {
			e[i] = []byte(s)
		}
	}
	for i := range l {
		if s := parser.Level(i).String(); s != "" {
			l[i] = []byte(s)
		}
	}
	return
}()

// nestBit marks, in keyFields, an input key named like Options.NestUnder.
const nestBit = 1 << 31

// scanKeys walks the record's keys once: it finds the line (the string or
// binary value of LogKey) and notes which keys an added field could
// replace, so that encoders can copy the input entries in one piece when
// none is.
func (ev *Event) scanKeys(o *Layout) (line []byte, keyFields uint32) {
	b := ev.bodyFields
	for i := uint32(0); i < ev.bodyLen; i++ {
		k, rest, err := readKey(b)
		if err != nil { // a key that is not a string names nothing here
			if rest, err = skip(b); err != nil {
				return line, keyFields
			}
			if b, err = skip(rest); err != nil {
				return line, keyFields
			}
			continue
		}
		switch {
		case string(k) == o.LogKey:
			if line == nil {
				line = stringValue(rest)
			}
		case o.NestUnder != "":
			if string(k) == o.NestUnder {
				keyFields |= nestBit
			}
		default:
			if f := fieldIndex(k); f >= 0 {
				keyFields |= 1 << f
			}
		}
		if b, err = skip(rest); err != nil {
			return line, keyFields
		}
	}
	return line, keyFields
}

// stringValue returns the msgpack string or binary at the start of v, or nil.
func stringValue(v []byte) []byte {
	switch msgp.NextType(v) {
	case msgp.StrType:
		if s, _, err := readString(v); err == nil {
			return s
		}
	case msgp.BinType:
		if s, _, err := msgp.ReadBytesZC(v); err == nil {
			return s
		}
	}
	return nil
}

// lookup returns the raw value of key in a map's entries, or nil.
func lookup(fields []byte, n uint32, key string) []byte {
	b := fields
	for i := uint32(0); i < n; i++ {
		k, rest, err := readKey(b)
		if err != nil { // a key that is not a string: not the one
			if rest, err = skip(b); err != nil {
				return nil
			}
		} else if string(k) == key {
			return rest
		}
		if b, err = skip(rest); err != nil {
			return nil
		}
	}
	return nil
}

// Time is the event's time: the line's own when TimeFromLine applied.
func (ev *Event) Time() time.Time { return ev.Timestamp }
