package corpus

import (
	"container/heap"
	"strings"
	"time"
)

// The generator is a small discrete-event simulation of one CTLive hub:
// contacts arrive, wait, are joined by agents, exchange messages, end and
// have their transcripts saved; agents log in and out; routine, warning,
// error and exception lines arrive on their own clocks. Every line is an
// event on one queue, so the flows interleave as they do in a real log.

const (
	us  = int64(time.Microsecond)
	ms  = int64(time.Millisecond)
	sec = int64(time.Second)
)

// frameGap is how much later docker stamps each physical line of a stack
// trace than the one before it.
const frameGap = 1500

// style sets how busy the hub is and how lines are rendered.
type style struct {
	sample         bool  // sample.log: one compose prefix, UTC, scripted exceptions
	load           int64 // traffic, in thousandths of the corpus's (~20 records/s)
	startA, startB int64 // the two windows: around the guide's End Contact and New Contact examples
	msgsLo, msgsHi int64 // messages per contact
	msgGap         int64 // mean time between two messages of a contact
}

func mustTime(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

var corpusStyle = &style{
	load:   1000,
	startA: mustTime("2025-02-27T14:25:33Z"),
	startB: mustTime("2025-02-27T17:19:19Z"),
	msgsLo: 3, msgsHi: 14, msgGap: 9 * sec,
}

var sampleStyle = &style{
	sample: true,
	load:   50,
	startA: mustTime("2025-02-27T14:24:41Z"),
	startB: mustTime("2025-02-27T17:19:02Z"),
	msgsLo: 3, msgsHi: 9, msgGap: 5 * sec,
}

type tenant struct {
	name     string
	weight   int
	channels []string
	chw      []int
	cti      string // the CTI webhook CT7PROTOCOL calls
	logins   []string
	agents   []*agent
	// preset is the contact the tenant's first web chat uses, if any.
	preset     *contactRef
	presetUser userID
}

type agent struct {
	t       *tenant
	user    userID
	session sessionID // empty while logged out
	busy    int       // open contacts assigned
	login   bool      // logging in
	pinned  bool      // scripted: not logged in or out by the simulation
}

type contact struct {
	ref       contactRef
	t         *tenant
	customer  userID
	agent     *agent
	want      *agent // the agent that must join it (scripted)
	social    bool
	open      bool
	scripted  bool // ends when the script says
	msgsLeft  int64
	msgs      int64
	delivered int64
	seen      int64
}

type event struct {
	at     int64
	seq    uint64
	pinned bool
	fn     func(int64)
}

type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// span is a stretch of time that belongs to the guide's lines alone, so
// that generated lines never land between them and their timestamps stay
// as written.
type span struct{ from, to int64 }

type sim struct {
	r       *rng
	st      *style
	out     func(Record)
	left    int   // records still to emit
	last    int64 // time of the last emitted line
	stopAt  int64 // the window ends here (0: never)
	q       queue
	seq     uint64
	quiet   []span
	tenants []*tenant
	open    []*contact
	ended   []contactRef // the most recently ended contacts, newest last
	rejects int          // unhandled promise rejections so far
}

func newSim(seed int64, stream uint64, st *style, out func(Record)) *sim {
	s := &sim{r: newRNG(seed, stream), st: st, out: out}
	s.tenants = newTenants()
	return s
}

func newTenants() []*tenant {
	ts := []*tenant{
		{name: "AGM", weight: 35, channels: []string{"CHAT", "WHATSAPP", "MESSENGER"}, chw: []int{60, 25, 15},
			cti:    "https://server1/ctLiveService/contact",
			logins: []string{realAgentLogin, "maria.garcia@agm.example", "p.rossi@agm.example", "ahmed.k@agm.example", "li.wei@agm.example", "s.okafor@agm.example"}},
		{name: "TENANT1", weight: 25, channels: []string{"CHAT", "WHATSAPP", "INSTAGRAM"}, chw: []int{40, 40, 20},
			cti:    "https://server1/ctLiveService/contact",
			logins: []string{"agent01@tenant1.example", "agent02@tenant1.example", "agent03@tenant1.example", "agent04@tenant1.example", "agent05@tenant1.example"}},
		{name: "DEFAULT", weight: 20, channels: []string{"CHAT", "WHATSAPP"}, chw: []int{70, 30},
			cti:    "https://server1/ctLiveService/contact",
			logins: []string{"operator@acd.example.com", "helpdesk+1@acd.example.com", "helpdesk+2@acd.example.com", "m.silva@acd.example.com"}},
		{name: "ACME_EU", weight: 20, channels: []string{"CHAT", "WHATSAPP", "MESSENGER", "INSTAGRAM"}, chw: []int{35, 30, 15, 20},
			cti:    "https://cti.acme-eu.example/ctLiveService/contact",
			logins: []string{"l.mueller@acme-eu.example", "ops+night@acme-eu.example", "j.dupont@acme-eu.example", "k.nowak@acme-eu.example", "s.jensen@acme-eu.example"}},
	}
	for _, t := range ts {
		for _, l := range t.logins {
			t.agents = append(t.agents, &agent{t: t, user: agentID(l)})
		}
	}
	return ts
}

func (s *sim) tenant(name string) *tenant {
	for _, t := range s.tenants {
		if t.name == name {
			return t
		}
	}
	panic("corpus: no tenant " + name)
}

// mean scales a mean interval of the corpus's traffic to the style's load.
func (s *sim) mean(d int64) int64 { return d * 1000 / s.st.load }

func (s *sim) at(t int64, fn func(int64)) {
	s.seq++
	heap.Push(&s.q, &event{at: t, seq: s.seq, fn: fn})
}

func (s *sim) pin(t int64, fn func(int64)) {
	s.seq++
	heap.Push(&s.q, &event{at: t, seq: s.seq, fn: fn, pinned: true})
}

func (s *sim) run() {
	for s.left > 0 && len(s.q) > 0 {
		e := heap.Pop(&s.q).(*event)
		if s.stopAt > 0 && e.at >= s.stopAt {
			return
		}
		if !e.pinned {
			if to, ok := s.inQuiet(e.at); ok {
				e.at = to + s.r.between(1*us, 300*us)
				s.seq++
				e.seq = s.seq
				heap.Push(&s.q, e)
				continue
			}
		}
		e.fn(e.at)
	}
}

func (s *sim) inQuiet(t int64) (int64, bool) {
	for _, q := range s.quiet {
		if t >= q.from && t <= q.to {
			return q.to, true
		}
	}
	return 0, false
}

// burst schedules lines a few microseconds to a millisecond apart, as one
// handler of CTLive writes them.
func (s *sim) burst(t int64, c Case, ds ...*draft) {
	for i, d := range ds {
		if i > 0 {
			t += s.r.between(8*us, 900*us)
		}
		d := d
		if i == 0 {
			s.emit(t, c, d)
			continue
		}
		s.at(t, func(t int64) { s.emit(t, c, d) })
	}
}

var zones = []*time.Location{time.FixedZone("", 3600), time.FixedZone("", -3*3600), time.FixedZone("", 5*3600+1800)}

const layout = "2006-01-02T15:04:05.000000000Z07:00"

// emit writes one record at time t (or just after the last one).
func (s *sim) emit(t int64, c Case, d *draft) {
	if s.left <= 0 {
		return
	}
	if t <= s.last {
		t = s.last + s.r.between(1*us, 40*us)
	}
	s.last = t + int64(len(d.more))*frameGap
	w := d.want
	prefix, service, zone := "ctlive  | ", "ctlive", time.UTC
	withTime := true
	if !s.st.sample {
		// Mostly docker compose v2 output; a few lines as compose prints a
		// replica, compose v1, a terminal (colours), `docker logs -t`, or
		// Fluent Bit's docker parser (body only) would deliver them.
		switch n := s.r.intn(1000); {
		case n < 30:
			prefix, service = "ctlive-1  | ", "ctlive-1"
		case n < 40:
			prefix, service = "ctlive_ctlive_1  | ", "ctlive_ctlive_1"
		case n < 50:
			prefix = "\x1b[36mctlive  |\x1b[0m "
		case n < 60:
			prefix, service = "", ""
		case n < 70:
			prefix, service, withTime = "", "", false
		}
		if s.r.permille(20) {
			zone = zones[s.r.intn(len(zones))]
		}
	}
	var b strings.Builder
	b.WriteString(prefix)
	if withTime {
		w.Time = time.Unix(0, t).In(zone).Format(layout)
		b.WriteString(w.Time)
		b.WriteByte(' ')
	}
	w.Service = service
	b.WriteString(d.body)
	for _, l := range d.more {
		b.WriteByte('\n')
		b.WriteString(l)
	}
	s.out(Record{Line: b.String(), Want: w, Case: c, saved: d.saved})
	s.left--
}

// emitReal writes one of the guide's lines at its own time.
func (s *sim) emitReal(l realLine, c Case) {
	if s.left <= 0 {
		return
	}
	prefix := realPrefix
	if s.st.sample {
		prefix = "ctlive  | "
	}
	r := l.record(prefix, c)
	s.last = mustTime(r.Want.Time)
	s.out(r)
	s.left--
}

// pinReal schedules the guide's lines at their own times and keeps
// generated lines out from just before the first to the last.
func (s *sim) pinReal(ls []realLine, c Case, before func(int64)) {
	first, last := mustTime(ls[0].timeText()), mustTime(ls[len(ls)-1].timeText())
	s.quiet = append(s.quiet, span{first - ms, last})
	for i, l := range ls {
		l := l
		i := i
		s.pin(mustTime(l.timeText()), func(t int64) {
			if i == 0 && before != nil {
				before(t)
			}
			s.emitReal(l, c)
		})
	}
}

// ---- windows ----------------------------------------------------------------

func generate(seed int64, n int, st *style, out func(Record)) {
	nA := n / 2
	a := newSim(seed, 1, st, out)
	a.left = nA
	a.stopAt = st.startB - sec
	a.windowA()
	a.run()
	b := newSim(seed, 2, st, out)
	b.left = n - (nA - a.left)
	b.windowB()
	b.run()
}

// windowA holds the guide's End Contact example: its contact is already
// open when the window starts and ends with the guide's lines.
func (s *sim) windowA() {
	t0 := s.st.startA
	s.last = t0 - 1
	d := s.tenant("DEFAULT")
	ref := newContactRef("CHAT", "DEFAULT", realDefaultContact)
	d.preset, d.presetUser = &ref, customerID("DEFAULT", realDefaultUser)
	s.carryIn(t0, nil)

	agm := s.tenant("AGM")
	c := s.addContact(agm, "CHAT", realEndContactUUID, customerID("AGM", s.r.uuid()))
	c.scripted = true
	s.assign(c, s.freeAgent(agm))
	end := mustTime(realEndContact[0].timeText())
	if m := end - s.r.between(900*ms, 1600*ms); m > t0 {
		s.at(m, func(t int64) { s.message(t, c, true) })
	}
	s.pinReal(realEndContact, CaseEndContact, func(int64) { s.close(c) })
	last := mustTime(realEndContact[len(realEndContact)-1].timeText())
	s.at(last+s.r.between(20*ms, 60*ms), func(t int64) { s.saveTranscript(t, c) })
	if s.st.sample {
		// The guide's contact had its transcript saved twice: the second
		// insert fails on the transcript's _id.
		s.at(last+s.r.between(180*ms, 260*ms), func(t int64) { s.exception(t, excMongoDup, c.ref) })
	}
	s.startProcesses(t0)
}

// windowB holds the guide's New Contact example: its contact lives on, and
// the agent of the guide's Agent Login section logs in with the guide's
// session ID to join it; later comes the guide's exception.
func (s *sim) windowB() {
	t0 := s.st.startB
	s.last = t0 - 1
	agm := s.tenant("AGM")
	jdoe := agm.agents[0]
	jdoe.pinned = true
	s.carryIn(t0, jdoe)

	var c *contact
	s.pinReal(realNewContact[:3], CaseNewContact, func(int64) {
		c = s.addContact(agm, "CHAT", realNewContactUUID, customerID("AGM", s.r.uuid()))
		c.want = jdoe
	})
	s.pinReal(realNewContact[3:], CaseNewContact, nil)
	accepted := mustTime(realNewContact[4].timeText())
	s.at(accepted+s.r.between(40*ms, 300*ms), func(t int64) { s.afterAccepted(t, c) })
	s.at(accepted+s.r.between(1200*ms, 1500*ms), func(t int64) { s.login(t, jdoe, realSessionID) })
	s.at(t0+40*sec+s.r.between(0, 900*ms), func(t int64) {
		s.exception(t, excNotFound, newContactRef("CHAT", "AGM", realMissingUUID))
	})
	if s.st.sample {
		s.at(t0+58*sec+s.r.between(0, 900*ms), func(t int64) { s.exception(t, excUnhandled, contactRef{}) })
	}
	s.startProcesses(t0)
}

// carryIn opens the window on a hub that has been running: agents are
// logged in and contacts are open, their earlier lines outside the window.
func (s *sim) carryIn(t0 int64, skip *agent) {
	for _, tn := range s.tenants {
		k := int64(len(tn.agents)) * s.st.load * 3 / 5 / 1000
		if k < 1 {
			k = 1
		}
		for _, a := range tn.agents {
			if k == 0 {
				break
			}
			if a == skip {
				continue
			}
			a.session = sessionID(s.r.uuid())
			k--
		}
	}
	n := 45 * s.st.load / 1000
	if n < 4 {
		n = 4
	}
	for i := int64(0); i < n; i++ {
		tn := s.pickTenant()
		if i < int64(len(s.tenants)) {
			tn = s.tenants[i] // every tenant has a chat going
		}
		ch := pickWeighted(s.r, tn.channels, tn.chw)
		c := s.addContact(tn, ch, s.r.uuid(), customerID(tn.name, s.r.uuid()))
		c.msgs = s.r.between(1, 10)
		if s.r.permille(850) {
			if a := s.freeAgent(tn); a != nil && a != skip {
				s.assign(c, a)
			}
		}
		if c.agent == nil {
			s.at(t0+s.r.between(0, 15*sec), func(t int64) { s.join(t, c) })
		}
		s.at(t0+s.r.between(0, 2*s.st.msgGap), func(t int64) { s.message(t, c, false) })
	}
}

func (s *sim) startProcesses(t0 int64) {
	loop := func(mean int64, fn func(int64)) {
		var step func(int64)
		step = func(t int64) {
			fn(t)
			s.at(t+s.r.exp(s.mean(mean)), step)
		}
		s.at(t0+s.r.exp(s.mean(mean)), step)
	}
	loop(2600*ms, func(t int64) { s.newContact(t) })
	loop(350*ms, s.routine)
	loop(1100*ms, s.warning)
	loop(7*sec, s.errorLine)
	loop(5*sec, s.churn)
	loop(5*sec, s.shift)
	if !s.st.sample {
		loop(3*sec, func(t int64) { s.exception(t, pickWeighted(s.r, excKinds, excWeights), contactRef{}) })
	}
}
