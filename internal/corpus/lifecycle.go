package corpus

import (
	"sort"
	"time"
)

// Lifecycle is the true life of one contact in a corpus, as the simulator
// wrote it: each line's contact, session, agent and event are the typed
// arguments it was written with (see line.go), never a reading of the text.
// It follows the lifecycle definition of ctlive-inspect (README): a field
// counts the records (an exception with its frames is one record) whose
// contactID is the contact's.
type Lifecycle struct {
	ContactID, Tenant, Channel string
	// Start and End are the times of the contact's first and last line that
	// has a timestamp (UTC); zero when none has one.
	Start, End time.Time
	Lines      int
	// Ended: a line with the endContact event carries the contact ID.
	Ended bool
	// TranscriptSaved: the simulator wrote the line that saves the
	// contact's transcript ("Transcript [...] saved in mongo db").
	TranscriptSaved bool
	// AgentSessions are the session IDs (clear) of the joinContact lines
	// that carry the contact ID, in the order of their first line.
	AgentSessions []string
	// Agents are the user IDs those sessions logged in with, from an
	// agentLogin line with the same session and a user ID anywhere in the
	// corpus, in the order of AgentSessions, each once.
	Agents []string
	// Exceptions counts exception records; Errors the other records of
	// level error.
	Exceptions, Errors int
}

// Lifecycles returns the life of every contact whose ID some record of
// recs carries, ordered by first line. recs must come from Generate or
// SampleRecords (in their order).
func Lifecycles(recs []Record) []Lifecycle {
	byID := map[string]*Lifecycle{}
	var order []*Lifecycle
	logins := map[string]string{} // session -> user ID
	for _, r := range recs {
		w := r.Want
		if w.Event == "agentLogin" && w.SessionID != "" && w.UserID != "" {
			if _, ok := logins[w.SessionID]; !ok {
				logins[w.SessionID] = w.UserID
			}
		}
		if w.ContactID == "" {
			continue
		}
		l := byID[w.ContactID]
		if l == nil {
			l = &Lifecycle{ContactID: w.ContactID, Channel: w.Channel}
			l.Tenant = w.ContactID[len(w.Channel)+1 : len(w.ContactID)-37]
			byID[w.ContactID] = l
			order = append(order, l)
		}
		l.Lines++
		if w.Time != "" {
			t, err := time.Parse(time.RFC3339Nano, w.Time)
			if err != nil {
				panic(err)
			}
			t = t.UTC()
			if l.Start.IsZero() || t.Before(l.Start) {
				l.Start = t
			}
			if t.After(l.End) {
				l.End = t
			}
		}
		switch {
		case w.Event == "endContact":
			l.Ended = true
		case w.Event == "exception":
			l.Exceptions++
		case w.Event == "joinContact" && w.SessionID != "":
			if !contains(l.AgentSessions, w.SessionID) {
				l.AgentSessions = append(l.AgentSessions, w.SessionID)
			}
		}
		if w.Level == "error" && w.Event != "exception" {
			l.Errors++
		}
		if r.saved {
			l.TranscriptSaved = true
		}
	}
	out := make([]Lifecycle, 0, len(order))
	for _, l := range order {
		for _, s := range l.AgentSessions {
			if u, ok := logins[s]; ok && !contains(l.Agents, u) {
				l.Agents = append(l.Agents, u)
			}
		}
		out = append(out, *l)
	}
	// Records are in time order except for a contact's lines without a
	// timestamp; order by start, the ID breaking ties.
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ContactID < out[j].ContactID
	})
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
