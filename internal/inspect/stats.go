package inspect

import (
	"cmp"
	"slices"
	"strings"

	"github.com/ctlive/ctlive-fluent-bit/parser"
)

// pos orders records that share a time: the input's index, then the byte
// offset in it.
type pos uint64

func posOf(input int, offset int64) pos { return pos(uint64(input)<<48 | uint64(offset)&(1<<48-1)) }

// seen is when and where something was first seen; earlier wins.
type seen struct {
	t  int64
	at pos
}

func (a seen) before(b seen) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	return a.at < b.at
}

// contactState is what the tool keeps per contact: a fixed part of ~80
// bytes, its ID (once, shared with the map's key), and one entry per agent
// session that joined it.
type contactState struct {
	id                        string // the map's key
	start, end                int64  // Unix ns of the first and last timed line; 0 none
	lines, exceptions, errors uint32
	ended, saved              bool
	sessions                  []sessionSeen
}

type sessionSeen struct {
	seen
	id string
}

type loginSeen struct {
	seen
	user string
}

// TenantCounts are one tenant's counts of lines, by the line's tenant field.
type tenantCounts struct {
	name                             string // the map's key
	lines, exceptions, errors, warns uint64
	agents                           map[string]struct{}
}

type excKey struct{ tenant, errType, frame string }

type excCounts struct {
	count       uint64
	first, last int64
	example     string // the contact ID of the first timed one that has one
	exampleAt   seen
}

// minuteKey buckets exceptions per tenant per minute, for the report.
type minuteKey struct {
	tenant string
	minute int64
}

// Stats aggregates records into contacts, logins, tenants and exception
// groups. Its memory grows with those, never with the number of lines.
// Merging the Stats of two parts of the input gives the Stats of the whole,
// in any order.
type Stats struct {
	contacts   map[string]*contactState
	logins     map[string]loginSeen // session ID (output form) -> first login
	tenants    map[string]*tenantCounts
	exceptions map[excKey]*excCounts
	excMinutes map[minuteKey]uint32

	// Window: only records whose time is in [since, until) count, when set.
	since, until int64

	// The last tenant and contact looked up: lines come in bursts of one
	// handler, so this saves a hash most of the time.
	lastTenant  *tenantCounts
	lastContact *contactState
	// names holds one copy of each session and user ID: an agent's
	// session joins many contacts.
	names map[string]string

	Records   int64 // CTLive records counted
	NotCTLive int64 // well-formed records that are not CTLive lines
	Malformed int64 // lines too long, JSON lines that do not decode
	Bytes     int64

	// OutsideWindow counts the CTLive records that --since/--until left
	// out; outFirst and outLast are their first and last times (ns).
	OutsideWindow     int64
	outFirst, outLast int64
}

func minNonZero(a, b int64) int64 {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

func newStats(since, until int64) *Stats {
	return &Stats{
		contacts:   map[string]*contactState{},
		logins:     map[string]loginSeen{},
		tenants:    map[string]*tenantCounts{},
		exceptions: map[excKey]*excCounts{},
		excMinutes: map[minuteKey]uint32{},
		names:      map[string]string{},
		since:      since, until: until,
	}
}

// inWindow: with a window, a line without a time cannot be placed in it.
func (s *Stats) inWindow(t int64) bool {
	if s.since == 0 && s.until == 0 {
		return true
	}
	return t != 0 && (s.since == 0 || t >= s.since) && (s.until == 0 || t < s.until)
}

// isSessionLogin: an agentLogin line that names its agent and session.
func isSessionLogin(r *rec) bool {
	return r.event == parser.EventAgentLogin && r.sessionID != nil && r.userID != nil
}

// loginBeforeWindow: an agent may log in before --since and join a contact
// inside the window; that login still names the session's agent, as the
// store's answer does (VictoriaLogs.logins looks logins up before --until).
func (s *Stats) loginBeforeWindow(r *rec) bool {
	return s.since != 0 && r.time != 0 && r.time < s.since && isSessionLogin(r)
}

// addLogin keeps the session's earliest login.
func (s *Stats) addLogin(r *rec, at pos) {
	key := sessionKey(r.sessionID)
	l, ok := s.logins[key]
	if now := (seen{r.time, at}); !ok || now.before(l.seen) {
		s.logins[key] = loginSeen{now, s.name(r.userID)}
	}
}

func (s *Stats) add(r *rec, at pos) {
	if !s.inWindow(r.time) {
		if s.loginBeforeWindow(r) {
			s.addLogin(r, at)
		}
		s.OutsideWindow++
		if r.time != 0 {
			s.outFirst = minNonZero(s.outFirst, r.time)
			s.outLast = max(s.outLast, r.time)
		}
		return
	}
	s.Records++
	tn := s.lastTenant
	if tn == nil || tn.name != string(r.tenant) {
		tn = s.tenants[string(r.tenant)]
		if tn == nil {
			tn = &tenantCounts{name: string(r.tenant), agents: map[string]struct{}{}}
			s.tenants[tn.name] = tn
		}
		s.lastTenant = tn
	}
	tn.lines++
	switch {
	case r.event == parser.EventException:
		tn.exceptions++
		s.addException(r, at)
	case r.level == parser.LevelError:
		tn.errors++
	case r.level == parser.LevelWarn:
		tn.warns++
	}
	if isSessionLogin(r) {
		if _, ok := tn.agents[string(r.userID)]; !ok {
			tn.agents[string(r.userID)] = struct{}{}
		}
		s.addLogin(r, at)
	}
	if r.contactID == nil {
		return
	}
	c := s.lastContact
	if c == nil || c.id != string(r.contactID) {
		c = s.contacts[string(r.contactID)]
		if c == nil {
			c = &contactState{id: string(r.contactID)}
			s.contacts[c.id] = c
		}
		s.lastContact = c
	}
	c.lines++
	if r.time != 0 {
		if c.start == 0 || r.time < c.start {
			c.start = r.time
		}
		if r.time > c.end {
			c.end = r.time
		}
	}
	switch r.event {
	case parser.EventEndContact:
		c.ended = true
	case parser.EventException:
		c.exceptions++
	case parser.EventSaveTranscript:
		if !c.saved && hasWordSaved(r.message) {
			c.saved = true
		}
	case parser.EventJoinContact:
		if r.sessionID != nil {
			c.addSession(sessionSeen{seen{r.time, at}, s.name(r.sessionID)})
		}
	}
	if r.level == parser.LevelError && r.event != parser.EventException {
		c.errors++
	}
}

// name returns the one copy of an ID.
func (s *Stats) name(b []byte) string {
	if n, ok := s.names[string(b)]; ok {
		return n
	}
	n := string(b)
	s.names[n] = n
	return n
}

// sessionKey is how logins are matched to joins: a session ID in any letter
// case, the same UUID (its digest lower-cases it; `--no-redact` shows it as
// each line writes it).
func sessionKey[T string | []byte](id T) string { return strings.ToLower(string(id)) }

// addSession keeps the session's earliest join.
func (c *contactState) addSession(n sessionSeen) {
	for i, s := range c.sessions {
		if s.id == n.id {
			if n.before(s.seen) {
				c.sessions[i] = n
			}
			return
		}
	}
	c.sessions = append(c.sessions, n)
}

func (s *Stats) addException(r *rec, at pos) {
	k := excKey{string(r.tenant), string(r.errorType), string(r.topFrame)}
	e := s.exceptions[k]
	if e == nil {
		e = &excCounts{first: r.time, last: r.time}
		s.exceptions[k] = e
	}
	e.count++
	if r.time != 0 {
		if e.first == 0 || r.time < e.first {
			e.first = r.time
		}
		e.last = max(e.last, r.time)
		s.excMinutes[minuteKey{k.tenant, r.time / 60e9}]++
	}
	if r.contactID != nil && r.time != 0 && (e.example == "" || (seen{r.time, at}).before(e.exampleAt)) {
		e.example, e.exampleAt = string(r.contactID), seen{r.time, at}
	}
}

// merge adds o into s.
func (s *Stats) merge(o *Stats) {
	s.Records += o.Records
	s.NotCTLive += o.NotCTLive
	s.Malformed += o.Malformed
	s.Bytes += o.Bytes
	s.OutsideWindow += o.OutsideWindow
	s.outFirst, s.outLast = minNonZero(s.outFirst, o.outFirst), max(s.outLast, o.outLast)
	for id, oc := range o.contacts {
		c := s.contacts[id]
		if c == nil {
			s.contacts[id] = oc
			continue
		}
		if oc.start != 0 && (c.start == 0 || oc.start < c.start) {
			c.start = oc.start
		}
		c.end = max(c.end, oc.end)
		c.lines += oc.lines
		c.exceptions += oc.exceptions
		c.errors += oc.errors
		c.ended = c.ended || oc.ended
		c.saved = c.saved || oc.saved
		for _, ss := range oc.sessions {
			c.addSession(ss)
		}
	}
	for id, ol := range o.logins {
		if l, ok := s.logins[id]; !ok || ol.before(l.seen) {
			s.logins[id] = ol
		}
	}
	for name, ot := range o.tenants {
		t := s.tenants[name]
		if t == nil {
			s.tenants[name] = ot
			continue
		}
		t.lines += ot.lines
		t.exceptions += ot.exceptions
		t.errors += ot.errors
		t.warns += ot.warns
		for a := range ot.agents {
			t.agents[a] = struct{}{}
		}
	}
	for k, oe := range o.exceptions {
		e := s.exceptions[k]
		if e == nil {
			s.exceptions[k] = oe
			continue
		}
		e.count += oe.count
		if oe.first != 0 && (e.first == 0 || oe.first < e.first) {
			e.first = oe.first
		}
		e.last = max(e.last, oe.last)
		if oe.example != "" && (e.example == "" || oe.exampleAt.before(e.exampleAt)) {
			e.example, e.exampleAt = oe.example, oe.exampleAt
		}
	}
	for k, n := range o.excMinutes {
		s.excMinutes[k] += n
	}
}

// Contact is one row of `contacts`: a contact's lifecycle (README).
type Contact struct {
	ContactID, Tenant, Channel string
	Start, End                 int64 // Unix ns; 0 when no line of it has a time
	Lines                      int
	Ended, TranscriptSaved     bool
	AgentSessions, Agents      []string
	Exceptions, Errors         int
}

// Duration is End - Start in ns; ok is false without a start.
func (c *Contact) Duration() (int64, bool) { return c.End - c.Start, c.Start != 0 }

// splitContactID returns the channel and tenant parts of CHANNEL_TENANT_UUID.
func splitContactID(id string) (channel, tenant string) {
	i := strings.IndexByte(id, '_')
	if i < 0 || len(id) < i+1+37 {
		return "", ""
	}
	return id[:i], id[i+1 : len(id)-37]
}

// Contacts returns every contact's lifecycle, by start (contacts without a
// time last), then ID.
func (s *Stats) Contacts() []Contact {
	out := make([]Contact, 0, len(s.contacts))
	for id, c := range s.contacts {
		row := Contact{ContactID: id, Start: c.start, End: c.end, Lines: int(c.lines), Ended: c.ended,
			TranscriptSaved: c.saved, Exceptions: int(c.exceptions), Errors: int(c.errors)}
		row.Channel, row.Tenant = splitContactID(id)
		slices.SortFunc(c.sessions, func(a, b sessionSeen) int {
			switch {
			case a.before(b.seen):
				return -1
			case b.before(a.seen):
				return 1
			}
			return cmp.Compare(a.id, b.id)
		})
		for _, ss := range c.sessions {
			row.AgentSessions = append(row.AgentSessions, ss.id)
			if l, ok := s.logins[sessionKey(ss.id)]; ok && !slices.Contains(row.Agents, l.user) {
				row.Agents = append(row.Agents, l.user)
			}
		}
		out = append(out, row)
	}
	sortContacts(out)
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sortContacts(cs []Contact) {
	slices.SortFunc(cs, func(a, b Contact) int {
		if (a.Start == 0) != (b.Start == 0) {
			return boolInt(a.Start == 0) - boolInt(b.Start == 0)
		}
		if c := cmp.Compare(a.Start, b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ContactID, b.ContactID)
	})
}
