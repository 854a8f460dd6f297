package corpus

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// The flows of the source document's use cases, and the traffic around
// them. Each handler writes its lines and schedules what follows.

// ---- contacts ---------------------------------------------------------------

func (s *sim) pickTenant() *tenant {
	ws := make([]int, len(s.tenants))
	for i, t := range s.tenants {
		ws[i] = t.weight
	}
	return pickWeighted(s.r, s.tenants, ws)
}

func (s *sim) addContact(tn *tenant, ch, uuid string, cust userID) *contact {
	c := &contact{ref: newContactRef(ch, tn.name, uuid), t: tn, customer: cust, social: ch != "CHAT", open: true}
	c.msgsLeft = s.r.between(s.st.msgsLo, s.st.msgsHi)
	s.open = append(s.open, c)
	return c
}

func (s *sim) close(c *contact) {
	if !c.open {
		return
	}
	c.open = false
	for i, o := range s.open {
		if o == c {
			s.open = append(s.open[:i], s.open[i+1:]...)
			break
		}
	}
	if c.agent != nil {
		c.agent.busy--
	}
	s.ended = append(s.ended, c.ref)
	if len(s.ended) > 20 {
		s.ended = s.ended[1:]
	}
}

func (s *sim) assign(c *contact, a *agent) {
	if a == nil {
		return
	}
	c.agent = a
	a.busy++
}

// freeAgent returns the least busy logged-in agent of the tenant with room
// for another chat.
func (s *sim) freeAgent(tn *tenant) *agent {
	var best *agent
	for _, a := range tn.agents {
		if a.session == "" || a.login || a.busy >= 4 {
			continue
		}
		if best == nil || a.busy < best.busy {
			best = a
		}
	}
	return best
}

func webhookFn(ch string) string { return strings.ToLower(ch) + "Webhook" }
func apiFn(ch string) string     { return strings.ToLower(ch) + "API" }

func (s *sim) socialID(ch string) string {
	switch ch {
	case "WHATSAPP":
		return "wamid." + s.r.opaque(base64.StdEncoding, 30)
	case "MESSENGER":
		return "m_" + s.r.opaque(base64.RawURLEncoding, 48)
	default:
		return s.r.opaque(base64.RawStdEncoding, 45)
	}
}

var (
	capsAll   = `{"chat":true,"cbn":true,"video":true,"cbl":true,"call":true}`
	capsVoice = `{"chat":true,"cbn":true,"video":false,"cbl":true,"call":false}`
	capsChat  = `{"chat":true,"cbn":false,"video":false,"cbl":false,"call":false}`
)

func (s *sim) newContact(t int64) {
	tn := s.pickTenant()
	ch := pickWeighted(s.r, tn.channels, tn.chw)
	var c *contact
	if tn.preset != nil && ch == "CHAT" {
		c = s.addContact(tn, "CHAT", strings.TrimPrefix(tn.preset.id, "CHAT_"+tn.name+"_"), tn.presetUser)
		tn.preset = nil
	} else {
		c = s.addContact(tn, ch, s.r.uuid(), customerID(tn.name, s.r.uuid()))
	}
	var ds []*draft
	if c.social {
		ds = append(ds,
			mk(tk(webhookFn(ch), tenantTok(tn.name)), "Incoming message id [%s] from [%s] type [TEXT]", s.socialID(ch), c.customer),
			mk(tk(webhookFn(ch)), "newContact. Generate UUID [%s]", c.ref).ev("newContact"))
	} else {
		ds = append(ds, mk(tk("socketIO"), "newContact. Generate UUID [%s]", c.ref).ev("newContact"))
	}
	ds = append(ds,
		mk(tk("REDIS"), "Set contact [%s] in redis db: ,OK,,1", c.ref),
		mk(tk("CT7PROTOCOL", tenantTok(tn.name)), "newContact url:%s", tn.cti).ev("newContact").url(tn.cti))
	s.burst(t, CaseNewContact, ds...)

	caps := capsChat
	if !c.social {
		caps = pickWeighted(s.r, []string{capsAll, capsVoice, capsChat}, []int{60, 25, 15})
	}
	wait := s.r.between(40*ms, 1200*ms)
	if s.r.permille(60) {
		wait = s.r.between(2050*ms, 3500*ms) // the CTI is slow now and then
	}
	s.at(t+wait, func(t int64) {
		if wait > 2*sec {
			s.emit(t, CaseWarning, mk(tk("CT7PROTOCOL", tenantTok(tn.name)),
				"newContact response slow: %d ms, warning threshold 2000 ms", wait/ms).ev("newContact").warn())
		}
		s.burst(t, CaseNewContact,
			mk(tk("CT7PROTOCOL"), "newContact response:%s", caps).ev("newContact").payload(),
			mk(nil, "newContact accepted:%s", caps).ev("newContact").payload())
		s.afterAccepted(t, c)
	})
}

// afterAccepted starts a new contact's life once the CTI has accepted it.
func (s *sim) afterAccepted(t int64, c *contact) {
	if c == nil {
		return // the window ran out before the contact was created
	}
	if !c.social {
		s.at(t+s.r.between(150*ms, 2*sec), func(t int64) {
			s.emit(t, CaseNewContact, mk(tk("socketIO", "joinRoom"), "Customer [%s] joined room [%s]", c.customer, c.ref))
		})
	}
	s.at(t+s.r.between(1*sec, 6*sec), func(t int64) { s.message(t, c, true) })
	if c.want == nil {
		s.at(t+s.r.between(3*sec, 25*sec), func(t int64) { s.join(t, c) })
	} else {
		s.at(t+s.r.between(2500*ms, 3200*ms), func(t int64) { s.join(t, c) })
	}
}

// join has an agent enter the contact's room, logging one in if the tenant
// has none free.
func (s *sim) join(t int64, c *contact) {
	if !c.open || c.agent != nil {
		return
	}
	a := c.want
	if a == nil {
		a = s.freeAgent(c.t)
	}
	if a == nil {
		for _, x := range c.t.agents {
			if x.session == "" && !x.login && !x.pinned {
				a = x
				break
			}
		}
		if a != nil {
			s.login(t, a, "")
		} else if s.r.permille(300) {
			s.emit(t, CaseWarning, mk(tk("socketIO", tenantTok(c.t.name)), "Warning: room [%s] has no agent after %d s",
				c.ref, s.r.between(30, 240)).warn())
		}
		s.at(t+s.r.between(1500*ms, 6*sec), func(t int64) { s.join(t, c) })
		return
	}
	if a.session == "" || a.login {
		s.at(t+s.r.between(500*ms, 2*sec), func(t int64) { s.join(t, c) })
		return
	}
	s.assign(c, a)
	ds := []*draft{
		mk(tk("socketIO", "joinContact"), "Agent [%s] with session [%s] joins room [%s]", a.user, a.session, c.ref).ev("joinContact"),
		mk(tk("retrieveContactByChatID", "REDIS"), "Get contact for chat [%s]", c.ref),
		mk(tk("socketIO", "joinContact"), "Contact [%s] assigned to agent [%s]", c.ref, a.user).ev("joinContact"),
	}
	if s.r.permille(400) {
		ds = append(ds, mk(tk("HTTP"), "GET /livechat/%s/contacts/%s?ctlivetoken=%s 200 %d ms",
			c.t.name, c.ref, a.session, s.r.between(2, 40)))
	}
	s.burst(t, CaseJoinContact, ds...)
	s.at(t+s.r.between(2*sec, 10*sec), func(t int64) { s.message(t, c, false) })
}

var (
	customerTypes = []string{"TEXT", "IMAGE", "DOCUMENT", "LOCATION", "MENU_RESPONSE", "QUICK_REPLY", "AUDIO"}
	customerTypeW = []int{68, 8, 4, 3, 10, 4, 3}
	agentTypes    = []string{"TEXT", "MENU", "LINK", "DOCUMENT"}
	agentTypeW    = []int{80, 8, 7, 5}
	menuTitles    = []string{"Billing", "Technical support", "Opening hours", "Talk to an agent"}
)

// payloadFor returns the data a message of type typ carries in the log.
func (s *sim) payloadFor(typ string) string {
	switch typ {
	case "MENU_RESPONSE":
		i := s.r.intn(len(menuTitles))
		return ` data:{"optionId":"` + string(rune('1'+i)) + `","title":"` + menuTitles[i] + `"}`
	case "MENU":
		return ` menu:{"title":"How can we help you?","options":["Billing","Technical support","Opening hours"]}`
	}
	return ""
}

// message routes one message of the contact; the customer writes it when
// fromCustomer is set or no agent has joined yet.
func (s *sim) message(t int64, c *contact, fromCustomer bool) {
	if !c.open {
		return
	}
	a := c.agent
	if a == nil {
		fromCustomer = true
	} else if !fromCustomer {
		fromCustomer = s.r.permille(450)
	}
	c.msgs++
	c.msgsLeft--
	ch := c.ref.channel
	if fromCustomer {
		typ := pickWeighted(s.r, customerTypes, customerTypeW)
		pl := s.payloadFor(typ)
		var ds []*draft
		var mid messageID
		if c.social {
			// Social channels' message IDs are opaque strings, not UUIDs:
			// these lines have no messageID field.
			sid := s.socialID(ch)
			ds = []*draft{
				mk(tk(webhookFn(ch), tenantTok(c.t.name)), "Incoming message id [%s] for contact [%s] type [%s]%s", sid, c.ref, typ, pl),
				mk(tk("REDIS"), "Push message id [%s] to room [%s]: %d", sid, c.ref, c.msgs),
			}
			if a != nil {
				ds = append(ds, mk(tk("socketIO", "message"), "to agent [%s] in room [%s]", a.user, c.ref))
			}
		} else {
			mid = messageID(s.r.uuid())
			ds = []*draft{
				mk(tk("socketIO", "message"), "from client with room [%s] id [%s] type [%s]%s", c.ref, mid, typ, pl),
				mk(tk("REDIS"), "Push message id [%s] to room [%s]: %d", mid, c.ref, c.msgs),
			}
			if a != nil {
				ds = append(ds, mk(tk("socketIO", "message"), "to agent [%s] in room [%s] id [%s]", a.user, c.ref, mid))
			}
		}
		if pl != "" {
			ds[0].payload()
		}
		s.burst(t, CaseMessage, ds...)
		if a != nil && s.r.permille(600) {
			s.at(t+s.r.between(800*ms, 9*sec), func(t int64) {
				if c.open {
					c.seen++
					if c.social {
						s.emit(t, CaseMessage, mk(tk("socketIO", "messageSeen"), "room [%s] seen by agent [%s]", c.ref, a.user))
					} else {
						s.emit(t, CaseMessage, mk(tk("socketIO", "messageSeen"), "room [%s] id [%s] seen by agent [%s]", c.ref, mid, a.user))
					}
				}
			})
		}
	} else {
		typ := pickWeighted(s.r, agentTypes, agentTypeW)
		pl := s.payloadFor(typ)
		mid := messageID(s.r.uuid())
		d := mk(tk("socketIO", "message"), "from agent [%s] with room [%s] id [%s] type [%s]%s", a.user, c.ref, mid, typ, pl)
		if pl != "" {
			d.payload()
		}
		ds := []*draft{d, mk(tk("REDIS"), "Push message id [%s] to room [%s]: %d", mid, c.ref, c.msgs)}
		var sid string
		if c.social {
			sid = s.socialID(ch)
			ds = append(ds, mk(tk(apiFn(ch), tenantTok(c.t.name)), "Message id [%s] sent for contact [%s] as [%s] status [200]", mid, c.ref, sid))
		}
		s.burst(t, CaseMessage, ds...)
		s.deliveryReports(t, c, mid, sid)
	}
	switch {
	case c.msgsLeft > 0 || c.agent == nil:
		s.at(t+s.r.exp(s.st.msgGap)+s.r.between(500*ms, 2*sec), func(t int64) { s.message(t, c, false) })
	case !c.scripted:
		s.at(t+s.r.between(3*sec, 25*sec), func(t int64) { s.endContact(t, c) })
	}
}

const failedReport = `report:{"deliverySuccess":false,"deliveryErrorReason":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}`

// deliveryReports writes the delivery and seen reports of an agent's
// message; the transcript save reads them back from Redis.
func (s *sim) deliveryReports(t int64, c *contact, mid messageID, sid string) {
	ch := c.ref.channel
	if c.social {
		if ch == "WHATSAPP" && s.r.permille(40) {
			s.at(t+s.r.between(300*ms, 3*sec), func(t int64) {
				s.emit(t, CaseMessage, mk(tk(webhookFn(ch), tenantTok(c.t.name)), "Status for message [%s] contact [%s] %s", sid, c.ref, failedReport).payload())
			})
			return
		}
		if s.r.permille(850) {
			s.at(t+s.r.between(300*ms, 3*sec), func(t int64) {
				c.delivered++
				s.emit(t, CaseMessage, mk(tk(webhookFn(ch), tenantTok(c.t.name)), "Status [delivered] for message [%s] contact [%s]", sid, c.ref))
			})
		}
		if s.r.permille(500) {
			s.at(t+s.r.between(4*sec, 20*sec), func(t int64) {
				c.seen++
				s.emit(t, CaseMessage, mk(tk(webhookFn(ch), tenantTok(c.t.name)), "Status [read] for message [%s] contact [%s]", sid, c.ref))
			})
		}
		return
	}
	if s.r.permille(850) {
		s.at(t+s.r.between(30*ms, 600*ms), func(t int64) {
			if c.open {
				c.delivered++
				s.emit(t, CaseMessage, mk(tk("socketIO", "deliveryReport"), "room [%s] id [%s] deliverySuccess [true]", c.ref, mid))
			}
		})
	}
	if s.r.permille(550) {
		s.at(t+s.r.between(1*sec, 12*sec), func(t int64) {
			if c.open {
				c.seen++
				s.emit(t, CaseMessage, mk(tk("socketIO", "messageSeen"), "room [%s] id [%s]", c.ref, mid))
			}
		})
	}
}

// endContact closes the contact as the guide's End Contact example does,
// notifies the CTI and saves the transcript.
func (s *sim) endContact(t int64, c *contact) {
	if !c.open {
		return
	}
	a := c.agent
	s.close(c)
	first := mk(tk("socketIO", "endContact"), "from client with room [%s]", c.ref).ev("endContact")
	if a != nil && s.r.permille(400) {
		first = mk(tk("socketIO", "endContact"), "from agent [%s] with room [%s]", a.user, c.ref).ev("endContact")
	}
	s.burst(t, CaseEndContact,
		first,
		mk(tk("retrieveContactByChatID", "REDIS"), "Get contact for chat [%s]", c.ref),
		mk(tk("socketIO", "endContact"), "Contact [%s] not yet ended", c.ref).ev("endContact"),
		mk(tk("getIMChannelServiceMessage", "DOMAIN", tenantTok(c.t.name), "chatClosedSuccess"), ""))
	t += s.r.between(12*ms, 30*ms)
	u := c.t.cti + "/" + c.ref.id
	s.at(t, func(t int64) {
		s.burst(t, CaseEndContact,
			mk(tk("socketIO", "evaluateSendEndSuccessMessage"), "Service message from room [%s] with id [%s] type [chatClosedSuccess]",
				c.ref, messageID(s.r.uuid())),
			mk(tk("CT7PROTOCOL", tenantTok(c.t.name)), "endContact url:%s/%s", c.t.cti, c.ref).ev("endContact").url(u))
	})
	if s.r.permille(50) {
		// The other side's end request arrives too: already ended.
		s.at(t+s.r.between(100*ms, 900*ms), func(t int64) {
			s.burst(t, CaseEndContact,
				mk(tk("socketIO", "endContact"), "from client with room [%s]", c.ref).ev("endContact"),
				mk(tk("retrieveContactByChatID", "REDIS"), "Get contact for chat [%s]", c.ref),
				mk(tk("socketIO", "endContact"), "Contact [%s] already ended", c.ref).ev("endContact"))
		})
	}
	s.at(t+s.r.between(5*ms, 80*ms), func(t int64) { s.saveTranscript(t, c) })
}

// saveTranscript reads the messages, delivery and seen reports from Redis
// and saves them in MongoDB.
func (s *sim) saveTranscript(t int64, c *contact) {
	s.burst(t, CaseSaveTranscript,
		mk(tk("saveTranscript", tenantTok(c.t.name)), "Retrieve messages for contact [%s] from redis: %d", c.ref, c.msgs).ev("saveTranscript"),
		mk(tk("saveTranscript", "REDIS"), "Retrieve delivery reports for chat [%s]: %d", c.ref, c.delivered).ev("saveTranscript"),
		mk(tk("saveTranscript", "REDIS"), "Retrieve seen reports for chat [%s]: %d", c.ref, c.seen).ev("saveTranscript"))
	t += s.r.between(5*ms, 60*ms)
	saved := func(t int64) {
		s.burst(t, CaseSaveTranscript,
			mk(tk("MONGODB"), `Transcript [%s] saved in mongo db result:{"acknowledged":true,"insertedId":"%s"}`, c.ref, c.ref).ev("saveTranscript").payload().save(),
			mk(tk("REDIS"), "Delete contact [%s] from redis db: 1", c.ref))
	}
	if s.r.permille(20) {
		s.at(t, func(t int64) {
			s.emit(t, CaseError, mk(tk("saveTranscript", tenantTok(c.t.name)),
				"Save of transcript for contact [%s] failed, retrying in 5000 ms", c.ref).ev("saveTranscript").fail())
		})
		t += 5*sec + s.r.between(0, 80*ms)
	}
	s.at(t, saved)
}

// ---- agents -----------------------------------------------------------------

// jwtFor returns a JWT as an SSO portal would sign it for the agent, or ""
// when its encoding happens to hold a keyword.
func (s *sim) jwtFor(a *agent, t int64) string {
	enc := base64.RawURLEncoding
	iat := t / sec
	payload := `{"sub":"` + strings.TrimPrefix(a.user.id, "USER_") + `","domain":"` + a.t.name + `","iat":` + strconv.FormatInt(iat, 10) + `,"exp":` + strconv.FormatInt(iat+3600, 10) + `}`
	j := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + enc.EncodeToString([]byte(payload)) + "." + s.r.opaque(enc, 32)
	if hasKeywordWord(j) {
		return ""
	}
	return j
}

// login runs the Agent Login flow: the JWT is validated and a session ID
// returned; sid forces the session ID (the guide's).
func (s *sim) login(t int64, a *agent, sid sessionID) {
	if sid == "" {
		sid = sessionID(s.r.uuid())
	}
	a.login = true
	tn := a.t.name
	ds := []*draft{mk(tk("API", tenantTok(tn)), "POST /livechat/%s/login from agent [%s]", tn, a.user).ev("agentLogin")}
	if s.r.permille(350) {
		if j := s.jwtFor(a, t); j != "" {
			ds = append(ds, mk(tk("JWT", tenantTok(tn)), "Validating token [%s] for agent [%s]", j, a.user))
		}
	}
	ds = append(ds,
		mk(tk("JWT", tenantTok(tn)), "Token signature validated with shared secret for agent [%s]", a.user),
		mk(tk("agentLogin", tenantTok(tn)), "Session ID [%s] returned to agent [%s]", sid, a.user).ev("agentLogin"),
		mk(tk("REDIS"), "Set session [%s] for agent [%s] in redis db: ,OK,,1", sid, a.user))
	s.burst(t, CaseAgentLogin, ds...)
	s.at(t+s.r.between(150*ms, 1200*ms), func(t int64) {
		a.session, a.login = sid, false
		s.emit(t, CaseAgentLogin, mk(tk("socketIO", tenantTok(tn)), "Agent [%s] connected with ctlivetoken [%s]", a.user, sid))
	})
}

// churn logs an idle agent out, at the end of a shift or when its
// keepalives stop.
func (s *sim) churn(t int64) {
	var idle []*agent
	for _, tn := range s.tenants {
		for _, a := range tn.agents {
			if a.session != "" && !a.login && a.busy == 0 && !a.pinned {
				idle = append(idle, a)
			}
		}
	}
	if len(idle) == 0 {
		return
	}
	a := pick(s.r, idle)
	tn := a.t.name
	if s.r.permille(600) {
		s.emit(t, CaseRoutine, mk(tk("socketIO", "agentLogout", tenantTok(tn)), "Agent [%s] session [%s] closed, reason [explicitLogout]", a.user, a.session))
	} else {
		// The agent ID ends the sentence: its trailing dot is not part of it.
		s.emit(t, CaseWarning, mk(tk("keepalive", tenantTok(tn)), "warning: session [%s] expired (reason keepaliveExpired) for agent %s.", a.session, a.user).warn())
	}
	a.session = ""
}

// shift logs in an agent who starts working.
func (s *sim) shift(t int64) {
	var out []*agent
	for _, tn := range s.tenants {
		for _, a := range tn.agents {
			if a.session == "" && !a.login && !a.pinned {
				out = append(out, a)
			}
		}
	}
	if len(out) > 0 {
		s.login(t, pick(s.r, out), "")
	}
}

// loggedIn returns a random logged-in agent, or nil.
func (s *sim) loggedIn() *agent {
	var in []*agent
	for _, tn := range s.tenants {
		for _, a := range tn.agents {
			if a.session != "" && !a.login {
				in = append(in, a)
			}
		}
	}
	if len(in) == 0 {
		return nil
	}
	return pick(s.r, in)
}

func (s *sim) openContact(pred func(*contact) bool) *contact {
	var cs []*contact
	for _, c := range s.open {
		if pred(c) {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return nil
	}
	return pick(s.r, cs)
}

// ---- routine, warnings, errors ----------------------------------------------

func (s *sim) routine(t int64) {
	tn := s.pickTenant()
	switch n := s.r.intn(100); {
	case n < 30:
		if a := s.loggedIn(); a != nil {
			s.emit(t, CaseRoutine, mk(tk("socketIO", "keepalive"), "Agent [%s] session [%s]", a.user, a.session))
			return
		}
		fallthrough
	case n < 45:
		s.emit(t, CaseRoutine, mk(tk("REDIS", tenantTok(tn.name)), "Contacts waiting in queue: %d", s.r.between(0, 6)))
	case n < 55:
		s.emit(t, CaseRoutine, mk(tk("CTI", tenantTok(tn.name)), "Agents available: %d, contacts in queue: %d", s.r.between(0, 5), s.r.between(0, 6)))
	case n < 70:
		// The tenant is in the path only: the line has no tenant field.
		s.emit(t, CaseRoutine, mk(tk("HTTP"), "GET /livechat/%s/config 200 %d ms", tn.name, s.r.between(1, 15)))
	case n < 80:
		if a := s.loggedIn(); a != nil {
			s.emit(t, CaseRoutine, mk(tk("HTTP"), "GET /livechat/%s/contacts?ctlivetoken=%s 200 %d ms", a.t.name, a.session, s.r.between(2, 60)))
			return
		}
		fallthrough
	case n < 90:
		s.emit(t, CaseRoutine, mk(tk("socketIO"), "Client connected from 172.18.0.%d transport [websocket]", s.r.between(2, 40)))
	case n < 95:
		if c := s.openContact(func(c *contact) bool { return !c.social }); c != nil {
			// No tenant token, no contact ID: the tenant comes from the
			// customer's user ID.
			s.emit(t, CaseRoutine, mk(tk("socketIO", "identify"), "Customer [%s] reconnected", c.customer))
			return
		}
		fallthrough
	default:
		s.emit(t, CaseRoutine, mk(tk("MONGODB"), "Connection pool: %d in use, %d available", s.r.between(1, 8), s.r.between(2, 9)))
	}
}

func (s *sim) warning(t int64) {
	tn := s.pickTenant()
	switch n := s.r.intn(100); {
	case n < 30:
		if c := s.openContact(func(*contact) bool { return true }); c != nil {
			s.emit(t, CaseWarning, mk(tk("REDIS", tenantTok(c.t.name)), "warning: contact [%s] not found in redis, loading from mongo", c.ref).warn())
			return
		}
		fallthrough
	case n < 55:
		if a := s.loggedIn(); a != nil {
			s.emit(t, CaseWarning, mk(tk("socketIO", "keepalive"), "warn: agent [%s] missed %d keepalives", a.user, s.r.between(2, 4)).warn())
			return
		}
		fallthrough
	case n < 75:
		s.emit(t, CaseWarning, mk(tk("MONGODB"), "warn: slow query on collection transcripts: %d ms", s.r.between(500, 4000)).warn())
	default:
		s.emit(t, CaseWarning, mk(tk("HTTP", tenantTok(tn.name)), "warn: rate limit reached for /livechat/%s/contacts, retry after 1000 ms", tn.name).warn())
	}
}

func (s *sim) errorLine(t int64) {
	tn := s.pickTenant()
	switch n := s.r.intn(100); {
	case n < 35:
		s.emit(t, CaseError, mk(tk("CT7PROTOCOL", tenantTok(tn.name)), "newContact url:%s failed: connect ETIMEDOUT 10.20.0.15:443", tn.cti).
			ev("newContact").url(tn.cti).fail())
	case n < 60:
		a := pick(s.r, tn.agents)
		s.emit(t, CaseError, mk(tk("JWT", tenantTok(tn.name)), "Agent login failed for [%s]: invalid signature", a.user).ev("agentLogin").fail())
	case n < 80:
		if c := s.openContact(func(c *contact) bool { return c.ref.channel == "WHATSAPP" }); c != nil {
			s.emit(t, CaseError, mk(tk(webhookFn("WHATSAPP"), tenantTok(c.t.name)), "Delivery failure for message [%s] contact [%s]",
				s.socialID("WHATSAPP"), c.ref).fail())
			return
		}
		fallthrough
	default:
		s.emit(t, CaseError, mk(tk("REDIS"), "Connection to redis:6379 failed, reconnecting in 2000 ms").fail())
	}
}
