package inspect

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// parsersConfRule returns parsers.conf's "cont" rule as a Go regexp, with
// Onigmo's classes spelled out (Fluent Bit's \s holds \v, RE2's does not).
func parsersConfRule(t testing.TB) *regexp.Regexp {
	conf, err := os.ReadFile("../../parsers.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(conf), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "rule" || f[1] != `"cont"` {
			continue
		}
		re := line[strings.Index(line, `"/`)+2 : strings.LastIndex(line, `/"`)]
		re = strings.NewReplacer(`[\w.-]`, `[0-9A-Za-z_.-]`, `\s`, `[\t\n\v\f\r ]`, `\S`, `[^\t\n\v\f\r ]`, `\d`, `[0-9]`).Replace(re)
		return regexp.MustCompile(re)
	}
	t.Fatal(`parsers.conf has no "cont" rule`)
	return nil
}

var continuationCases = []struct {
	line string
	cont bool
}{
	{"    at getTranscriptByChatID (/app/src/mongo/transcripts.js:57:13)", true},
	{"ctlive  | 2025-02-27T17:19:42.085437114Z     at f (/app/x.js:1:1)", true},
	{"ctlive  | }", true},
	{"]", true},
	{"ctlive-1  | 2025-03-11T12:00:00Z ]", true},
	{"\x1b[36mctlive  |\x1b[0m     at f (a.js:1:1)", true},            // older compose: the reset before the space
	{"\x1b[36mctlive-1  | \x1b[0m    at f (a.js:1:1)", true},          // Compose v2: after it
	{"\x1b[36mctlive-1  | \x1b[0m2025-03-11T09:15:09Z }", true},       // and a timestamp
	{"\x1b[36mctlive-1  | \x1b[0m2025-03-11T09:15:09Z [fn] x", false}, // a new record
	{"ctlive  | 2025-02-27T17:19:42.085435614Z [getTranscriptByChatID] [AGM] Error: x", false},
	{"[socketIO] [AGM] newContact", false},
	{"} trailing text", false},
	{"   ", false},
	{"", false},
}

// The plugin's pipeline joins stacks with parsers.conf; ctlive-inspect
// joins them with isContinuation. Both must read a log the same way.
func TestContinuationIsParsersConfsRule(t *testing.T) {
	rule := parsersConfRule(t)
	for _, tc := range continuationCases {
		if got := isContinuation([]byte(tc.line)); got != tc.cont {
			t.Errorf("isContinuation(%q) = %v, want %v", tc.line, got, tc.cont)
		}
		if got := rule.MatchString(tc.line); got != tc.cont {
			t.Errorf("parsers.conf's rule on %q = %v, want %v", tc.line, got, tc.cont)
		}
	}
}

func FuzzContinuationIsParsersConfsRule(f *testing.F) {
	for _, tc := range continuationCases {
		f.Add(tc.line)
	}
	rule := parsersConfRule(f)
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n") {
			return // a physical line
		}
		if got, want := isContinuation([]byte(line)), rule.MatchString(line); got != want {
			t.Fatalf("isContinuation(%q) = %v, parsers.conf's rule %v", line, got, want)
		}
	})
}
