package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
)

// The values of issue #7 that used to start and then fail every flush (or
// panic) are refused by the real library at init, with one log line that
// names the key and shows no secret.
func TestValuesThatWouldFailEveryFlushAreRefusedAtStart(t *testing.T) {
	tests := []struct {
		name  string
		props []string
		key   string
	}{
		{"forward max_message_size 1000", []string{"sink", "forward", "max_message_size", "1000"}, `max_message_size "1000"`},
		{"a size that is only a unit", []string{"sink", "forward", "max_message_size", "B"}, `max_message_size "B"`},
		{"timeout 1e300", []string{"sink", "elasticsearch", "timeout", "1e300"}, `timeout "1e300"`},
		{"go_memory_limit 1", []string{"go_memory_limit", "1"}, `go_memory_limit "1"`},
		{"bearer_token holding a line break", []string{"sink", "loki", "bearer_token", "s3cr3t\nrest"}, "bearer_token: holds a control character"},
		{"a 1-byte mask_key", []string{"mask", "userID", "mask_key", "k"}, "mask_key: must be at least 16 bytes"},
		{"an all-space mask_key", []string{"mask", "userID", "mask_key", "                "}, "mask_key"},
		{"Loki max_request_size 1", []string{"sink", "loki", "max_request_size", "1"}, `max_request_size "1"`},
		{"forward url with credentials", []string{"sink", "forward", "url", "tcp://user:pass@host:24224?shared_key=s3cr3t"}, "url: forward: URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t)
			in := h.New(append([]string{"match", "*"}, tc.props...)...)
			if got := in.Init(); got > 0 {
				t.Errorf("init = %d, want failure", got)
			}
			h.Close()
			log := h.Stderr()
			if n := strings.Count(log, "invalid configuration"); n != 1 || strings.Count(log, "[output:ctlive") != 1 {
				t.Errorf("want one log line, got:\n%s", log)
			}
			if !strings.Contains(log, tc.key) {
				t.Errorf("the line does not name %s:\n%s", tc.key, log)
			}
			if strings.Contains(log, "s3cr3t") || strings.Contains(log, "pass") {
				t.Errorf("the line shows a secret:\n%s", log)
			}
		})
	}
}

// A hostile Elasticsearch answer used to kill the agent (a stack overflow
// is a fatal error no recover catches). Through the real library, the flush
// answers FLB_RETRY, the agent lives, and the next flush goes through.
func TestHostileBulkAnswersDoNotKillTheAgent(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch requests.Add(1) {
		case 1: // caused_by nested 6 million levels (78 MB)
			io.WriteString(w, `{"errors":true,"items":[{"create":{"status":400,"error":`)
			unit := []byte(strings.Repeat(`{"caused_by":`, 5000))
			for range 1200 {
				if _, err := w.Write(unit); err != nil {
					return // the client went: it read enough
				}
			}
		case 2: // 30 million items for one document
			io.WriteString(w, `{"errors":false,"items":[`)
			unit := []byte(strings.Repeat(`{"create":{"status":201}},`, 5000))
			for range 6000 {
				if _, err := w.Write(unit); err != nil {
					return
				}
			}
		default:
			io.WriteString(w, `{"errors":false,"items":[{"create":{"status":201}}]}`)
		}
	}))
	defer srv.Close()
	h := start(t)
	in := h.New("match", "*", "sink", "elasticsearch", "url", srv.URL, "timeout", "10s")
	if in.Init() != flbhost.FLBOK {
		t.Fatalf("init failed:\n%s", h.Stderr())
	}
	data := chunk("ctlive | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] [AGM] newContact")
	for i, want := range []int{flbhost.FLBRetry, flbhost.FLBRetry, flbhost.FLBOK} {
		if got := in.Flush("tail.0", data); got != want {
			t.Fatalf("flush %d = %d, want %d:\n%s", i+1, got, want, h.Stderr())
		}
	}
	in.Exit()
	if st := h.Close(); st != 0 {
		t.Fatalf("host exited with %d:\n%s", st, h.Stderr())
	}
	log := h.Stderr()
	for _, want := range []string{"nests deeper than 64 levels", "lists more items than documents sent"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
}

// The plugin's own log lines print no URL query value, no configured
// secret, and nothing of a server's answer that looks like a credential:
// here a proxy that echoes the request's headers in its 503.
func TestFailureLinesCarryNoCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "upstream unavailable; your request:\r\nPOST "+r.URL.String()+"\r\nAuthorization: "+r.Header.Get("Authorization")+"\r\n")
	}))
	defer srv.Close()
	h := start(t)
	in := h.New("match", "*", "sink", "elasticsearch", "url", srv.URL+"/?token=abc", "api_key", "k3y-from-the-environment")
	if in.Init() != flbhost.FLBOK {
		t.Fatalf("init failed:\n%s", h.Stderr())
	}
	if got := in.Flush("tail.0", chunk("[socketIO] [AGM] newContact")); got != flbhost.FLBRetry {
		t.Errorf("flush = %d, want FLB_RETRY", got)
	}
	in.Exit()
	h.Close()
	log := h.Stderr()
	if !strings.Contains(log, "HTTP 503") || !strings.Contains(log, "token=***") {
		t.Errorf("no failure line naming the answer and the url:\n%s", log)
	}
	for _, secret := range []string{"abc", "k3y"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log shows %q:\n%s", secret, log)
		}
	}
}
