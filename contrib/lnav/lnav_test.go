package lnav_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/contrib/lnav"
)

// The tests run the real lnav (Debian 12: 0.11.1) headless, with the
// formats, views and scripts installed as the README says into a temporary
// HOME.

type lnavHome struct {
	bin, home string
}

// installed returns an lnav with this directory's files installed. Without
// an lnav binary the test is skipped, or fails when CI is set: CI installs
// lnav (.ci/run), and a format nobody loaded must not pass.
func installed(t *testing.T) *lnavHome {
	t.Helper()
	if testing.Short() {
		t.Skip("-short runs no lnav (make test does)")
	}
	bin, err := exec.LookPath("lnav")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("lnav not found on PATH, and CI is set: .ci/run installs it (apt-get install lnav)")
		}
		t.Skip("lnav not found on PATH: apt-get install lnav (Debian 12 has 0.11.1) to run the lnav tests")
	}
	l := &lnavHome{bin: bin, home: t.TempDir()}
	views, _ := filepath.Glob("*.sql")
	l.run(t, append([]string{"-i", "ctlive_log.json", "ctlive_json.json"}, views...)...)
	// lnav -i takes formats and SQL; scripts are copied.
	scripts, _ := filepath.Glob("*.lnav")
	dir := filepath.Join(l.home, ".lnav", "formats", "installed")
	for _, s := range scripts {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, s), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// run runs lnav with args and returns its standard output. lnav reports
// errors (a bad format, a sample its pattern does not match, a bad query)
// on standard error with status 0, so anything there fails the test, but
// the complaint of :write-json-to about an empty result, which means no rows.
func (l *lnavHome) run(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+l.home, "TERM=dumb")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var complaints []string // what lnav said on standard error, but lnav -i's "✔ installed -- path"
	for _, line := range strings.Split(stderr.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, "✔ installed") {
			complaints = append(complaints, line)
		}
	}
	errs := strings.Join(complaints, "\n")
	if strings.Count(errs, "✘") == 1 && strings.HasPrefix(errs, "✘ error: no query result to write") {
		errs = ""
	}
	if err != nil || errs != "" {
		t.Fatalf("lnav %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// query runs one SQL statement over files and returns its rows.
func (l *lnavHome) query(t *testing.T, sql string, files ...string) []map[string]any {
	t.Helper()
	return l.queryAfter(t, nil, sql, files...)
}

// queryAfter runs lnav commands, then the SQL statement.
func (l *lnavHome) queryAfter(t *testing.T, commands []string, sql string, files ...string) []map[string]any {
	t.Helper()
	args := []string{"-n"}
	for _, c := range append(commands, ";"+sql, ":write-json-to -") {
		args = append(args, "-c", c)
	}
	out := l.run(t, append(args, files...)...)
	if strings.TrimSpace(out) == "" {
		return nil
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("lnav's JSON: %v\n%s", err, out)
	}
	return rows
}

// str reads a column as the parser's results are compared: "" for NULL.
func str(row map[string]any, col string) string {
	switch v := row[col].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// writeLines writes lines, one per line, into a temporary file.
func writeLines(t *testing.T, name string, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFormatFilesAreUpToDate(t *testing.T) {
	for name, want := range lnav.Files() {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from format.go: run go generate ./contrib/lnav", name)
		}
	}
}
