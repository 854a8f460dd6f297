package inspect

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/redact"
)

// inWindow keeps the records whose own time is in [since, until): what a
// window lets the tool count.
func inWindow(recs []corpus.Record, since, until string) []corpus.Record {
	s, _ := time.Parse(time.RFC3339Nano, since)
	u, _ := time.Parse(time.RFC3339Nano, until)
	var out []corpus.Record
	for _, r := range recs {
		t, err := time.Parse(time.RFC3339Nano, r.Want.Time)
		if err == nil && !t.Before(s) && t.Before(u) {
			out = append(out, r)
		}
	}
	return out
}

// windowed is what a window lets the tool see: the records inside it
// (inWindow), and the agents' logins before it, which still name the agent
// of a session that joins a contact inside the window.
func windowed(recs []corpus.Record, since, until string) []corpus.Record {
	s, _ := time.Parse(time.RFC3339Nano, since)
	var out []corpus.Record
	for _, r := range recs {
		t, err := time.Parse(time.RFC3339Nano, r.Want.Time)
		if err == nil && t.Before(s) && r.Want.Event == "agentLogin" && r.Want.SessionID != "" && r.Want.UserID != "" {
			out = append(out, r)
		}
	}
	return append(out, inWindow(recs, since, until)...)
}

// TestContactsFilters: each filter keeps exactly the contacts the
// definition says, with the lifecycle rows unchanged.
func TestContactsFilters(t *testing.T) {
	recs := cutAfterEnd(corpus.Generate(71, 10000))
	log := writeFile(t, "ctlive.log", rawLog(recs))
	all := corpus.Lifecycles(recs)
	keep := func(f func(l corpus.Lifecycle) bool) []corpus.Lifecycle {
		var out []corpus.Lifecycle
		for _, l := range all {
			if f(l) {
				out = append(out, l)
			}
		}
		return out
	}
	const since, until = "2025-02-27T17:19:30Z", "2025-02-27T17:21:00Z"
	cases := []struct {
		name string
		args []string
		want []corpus.Lifecycle
	}{
		{"--tenant", []string{"--tenant", "ACME_EU"}, keep(func(l corpus.Lifecycle) bool { return l.Tenant == "ACME_EU" })},
		{"--tenant repeated", []string{"--tenant", "AGM", "--tenant", "DEFAULT"},
			keep(func(l corpus.Lifecycle) bool { return l.Tenant == "AGM" || l.Tenant == "DEFAULT" })},
		{"--tenant with commas", []string{"--tenant", "AGM,TENANT1"},
			keep(func(l corpus.Lifecycle) bool { return l.Tenant == "AGM" || l.Tenant == "TENANT1" })},
		{"--tenant matches exactly", []string{"--tenant", "agm"}, nil},
		{"--open", []string{"--open"}, keep(func(l corpus.Lifecycle) bool { return !l.Ended })},
		{"--ended-without-transcript", []string{"--ended-without-transcript"},
			keep(func(l corpus.Lifecycle) bool { return l.Ended && !l.TranscriptSaved })},
		{"--with-exceptions", []string{"--with-exceptions"}, keep(func(l corpus.Lifecycle) bool { return l.Exceptions > 0 })},
		{"filters combine", []string{"--tenant", "AGM", "--with-exceptions"},
			keep(func(l corpus.Lifecycle) bool { return l.Tenant == "AGM" && l.Exceptions > 0 })},
		{"--since/--until count only the lines inside, and logins before", []string{"--since", since, "--until", until},
			corpus.Lifecycles(windowed(recs, since, until))},
		{"flags after the file", []string{log, "--open"}, keep(func(l corpus.Lifecycle) bool { return !l.Ended })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"contacts", "--json"}, c.args...)
			if !slices.Contains(c.args, log) {
				args = append(args, log)
			}
			got := ndjson(t, mustRun(t, args...))
			if len(c.want) == 0 && c.name != "--tenant matches exactly" {
				t.Fatal("the corpus has no contact for this case")
			}
			compareRows(t, got, c.want, unkeyed, clear)
		})
	}
}

// TestErrorsGiveOneLineAndAnExitCode: every failure is one line on stderr
// and a non-zero exit; nothing on stdout.
func TestErrorsGiveOneLineAndAnExitCode(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, "ctlive.log", corpus.Sample())
	notCTLive := writeFile(t, "nginx.log", []byte(strings.Repeat("127.0.0.1 - - [27/Feb/2025:17:19:20 +0000] \"GET / HTTP/1.1\" 200 612\n", 50)))
	cases := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"a missing file", []string{"contacts", filepath.Join(dir, "nope.log")}, 1, "no such file"},
		{"a directory", []string{"contacts", dir}, 1, "is a directory"},
		{"a file that is not CTLive's", []string{"tenants", notCTLive}, 1, "not a CTLive log"},
		{"an unknown contact", []string{"contact", "CHAT_AGM_00000000-0000-4000-8000-000000000000", log}, 1, "no line carries this contact ID"},
		{"a store that is not there", []string{"contacts", "--from", "vlogs+http://127.0.0.1:1", "--since", "2h", "--until", "1h"}, 1, "cannot reach VictoriaLogs"},
		{"a store without a window", []string{"tenants", "--from", "vlogs+http://127.0.0.1:1"}, 2, "--since and --until"},
		{"a store of an unknown kind", []string{"contacts", "--from", "mysql://db", "--since", "2h", "--until", "1h"}, 2, "vlogs+http"},
		{"files and a store", []string{"contacts", "--from", "vlogs+http://127.0.0.1:1", log}, 2, "not both"},
		{"a bad --since", []string{"contacts", "--since", "yesterday", log}, 2, "--since"},
		{"--until before --since", []string{"contacts", "--since", "2025-02-28", "--until", "2025-02-27", log}, 2, "after --since"},
		{"--mask userID without a key", []string{"contacts", "--mask", "userID", log}, 2, "mask-key"},
		{"--mask of another field", []string{"contacts", "--mask", "tenant", "--mask-key", "0123456789abcdef", log}, 2, "only userID"},
		{"a --mask-key the plugin refuses", []string{"contacts", "--mask-key", "k", log}, 2, "at least 16 bytes"},
		{"contact without an ID", []string{"contact"}, 2, "contact ID"},
		{"hash without a value", []string{"hash"}, 2, "exactly one VALUE"},
		{"an unknown command", []string{"contracts", log}, 2, "unknown command"},
		{"an unknown flag", []string{"contacts", "--colour", log}, 2, "flag provided but not defined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := run(t, c.args...)
			if code != c.code || !strings.Contains(errOut, c.says) || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d saying %q", code, errOut, out, c.code, c.says)
			}
			if c.code == 1 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("more than one line: %q", errOut)
			}
		})
	}
}

// TestMalformedLinesAreCountedAndSkipped: broken JSON lines and lines over
// MaxLine do not stop the run; the rest is read as usual.
func TestMalformedLinesAreCountedAndSkipped(t *testing.T) {
	recs := corpus.Generate(73, 600)
	var js bytes.Buffer
	for i, r := range recs {
		fmt.Fprintf(&js, "{\"log\":%s}\n", appendJSONString(nil, r.Line))
		if i == 10 {
			js.WriteString("{\"log\": \"cut off\n")
		}
	}
	raw := append(rawLog(recs[:300]), append(bytes.Repeat([]byte("x"), MaxLine+10), '\n')...)
	raw = append(raw, rawLog(recs[300:])...)
	cases := []struct {
		name, file string
		data       []byte
		malformed  int
	}{
		{"a broken JSON line", "ctlive.jsonl", js.Bytes(), 1},
		{"a line longer than MaxLine", "ctlive.log", raw, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := run(t, "contacts", "--json", writeFile(t, c.file, c.data))
			if code != 0 || !strings.Contains(errOut, fmt.Sprintf("%d malformed lines skipped", c.malformed)) {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			compareRows(t, ndjson(t, out), corpus.Lifecycles(recs), unkeyed, clear)
		})
	}
}

// A window that holds none of the lines says so, and where they are: an
// empty table alone would look like a log without contacts.
func TestAWindowWithoutLinesSaysWhereTheyAre(t *testing.T) {
	recs := corpus.Generate(5, 200)
	file := writeFile(t, "ctlive.log", rawLog(recs))
	first, last := recs[0].Want.Time, recs[len(recs)-1].Want.Time
	tests := []struct {
		name string
		args []string
		hint bool
	}{
		{"a window before the log", []string{"--until", "2001-01-01T00:00:00Z"}, true},
		{"a window after the log", []string{"--since", "2h"}, true},
		{"a window around the log", []string{"--since", "2001-01-01T00:00:00Z"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, append(append([]string{"contacts"}, tc.args...), file)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			hint := strings.Contains(errOut, "CTLive lines are outside --since/--until")
			if hint != tc.hint {
				t.Fatalf("hint = %v, want %v: %q", hint, tc.hint, errOut)
			}
			if hint && (!strings.Contains(errOut, first[:16]) || !strings.Contains(errOut, last[:16])) {
				t.Errorf("the hint does not give the lines' span %s .. %s: %q", first, last, errOut)
			}
		})
	}
}

// TestJSONInputsOfFluentBit: records as Fluent Bit's file output writes
// them (plain JSON, and its default `tag: [time, {...}]`), with the raw
// line under "log", give the same contacts as the raw log.
func TestJSONInputsOfFluentBit(t *testing.T) {
	recs := cutAfterEnd(corpus.Generate(79, 3000))
	var plain, tagged bytes.Buffer
	for i, r := range recs {
		obj := fmt.Sprintf("{\"log\":%s,\"stream\":\"stdout\"}", appendJSONString(nil, r.Line))
		plain.WriteString(obj + "\n")
		fmt.Fprintf(&tagged, "raw.ctlive: [%d.%06d, %s]\n", 1740666285+i, i%1000000, obj)
	}
	for name, data := range map[string][]byte{"plain.jsonl": plain.Bytes(), "tagged.log": tagged.Bytes()} {
		t.Run(name, func(t *testing.T) {
			compareRows(t, ndjson(t, mustRun(t, "contacts", "--json", writeFile(t, name, data))), corpus.Lifecycles(recs), unkeyed, clear)
		})
	}
}

// TestHashGivesThePluginsDigest: the digest an engineer searches the store
// for, unkeyed or with the plugin's mask_key (flag or environment).
func TestHashGivesThePluginsDigest(t *testing.T) {
	const session = "ab4e7aff-8627-434a-a2ef-7e200363197e" // the guide's
	cases := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"unkeyed", "", []string{"hash", session}, redact.NewDigester(nil).Token(session)},
		{"capitals digest as the plugin's lower case", "", []string{"hash", strings.ToUpper(session)}, redact.NewDigester(nil).Token(session)},
		{"--mask-key", "", []string{"hash", "--mask-key", "s3cret-s3cret-s3cret", session}, redact.NewDigester([]byte("s3cret-s3cret-s3cret")).Token(session)},
		{"CTLIVE_MASK_KEY", "s3cret-from-the-env", []string{"hash", session}, redact.NewDigester([]byte("s3cret-from-the-env")).Token(session)},
		{"a user ID as mask userID writes it", "", []string{"hash", "--mask-key", "s3cret-s3cret-s3cret", "USER_ahmed.k@agm.example"},
			"USER_" + redact.NewDigester([]byte("s3cret-s3cret-s3cret")).Token("ahmed.k@agm.example")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(c.args, Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
				if k == "CTLIVE_MASK_KEY" {
					return c.env
				}
				return ""
			}})
			if code != 0 || out.String() != c.want+"\n" {
				t.Errorf("exit %d, %q %q; want %q", code, out.String(), errOut.String(), c.want)
			}
		})
	}
	if !strings.HasPrefix(redact.NewDigester(nil).Token(session), "sha256:") {
		t.Fatal("the unkeyed digest changed form")
	}
}

// TestColourOnlyOnATerminal: tables are coloured when stdout is a
// terminal and NO_COLOR is unset, never in JSON.
func TestColourOnlyOnATerminal(t *testing.T) {
	log := writeFile(t, "sample.log", corpus.Sample())
	cases := []struct {
		name    string
		tty     bool
		noColor string
		args    []string
		colour  bool
	}{
		{"a terminal", true, "", []string{"contacts", log}, true},
		{"a terminal with NO_COLOR", true, "1", []string{"contacts", log}, false},
		{"a pipe", false, "", []string{"contacts", log}, false},
		{"JSON on a terminal", true, "", []string{"contacts", "--json", log}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			code := Run(c.args, Env{Stdout: &out, Stderr: os.Stderr, StdoutTTY: c.tty,
				Getenv: func(k string) string {
					if k == "NO_COLOR" {
						return c.noColor
					}
					return ""
				}})
			if code != 0 || strings.Contains(out.String(), "\033[") != c.colour {
				t.Errorf("exit %d, colour %v, want %v", code, strings.Contains(out.String(), "\033["), c.colour)
			}
		})
	}
}

// TestNoInputOnATerminal: without a file, standard input is read, unless it
// is a terminal (nothing would ever arrive): then a usage error.
func TestNoInputOnATerminal(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Run([]string{"contacts"}, Env{Stdin: bytes.NewReader(nil), StdinTTY: true, Stdout: &out, Stderr: &errOut,
		Getenv: func(string) string { return "" }})
	if code != 2 || !strings.Contains(errOut.String(), "give a log file") {
		t.Errorf("exit %d, %q", code, errOut.String())
	}
	if out, _, code := runStdin(t, corpus.Sample(), "tenants"); code != 0 || !strings.Contains(out, "AGM") {
		t.Errorf("a piped log: exit %d, %q", code, out)
	}
}
