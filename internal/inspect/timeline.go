package inspect

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/ctlive/ctlive-fluent-bit/parser"
)

// Entry is one line of a contact's timeline.
type Entry struct {
	Time      int64 // the line's own time; 0 when it has none
	SortTime  int64 // Time, or the time of the line before it, for ordering
	At        pos
	Kind      string // "contact", "login" (the agent session's login) or "session"
	Function  string
	Event     string
	Level     string
	SessionID string // output form
	Message   string // redacted as the rows are
	ErrorType string
	Stack     []string
	contactID string
}

// Timeline is what `contact ID` prints.
type Timeline struct {
	Contact Contact
	Entries []Entry
}

// ErrUnknownContact: no line carries the contact ID.
var ErrUnknownContact = fmt.Errorf("no line carries this contact ID")

// ContactTimeline finds the contact's lines and its agents' without
// parsing the whole input: a first pass looks for the ID's bytes and for
// login lines (the bytes "ogin"/"OGIN"), parsing only the records that hold
// them; a second pass reads, in each input, only the stretch between the
// contact's first and last line for the bytes of its agent sessions (an
// input without a line of the contact is read whole).
func ContactTimeline(ins []*Input, id string, q Query) (*Timeline, error) {
	ins, cleanup, err := spoolStdin(ins)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	ws, err := scanBlocks(ins, q.Workers, q.Progress, func() worker {
		w := newHitWorker(q, loginFinder([]byte(id)), func(r *rec) hitKind {
			switch {
			case string(r.contactID) == id:
				return hitContact
			case isSessionLogin(r):
				return hitLogin
			}
			return hitNone
		})
		// Half the login lines carry no session (POST …/login, a failed
		// login): without a session keyword the parse can be skipped.
		w.skip = func(text []byte) bool { return !bytes.Contains(text, []byte(id)) && !mayHoldSession(text) }
		return w
	})
	if err != nil {
		return nil, err
	}
	first := ws[0].(*hitWorker)
	for _, w := range ws[1:] {
		first.merge(w.(*hitWorker))
	}
	c := first.lifecycle(id)
	if c == nil {
		return nil, fmt.Errorf("%s: %w", id, ErrUnknownContact)
	}
	// The sessions' other lines inside the contact's span.
	if len(c.AgentSessions) > 0 {
		var texts [][]byte
		sessions := map[string]bool{} // as the join lines write them, lower-cased
		for _, s := range c.AgentSessions {
			texts = append(texts, []byte(first.sessionText[s])) // found in any case
			sessions[first.sessionText[s]] = true
		}
		for _, in := range ins {
			span, ok := first.spans[in.Index]
			if !ok {
				// Another replica's log, say: no line of the contact to
				// place the span, so the whole input is read.
				span = [2]int64{0, math.MaxInt64}
			}
			more, err := sessionLines(in, span, texts, q, func(r *rec) bool {
				return sessions[sessionKey(r.sessionText)] && string(r.contactID) != id &&
					!(r.event == parser.EventAgentLogin && first.isLogin(r)) &&
					r.time >= c.Start && (c.End == 0 || r.time <= c.End)
			})
			if err != nil {
				return nil, err
			}
			first.contact = append(first.contact, more...)
		}
	}
	return first.timeline(c), nil
}

// loginFinder looks for the contact's ID and for the bytes every
// agentLogin line holds: its keyword is agentLogin or the word login, in any
// case.
func loginFinder(id []byte) *finder {
	return newFinder([][]byte{id}, [][]byte{[]byte("login")})
}

// mayHoldSession reports whether text holds a word that may introduce a
// session ID (session, sessionID, session ID, ctlivetoken; any case), or a
// JSON member of the plugin's that holds one.
func mayHoldSession(text []byte) bool {
	return indexFold(text, []byte("session")) >= 0 || indexFold(text, []byte("ctlivetoken")) >= 0
}

type hitKind uint8

const (
	hitNone hitKind = iota
	hitContact
	hitLogin
	hitSession
)

// hitWorker parses only the records that hold one of its patterns, or
// every record when it has none.
type hitWorker struct {
	d     *decoder
	r     rec
	find  *finder
	skip  func(text []byte) bool // cheaper than parsing: the record cannot matter
	keep  func(*rec) hitKind
	stats *Stats

	contact     []Entry
	logins      map[string]loginLine // session as written, lower-cased (sessionKey) -> its earliest login line
	sessionText map[string]string    // session (output form) -> as the join line writes it, lower-cased (sessionKey)
	spans       map[int][2]int64     // input -> offsets of the contact's first and last record
}

// newHitWorker parses the records that find finds, or all when it is nil.
func newHitWorker(q Query, find *finder, keep func(*rec) hitKind) *hitWorker {
	d := newDecoder(&q.Red)
	d.lazy = true
	w := &hitWorker{d: d, find: find, keep: keep, stats: newStats(q.Since, q.Until),
		logins: map[string]loginLine{}, sessionText: map[string]string{}, spans: map[int][2]int64{}}
	return w
}

func (w *hitWorker) block(b block) {
	w.d.format = b.in.Format
	raw := b.in.Format == FormatRaw
	each := func(start, end int) { w.hit(b, raw, start, end) }
	if w.find == nil {
		var malformed int64
		eachRecord(b, &malformed, func(text []byte, off int) { each(off, off+len(text)) })
		return
	}
	eachHit(b.data, w.find, raw, each)
}

// hit parses the record b.data[start:end] and keeps it if it matters.
func (w *hitWorker) hit(b block, raw bool, start, end int) {
	text := bytes.TrimRight(b.data[start:end], "\r\n")
	if w.skip != nil && w.skip(text) {
		return
	}
	if w.d.decode(text, &w.r) != decodeOK {
		return
	}
	r := &w.r
	inside := w.stats.inWindow(r.time)
	if !inside && !w.stats.loginBeforeWindow(r) {
		return
	}
	kind := w.keep(r)
	if kind == hitNone || !inside && kind != hitLogin {
		return
	}
	at := posOf(b.in.Index, b.offset+int64(start))
	if r.time == 0 && raw {
		r.sortTime = timeBefore(w.d, b.data, start)
	}
	w.take(r, at, kind, text)
	if kind == hitContact {
		sp, ok := w.spans[b.in.Index]
		off := b.offset + int64(start)
		if !ok {
			sp = [2]int64{off, off}
		}
		w.spans[b.in.Index] = [2]int64{min(sp[0], off), max(sp[1], off)}
	}
}

// loginLine is a login record kept as text: most belong to other
// contacts' agents, so it becomes an Entry only if its session joined.
type loginLine struct {
	seen          // its sort time and position
	time   int64  // its own time
	text   string // the record as read
	format Format
}

// take keeps what the timeline shows of r; text is the record as read.
func (w *hitWorker) take(r *rec, at pos, kind hitKind, text []byte) {
	if kind == hitLogin {
		// Keyed by the session as written, lower-cased: most are never looked up, so
		// they are not digested.
		now := seen{r.sortTime, at}
		key := sessionKey(r.sessionText)
		if l, ok := w.logins[key]; !ok || now.before(l.seen) {
			w.logins[key] = loginLine{now, r.time, string(text), w.d.format}
		}
		return
	}
	w.d.redactIDs(r)
	if kind == hitContact {
		w.stats.add(r, at)
		if r.event == parser.EventJoinContact && r.sessionID != nil {
			w.sessionText[string(r.sessionID)] = sessionKey(r.sessionText)
		}
	}
	w.contact = append(w.contact, w.entry(r, at, kind))
}

// lifecycle is the contact's row from what the worker has seen, or nil.
func (w *hitWorker) lifecycle(id string) *Contact {
	for _, row := range w.stats.Contacts() {
		if row.ContactID != id {
			continue
		}
		row.Agents = nil
		for _, s := range row.AgentSessions {
			if r, _, ok := w.login(s); ok && !slices.Contains(row.Agents, string(r.userID)) {
				row.Agents = append(row.Agents, string(r.userID))
			}
		}
		return &row
	}
	return nil
}

// login decodes the login line of session s (output form), if one was seen.
func (w *hitWorker) login(s string) (*rec, loginLine, bool) {
	l, ok := w.logins[w.sessionText[s]]
	if !ok {
		return nil, l, false
	}
	w.d.format = l.format
	if w.d.decode([]byte(l.text), &w.r) != decodeOK {
		return nil, l, false
	}
	w.d.redactIDs(&w.r)
	w.r.sortTime = l.t
	return &w.r, l, true
}

// timeline is c with the entries seen, the sessions' logins among them,
// in time order.
func (w *hitWorker) timeline(c *Contact) *Timeline {
	tl := &Timeline{Contact: *c, Entries: w.contact}
	for _, s := range c.AgentSessions {
		if r, l, ok := w.login(s); ok {
			tl.Entries = append(tl.Entries, w.entry(r, l.at, hitLogin))
		}
	}
	slices.SortFunc(tl.Entries, func(a, b Entry) int {
		if c := cmp.Compare(a.SortTime, b.SortTime); c != 0 {
			return c
		}
		return cmp.Compare(a.At, b.At)
	})
	return tl
}

// isLogin: the record is the login line kept for its session.
func (w *hitWorker) isLogin(r *rec) bool {
	l, ok := w.logins[sessionKey(r.sessionText)]
	return ok && l.time == r.time
}

func (w *hitWorker) merge(o *hitWorker) {
	w.stats.merge(o.stats)
	w.contact = append(w.contact, o.contact...)
	for s, e := range o.logins {
		if l, ok := w.logins[s]; !ok || e.before(l.seen) {
			w.logins[s] = e
		}
	}
	for s, t := range o.sessionText {
		w.sessionText[s] = t
	}
	for in, sp := range o.spans {
		if m, ok := w.spans[in]; ok {
			sp = [2]int64{min(sp[0], m[0]), max(sp[1], m[1])}
		}
		w.spans[in] = sp
	}
}

// entry copies what the timeline shows of r (r's views do not outlive the
// block).
func (w *hitWorker) entry(r *rec, at pos, kind hitKind) Entry {
	e := Entry{Time: r.time, SortTime: r.sortTime, At: at, Kind: [...]string{"", "contact", "login", "session"}[kind],
		Function: string(r.function), Event: r.event.String(), Level: r.level.String(), SessionID: string(r.sessionID),
		ErrorType: string(r.errorType), contactID: string(r.contactID)}
	msg := r.message
	if msg == nil {
		msg = r.line
	}
	if w.d.format == FormatRaw && !w.d.red.Clear {
		msg = w.d.shown(msg) // sessions, tokens and secrets as the plugin ships them
	} else if r.sessionText != nil && !bytes.Equal(r.sessionText, r.sessionID) {
		msg = bytes.ReplaceAll(msg, r.sessionText, r.sessionID)
	}
	if r.userID != nil && w.d.red.MaskUser && !w.d.red.Clear && w.d.format == FormatRaw {
		msg = bytes.ReplaceAll(msg, w.d.res.UserID, r.userID)
	}
	e.Message = string(msg)
	for _, f := range r.stack {
		e.Stack = append(e.Stack, string(w.d.shown(f)))
	}
	return e
}

// timeBefore is the time of the nearest timed line before start in data
// (looking back at most 16 lines), for ordering a line without one.
func timeBefore(d *decoder, data []byte, start int) int64 {
	var res parser.Result
	end := start
	for i := 0; i < 16 && end > 0; i++ {
		s := bytes.LastIndexByte(data[:end-1], '\n') + 1
		d.p.Parse(data[s:end-1], &res)
		if !res.Time.IsZero() {
			return res.Time.UnixNano()
		}
		end = s
	}
	return 0
}

// eachHit calls fn with the bounds of every record of data that holds one
// of the finder's needles, once per record, in order.
func eachHit(data []byte, f *finder, raw bool, fn func(start, end int)) {
	for p := f.index(data, 0); p >= 0; {
		start, end := recordAround(data, p, raw)
		fn(start, end)
		if end >= len(data) {
			return
		}
		p = f.index(data, end)
	}
}

// recordAround returns the bounds of the record holding data[i]: from its
// first line to the end of its last continuation line.
func recordAround(data []byte, i int, raw bool) (start, end int) {
	start = bytes.LastIndexByte(data[:i], '\n') + 1
	end = lineEnd(data, i)
	if !raw {
		return start, end
	}
	for start > 0 && isContinuation(data[start:lineEnd(data, start)]) {
		start = bytes.LastIndexByte(data[:start-1], '\n') + 1
	}
	for n := next(data, end); n < len(data); {
		e := lineEnd(data, n)
		if !isContinuation(data[n:e]) {
			break
		}
		end, n = e, next(data, e)
	}
	return start, end
}

// sessionLines reads one input from span[0] on, past span[1], and returns
// the records holding one of texts that keep accepts.
func sessionLines(in *Input, span [2]int64, texts [][]byte, q Query, keep func(*rec) bool) ([]Entry, error) {
	re, err := in.reopenAt(span[0])
	if err != nil {
		return nil, err
	}
	defer re.Close()
	w := newHitWorker(q, newFinder(nil, texts), func(r *rec) hitKind {
		if keep(r) {
			return hitSession
		}
		return hitNone
	})
	pool := newBufPool(2)
	blocks := make(chan block)
	stop := make(chan struct{})
	var rerr error
	var malformed int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rerr = re.blocks(pool, blocks, stop, &malformed)
		close(blocks)
	}()
	for b := range blocks {
		if b.offset > span[1] {
			pool.put(b.buf)
			close(stop)
			for b := range blocks {
				pool.put(b.buf)
			}
			break
		}
		w.block(b)
		if b.buf == nil {
			releaseMapped(b.data)
		}
		pool.put(b.buf)
	}
	wg.Wait()
	return w.contact, rerr
}

// reopenAt opens the input's file again, positioned at offset (in its
// decompressed bytes), with the format already known.
func (in *Input) reopenAt(offset int64) (*Input, error) {
	if in.mapped != nil {
		return &Input{Name: in.Name, Path: in.Path, Index: in.Index, Format: in.Format, Size: in.Size,
			mapped: in.mapped, base: offset}, nil
	}
	f, err := os.Open(in.Path)
	if err != nil {
		return nil, err
	}
	re := &Input{Name: in.Name, Path: in.Path, Index: in.Index, Format: in.Format, Size: in.Size, f: f, base: offset}
	if in.gz == nil {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		re.r = bufio.NewReaderSize(f, sniffSize)
		return re, nil
	}
	if re.gz, err = gzip.NewReader(bufio.NewReaderSize(f, sniffSize)); err != nil {
		f.Close()
		return nil, err
	}
	re.r = bufio.NewReaderSize(re.gz, sniffSize)
	if _, err := io.CopyN(io.Discard, re.r, offset); err != nil {
		re.Close()
		return nil, err
	}
	return re, nil
}

// spoolStdin copies standard input to a temporary file, so that the second
// pass can read it again.
func spoolStdin(ins []*Input) ([]*Input, func(), error) {
	cleanup := func() {}
	for i, in := range ins {
		if in.Path != "-" {
			continue
		}
		f, err := os.CreateTemp("", "ctlive-inspect-stdin-*")
		if err != nil {
			return nil, cleanup, err
		}
		name := f.Name()
		cleanup = func() {
			f.Close()
			os.Remove(name)
		}
		if _, err := io.Copy(f, in.r); err != nil {
			f.Close()
			return nil, cleanup, fmt.Errorf("stdin: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, cleanup, err
		}
		spooled := &Input{Name: in.Name, Path: name, Index: in.Index, Format: in.Format, Size: -1, f: f,
			r: bufio.NewReaderSize(f, sniffSize)}
		out := slices.Clone(ins)
		out[i] = spooled
		return out, cleanup, nil // one stdin at most
	}
	return ins, cleanup, nil
}

// WriteTimeline prints the lifecycle, then one line per entry: time, kind,
// function, event, message; an exception's frames below it.
func WriteTimeline(w io.Writer, tl *Timeline, asJSON bool, st Style) error {
	bw := bufio.NewWriter(w)
	if asJSON {
		bw.Write(ContactJSON(&tl.Contact))
		for _, e := range tl.Entries {
			var o jsonObject
			o.str("time", FormatTime(e.Time))
			o.str("kind", e.Kind)
			o.str("function", e.Function)
			o.str("event", e.Event)
			o.str("level", e.Level)
			o.str("sessionID", e.SessionID)
			o.str("message", e.Message)
			o.str("errorType", e.ErrorType)
			o.strs("stack", e.Stack)
			bw.Write(o.line())
		}
		return bw.Flush()
	}
	c := &tl.Contact
	paint := func(color, s string) string {
		if st.Color && color != "" {
			return color + s + colorReset
		}
		return s
	}
	fmt.Fprintf(bw, "%s\n", paint(colorBold, c.ContactID))
	dur := "-"
	if d, ok := c.Duration(); ok {
		dur = humanDuration(d)
	}
	fmt.Fprintf(bw, "  tenant %s, channel %s, %d lines, from %s to %s (%s)\n", orDash(c.Tenant), orDash(c.Channel), c.Lines,
		shortTime(c.Start), shortTime(c.End), dur)
	saved := paint(colorYellow, "transcript NOT saved")
	if c.TranscriptSaved {
		saved = "transcript saved"
	}
	state := paint(colorDim, "still open")
	if c.Ended {
		state = "ended, " + saved
	}
	fmt.Fprintf(bw, "  %s; agents %s (sessions %s)\n", state, orDash(strings.Join(c.Agents, ", ")), orDash(strings.Join(c.AgentSessions, ", ")))
	if c.Exceptions > 0 || c.Errors > 0 {
		fmt.Fprintf(bw, "  %s\n", paint(colorRed, fmt.Sprintf("%d exceptions, %d errors", c.Exceptions, c.Errors)))
	}
	bw.WriteByte('\n')
	t := &table{head: []string{"TIME", "LINE", "FUNCTION", "EVENT", "MESSAGE"}}
	for _, e := range tl.Entries {
		color := ""
		switch {
		case e.Level == "error":
			color = colorRed
		case e.Kind != "contact":
			color = colorDim
		}
		when := shortTime(e.Time)
		if e.Time == 0 {
			when = "(no time)"
		}
		t.add(color, when, e.Kind, orDash(e.Function), orDash(e.Event), e.Message)
		for _, f := range e.Stack {
			t.add(color, "", "", "", "", "    "+f)
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return t.write(w, st)
}
