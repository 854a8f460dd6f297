package inspect

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
)

// run runs the command in-process and returns its stdout, stderr and exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runStdin(t, nil, args...)
}

// runStdin runs the command with stdin as its standard input.
func runStdin(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(args, Env{Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" },
		Now: time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC)})
	return out.String(), errOut.String(), code
}

// mustRun fails the test unless the command exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("ctlive-inspect %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// ndjson decodes one JSON object per line, numbers kept as written.
func ndjson(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("not NDJSON: %v\n%.2000s", err, out)
		}
		rows = append(rows, m)
	}
	return rows
}

// rawLog is the records as a raw log: each record's text on its lines, as
// Node writes a stack trace (frames indented, without prefix).
func rawLog(recs []corpus.Record) []byte {
	var b bytes.Buffer
	for _, r := range recs {
		b.WriteString(r.Line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if strings.HasSuffix(name, ".gz") {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data = b.Bytes()
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// cutAfterEnd keeps the records up to the last endContact line, as a log
// read while that contact's transcript is still being saved.
func cutAfterEnd(recs []corpus.Record) []corpus.Record {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Want.Event == "endContact" {
			return recs[:i+1]
		}
	}
	return recs
}
