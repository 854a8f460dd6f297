package inspect

import (
	"encoding/json"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/redact"
)

// wantRow is the NDJSON row the lifecycle definition gives for l, with
// sessions and users through the given forms.
func wantRow(l corpus.Lifecycle, session, user func(string) string) map[string]any {
	m := map[string]any{"contactID": l.ContactID, "tenant": l.Tenant, "channel": l.Channel,
		"lines": json.Number(itoa(int64(l.Lines))), "ended": l.Ended, "transcriptSaved": l.TranscriptSaved,
		"exceptions": json.Number(itoa(int64(l.Exceptions))), "errors": json.Number(itoa(int64(l.Errors)))}
	if !l.Start.IsZero() {
		m["start"] = l.Start.Format(TimeLayout)
		m["end"] = l.End.Format(TimeLayout)
		m["durationSeconds"] = new(big.Rat).SetFrac64(l.End.Sub(l.Start).Nanoseconds(), 1e9)
	}
	var ss, us []any
	for _, s := range l.AgentSessions {
		ss = append(ss, session(s))
	}
	for _, u := range l.Agents {
		us = append(us, user(u))
	}
	if ss != nil {
		m["agentSessions"] = ss
	}
	if us != nil {
		m["agents"] = us
	}
	return m
}

// compareRows checks the tool's rows against the truth: the same contacts,
// each row exactly the lifecycle, rows ordered by start.
func compareRows(t *testing.T, got []map[string]any, truth []corpus.Lifecycle, session, user func(string) string) {
	t.Helper()
	want := map[string]map[string]any{}
	for _, l := range truth {
		want[l.ContactID] = wantRow(l, session, user)
	}
	if len(got) != len(want) {
		t.Errorf("%d rows, the corpus has %d contacts", len(got), len(want))
	}
	bad := 0
	lastStart := ""
	for _, g := range got {
		id, _ := g["contactID"].(string)
		w, ok := want[id]
		if !ok {
			t.Errorf("row for a contact the corpus does not have: %v", g)
			continue
		}
		if d, ok := g["durationSeconds"].(json.Number); ok {
			r, ok := new(big.Rat).SetString(string(d))
			if !ok {
				t.Errorf("%s: durationSeconds %q", id, d)
			}
			g["durationSeconds"] = r
		}
		if !equalRow(g, w) {
			if bad++; bad <= 5 {
				t.Errorf("contact %s:\n got  %v\n want %v", id, g, w)
			}
		}
		if s, _ := g["start"].(string); s != "" {
			if s < lastStart {
				t.Errorf("rows not ordered by start: %s after %s", s, lastStart)
			}
			lastStart = s
		}
	}
	if bad > 5 {
		t.Errorf("... %d rows differ", bad)
	}
}

func equalRow(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok {
			return false
		}
		switch v := v.(type) {
		case *big.Rat:
			if wr, ok := w.(*big.Rat); !ok || v.Cmp(wr) != 0 {
				return false
			}
		case []any:
			wl, ok := w.([]any)
			if !ok || !slices.Equal(v, wl) {
				return false
			}
		default:
			if v != w {
				return false
			}
		}
	}
	return true
}

func clear(s string) string { return s }

var unkeyed = redact.NewDigester(nil).Token

// TestContactsMatchTheSimulatorsTruth: `contacts --json` on interleaved
// corpora gives every contact's true lifecycle (overlapping contacts, agents
// serving several contacts, contacts still open or ended without a saved
// transcript at the end of the log, exceptions with their frames on
// continuation lines, the guide's lines), whatever form the log is in.
func TestContactsMatchTheSimulatorsTruth(t *testing.T) {
	recs := cutAfterEnd(corpus.Generate(41, 12000))
	truth := corpus.Lifecycles(recs)
	raw := rawLog(recs)
	half := len(recs) / 2
	sample := corpus.SampleRecords()

	cases := []struct {
		name    string
		stdin   []byte
		args    func(t *testing.T) []string
		truth   []corpus.Lifecycle
		session func(string) string
	}{
		{"a raw log, sessions as the plugin writes them", nil, func(t *testing.T) []string {
			return []string{writeFile(t, "ctlive.log", raw)}
		}, truth, unkeyed},
		{"a raw log with --no-redact", nil, func(t *testing.T) []string {
			return []string{"--no-redact", writeFile(t, "ctlive.log", raw)}
		}, truth, clear},
		{"gzip", nil, func(t *testing.T) []string {
			return []string{writeFile(t, "ctlive.log.gz", raw)}
		}, truth, unkeyed},
		{"the log in two files, merged", nil, func(t *testing.T) []string {
			return []string{writeFile(t, "b.log", rawLog(recs[half:])), writeFile(t, "a.log", rawLog(recs[:half]))}
		}, truth, unkeyed},
		{"standard input", raw, func(t *testing.T) []string { return []string{"-"} }, truth, unkeyed},
		{"one worker", nil, func(t *testing.T) []string {
			return []string{"--workers", "1", writeFile(t, "ctlive.log", raw)}
		}, truth, unkeyed},
		{"sample.log: every frame with its own prefix and timestamp", nil, func(t *testing.T) []string {
			return []string{writeFile(t, "sample.log", corpus.Sample())}
		}, corpus.Lifecycles(sample), unkeyed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"contacts", "--json"}, c.args(t)...)
			out, errOut, code := runStdin(t, c.stdin, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			compareRows(t, ndjson(t, out), c.truth, c.session, clear)
		})
	}
}

// TestContactsWithTheStoresKey: with the plugin's mask_key and `mask
// userID`, sessions and agents take the keyed forms the plugin writes
// (README, "What leaves the agent": USER_ and the login's HMAC).
func TestContactsWithTheStoresKey(t *testing.T) {
	recs := corpus.Generate(43, 3000)
	keyed := redact.NewDigester([]byte("k3y-k3y-k3y-k3y-k3y")).Token
	maskedUser := func(u string) string { return "USER_" + keyed(strings.TrimPrefix(u, "USER_")) }
	out := mustRun(t, "contacts", "--json", "--mask-key", "k3y-k3y-k3y-k3y-k3y", "--mask", "userID", writeFile(t, "ctlive.log", rawLog(recs)))
	compareRows(t, ndjson(t, out), corpus.Lifecycles(recs), keyed, maskedUser)
}

// TestContactsSpanTheWholeRunOfBlocks: a log larger than one block is cut
// between records, never inside a stack trace.
func TestContactsSpanTheWholeRunOfBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 60,000 records")
	}
	recs := corpus.Generate(47, 60000) // ~11 MB: three blocks
	raw := rawLog(recs)
	if len(raw) < 2*blockSize {
		t.Fatalf("the corpus is %d bytes, not several blocks", len(raw))
	}
	out := mustRun(t, "contacts", "--json", writeFile(t, "ctlive.log", raw))
	compareRows(t, ndjson(t, out), corpus.Lifecycles(recs), unkeyed, clear)
}
