package lnav_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/onwire"
	"github.com/ctlive/ctlive-fluent-bit/parser"
)

// The questions of the support engineers' guide, answered by ctlive.sql's
// views and the ctlive-contact script, on the raw sample and on the stdout
// sink's JSON lines of the same sample; the answers are worked out here
// from the parser's reading of the sample's records.

// The guide's New Contact example, joined by the agent of its Agent Login
// section (the domain notes' jdoe).
const (
	guideContact = "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
	guideAgent   = "USER_jdoe@acd.example.com"
	guideLogin   = "Session ID [ab4e7aff-8627-434a-a2ef-7e200363197e] returned to agent [USER_jdoe@acd.example.com]"
)

type parsedRecord struct {
	first string // the first line
	r     parser.Result
}

func parsedSample() []*parsedRecord {
	var out []*parsedRecord
	for _, rec := range corpus.SampleRecords() {
		p := &parsedRecord{}
		p.first, _, _ = strings.Cut(rec.Line, "\n")
		oracle.Parse([]byte(rec.Line), &p.r)
		out = append(out, p)
	}
	return out
}

// contactLines returns the messages of the records of one contact, and of
// the records of its sessions that name no contact, in order, and the
// agents of those sessions.
func contactLines(recs []*parsedRecord, contact string) (msgs, agents []string) {
	sessions := map[string]bool{}
	for _, p := range recs {
		if string(p.r.ContactID) == contact && p.r.SessionID != nil {
			sessions[string(p.r.SessionID)] = true
		}
	}
	for _, p := range recs {
		if sessions[string(p.r.SessionID)] && p.r.UserID != nil && !slices.Contains(agents, string(p.r.UserID)) {
			agents = append(agents, string(p.r.UserID))
		}
		if string(p.r.ContactID) == contact || p.r.ContactID == nil && sessions[string(p.r.SessionID)] {
			msgs = append(msgs, string(p.r.Message))
		}
	}
	return msgs, agents
}

// exceptionsByTenant counts the exceptions of each tenant ("(none)" for
// none), as "TENANT n" lines.
func exceptionsByTenant(recs []*parsedRecord) []string {
	n := map[string]int{}
	for _, p := range recs {
		if p.r.Event == parser.EventException {
			t := string(p.r.Tenant)
			if t == "" {
				t = "(none)"
			}
			n[t]++
		}
	}
	var out []string
	for t, c := range n {
		out = append(out, fmt.Sprintf("%s %d", t, c))
	}
	slices.Sort(out)
	return out
}

func TestViewsAnswerTheGuidesQuestions(t *testing.T) {
	l := installed(t)
	recs := parsedSample()
	wantMsgs, wantAgents := contactLines(recs, guideContact)
	if !slices.Equal(wantAgents, []string{guideAgent}) || !slices.Contains(wantMsgs, guideLogin) {
		t.Fatalf("the sample no longer holds the guide's contact and its agent's login: agents %v", wantAgents)
	}
	wantExceptions := exceptionsByTenant(recs)
	jsonPath, _ := stdoutSinkLines(t)
	for _, src := range []struct{ name, path string }{
		{"raw lines", "../../testdata/sample.log"},
		{"the stdout sink's JSON lines", jsonPath},
	} {
		t.Run(src.name, func(t *testing.T) {
			rows := l.query(t, "SELECT agent, message FROM ctlive_contact_lines WHERE contact = '"+guideContact+"' ORDER BY log_line", src.path)
			var msgs []string
			for _, row := range rows {
				msgs = append(msgs, str(row, "message"))
				if a := str(row, "agent"); a != guideAgent {
					t.Errorf("agent %q, want %q: %s", a, guideAgent, str(row, "message"))
				}
			}
			want := wantMsgs
			if src.path == jsonPath { // the plugin's output: its session IDs are digests
				want = nil
				for _, m := range wantMsgs {
					want = append(want, onwire.Line(m))
				}
			}
			if !slices.Equal(msgs, want) {
				t.Errorf("the contact's lines:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
			}

			var got []string
			for _, row := range l.query(t, "SELECT tenant, exceptions FROM ctlive_exceptions_by_tenant", src.path) {
				got = append(got, str(row, "tenant")+" "+str(row, "exceptions"))
			}
			slices.Sort(got)
			if !slices.Equal(got, wantExceptions) {
				t.Errorf("exceptions by tenant: %v, want %v", got, wantExceptions)
			}

			rows = l.query(t, "SELECT agents, lines, exceptions FROM ctlive_contacts WHERE contactID = '"+guideContact+"'", src.path)
			if len(rows) != 1 || str(rows[0], "agents") != guideAgent {
				t.Errorf("ctlive_contacts: %v", rows)
			}
		})
	}
}

// The script lists the contact's lines with the agent's login, and leaves
// only those lines in lnav's log view.
func TestContactScriptShowsTheContactWithItsAgent(t *testing.T) {
	l := installed(t)
	wantMsgs, _ := contactLines(parsedSample(), guideContact)
	out := l.run(t, "-n", "-c", "|ctlive-contact "+guideContact, "../../testdata/sample.log")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(wantMsgs)+1 || !strings.Contains(lines[0], "agent") {
		t.Fatalf("%d lines, want a header and %d rows:\n%s", len(lines), len(wantMsgs), out)
	}
	for i, line := range lines[1:] {
		if !strings.Contains(line, guideAgent) || !strings.Contains(line, firstWords(wantMsgs[i])) {
			t.Errorf("row %d: %q, want the agent and %q", i, line, wantMsgs[i])
		}
	}
	// None of the contact's records has a stack: one line each.
	rows := l.queryAfter(t, []string{"|ctlive-contact " + guideContact},
		"SELECT inner_height FROM lnav_views WHERE name = 'log'", "../../testdata/sample.log")
	if len(rows) != 1 || str(rows[0], "inner_height") != fmt.Sprint(len(wantMsgs)) {
		t.Errorf("the log view shows %v lines, want %d", rows, len(wantMsgs))
	}
}

// firstWords is what of a message surely fits a column of lnav's table,
// which shortens long values in the middle.
func firstWords(msg string) string {
	if len(msg) > 20 {
		return msg[:20]
	}
	return msg
}
