package inspect

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
)

// TestContactTimeline: `contact ID` gives the contact's lifecycle, then
// every line that carries its ID, its agents' login lines (found wherever
// they are) and their sessions' other lines inside its span, in time order,
// whether the log is plain, gzip, standard input or several files.
func TestContactTimeline(t *testing.T) {
	recs := cutAfterEnd(corpus.Generate(83, 12000))
	truth := map[string]corpus.Lifecycle{}
	for _, l := range corpus.Lifecycles(recs) {
		truth[l.ContactID] = l
	}
	// Contacts worth a look: the guide's New Contact and End Contact, one
	// whose agent serves other contacts at the same time, one without an
	// agent, one with an exception and its frames.
	served := map[string]int{}
	for _, l := range truth {
		for _, s := range l.AgentSessions {
			served[s]++
		}
	}
	ids := []string{"CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", "CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024"}
	for _, want := range []func(corpus.Lifecycle) bool{
		func(l corpus.Lifecycle) bool {
			return len(l.AgentSessions) == 1 && served[l.AgentSessions[0]] > 2 && len(l.Agents) == 1
		},
		func(l corpus.Lifecycle) bool { return len(l.AgentSessions) == 0 && l.Lines > 3 },
		func(l corpus.Lifecycle) bool { return l.Exceptions > 0 && l.Lines > 3 },
	} {
		for _, l := range corpus.Lifecycles(recs) {
			if want(l) && !slices.Contains(ids, l.ContactID) {
				ids = append(ids, l.ContactID)
				break
			}
		}
	}
	if len(ids) != 5 {
		t.Fatalf("the corpus lacks a kind of contact: %v", ids)
	}
	raw := rawLog(recs)
	half := len(recs) / 3
	inputs := []struct {
		name  string
		stdin []byte
		files func(t *testing.T) []string
	}{
		{"plain", nil, func(t *testing.T) []string { return []string{writeFile(t, "ctlive.log", raw)} }},
		{"gzip", nil, func(t *testing.T) []string { return []string{writeFile(t, "ctlive.log.gz", raw)} }},
		{"standard input", raw, func(t *testing.T) []string { return []string{"-"} }},
		{"two files", nil, func(t *testing.T) []string {
			return []string{writeFile(t, "a.log", rawLog(recs[:half])), writeFile(t, "b.log", rawLog(recs[half:]))}
		}},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			files := in.files(t)
			for _, id := range ids {
				out, errOut, code := runStdin(t, in.stdin, append([]string{"contact", id, "--json", "--no-redact"}, files...)...)
				if code != 0 {
					t.Fatalf("%s: exit %d: %s", id, code, errOut)
				}
				rows := ndjson(t, out)
				l := truth[id]
				compareRows(t, rows[:1], []corpus.Lifecycle{l}, clear, clear)
				checkEntries(t, l, rows[1:])
			}
		})
	}
}

// checkEntries: the contact's lines, one login per session that has one,
// the sessions' lines inside the span, in time order.
func checkEntries(t *testing.T, l corpus.Lifecycle, entries []map[string]any) {
	t.Helper()
	kinds := map[string]int{}
	last := ""
	for _, e := range entries {
		kind, _ := e["kind"].(string)
		kinds[kind]++
		when, _ := e["time"].(string)
		if when != "" {
			if when < last {
				t.Errorf("%s: entries out of time order: %s after %s", l.ContactID, when, last)
			}
			last = when
		}
		switch kind {
		case "login", "session":
			if s, _ := e["sessionID"].(string); !slices.Contains(l.AgentSessions, s) {
				t.Errorf("%s: a %s line of another session: %v", l.ContactID, kind, e)
			}
		}
		if kind == "session" && when != "" && (when < l.Start.Format(TimeLayout) || when > l.End.Format(TimeLayout)) {
			t.Errorf("%s: a session line outside the contact's span: %v", l.ContactID, e)
		}
		if e["event"] == "exception" && e["stack"] == nil {
			t.Errorf("%s: an exception without its stack: %v", l.ContactID, e)
		}
	}
	if kinds["contact"] != l.Lines {
		t.Errorf("%s: %d lines of the contact, want %d", l.ContactID, kinds["contact"], l.Lines)
	}
	if kinds["login"] != len(l.Agents) {
		t.Errorf("%s: %d login lines, want one per agent found (%v)", l.ContactID, kinds["login"], l.Agents)
	}
	if len(l.AgentSessions) > 0 && kinds["session"] == 0 && !strings.HasPrefix(l.ContactID, "CHAT_AGM_2b24cc95") {
		t.Errorf("%s: no line of its agents' sessions", l.ContactID)
	}
}

// A timeline shows a raw log's lines as the plugin ships them: JWTs,
// Bearer and ct7Token values and passwords replaced like sessions, in the
// message and the stack; --no-redact shows them as written.
func TestTimelineShowsLinesAsThePluginShipsThem(t *testing.T) {
	const (
		jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqZG9lIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
		cid = "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
	)
	log := writeFile(t, "ctlive.log", []byte(
		"ctlive | 2025-02-27T17:19:20.129613061Z [socketIO] newContact. Generate UUID ["+cid+"]\n"+
			"ctlive | 2025-02-27T17:19:21.000000000Z [HTTP] [AGM] GET /contacts/"+cid+" Authorization: Bearer "+jwt+"\n"+
			"ctlive | 2025-02-27T17:19:22.000000000Z [MONGODB] [AGM] TypeError: login for "+cid+" failed password=hunter2-Pa55\n"+
			"    at check (/app/auth.js:1:1) ct7Token=c7t-5e6f7a8b9c0d1e2f\n"))
	out := mustRun(t, "contact", "--json", cid, log)
	for _, clear := range []string{jwt, "hunter2-Pa55", "c7t-5e6f7a8b9c0d1e2f"} {
		if strings.Contains(out, clear) {
			t.Errorf("the timeline shows %q in clear:\n%s", clear, out)
		}
	}
	if !strings.Contains(out, "sha256:") || !strings.Contains(out, "[redacted]") {
		t.Errorf("no digest or [redacted] in the timeline:\n%s", out)
	}
	if out := mustRun(t, "contact", "--json", "--no-redact", cid, log); !strings.Contains(out, jwt) {
		t.Errorf("--no-redact hides the JWT:\n%s", out)
	}
}

// A session is one UUID in any letter case (its digest lower-cases it): an
// agent's login written in capitals still names the agent of a join written
// in lower case, in `contacts` and `contact ID`, redacted or not, and the
// session's other lines in either case are in the timeline.
func TestASessionInAnotherCaseIsTheSameSession(t *testing.T) {
	const contact = "CHAT_AGM_11111111-aaaa-4bbb-8ccc-000000000001"
	join := writeFile(t, "a.log", []byte("ctlive  | 2025-03-01T10:00:01.000000000Z [socketIO] [joinContact] agent [USER_alice@agm.example] session [5e55a0a1-0000-4000-8000-00000000aaaa] room ["+contact+"]\n"+
		"ctlive  | 2025-03-01T10:00:09.000000000Z [socketIO] [AGM] endContact room ["+contact+"]\n"))
	login := writeFile(t, "b.log", []byte("ctlive  | 2025-03-01T09:59:00.000000000Z [JWT] [AGM] agentLogin login ok user [USER_alice@agm.example] session [5E55A0A1-0000-4000-8000-00000000AAAA]\n"+
		"ctlive  | 2025-03-01T10:00:04.000000000Z [socketIO] [AGM] ping session [5E55A0A1-0000-4000-8000-00000000AAAA] upper\n"))
	for _, redact := range [][]string{nil, {"--no-redact"}} {
		var c struct {
			Agents []string `json:"agents"`
		}
		out := mustRun(t, append([]string{"contacts", "--json", join, login}, redact...)...)
		if err := json.Unmarshal([]byte(out), &c); err != nil || !slices.Equal(c.Agents, []string{"USER_alice@agm.example"}) {
			t.Errorf("contacts %v: agents %v (%v), want the agent of the capitals' login: %s", redact, c.Agents, err, out)
		}
		out = mustRun(t, append([]string{"contact", contact, join, login}, redact...)...)
		for _, want := range []string{"agentLogin login ok", "ping session", "USER_alice@agm.example"} {
			if !strings.Contains(out, want) {
				t.Errorf("contact %v lacks %q:\n%s", redact, want, out)
			}
		}
	}
}

// An agent logs in before --since and joins a contact inside the window:
// the login still names the agent, in contacts and in the contact's
// timeline, as the store's answer does (VictoriaLogs.logins reads logins
// before --until). A login after the window names no one.
func TestALoginBeforeTheWindowStillNamesTheAgent(t *testing.T) {
	const contact = "CHAT_AGM_11111111-aaaa-4bbb-8ccc-000000000002"
	log := writeFile(t, "ctlive.log", []byte(
		"ctlive  | 2025-03-01T08:00:00.000000000Z [JWT] [AGM] agentLogin login ok user [USER_alice@agm.example] session [5e55a0a1-0000-4000-8000-00000000bbbb]\n"+
			"ctlive  | 2025-03-01T10:00:01.000000000Z [socketIO] [joinContact] agent [USER_alice@agm.example] session [5e55a0a1-0000-4000-8000-00000000bbbb] room ["+contact+"]\n"+
			"ctlive  | 2025-03-01T10:00:09.000000000Z [socketIO] [AGM] endContact room ["+contact+"]\n"+
			"ctlive  | 2025-03-01T10:00:01.000000000Z [socketIO] [joinContact] agent [USER_bob@agm.example] session [5e55a0a1-0000-4000-8000-00000000cccc] room ["+contact+"]\n"+
			"ctlive  | 2025-03-01T12:00:00.000000000Z [JWT] [AGM] agentLogin login ok user [USER_bob@agm.example] session [5e55a0a1-0000-4000-8000-00000000cccc]\n"))
	window := []string{"--since", "2025-03-01T09:00:00Z", "--until", "2025-03-01T11:00:00Z"}
	var c struct {
		Agents []string `json:"agents"`
	}
	out := mustRun(t, append([]string{"contacts", "--json", log}, window...)...)
	if err := json.Unmarshal([]byte(out), &c); err != nil || !slices.Equal(c.Agents, []string{"USER_alice@agm.example"}) {
		t.Errorf("contacts: agents %v (%v), want alice's, whose login is before the window: %s", c.Agents, err, out)
	}
	out = mustRun(t, append([]string{"contact", contact, log}, window...)...)
	if !strings.Contains(out, "2025-03-01 08:00:00") || !strings.Contains(out, "agentLogin login ok user [USER_alice") {
		t.Errorf("contact: lacks alice's login before the window:\n%s", out)
	}
	if strings.Contains(out, "2025-03-01 12:00:00") {
		t.Errorf("contact: shows bob's login after the window:\n%s", out)
	}
}
