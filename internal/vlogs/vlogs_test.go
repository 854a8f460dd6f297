package vlogs

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStart_ServesHealthOnLoopbackOnlyWithTestDefaults(t *testing.T) {
	t.Parallel()
	s := Start(t)

	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL = %q, want a 127.0.0.1 address", s.URL())
	}
	resp, err := queryClient.Get(s.URL() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "OK" {
		t.Fatalf("/health = %d %q, want 200 OK", resp.StatusCode, b)
	}

	// The same port on any other local address must not answer.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL(), "http://"))
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() {
			continue
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), port), time.Second); err == nil {
			c.Close()
			t.Errorf("server also reachable on %s:%s", ipn.IP, port)
		}
	}

	flags := string(mustGet(t, s.URL()+"/flags"))
	for _, want := range []string{`-retentionPeriod="100y"`, `-futureRetention="100y"`, `-httpListenAddr="127.0.0.1:` + port + `"`} {
		if !strings.Contains(flags, want) {
			t.Errorf("/flags lacks %s:\n%s", want, flags)
		}
	}
}

func TestElasticsearchBulk_RecordsAreQueryableWithOriginalTimeAndFlattenedFields(t *testing.T) {
	t.Parallel()
	s := Start(t)

	bulk(t, s, esArgs, nil,
		`{"index":{"_index":"ctlive-2025.02.27","_id":"x1"}}`,
		`{"@timestamp":"2025-02-27T10:11:12.123456789Z","message":"hello","app":"ctlive","contactID":"CHAT_AGM_1","payload":{"response":{"chat":"hi"}},"tags":["a","b"]}`,
		`{"create":{}}`,
		`{"@timestamp":"2025-02-27T10:11:13Z","message":"bye","app":"ctlive","contactID":"CHAT_AGM_2"}`,
	)
	s.WaitCount(t, `{app="ctlive"}`, 2, 10*time.Second)

	rows := s.Query(t, `contactID:="CHAT_AGM_1"`)
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1: %v", len(rows), rows)
	}
	want := map[string]string{
		"_msg":                  "hello",
		"_time":                 "2025-02-27T10:11:12.123456789Z",
		"_stream":               `{app="ctlive"}`,
		"app":                   "ctlive",
		"contactID":             "CHAT_AGM_1",
		"payload.response.chat": "hi",
		"tags":                  `["a","b"]`,
	}
	for k, v := range want {
		if rows[0][k] != v {
			t.Errorf("%s = %q, want %q (row %v)", k, rows[0][k], v, rows[0])
		}
	}
	for _, k := range []string{"_index", "_id", "@timestamp", "message"} {
		if v, ok := rows[0][k]; ok {
			t.Errorf("field %s unexpectedly stored as %q", k, v)
		}
	}
	if got := s.StreamFieldNames(t, `*`); !reflect.DeepEqual(got, []string{"app"}) {
		t.Errorf("stream fields = %v, want [app]", got)
	}
}

func TestLokiJSONPush_LabelsBecomeStreamFieldsAndMetadataBecomesFields(t *testing.T) {
	t.Parallel()
	s := Start(t)

	lokiJSON(t, s, `{"streams":[{"stream":{"job":"ctlive","env":"ci"},"values":[
		["1740651072123456789","chat started",{"contactID":"CHAT_AGM_9","traceID":"t-1"}],
		["1740651073000000001","chat ended"]]}]}`, nil)
	s.WaitCount(t, `{job="ctlive"}`, 2, 10*time.Second)

	rows := s.Query(t, `{job="ctlive"} | sort by (_time)`)
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2: %v", len(rows), rows)
	}
	if rows[0]["_msg"] != "chat started" || rows[0]["_time"] != "2025-02-27T10:11:12.123456789Z" || rows[0]["contactID"] != "CHAT_AGM_9" {
		t.Errorf("first row = %v", rows[0])
	}
	if rows[1]["_time"] != "2025-02-27T10:11:13.000000001Z" {
		t.Errorf("second row _time = %q, want nanoseconds kept", rows[1]["_time"])
	}
	if got := s.StreamFieldNames(t, `*`); !reflect.DeepEqual(got, []string{"env", "job"}) {
		t.Errorf("stream fields = %v, want [env job]", got)
	}
	wantFields := []string{"_msg", "_stream", "_stream_id", "_time", "contactID", "env", "job", "traceID"}
	if got := s.FieldNames(t, `*`); !reflect.DeepEqual(got, wantFields) {
		t.Errorf("field names = %v, want %v", got, wantFields)
	}
}

func TestQuery_TenantSelectsOnlyThatTenantsRows(t *testing.T) {
	t.Parallel()
	s := Start(t)
	tn := Tenant{AccountID: 7, ProjectID: 3}

	bulk(t, s, esArgs, map[string]string{"AccountID": "7", "ProjectID": "3"},
		`{"index":{}}`, `{"@timestamp":"2025-02-27T10:00:00Z","message":"tenant row","app":"t"}`)
	bulk(t, s, esArgs, nil,
		`{"index":{}}`, `{"@timestamp":"2025-02-27T10:00:00Z","message":"default row","app":"t"}`)

	s.WaitCount(t, `app:=t`, 1, 10*time.Second, tn)
	s.WaitCount(t, `app:=t`, 1, 10*time.Second)
	if rows := s.Query(t, `app:=t`, tn); len(rows) != 1 || rows[0]["_msg"] != "tenant row" {
		t.Errorf("tenant %v rows = %v, want only the tenant row", tn, rows)
	}
	if got := s.Count(t, `app:=t`, Tenant{AccountID: 7}); got != 0 {
		t.Errorf("tenant 7:0 sees %d rows, want 0", got)
	}
}

func TestStop_RefusesConnectionsAndRestartKeepsDataOnSameURL(t *testing.T) {
	t.Parallel()
	s := Start(t)
	url := s.URL()

	bulk(t, s, esArgs, nil, `{"index":{}}`, `{"@timestamp":"2025-02-27T10:00:00Z","message":"before stop","app":"r"}`)
	s.WaitCount(t, `app:=r`, 1, 10*time.Second)

	s.Stop()
	_, err := queryClient.Post(s.ElasticsearchURL()+"/_bulk", "application/x-ndjson", strings.NewReader("{}\n"))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("POST after Stop: err = %v, want connection refused", err)
	}
	s.Stop() // stopping twice is harmless

	s.Restart()
	if s.URL() != url {
		t.Fatalf("URL changed across Restart: %s -> %s", url, s.URL())
	}
	if rows := s.Query(t, `app:=r`); len(rows) != 1 || rows[0]["_msg"] != "before stop" {
		t.Fatalf("after Restart rows = %v, want the row ingested before Stop", rows)
	}
	bulk(t, s, esArgs, nil, `{"index":{}}`, `{"@timestamp":"2025-02-27T10:00:01Z","message":"after restart","app":"r"}`)
	s.WaitCount(t, `app:=r`, 2, 10*time.Second)
}

func TestKill_ThenRestart_ServesAgainOnSameURL(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.Kill()
	if _, err := queryClient.Get(s.URL() + "/health"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("GET after Kill: err = %v, want connection refused", err)
	}
	s.Restart()
	if got := s.Count(t, `*`); got != 0 {
		t.Fatalf("fresh server after kill/restart has %d rows, want 0", got)
	}
}

func TestWaitCount_RetriesWhileTheServerIsDown(t *testing.T) {
	t.Parallel()
	s := Start(t)
	bulk(t, s, esArgs, nil, `{"index":{}}`, `{"message":"persisted","app":"w"}`)
	s.Stop() // graceful: the row is persisted

	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		time.Sleep(300 * time.Millisecond)
		s.Restart()
	}()
	s.WaitCount(t, `app:=w`, 1, 20*time.Second)
	<-restarted
}

func TestWaitCount_FailsAtOnceWhenThereAreMoreRowsThanExpected(t *testing.T) {
	t.Parallel()
	s := Start(t)
	bulk(t, s, esArgs, nil,
		`{"index":{}}`, `{"message":"dup","app":"d"}`,
		`{"index":{}}`, `{"message":"dup","app":"d"}`)

	start := time.Now()
	f := runFake(t, func(tb testing.TB) { s.WaitCount(tb, `app:=d`, 1, 30*time.Second) })
	if !f.Failed() || !strings.Contains(f.text(), "yields 2 rows, want exactly 1") {
		t.Fatalf("WaitCount did not report the extra row; recorded: %q", f.text())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v; it should not wait out the 30s timeout", d)
	}
}

func TestWaitCount_TimesOutReportingTheLastCount(t *testing.T) {
	t.Parallel()
	s := Start(t)
	bulk(t, s, esArgs, nil, `{"index":{}}`, `{"message":"only one","app":"o"}`)

	start := time.Now()
	f := runFake(t, func(tb testing.TB) { s.WaitCount(tb, `app:=o`, 2, 500*time.Millisecond) })
	if !f.Failed() || !strings.Contains(f.text(), "yields 1 rows after") {
		t.Fatalf("WaitCount did not time out with the last count; recorded: %q", f.text())
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 5*time.Second {
		t.Errorf("took %v, want about the 500ms timeout", d)
	}
}

func TestWaitCount_FailsAtOnceOnAnInvalidQuery(t *testing.T) {
	t.Parallel()
	s := Start(t)
	start := time.Now()
	f := runFake(t, func(tb testing.TB) { s.WaitCount(tb, `app:(((`, 1, 30*time.Second) })
	if !f.Failed() || !strings.Contains(f.text(), "HTTP 400") {
		t.Fatalf("want an HTTP 400 failure, recorded: %q", f.text())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v; a rejected query must not be retried until timeout", d)
	}
}

func TestStart_FailureIncludesTheServerLog(t *testing.T) {
	t.Parallel()
	f := runFake(t, func(tb testing.TB) { Start(tb, WithFlags("-retentionPeriod=1h")) })
	if f.Skipped() {
		t.Skipf("needs the server binary: %s", f.text())
	}
	if !f.Failed() || !strings.Contains(f.text(), "retentionPeriod cannot be smaller than a day") {
		t.Fatalf("Start failure should quote the server log; recorded: %q", f.text())
	}
}

// The tests below change the environment, so they cannot run in parallel.

func TestStart_WithoutBinarySkipsWithInstallHint(t *testing.T) {
	hideBinary(t)
	t.Setenv("CI", "")
	f := runFake(t, func(tb testing.TB) { Start(tb) })
	if !f.Skipped() || f.Failed() {
		t.Fatalf("want a skip, got failed=%v skipped=%v: %q", f.Failed(), f.Skipped(), f.text())
	}
	for _, want := range []string{InstallCommand, EnvBinary} {
		if !strings.Contains(f.text(), want) {
			t.Errorf("skip message lacks %q: %q", want, f.text())
		}
	}
}

func TestStart_WithoutBinaryFailsInCI(t *testing.T) {
	hideBinary(t)
	t.Setenv("CI", "true")
	f := runFake(t, func(tb testing.TB) { Start(tb) })
	if !f.Failed() || f.Skipped() || !strings.Contains(f.text(), InstallCommand) {
		t.Fatalf("want a failure naming the install command, got failed=%v skipped=%v: %q", f.Failed(), f.Skipped(), f.text())
	}
}

func TestStart_FailsWhenExplicitBinaryIsMissing(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv(EnvBinary, filepath.Join(t.TempDir(), "nope"))
	f := runFake(t, func(tb testing.TB) { Start(tb) })
	if !f.Failed() || f.Skipped() || !strings.Contains(f.text(), "nope") {
		t.Fatalf("want a failure naming the bad path, got failed=%v skipped=%v: %q", f.Failed(), f.Skipped(), f.text())
	}
}

// hideBinary makes every lookup location empty.
func hideBinary(t *testing.T) {
	t.Setenv(EnvBinary, "")
	t.Setenv("PATH", t.TempDir()) // also hides `go`, so GOPATH comes from the env
	t.Setenv("GOPATH", t.TempDir())
}

func TestFindBinary_PrefersEnvThenPathThenGopathBin(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	envBin := mk("env/victoria-logs")
	pathBin := mk("path/victoria-logs")
	gp1, gp2 := filepath.Join(dir, "gp1"), filepath.Join(dir, "gp2")
	gpBin := mk("gp2/bin/victoria-logs")
	notExec := mk("plain/victoria-logs")
	if err := os.Chmod(notExec, 0o644); err != nil {
		t.Fatal(err)
	}

	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvBinary {
				return v
			}
			return ""
		}
	}
	onPath := func(string) (string, error) { return pathBin, nil }
	notOnPath := func(string) (string, error) { return "", errors.New("not found") }
	gopath := func() string { return gp1 + string(os.PathListSeparator) + gp2 }

	cases := []struct {
		name   string
		getenv func(string) string
		look   func(string) (string, error)
		want   string
		errIs  error
	}{
		{"env wins", env(envBin), onPath, envBin, nil},
		{"path next", env(""), onPath, pathBin, nil},
		{"gopath bin last, any entry", env(""), notOnPath, gpBin, nil},
		{"explicit non-executable is an error", env(notExec), onPath, "", errExplicitBinary},
	}
	for _, c := range cases {
		got, err := findBinary(c.getenv, c.look, gopath)
		if got != c.want || (c.errIs == nil) != (err == nil) || (c.errIs != nil && !errors.Is(err, c.errIs)) {
			t.Errorf("%s: got %q, %v; want %q, %v", c.name, got, err, c.want, c.errIs)
		}
	}
	if _, err := findBinary(env(""), notOnPath, func() string { return gp1 }); err == nil || !strings.Contains(err.Error(), InstallCommand) {
		t.Errorf("not found: err = %v, want the install hint", err)
	}
}

func mustGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := queryClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}
