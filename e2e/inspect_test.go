package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/inspect"
	"github.com/ctlive/ctlive-fluent-bit/internal/vlogs"
)

// inspectCorpus is an interleaved corpus cut just after a contact's end, so
// that some contacts are open and one ended without a saved transcript.
func inspectCorpus() []corpus.Record {
	recs := corpus.Generate(51, 4000)
	for i := len(recs) - 1; i > 0; i-- {
		if recs[i].Want.Event == "endContact" {
			return recs[:i+1]
		}
	}
	return recs
}

// timedChunks encodes records as tail reads them while they are written:
// each record's time is its line's, or the last line's before it for a line
// without a timestamp.
func timedChunks(recs []corpus.Record, size int) [][]byte {
	var out [][]byte
	var b []byte
	last := time.Date(2025, 2, 27, 0, 0, 0, 0, time.UTC)
	for i, r := range recs {
		if r.Want.Time != "" {
			t, err := time.Parse(time.RFC3339Nano, r.Want.Time)
			if err != nil {
				panic(err)
			}
			last = t
		}
		b = flbhost.AppendV2(b, flbhost.EventTime(last), flbhost.Map{}, flbhost.Map{{Key: "log", Value: r.Line}})
		if (i+1)%size == 0 || i == len(recs)-1 {
			out = append(out, b)
			b = nil
		}
	}
	return out
}

// inspectRun runs ctlive-inspect in-process and fails the test on a
// non-zero exit.
func inspectRun(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := inspect.Run(args, inspect.Env{Stdout: &out, Stderr: &errOut}); code != 0 {
		t.Fatalf("ctlive-inspect %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

func writeLog(t *testing.T, recs []corpus.Record) string {
	t.Helper()
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.Line + "\n")
	}
	p := filepath.Join(t.TempDir(), "ctlive.log")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sessionForm is the flag that makes the file's sessions take the form the
// plugin wrote into the store: its digest, or the clear ID while the plugin
// writes sessions in clear.
func sessionForm(fromStore string) []string {
	if strings.Contains(fromStore, `"agentSessions":["sha256:`) {
		return nil
	}
	return []string{"--no-redact"}
}

// shipToStore sends recs through the real library (the host, the
// Elasticsearch sink, two workers, props added) into a fresh VictoriaLogs
// and waits until every record is stored.
func shipToStore(t *testing.T, recs []corpus.Record, props ...string) *vlogs.Server {
	t.Helper()
	vl := vlogs.Start(t)
	h := start(t)
	in := h.New(append([]string{"match", "raw.*", "sink", "elasticsearch", "url", esURL(vl.URL()), "workers", "2"}, props...)...)
	if in.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	for i, ret := range in.FlushConcurrent("raw.ctlive", timedChunks(recs, 400), 2) {
		if ret != flbhost.FLBOK {
			t.Fatalf("flush %d = %d\n%s", i, ret, h.Stderr())
		}
	}
	vl.WaitCount(t, `*`, len(recs), 20*time.Second)
	return vl
}

// TestInspectReadsTheStoreThePluginFilled: the corpus shipped into a real
// VictoriaLogs by the plugin (the .so through the host, Elasticsearch bulk
// API) and read back with --from gives the same contacts, tenants,
// exceptions and timeline as the log file itself.
func TestInspectReadsTheStoreThePluginFilled(t *testing.T) {
	recs := inspectCorpus()
	vl := shipToStore(t, recs)
	file := writeLog(t, recs)
	from := []string{"--from", "vlogs+" + vl.URL(), "--since", "2025-02-27T00:00:00Z", "--until", "2025-02-28T00:00:00Z"}

	stored := inspectRun(t, append([]string{"contacts", "--json"}, from...)...)
	form := sessionForm(stored)
	if want := inspectRun(t, append(append([]string{"contacts", "--json"}, form...), file)...); stored != want {
		t.Errorf("contacts from the store differ from the file's:\n%s", lineDiff(stored, want))
	}
	if !strings.Contains(stored, `"transcriptSaved":false`) || !strings.Contains(stored, `"agents":["USER_`) {
		t.Errorf("the corpus lacks the cases this test is for:\n%.2000s", stored)
	}
	for _, cmd := range [][]string{{"tenants", "--json"}, {"exceptions", "--json"}, {"contacts", "--tenant", "ACME_EU", "--ended-without-transcript"}} {
		got := inspectRun(t, append(cmd, from...)...)
		if want := inspectRun(t, append(append(cmd, form...), file)...); got != want {
			t.Errorf("%s from the store differs from the file's:\n%s", cmd[0], lineDiff(got, want))
		}
	}
	// A narrow window: agents who logged in before it still name their
	// sessions, in the store's answer and in the file's. (Line counts may
	// differ there: a line without its own timestamp is placed by the
	// store's time, README "Reading the store".)
	narrow := []string{"--since", "2025-02-27T17:19:40Z", "--until", "2025-02-27T17:20:10Z"}
	storedAgents := agentsByContact(t, inspectRun(t, append([]string{"contacts", "--json", "--from", "vlogs+" + vl.URL()}, narrow...)...))
	fileAgents := agentsByContact(t, inspectRun(t, append(append(append([]string{"contacts", "--json"}, form...), narrow...), file)...))
	named := 0
	for id, agents := range fileAgents {
		if s, ok := storedAgents[id]; ok && s != agents {
			t.Errorf("%s in a narrow window: agents %s from the store, %s from the file", id, s, agents)
		}
		if agents != "" {
			named++
		}
	}
	if named == 0 {
		t.Errorf("the narrow window holds no contact with an agent")
	}
	// The guide's New Contact: its agent joined with the guide's session.
	id := "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
	got := inspectRun(t, "contact", id, "--json", "--from", "vlogs+"+vl.URL())
	if want := inspectRun(t, append(append([]string{"contact", id, "--json"}, form...), file)...); got != want {
		t.Errorf("the contact's timeline from the store differs from the file's:\n%s", lineDiff(got, want))
	}
	if !strings.Contains(got, `"kind":"login"`) {
		t.Errorf("no login line in the timeline:\n%s", got)
	}
	// The report from the store flags the same contacts, with their strips.
	report := filepath.Join(t.TempDir(), "report.html")
	inspectRun(t, append([]string{"report", "-o", report}, from...)...)
	html, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	flagged := jsonLines(t, inspectRun(t, append([]string{"contacts", "--json", "--ended-without-transcript"}, from...)...))
	if len(flagged) == 0 {
		t.Fatal("no contact ended without a saved transcript")
	}
	for _, row := range flagged {
		c, _ := row["contactID"].(string)
		if !strings.Contains(string(html), c) || !strings.Contains(string(html), `aria-label="lines of `+c) {
			t.Errorf("the report lacks %s or its strip", c)
		}
	}
}

// TestInspectReadsThePluginsJSONLines: the stdout sink's JSON lines give the
// same rows as the raw log they came from.
func TestInspectReadsThePluginsJSONLines(t *testing.T) {
	h := start(t)
	in := h.New("match", "*", "sink", "stdout")
	if in.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	recs := inspectCorpus()
	for _, c := range timedChunks(recs, 500) {
		if ret := in.Flush("raw.ctlive", c); ret != flbhost.FLBOK {
			t.Fatalf("flush = %d\n%s", ret, h.Stderr())
		}
	}
	in.Exit()
	h.Close()
	jsonl := filepath.Join(t.TempDir(), "ctlive.jsonl")
	if err := os.WriteFile(jsonl, []byte(h.Stdout()), 0o644); err != nil {
		t.Fatal(err)
	}
	fromJSON := inspectRun(t, "contacts", "--json", jsonl)
	if want := inspectRun(t, append(append([]string{"contacts", "--json"}, sessionForm(fromJSON)...), writeLog(t, recs))...); fromJSON != want {
		t.Errorf("contacts from the JSON lines differ from the log's:\n%s", lineDiff(fromJSON, want))
	}
}

// lineDiff shows the first lines that differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	n := 0
	for i := 0; i < max(len(g), len(w)) && n < 5; i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			n++
			fmt.Fprintf(&b, "line %d:\n got  %s\n want %s\n", i+1, gl, wl)
		}
	}
	fmt.Fprintf(&b, "(%d lines, want %d)", len(g), len(w))
	return b.String()
}

// TestInspectMatchesAMaskedStore: with the plugin's mask_key and `mask
// userID`, the tool given the same key writes sessions and agents in the
// forms the plugin stored, so the store's rows and the file's agree.
func TestInspectMatchesAMaskedStore(t *testing.T) {
	recs := inspectCorpus()
	vl := shipToStore(t, recs, "mask", "userID", "mask_key", "sixteen-bytes-key")
	stored := inspectRun(t, "contacts", "--json", "--from", "vlogs+"+vl.URL(), "--since", "2025-02-27T00:00:00Z", "--until", "2025-02-28T00:00:00Z")
	file := inspectRun(t, "contacts", "--json", "--mask-key", "sixteen-bytes-key", "--mask", "userID", writeLog(t, recs))
	if stored != file {
		t.Errorf("contacts from the masked store differ from the file's with the same key:\n%s", lineDiff(stored, file))
	}
	if !strings.Contains(stored, `"agents":["USER_hmac:`) || !strings.Contains(stored, `"agentSessions":["hmac:`) {
		t.Errorf("the store's IDs are not in the keyed forms:\n%.1500s", stored)
	}
}

// agentsByContact reads `contacts --json` rows: contactID -> agents, joined.
func agentsByContact(t *testing.T, ndjson string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(ndjson), "\n") {
		var row struct {
			ContactID string   `json:"contactID"`
			Agents    []string `json:"agents"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("not a contacts row: %q: %v", line, err)
		}
		out[row.ContactID] = strings.Join(row.Agents, ",")
	}
	return out
}
