// Package e2e drives the real build/out_ctlive.so through the project's
// Fluent Bit host harness (internal/flbhost), with real downstreams: the
// strict in_forward stand-in and VictoriaLogs.
package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/fwdtest"
	"github.com/ctlive/ctlive-fluent-bit/internal/onwire"
)

var hostBin, pluginSO string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ctlive-e2e")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if hostBin, err = flbhost.BuildHost(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if pluginSO, err = flbhost.BuildPlugin(dir, flbhost.PluginBuild{Package: "./plugin", Output: "out_ctlive.so"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func start(t *testing.T) *flbhost.Host {
	t.Helper()
	return flbhost.Start(t, hostBin, pluginSO, flbhost.Options{})
}

var baseTime = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// chunk encodes lines as tail would: {"log": line}, one entry each.
func chunk(lines ...string) []byte {
	var b []byte
	for i, l := range lines {
		b = flbhost.AppendV2(b, flbhost.EventTime(baseTime.Add(time.Duration(i))), flbhost.Map{},
			flbhost.Map{{Key: "log", Value: l}, {Key: "stream", Value: "stdout"}})
	}
	return b
}

// jsonLines parses the plugin's stdout (the stdout sink's JSON lines).
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestDocumentLinesThroughTheSharedObject(t *testing.T) {
	h := start(t)
	if h.PluginName() != "ctlive" {
		t.Fatalf("registered as %q", h.PluginName())
	}
	in := h.New("match", "*", "workers", "2")
	if in.Init() != flbhost.FLBOK {
		t.Fatal("init failed:\n" + h.Stderr())
	}
	lines := corpus.RealLineTexts()
	if got := in.Flush("tail.0", chunk(lines...)); got != flbhost.FLBOK {
		t.Fatalf("flush = %d\n%s", got, h.Stderr())
	}
	in.Exit()
	if code := h.Close(); code != 0 {
		t.Fatalf("host exit %d\n%s", code, h.Stderr())
	}
	recs := jsonLines(t, h.Stdout())
	if len(recs) != len(lines) {
		t.Fatalf("%d records for %d lines", len(recs), len(lines))
	}
	want := []struct{ field, value string }{
		{"tenant", "TENANT1"}, {"contactID", "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"},
		{"contactID", "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"}, {"url", "https://server1/ctLiveService/contact"},
		{"event", "newContact"}, {"event", "newContact"}, {"event", "endContact"},
		{"function", "retrieveContactByChatID"}, {"event", "endContact"}, {"tenant", "AGM"},
		{"messageID", "5c637aa3-2499-428b-9eb8-192114cb890f"},
	}
	for i, r := range recs {
		if r["log"] != lines[i] || r["stream"] != "stdout" {
			t.Errorf("record %d: input keys changed: %v", i, r)
		}
		if i < len(want) && fmt.Sprint(r[want[i].field]) != want[i].value {
			t.Errorf("record %d: %s = %v, want %s", i, want[i].field, r[want[i].field], want[i].value)
		}
	}
	if p, ok := recs[4]["payload"].(map[string]any); !ok || p["response"].(map[string]any)["video"] != true {
		t.Errorf("payload of the webhook response: %v", recs[4]["payload"])
	}
	if !strings.Contains(h.Stderr(), "[output:ctlive:ctlive.0] stopped: 11 records (11 CTLive-shaped), 11 delivered") {
		t.Errorf("exit summary missing:\n%s", h.Stderr())
	}
}

func TestTwoInstancesKeepTheirOwnConfiguration(t *testing.T) {
	h := start(t)
	a := h.New("match", "a.*", "nest_under", "ctlive", "tenants", "AGM")
	b := h.New("match", "b.*", "json_date_key", "ts", "exclude_tenants", "AGM")
	if a.Init() != flbhost.FLBOK || b.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	data := chunk("[fn] [AGM] newContact", "[fn] [TENANT1] endContact")
	if a.Flush("a.log", data) != flbhost.FLBOK || b.Flush("b.log", data) != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	a.Exit()
	b.Exit()
	h.Close()
	recs := jsonLines(t, h.Stdout())
	if len(recs) != 2 {
		t.Fatalf("%d records: each instance routes one tenant\n%s", len(recs), h.Stdout())
	}
	nested, ok := recs[0]["ctlive"].(map[string]any)
	if !ok || nested["tenant"] != "AGM" || recs[0]["date"] == nil {
		t.Errorf("instance a: %v", recs[0])
	}
	if recs[1]["tenant"] != "TENANT1" || recs[1]["ts"] == nil || recs[1]["date"] != nil {
		t.Errorf("instance b: %v", recs[1])
	}
}

func TestConcurrentWorkersOnOneInstance(t *testing.T) {
	h := start(t)
	in := h.New("match", "*", "workers", "4")
	if in.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	lines := corpus.Lines(7, 400)
	var chunks [][]byte
	for i := 0; i < 8; i++ {
		var ls []string
		for _, l := range lines[i*50 : (i+1)*50] {
			ls = append(ls, string(l))
		}
		chunks = append(chunks, chunk(ls...))
	}
	for i, ret := range in.FlushConcurrent("tail.0", chunks, 4) {
		if ret != flbhost.FLBOK {
			t.Fatalf("flush %d = %d\n%s", i, ret, h.Stderr())
		}
	}
	in.Exit()
	h.Close()
	recs := jsonLines(t, h.Stdout())
	if len(recs) != 400 {
		t.Fatalf("%d records, want 400", len(recs))
	}
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r["log"].(string)] = true
	}
	if len(seen) != 400 {
		t.Errorf("%d distinct records: some were lost or doubled", len(seen))
	}
}

func TestBadConfigurationRefusesToStart(t *testing.T) {
	tests := []struct{ props []string }{
		{[]string{"sink", "kafka"}},
		{[]string{"sink", "forward", "url", "http://127.0.0.1:24224"}},
		{[]string{"sink", "forward", "tag", "ctlive.$"}},
		{[]string{"time_from_line", "sometimes"}},
		{[]string{"time_from_line", "sometimes", "nest_under", "x", "plugin_log_level", "loud"}}, // several at once
	}
	for _, tc := range tests {
		h := start(t)
		in := h.New(append([]string{"match", "*"}, tc.props...)...)
		if got := in.Init(); got > 0 {
			t.Errorf("%v: init = %d, want failure", tc.props, got)
		}
		h.Close()
		if n := strings.Count(h.Stderr(), "invalid configuration"); n != 1 || strings.Count(h.Stderr(), "[output:ctlive") != 1 {
			t.Errorf("%v: want one clear log line, got:\n%s", tc.props, h.Stderr())
		}
	}
}

func TestCorruptChunkIsAnError(t *testing.T) {
	h := start(t)
	in := h.New("match", "*")
	in.Init()
	good := chunk("[fn] [AGM] newContact")
	if got := in.Flush("tail.0", good[:len(good)-3]); got != flbhost.FLBError {
		t.Errorf("truncated chunk: %d, want FLB_ERROR", got)
	}
	if got := in.Flush("tail.0", good); got != flbhost.FLBOK {
		t.Errorf("the instance must keep working after a corrupt chunk: %d", got)
	}
	in.Exit()
	h.Close()
}

func TestForwardRoundTripWithDownstreamOutage(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	h := start(t)
	in := h.New("match", "tail.*", "sink", "forward", "url", srv.URL(), "connect_timeout", "1s", "workers", "2")
	if in.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	recs := corpus.Generate(3, 600)
	var chunks [][]byte
	for i := 0; i < 6; i++ {
		var ls []string
		for _, r := range recs[i*100 : (i+1)*100] {
			ls = append(ls, r.Line)
		}
		chunks = append(chunks, chunk(ls...))
	}
	// Two chunks reach the receiver; then it goes away mid-stream.
	for _, c := range chunks[:2] {
		if got := in.Flush("tail.0", c); got != flbhost.FLBOK {
			t.Fatalf("flush = %d\n%s", got, h.Stderr())
		}
	}
	srv.Stop()
	for _, c := range chunks[2:4] {
		if got := in.Flush("tail.0", c); got != flbhost.FLBRetry {
			t.Fatalf("flush while the receiver is down = %d, want FLB_RETRY", got)
		}
	}
	srv.Restart()
	// Fluent Bit retries the kept chunks, then goes on.
	for _, c := range chunks[2:] {
		if got := in.Flush("tail.0", c); got != flbhost.FLBOK {
			t.Fatalf("flush after restart = %d\n%s", got, h.Stderr())
		}
	}
	in.Exit()
	h.Close()
	got, err := srv.WaitEvents(600, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range got {
		count[e.Record["log"].(string)]++
		if want := "ctlive." + orUnknown(e.Record["tenant"]) + "." + orUnknown(e.Record["event"]); e.Tag != want {
			t.Errorf("tag %q, want %q", e.Tag, want)
		}
	}
	for _, r := range recs {
		if sent := onwire.Line(r.Line); count[sent] != 1 {
			t.Errorf("record delivered %d times: %.80s", count[sent], sent)
		}
	}
	if len(srv.Violations()) > 0 {
		t.Errorf("protocol violations: %v", srv.Violations())
	}
}

func orUnknown(v any) string {
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	return "unknown"
}
