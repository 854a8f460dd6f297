package vlogs

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTB records what a helper reports instead of failing the real test, so
// the helper's own failure paths can be asserted. Anything not overridden
// (TempDir, Cleanup, Name, ...) goes to the real test.
type fakeTB struct {
	testing.TB
	mu      sync.Mutex
	msgs    []string
	failed  bool
	skipped bool
}

func (f *fakeTB) record(failed, skipped bool, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, msg)
	f.failed = f.failed || failed
	f.skipped = f.skipped || skipped
}

func (f *fakeTB) Helper()         {}
func (f *fakeTB) Log(args ...any) { f.record(false, false, fmt.Sprint(args...)) }
func (f *fakeTB) Logf(format string, args ...any) {
	f.record(false, false, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Error(args ...any) { f.record(true, false, fmt.Sprint(args...)) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.record(true, false, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fail()                             { f.record(true, false, "") }
func (f *fakeTB) FailNow()                          { f.Fail(); runtime.Goexit() }
func (f *fakeTB) Fatal(args ...any)                 { f.Error(args...); runtime.Goexit() }
func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...); runtime.Goexit() }
func (f *fakeTB) Skip(args ...any)                  { f.record(false, true, fmt.Sprint(args...)); runtime.Goexit() }
func (f *fakeTB) Skipf(format string, args ...any) {
	f.record(false, true, fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (f *fakeTB) SkipNow()      { f.record(false, true, ""); runtime.Goexit() }
func (f *fakeTB) Failed() bool  { f.mu.Lock(); defer f.mu.Unlock(); return f.failed }
func (f *fakeTB) Skipped() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.skipped }
func (f *fakeTB) text() string  { f.mu.Lock(); defer f.mu.Unlock(); return strings.Join(f.msgs, "\n") }

// runFake runs fn on its own goroutine (Fatal/Skip end it via Goexit) with a bound.
func runFake(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	t.Helper()
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("helper did not return within 60s; recorded so far:\n%s", f.text())
	}
	return f
}

// post sends body with plain net/http, as a sink would, and returns status and body.
func post(t *testing.T, url, contentType string, body io.Reader, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := queryClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// bulk sends NDJSON lines to the Elasticsearch bulk endpoint with the query
// args a CTLive sink is expected to use, and requires a 200.
func bulk(t *testing.T, s *Server, args string, header map[string]string, lines ...string) string {
	t.Helper()
	u := s.ElasticsearchURL() + "/_bulk"
	if args != "" {
		u += "?" + args
	}
	status, body := post(t, u, "application/x-ndjson", strings.NewReader(strings.Join(lines, "\n")+"\n"), header)
	if status != http.StatusOK {
		t.Fatalf("bulk: HTTP %d: %s", status, body)
	}
	return body
}

// lokiJSON sends a Loki JSON push body and requires a 204.
func lokiJSON(t *testing.T, s *Server, body string, header map[string]string) {
	t.Helper()
	status, resp := post(t, s.LokiPushURL(), "application/json", strings.NewReader(body), header)
	if status != http.StatusNoContent {
		t.Fatalf("loki push: HTTP %d: %s", status, resp)
	}
}

const esArgs = "_msg_field=message&_time_field=@timestamp&_stream_fields=app"
