package lnav_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
)

// sinkRun is the plugin's stdout for testdata/sample.log, made once per
// test binary: building the c-shared library is the slow part.
var sinkRun struct {
	once sync.Once
	dir  string
	path string
	recs []map[string]any
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sinkRun.dir != "" {
		os.RemoveAll(sinkRun.dir)
	}
	os.Exit(code)
}

// stdoutSinkLines runs the plugin on testdata/sample.log as make run does
// without Fluent Bit (build/flbhost, sink stdout) and returns the path of
// its JSON lines and the lines, decoded.
func stdoutSinkLines(t *testing.T) (string, []map[string]any) {
	t.Helper()
	sinkRun.once.Do(func() {
		if sinkRun.dir, sinkRun.err = os.MkdirTemp("", "ctlive-lnav"); sinkRun.err == nil {
			sinkRun.path, sinkRun.recs, sinkRun.err = runStdoutSink(sinkRun.dir)
		}
	})
	if sinkRun.err != nil {
		t.Fatal(sinkRun.err)
	}
	return sinkRun.path, sinkRun.recs
}

func runStdoutSink(dir string) (string, []map[string]any, error) {
	host, err := flbhost.BuildHost(dir)
	if err != nil {
		return "", nil, err
	}
	so, err := flbhost.BuildPlugin(dir, flbhost.PluginBuild{Package: "./plugin", Output: "out_ctlive.so"})
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, host, "-p", so, "-i", "../../testdata/sample.log", "-t", "raw.ctlive", "-o", "sink=stdout")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", nil, fmt.Errorf("flbhost: %v\n%s", err, stderr.String())
	}
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return "", nil, fmt.Errorf("not a JSON line: %q", line)
		}
		recs = append(recs, m)
	}
	path := filepath.Join(dir, "ctlive.json")
	return path, recs, os.WriteFile(path, stdout.Bytes(), 0o644)
}

// Every JSON line of the stdout sink is one ctlive_json message whose
// columns are the line's members: the format adds nothing and loses
// nothing of what the plugin found.
func TestJSONFormatReadsTheStdoutSink(t *testing.T) {
	l := installed(t)
	path, recs := stdoutSinkLines(t)
	members := []string{"service", "function", "tenant", "contactID", "channel", "userID", "sessionID",
		"messageID", "event", "errorType", "url"}
	rows := l.query(t, `SELECT log, log_time, log_level, log_body, service, function, tenant, contactID, channel,
		userID, sessionID, messageID, event, errorType, url FROM ctlive_json`, path)
	if len(rows) != len(recs) {
		t.Fatalf("%d lnav messages for %d JSON lines", len(rows), len(recs))
	}
	byLog := map[string]map[string]any{}
	for _, row := range rows {
		byLog[str(row, "log")] = row
	}
	levels := map[string]string{"info": "info", "warn": "warning", "error": "error"}
	for _, rec := range recs {
		row, ok := byLog[str(rec, "log")]
		if !ok {
			t.Errorf("no lnav message for %q", str(rec, "log"))
			continue
		}
		for _, m := range members {
			if got, want := str(row, m), str(rec, m); got != want {
				t.Errorf("%s = %q, want %q: %s", m, got, want, str(rec, "log"))
			}
		}
		if got, want := str(row, "log_level"), levels[str(rec, "level")]; got != want {
			t.Errorf("level %q, want %q: %s", got, want, str(rec, "log"))
		}
		if got, want := str(row, "log_body"), str(rec, "message"); got != want {
			t.Errorf("body %q, want the message %q", got, want)
		}
		// date is seconds with six decimals, a double: lnav may read
		// .339000 as .338999… and then shows the millisecond below.
		date := time.UnixMicro(int64(rec["date"].(float64)*1e6 + 0.5)).UTC()
		got, err := time.Parse("2006-01-02 15:04:05.000", str(row, "log_time"))
		if early := date.Sub(got); err != nil || early < 0 || early > time.Millisecond {
			t.Errorf("time %q, want %s to the millisecond: %s", str(row, "log_time"), date.Format(time.RFC3339Nano), str(rec, "log"))
		}
	}
}
