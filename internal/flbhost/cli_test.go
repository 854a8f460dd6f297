package flbhost

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

type cliRun struct {
	stdout, stderr string
	status         int
}

func runCLI(t *testing.T, input string, args ...string) cliRun {
	t.Helper()
	file := filepath.Join(t.TempDir(), "input.log")
	if err := os.WriteFile(file, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hostBin, append([]string{"-p", pluginSO, "-i", file}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("host CLI timed out; stderr:\n%s", stderr.String())
	}
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatal(err)
	}
	return cliRun{stdout.String(), stderr.String(), exitStatus(cmd.ProcessState)}
}

func TestCLIJoinsContinuationLinesLikeTheMultilineParser(t *testing.T) {
	t.Parallel()
	const (
		cyan  = "\x1b[36m"
		reset = "\x1b[0m"
	)
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{
			"plain stack trace",
			"Exception in thread main\n\tat a.B(B.java:1)\n    at c.D(D.java:2)\nnext\n",
			[]string{"Exception in thread main\n\tat a.B(B.java:1)\n    at c.D(D.java:2)", "next"},
		},
		{
			"docker compose prefix",
			"web-1  | boom\nweb-1  |     at x.Y(Y.java:3)\nweb-1  | fine\n",
			[]string{"web-1  | boom\nweb-1  |     at x.Y(Y.java:3)", "web-1  | fine"},
		},
		{
			"coloured compose prefix",
			cyan + "worker_1  |" + reset + " boom\n" + cyan + "worker_1  | " + reset + "\tat z.Z(Z.java:9)\n",
			[]string{cyan + "worker_1  |" + reset + " boom\n" + cyan + "worker_1  | " + reset + "\tat z.Z(Z.java:9)"},
		},
		{
			"RFC 3339 timestamps after the prefix",
			"api.v2 | 2024-05-01T10:00:00.123456789Z boom\napi.v2 | 2024-05-01T10:00:00+02:00   at q.Q(Q.java:1)\n",
			[]string{"api.v2 | 2024-05-01T10:00:00.123456789Z boom\napi.v2 | 2024-05-01T10:00:00+02:00   at q.Q(Q.java:1)"},
		},
		{
			"timestamp without prefix",
			"2024-05-01T10:00:00Z boom\n2024-05-01T10:00:01Z \tat r.R(R.java:1)\n",
			[]string{"2024-05-01T10:00:00Z boom\n2024-05-01T10:00:01Z \tat r.R(R.java:1)"},
		},
		{
			"at without leading whitespace starts a record",
			"boom\nat x.Y(Y.java:3)\n",
			[]string{"boom", "at x.Y(Y.java:3)"},
		},
		{
			"indented properties and the closing brace continue it",
			"MongoServerError: dup {\n  code: 11000,\n}\nnext\n",
			[]string{"MongoServerError: dup {\n  code: 11000,\n}", "next"},
		},
		{
			"blank and brace-led lines with more text start a record",
			"boom\n   \n} else\n",
			[]string{"boom", "   ", "} else"},
		},
		{
			"leading continuation has nothing to join",
			"  at x.Y(Y.java:3)\nnext\n",
			[]string{"  at x.Y(Y.java:3)", "next"},
		},
		{
			"CRLF loses its CR, empty lines are records",
			"one\r\n\n  at two\r\n",
			[]string{"one", "\n  at two"},
		},
		{
			"last line without newline is still read",
			"one\n  at two",
			[]string{"one\n  at two"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := runCLI(t, tc.input, "-o", "id=cli", "-o", "print_records=on")
			if run.status != 0 {
				t.Fatalf("status %d; stderr:\n%s", run.status, run.stderr)
			}
			var got []string
			for _, line := range linesWith(run.stdout, "record id=cli ") {
				_, quoted, _ := strings.Cut(line, " log=")
				log, err := strconv.Unquote(quoted)
				if err != nil {
					t.Fatalf("unreadable record line %q", line)
				}
				got = append(got, log)
			}
			if strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") {
				t.Errorf("records:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}

// The C encoder and the Go one must agree byte for byte, chunk by chunk,
// and both write records as Fluent Bit's log event encoder does.
func TestCLIChunksMatchTheGoEncoder(t *testing.T) {
	t.Parallel()
	input := "a\nb\n  at c\nd\ne\n"
	run := runCLI(t, input, "-o", "id=dump", "-o", "mode=dump", "-t", "app.log", "-n", "2", "-T", "1700000000.5")
	if run.status != 0 {
		t.Fatalf("status %d; stderr:\n%s", run.status, run.stderr)
	}
	at := EventTime(time.Unix(1700000000, 500000000))
	entry := func(log string) []byte { return AppendEncoded(nil, at, Map{{"log", log}}) }
	want := []string{
		hex.EncodeToString(append(entry("a"), entry("b\n  at c")...)),
		hex.EncodeToString(append(entry("d"), entry("e")...)),
	}
	var got []string
	for _, line := range linesWith(run.stdout, "dump id=dump hex=") {
		got = append(got, strings.TrimPrefix(line, "dump id=dump hex="))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("chunks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if tags := linesWith(run.stdout, "flush id=dump tag=app.log "); len(tags) != 2 {
		t.Errorf("want 2 flushes tagged app.log, got %q", tags)
	}
}

func TestCLIRetriesAsRetryLimitAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		props        []string
		wantFlushes  int
		wantStatus   int
		wantInStderr string
	}{
		{"accepted first time", nil, 1, 0, "1 records in 1 chunks: 0 dropped, 0 retries"},
		{"default retry_limit is one retry", []string{"flush_return=2"}, 2, 1, "1 dropped, 1 retries"},
		{"retry_limit 3", []string{"flush_return=2", "retry_limit=3"}, 4, 1, "1 dropped, 3 retries"},
		{"no_retries", []string{"flush_return=2", "retry_limit=no_retries"}, 1, 1, "1 dropped, 0 retries"},
		{"no_limits is capped", []string{"flush_return=2", "retry_limit=no_limits"}, 11, 1, "1 dropped, 10 retries"},
		{"errors are not retried", []string{"flush_return=0"}, 1, 1, "1 dropped, 0 retries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"-o", "id=r"}
			for _, p := range tc.props {
				args = append(args, "-o", p)
			}
			run := runCLI(t, "only line\n", args...)
			if run.status != tc.wantStatus {
				t.Errorf("status %d, want %d; stderr:\n%s", run.status, tc.wantStatus, run.stderr)
			}
			if n := len(linesWith(run.stdout, "flush id=r ")); n != tc.wantFlushes {
				t.Errorf("%d flushes, want %d", n, tc.wantFlushes)
			}
			if !strings.Contains(run.stderr, tc.wantInStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantInStderr, run.stderr)
			}
		})
	}
}

func TestCLIRefusesBadUsage(t *testing.T) {
	t.Parallel()
	tests := [][]string{
		{"-o", "novalue"},
		{"-n", "0"},
		{"-T", "soon"},
		{"-S"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if run := runCLI(t, "x\n", args...); run.status != 2 {
				t.Errorf("status %d, want 2; stderr:\n%s", run.status, run.stderr)
			}
		})
	}
}
