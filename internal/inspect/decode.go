package inspect

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/parser"
	"github.com/ctlive/ctlive-fluent-bit/redact"
)

// rec is one record's fields as the tool uses them, whatever the input:
// views into the line, the parser's Result or the decoder's scratch, valid
// until the decoder's next call. Session and user IDs are in their output
// form (see Redaction).
type rec struct {
	time     int64 // the line's own time, Unix ns; 0 when it has none
	sortTime int64 // time, or the store's or Fluent Bit's time for a line without one

	tenant, contactID, channel, userID, sessionID []byte
	sessionText                                   []byte // the session as the line writes it (clear in a raw log)
	clearIDs                                      bool   // session and user IDs still as a raw line writes them
	function, message, errorType, errText         []byte
	topFrame                                      []byte
	stack                                         [][]byte
	event                                         parser.Event
	level                                         parser.Level
	line                                          []byte // the whole record as received
}

// Redaction says in which form session and user IDs are shown, matched and
// written, so that they compare with what the plugin wrote into a store.
type Redaction struct {
	// Clear shows IDs read in clear from a raw log in clear (--no-redact).
	Clear bool
	// Key is the plugin's mask_key: sessions become "hmac:…" digests with
	// it, "sha256:…" without.
	Key []byte
	// MaskUser digests user IDs too, as the plugin's `mask userID` does
	// (USER_ and the keyed digest of the rest); it needs Key.
	MaskUser bool
}

type decodeStatus uint8

const (
	decodeOK        decodeStatus = iota
	decodeNotCTLive              // well-formed, but not a CTLive line
	decodeMalformed              // a JSON line that does not decode
)

// decoder turns one record's text into a rec; one per goroutine.
type decoder struct {
	format Format
	p      *parser.Parser
	res    parser.Result
	red    Redaction
	dig    *redact.Digester
	stage  *enrich.Stage // the plugin's redaction, for the text a timeline shows
	work   enrich.Work
	// lazy leaves a raw line's IDs in clear until redactIDs is called:
	// `contact ID` parses many login lines of which it keeps few.
	lazy bool

	sessBuf, userBuf []byte
	j                jsonRec
}

func newDecoder(red *Redaction) *decoder {
	d := &decoder{p: parser.New(parser.Options{})}
	if red != nil {
		d.red = *red
	}
	d.dig = redact.NewDigester(d.red.Key)
	c := enrich.Defaults()
	c.MaskKey = string(d.red.Key) // checked by the command line (options.redaction)
	d.stage = enrich.MustNew(c)
	return d
}

// shown returns a raw line's text as the plugin would ship it: its
// credentials (JWTs, Bearer and ct7Token values, passwords, sessions)
// replaced; in clear with --no-redact.
func (d *decoder) shown(text []byte) []byte {
	if d.red.Clear || d.format != FormatRaw {
		return text
	}
	d.work.Reset()
	return d.stage.RedactText(text, &d.work)
}

// decode fills r from one record (a raw line with its continuation lines,
// or one JSON line).
func (d *decoder) decode(line []byte, r *rec) decodeStatus {
	*r = rec{line: line}
	if d.format == FormatRaw {
		return d.raw(line, r)
	}
	return d.json(line, r)
}

func (d *decoder) raw(line []byte, r *rec) decodeStatus {
	res := &d.res
	d.p.Parse(line, res)
	if !res.Shaped() {
		return decodeNotCTLive
	}
	if !res.Time.IsZero() {
		r.time = res.Time.UnixNano()
		r.sortTime = r.time
	}
	r.tenant, r.contactID, r.channel = res.Tenant, res.ContactID, res.Channel
	r.function, r.message, r.errorType, r.errText = res.Function, res.Message, res.ErrorType, res.Error
	r.stack, r.event, r.level = res.Stack, res.Event, res.Level
	if len(res.Stack) > 0 {
		r.topFrame = res.Stack[0]
	}
	r.userID, r.sessionID, r.sessionText = res.UserID, res.SessionID, res.SessionID
	r.clearIDs = true
	if !d.lazy {
		d.redactIDs(r)
	}
	return decodeOK
}

// redactIDs puts a raw line's session and user IDs in their output form
// (a JSON line's are in it already). Only the joins' and logins' sessions
// are needed unless the decoder is lazy, whose caller asks for what it keeps.
func (d *decoder) redactIDs(r *rec) {
	if !r.clearIDs || d.red.Clear {
		return
	}
	r.clearIDs = false
	if r.sessionID != nil && (d.lazy || r.event == parser.EventJoinContact || r.event == parser.EventAgentLogin) {
		d.sessBuf = d.dig.AppendToken(d.sessBuf[:0], r.sessionID)
		r.sessionID = d.sessBuf
	}
	if r.userID != nil && d.red.MaskUser {
		d.userBuf = d.maskUser(d.userBuf[:0], r.userID)
		r.userID = d.userBuf
	}
}

// maskUser appends a user ID as the plugin's `mask userID` writes it: the
// USER_ prefix kept, the rest (an agent's login, a customer's TENANT_UUID)
// replaced by its keyed digest.
func (d *decoder) maskUser(dst, id []byte) []byte {
	if rest, ok := bytes.CutPrefix(id, []byte("USER_")); ok {
		return d.dig.AppendToken(append(dst, "USER_"...), rest)
	}
	return d.dig.AppendToken(dst, id)
}

// jsonRec is what the tool reads from a JSON line: the plugin's fields
// (stdout sink, Fluent Bit's file output) or a store's row (VictoriaLogs:
// every value a string, the message in _msg, the time in _time).
type jsonRec struct {
	Log       string          `json:"log"`
	Msg       string          `json:"_msg"`
	Message   string          `json:"message"`
	Time      string          `json:"time"`
	StoreTime string          `json:"_time"`
	ESTime    string          `json:"@timestamp"`
	Date      json.RawMessage `json:"date"`
	Tenant    string          `json:"tenant"`
	ContactID string          `json:"contactID"`
	Channel   string          `json:"channel"`
	UserID    string          `json:"userID"`
	SessionID string          `json:"sessionID"`
	Function  string          `json:"function"`
	Event     string          `json:"event"`
	Level     string          `json:"level"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Stack     json.RawMessage `json:"stack"`
}

var eventByName = map[string]parser.Event{}
var levelByName = map[string]parser.Level{}

func init() {
	for e := parser.EventNone + 1; e.String() != ""; e++ {
		eventByName[e.String()] = e
	}
	for l := parser.LevelNone + 1; l.String() != ""; l++ {
		levelByName[l.String()] = l
	}
}

func (d *decoder) json(line []byte, r *rec) decodeStatus {
	line = bytes.TrimSpace(line)
	if d.format == FormatTagged {
		i := taggedStart(line)
		end := bytes.LastIndexByte(line, ']')
		if i == 0 || end < i {
			return decodeMalformed
		}
		line = line[i:end]
	}
	j := &d.j
	*j = jsonRec{}
	if err := json.Unmarshal(line, j); err != nil {
		return decodeMalformed
	}
	text := j.Log
	if text == "" {
		text = j.Msg
	}
	if j.Level == "" {
		// Not enriched by the plugin (Fluent Bit's raw records): read the line.
		if text == "" {
			return decodeNotCTLive
		}
		st := d.raw(bytesOf(text), r)
		if r.time == 0 {
			r.sortTime = j.fallbackTime()
		}
		return st
	}
	if j.Time != "" {
		if t, err := time.Parse(time.RFC3339Nano, j.Time); err == nil {
			r.time = t.UnixNano()
		}
	}
	r.sortTime = r.time
	if r.time == 0 {
		r.sortTime = j.fallbackTime()
	}
	r.tenant, r.contactID, r.channel = nonEmpty(j.Tenant), nonEmpty(j.ContactID), nonEmpty(j.Channel)
	r.userID, r.sessionID, r.function = nonEmpty(j.UserID), nonEmpty(j.SessionID), nonEmpty(j.Function)
	r.sessionText = r.sessionID
	r.errorType, r.errText = nonEmpty(j.ErrorType), nonEmpty(j.Error)
	r.message = nonEmpty(j.Message)
	if r.message == nil {
		r.message = nonEmpty(j.Msg)
	}
	if text != "" {
		r.line = bytesOf(text)
	}
	r.event, r.level = eventByName[j.Event], levelByName[j.Level]
	r.stack = decodeStack(j.Stack)
	if len(r.stack) > 0 {
		r.topFrame = r.stack[0]
	}
	return decodeOK
}

// fallbackTime is when a store or Fluent Bit received a line that has no
// time of its own.
func (j *jsonRec) fallbackTime() int64 {
	for _, s := range []string{j.StoreTime, j.ESTime} {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UnixNano()
		}
	}
	if len(j.Date) > 0 {
		if f, err := strconv.ParseFloat(string(j.Date), 64); err == nil {
			return int64(f * 1e9)
		}
		var s string
		if json.Unmarshal(j.Date, &s) == nil {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t.UnixNano()
			}
		}
	}
	return 0
}

// decodeStack reads a stack written as a JSON array (the plugin) or as a
// string holding one (a store that keeps arrays as text).
func decodeStack(raw json.RawMessage) [][]byte {
	if len(raw) == 0 || raw[0] == 'n' {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil || len(s) == 0 || s[0] != '[' {
			return nil
		}
		raw = json.RawMessage(s)
	}
	var frames []string
	if json.Unmarshal(raw, &frames) != nil {
		return nil
	}
	out := make([][]byte, 0, len(frames))
	for _, f := range frames {
		out = append(out, []byte(f))
	}
	return out
}

func nonEmpty(s string) []byte {
	if s == "" {
		return nil
	}
	return bytesOf(s)
}

// bytesOf views s as bytes without copying; nothing writes through it.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// hasWordSaved reports whether b holds the whole word "saved", in any case:
// the lifecycle's "transcript saved" (README).
func hasWordSaved(b []byte) bool {
	for i := 0; ; {
		k := indexFold5(b[i:])
		if k < 0 {
			return false
		}
		k += i
		if (k == 0 || !isWordByte(b[k-1])) && (k+5 == len(b) || !isWordByte(b[k+5])) {
			return true
		}
		i = k + 1
	}
}

// indexFold5 finds "saved" in any case.
func indexFold5(b []byte) int {
	for i := 0; i+5 <= len(b); i++ {
		if b[i]|0x20 == 's' && b[i+1]|0x20 == 'a' && b[i+2]|0x20 == 'v' && b[i+3]|0x20 == 'e' && b[i+4]|0x20 == 'd' {
			return i
		}
	}
	return -1
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
