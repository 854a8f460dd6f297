package corpus

import (
	"slices"
	"testing"
)

// TestLifecyclesOfTheGuidesContacts: the contacts of the guide's examples
// live the lives the package comment describes.
func TestLifecyclesOfTheGuidesContacts(t *testing.T) {
	byID := map[string]Lifecycle{}
	for _, l := range Lifecycles(Generate(3, 6000)) {
		byID[l.ContactID] = l
	}
	end := byID["CHAT_AGM_"+realEndContactUUID]
	if !end.Ended || !end.TranscriptSaved || end.Tenant != "AGM" || end.Channel != "CHAT" {
		t.Errorf("the End Contact example's contact: %+v", end)
	}
	started := byID["CHAT_AGM_"+realNewContactUUID]
	if started.Start.Format(layout) != "2025-02-27T17:19:20.129613061Z" || !slices.Equal(started.AgentSessions, []string{realSessionID}) ||
		!slices.Equal(started.Agents, []string{"USER_" + realAgentLogin}) {
		t.Errorf("the New Contact example's contact: %+v", started)
	}
	missing := byID["CHAT_AGM_"+realMissingUUID]
	if missing.Lines != 1 || missing.Exceptions != 1 || missing.Ended {
		t.Errorf("the exception's missing contact: %+v", missing)
	}
}

// TestLifecyclesCoverEveryKindOfContact: a corpus of a few thousand records,
// cut just after a contact's end as a log being written is, holds the cases
// ctlive-inspect is tested on.
func TestLifecyclesCoverEveryKindOfContact(t *testing.T) {
	recs := Generate(5, 8000)
	cut := len(recs) - 1
	for recs[cut].Want.Event != "endContact" {
		cut--
	}
	var open, endedUnsaved, withExc, severalContactsPerAgent, errors int
	perSession := map[string]int{}
	for _, l := range Lifecycles(recs[:cut+1]) {
		switch {
		case !l.Ended:
			open++
		case !l.TranscriptSaved:
			endedUnsaved++
		}
		if l.Exceptions > 0 {
			withExc++
		}
		errors += l.Errors
		for _, s := range l.AgentSessions {
			perSession[s]++
		}
	}
	for _, n := range perSession {
		if n > 1 {
			severalContactsPerAgent++
		}
	}
	if open == 0 || endedUnsaved == 0 || withExc == 0 || severalContactsPerAgent == 0 || errors == 0 {
		t.Errorf("open %d, ended without transcript %d, with exceptions %d, sessions serving several contacts %d, errors %d",
			open, endedUnsaved, withExc, severalContactsPerAgent, errors)
	}
}
