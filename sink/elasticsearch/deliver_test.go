package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/sink/httpc"
)

func isRetryable(err error) bool {
	var re *httpc.RetryableError
	return errors.As(err, &re) && !sink.IsPermanent(err)
}

// states lists, per event, "done", "rejected" or "-" (neither).
func states(b *sink.Batch, rejected map[int]bool) []string {
	out := make([]string, len(b.Events))
	for i := range b.Events {
		switch {
		case rejected[i]:
			out[i] = "rejected"
		case b.IsDone(i):
			out[i] = "done"
		default:
			out[i] = "-"
		}
	}
	return out
}

func TestItemStatuses(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		want      []string
		retryable bool
	}{
		{"all created", []int{201, 201, 200}, []string{"done", "done", "done"}, false},
		{"409 on create is already there", []int{409, 201}, []string{"done", "done"}, false},
		{"mixed", []int{201, 409, 429, 400, 500, 200, 404, 503},
			[]string{"done", "done", "-", "rejected", "-", "done", "rejected", "-"}, true},
		{"only mapping errors", []int{400, 400}, []string{"rejected", "rejected"}, false},
		{"501 never passes", []int{501}, []string{"rejected"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeES(t, func(_ int, req bulkRequest) (int, string) {
				return 200, itemsAnswer(req, func(k int) int { return tc.statuses[k] })
			})
			s := newSink(t, map[string]string{"url": srv.URL})
			b := newBatch("t", lineEvents(t, "t", numbered(len(tc.statuses))))
			rl := watch(s, b)
			err := s.Deliver(context.Background(), b)
			if got := states(b, rl.rejectedSet()); !slices.Equal(got, tc.want) {
				t.Errorf("states %v, want %v", got, tc.want)
			}
			if isRetryable(err) != tc.retryable || (err != nil) != tc.retryable {
				t.Errorf("error %v, want retryable %v", err, tc.retryable)
			}
			var wantDelivered, wantRejected int
			for _, st := range tc.want {
				switch st {
				case "done":
					wantDelivered++
				case "rejected":
					wantRejected++
				}
			}
			if got := b.Delivered(); got != wantDelivered {
				t.Errorf("Delivered %d, want %d", got, wantDelivered)
			}
			if got := b.Rejected(); got != wantRejected {
				t.Errorf("%d rejections counted, want %d", got, wantRejected)
			}
		})
	}
}

// A retry after per-item 429/500 sends exactly the records not yet done,
// once each, and then completes.
func TestRetrySendsOnlyUndoneRecords(t *testing.T) {
	first := []int{201, 429, 400, 500, 201, 503}
	srv := startFakeES(t, func(n int, req bulkRequest) (int, string) {
		if n == 0 {
			return 200, itemsAnswer(req, func(k int) int { return first[k] })
		}
		return 200, itemsAnswer(req, nil)
	})
	s := newSink(t, map[string]string{"url": srv.URL})
	b := newBatch("t", lineEvents(t, "t", numbered(len(first))))
	if err := s.Deliver(context.Background(), b); !isRetryable(err) {
		t.Fatalf("first flush: %v, want a retryable error", err)
	}
	retry := newBatch("t", undone(b))
	if err := s.Deliver(context.Background(), retry); err != nil {
		t.Fatalf("retry: %v", err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	var got []int
	for _, d := range reqs[1].Docs {
		got = append(got, d.Seq())
	}
	if want := []int{1, 3, 5}; !slices.Equal(got, want) {
		t.Errorf("retry sent records %v, want %v (the 429/5xx ones only)", got, want)
	}
	for i := range retry.Events {
		if !retry.IsDone(i) {
			t.Errorf("retried record %d not done", i)
		}
	}
}

func TestWholeRequestAnswers(t *testing.T) {
	const n = 4
	tests := []struct {
		name      string
		status    int
		body      string
		want      string // state of every record, or "2done" for the first two done
		retryable bool
	}{
		{"not JSON", 200, "<html>proxy says hi</html>", "-", true},
		{"empty 200", 200, "", "-", true},
		{"no items", 200, `{"took":1,"errors":false}`, "-", true},
		{"an array", 200, `[1,2]`, "-", true},
		{"truncated JSON", 200, `{"took":1,"errors":false,"items":[{"create":{"status":201}},{"cre`, "-", true},
		{"fewer items than documents", 200, `{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}`, "2done", true},
		{"more items than documents", 200, `{"errors":false,"items":[` + strings.Repeat(`{"create":{"status":201}},`, n) + `{"create":{"status":201}}]}`, "-", true},
		{"items before errors", 200, `{"items":[` + strings.Repeat(`{"index":{"status":201}},`, n-1) + `{"index":{"status":201}}],"errors":false}`, "done", false},
		{"item without status", 200, `{"errors":true,"items":[{"create":{}},{"create":{"status":201}},{"create":{"status":201}},{"create":{"status":201}}]}`, "-done", true},
		{"429", 429, `{"error":"busy"}`, "-", true},
		{"503", 503, "", "-", true},
		{"500", 500, "boom", "-", true},
		{"408", 408, "", "-", true},
		{"401 bad credentials", 401, "unauthorized", "-", true},
		{"403 missing privilege", 403, "forbidden", "-", true},
		{"404 wrong path", 404, "no handler", "-", true},
		{"400 malformed request", 400, `{"error":{"type":"illegal_argument_exception"}}`, "rejected", false},
		{"422", 422, "", "rejected", false},
		{"501", 501, "", "rejected", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeES(t, func(int, bulkRequest) (int, string) { return tc.status, tc.body })
			s := newSink(t, map[string]string{"url": srv.URL})
			b := newBatch("t", lineEvents(t, "t", numbered(n)))
			rl := watch(s, b)
			err := s.Deliver(context.Background(), b)
			if isRetryable(err) != tc.retryable || (err != nil) != tc.retryable {
				t.Errorf("error %v, want retryable %v", err, tc.retryable)
			}
			var want []string
			for i := range n {
				switch {
				case tc.want == "2done" && i < 2, tc.want == "-done" && i > 0:
					want = append(want, "done")
				case tc.want == "2done", tc.want == "-done":
					want = append(want, "-")
				default:
					want = append(want, tc.want)
				}
			}
			if got := states(b, rl.rejectedSet()); !slices.Equal(got, want) {
				t.Errorf("states %v, want %v", got, want)
			}
			if tc.want == "rejected" && strings.Count(rl.log(), "refused") != 1 {
				t.Errorf("want the server's reason logged once, log:\n%s", rl.log())
			}
		})
	}
}

// VictoriaLogs stores documents up to the first it cannot decode and names
// it; the ones before are done, it is rejected, the ones after are sent
// again in the same flush.
func TestPartialDecodeFailureResendsTheRest(t *testing.T) {
	srv := startFakeES(t, func(n int, req bulkRequest) (int, string) {
		if n == 0 {
			return 400, "cannot decode log message #2 in /_bulk request: cannot parse timestamp"
		}
		return 200, itemsAnswer(req, nil)
	})
	s := newSink(t, map[string]string{"url": srv.URL})
	b := newBatch("t", lineEvents(t, "t", numbered(6)))
	rl := watch(s, b)
	if err := s.Deliver(context.Background(), b); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if got, want := states(b, rl.rejectedSet()), []string{"done", "done", "rejected", "done", "done", "done"}; !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if got, want := srv.seqs(), []int{0, 1, 2, 3, 4, 5, 3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("server received %v, want %v", got, want)
	}
	if b.Delivered() != 5 {
		t.Errorf("delivered %d, want 5", b.Delivered())
	}
}

func TestSplitsFlushByMaxRequestSize(t *testing.T) {
	const limit = 64 << 10
	srv := startFakeES(t, allCreated)
	s := newSink(t, map[string]string{"url": srv.URL, "max_request_size": "64k"})
	lines := numbered(2000)
	b := newBatch("t", lineEvents(t, "t", lines))
	if err := s.Deliver(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) < 5 {
		t.Errorf("%d requests for ~%d KiB with a 64 KiB cap", len(reqs), len(lines)*300>>10)
	}
	for i, r := range reqs {
		if r.Size > limit {
			t.Errorf("request %d is %d bytes, over max_request_size", i, r.Size)
		}
		if r.Size < limit/2 && i < len(reqs)-1 {
			t.Errorf("request %d is only %d bytes: requests should be filled", i, r.Size)
		}
	}
	want := make([]int, len(lines))
	for i := range want {
		want[i] = i
	}
	if got := srv.seqs(); !slices.Equal(got, want) {
		t.Errorf("documents arrived out of order, or not exactly once (%d of %d)", len(got), len(want))
	}
	if b.Delivered() != len(lines) {
		t.Errorf("delivered %d", b.Delivered())
	}
}

// A server that refuses large bodies with 413 gets them in halves; a
// document larger than it accepts on its own is rejected, the rest pass.
func Test413SplitsRequests(t *testing.T) {
	const serverLimit = 20 << 10
	srv := startFakeES(t, func(_ int, req bulkRequest) (int, string) {
		if req.Size > serverLimit {
			return 413, "request entity too large"
		}
		return 200, itemsAnswer(req, nil)
	})
	var log flblog.Buffer
	s, err := New(configReader(map[string]string{"url": srv.URL}), logTo(&log), stage.Layout())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lines := numbered(300)
	lines[117] = "ctlive | 2025-02-27T17:19:20Z [socketIO] [AGM] huge " + strings.Repeat("y", 30<<10)
	b := newBatch("t", lineEvents(t, "t", lines))
	rl := watch(s, b)
	if err := s.Deliver(context.Background(), b); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	rej := rl.rejectedSet()
	if len(rej) != 1 || !rej[117] {
		t.Errorf("rejected %v, want only the huge record 117", rej)
	}
	got := map[int]int{}
	for _, r := range srv.requests() {
		if r.Size <= serverLimit {
			for _, d := range r.Docs {
				got[d.Seq()]++
			}
		}
	}
	for i := range lines {
		if i != 117 && got[i] != 1 {
			t.Errorf("record %d accepted %d times, want once", i, got[i])
		}
	}
	// One warning, naming the limit that was hit and what to set.
	if !strings.Contains(rl.log(), "413") || strings.Count(rl.log()+log.String(), "http.max_content_length (100mb by default)") != 1 ||
		!strings.Contains(log.String(), "set max_request_size below that limit") {
		t.Errorf("want one warning naming the server's limit and max_request_size; logs:\n%s%s", log.String(), rl.log())
	}
}

func TestRequestFormat(t *testing.T) {
	tests := []struct {
		name, url, compress string
		wantPath, wantQuery string
		wantGzip            bool
	}{
		{"plain", "", "none", "/_bulk", "", false},
		{"gzip by default", "", "", "/_bulk", "", true},
		{"path prefix and query kept", "/insert/elasticsearch/?_msg_field=message&_time_field=@timestamp", "",
			"/insert/elasticsearch/_bulk", "_msg_field=message&_time_field=@timestamp", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeES(t, allCreated)
			props := map[string]string{"url": srv.URL + tc.url}
			if tc.compress != "" {
				props["compress"] = tc.compress
			}
			s := newSink(t, props)
			b := newBatch("t", lineEvents(t, "t", numbered(3)))
			if err := s.Deliver(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			r := srv.requests()[0]
			if r.Path != tc.wantPath || r.RawQuery != tc.wantQuery {
				t.Errorf("path %q query %q, want %q %q", r.Path, r.RawQuery, tc.wantPath, tc.wantQuery)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
				t.Errorf("Content-Type %q", ct)
			}
			if gz := r.Header.Get("Content-Encoding") == "gzip"; gz != tc.wantGzip {
				t.Errorf("gzip %v, want %v", gz, tc.wantGzip)
			}
			if len(r.Docs) != 3 {
				t.Errorf("%d documents", len(r.Docs))
			}
		})
	}
}

func TestGroupMarkersAndDoneEventsAreNotSent(t *testing.T) {
	srv := startFakeES(t, allCreated)
	s := newSink(t, map[string]string{"url": srv.URL})
	var chunk []byte
	chunk = append(chunk, groupStart()...)
	for i := range 4 {
		chunk = appendEntry(chunk, t0, kv{"log", fmt.Sprintf("[socketIO] [AGM] r%d", i), "seq", i})
	}
	evs := decodeChunk(t, "t", chunk)
	b := newBatch("t", evs)
	b.Done(3) // record seq 2 (event 0 is the marker), delivered by an earlier attempt
	if err := s.Deliver(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if got, want := srv.seqs(), []int{0, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("sent %v, want %v", got, want)
	}
	for i := range evs {
		if !b.IsDone(i) {
			t.Errorf("event %d not done", i)
		}
	}
	if got := b.Delivered(); got != 4 {
		t.Errorf("delivered %d, want 4: three sent, one by an earlier attempt (markers are not records)", got)
	}
	// A flush of markers only sends nothing.
	only := newBatch("t", decodeChunk(t, "t", groupStart()))
	if err := s.Deliver(context.Background(), only); err != nil || !only.IsDone(0) || len(srv.requests()) != 1 {
		t.Errorf("markers-only flush: err %v, done %v, %d requests", err, only.IsDone(0), len(srv.requests()))
	}
}

func TestUnreachableServerIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s := newSink(t, map[string]string{"url": "http://" + addr, "timeout": "2s"})
	b := newBatch("t", lineEvents(t, "t", numbered(3)))
	start := time.Now()
	err = s.Deliver(context.Background(), b)
	if !isRetryable(err) {
		t.Fatalf("error %v, want retryable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a refused connection took %v", d)
	}
	if len(undone(b)) != 3 {
		t.Error("records marked done without a server")
	}
}

// A server that accepts and never answers costs one timeout, not a hang.
func TestHungServerIsBoundedByTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	defer close(release)
	s := newSink(t, map[string]string{"url": srv.URL, "timeout": "300ms"})
	b := newBatch("t", lineEvents(t, "t", numbered(3)))
	start := time.Now()
	err := s.Deliver(context.Background(), b)
	d := time.Since(start)
	if !isRetryable(err) {
		t.Errorf("error %v, want retryable", err)
	}
	if d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("Deliver returned after %v, want about the 300ms timeout", d)
	}
}

func TestCanceledContextIsRetryable(t *testing.T) {
	srv := startFakeES(t, allCreated)
	s := newSink(t, map[string]string{"url": srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := newBatch("t", lineEvents(t, "t", numbered(3)))
	if err := s.Deliver(ctx, b); !isRetryable(err) || len(undone(b)) != 3 {
		t.Errorf("error %v, %d undone", err, len(undone(b)))
	}
}

// Rejections are logged with Elasticsearch's error type and reason, but
// never with the values Elasticsearch quotes from the document.
func TestRejectReasonsKeepRecordContentsOut(t *testing.T) {
	const secret = "s3cr3t-customer-text"
	answer := `{"took":1,"errors":true,"items":[{"create":{"_index":"x","_id":"1","status":400,"error":{` +
		`"type":"document_parsing_exception","reason":"[1:15] failed to parse field [level] of type [long] in document with id '1'. Preview of field's value: '` + secret + `'",` +
		`"caused_by":{"type":"illegal_argument_exception","reason":"For input string: \"x\""}}}}]}`
	srv := startFakeES(t, func(int, bulkRequest) (int, string) { return 200, answer })
	s := newSink(t, map[string]string{"url": srv.URL})
	b := newBatch("t", lineEvents(t, "t", []string{"[socketIO] [AGM] " + secret}))
	rl := watch(s, b)
	if err := s.Deliver(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	log := rl.log()
	if strings.Contains(log, secret) {
		t.Errorf("log quotes the document:\n%s", log)
	}
	for _, want := range []string{"HTTP 400", "document_parsing_exception", "failed to parse field [level]", "illegal_argument_exception"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// Fluent Bit's workers call Deliver at once on one sink.
func TestConcurrentDeliver(t *testing.T) {
	srv := startFakeES(t, allCreated)
	s := newSink(t, map[string]string{"url": srv.URL, "max_request_size": "64k"})
	const workers, per = 4, 500
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lines := make([]string, per)
			for i := range lines {
				lines[i] = fmt.Sprintf("ctlive | 2025-02-27T17:19:20Z [socketIO] [T%d] worker %d record %d", w, w, i)
			}
			var chunk []byte
			for i, l := range lines {
				chunk = appendEntry(chunk, t0, kv{"log", l, "seq", w*per + i})
			}
			b := newBatch("t", decodeChunk(t, "t", chunk))
			errs <- s.Deliver(context.Background(), b)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got := srv.seqs()
	slices.Sort(got)
	if len(got) != workers*per {
		t.Fatalf("%d documents, want %d", len(got), workers*per)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("document %d missing or repeated", i)
		}
	}
}

func TestScrubReason(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain reason", "plain reason"},
		{"failed to parse field [a] in document with id 'x'. Preview of field's value: 'secret'", "failed to parse field [a] in document with id 'x'"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100) + "..."},
	}
	for _, tc := range tests {
		if got := scrubReason(tc.in); got != tc.want {
			t.Errorf("scrubReason(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Every text of a bulk answer that reaches a log line goes through the
// answer scrubber: an item's error type (and its cause's) is the server's
// text as much as its reason, and must neither print a credential nor
// write a line of its own into the agent's log (attacker review, item D).
func TestItemErrorsReachTheLogScrubbed(t *testing.T) {
	const forged = `x password=Hunter2Pw\n[2026/01/01 00:00:00] [ info] forged line`
	tests := []struct {
		name   string
		status int
		error  string // the item's "error" member
		retry  bool   // the reason goes into the retry error, not a rejection
	}{
		{"the error type", 400, `{"type":"` + forged + `","reason":"r"}`, false},
		{"the cause's type", 400, `{"type":"t","reason":"r","caused_by":{"type":"` + forged + `","reason":"r2"}}`, false},
		{"the reason", 400, `{"type":"t","reason":"` + forged + `"}`, false},
		{"an error that is a string", 400, `"` + forged + `"`, false},
		{"a long error type", 400, `{"type":"` + strings.Repeat("y", 5000) + forged + `"}`, false},
		{"the error type of a retried item", 429, `{"type":"` + forged + `","reason":"r"}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answer := `{"took":1,"errors":true,"items":[{"create":{"status":` + itoa(tc.status) + `,"error":` + tc.error + `}}]}`
			srv := startFakeES(t, func(int, bulkRequest) (int, string) { return 200, answer })
			s := newSink(t, map[string]string{"url": srv.URL})
			b := newBatch("t", lineEvents(t, "t", numbered(1)))
			rl := watch(s, b)
			err := s.Deliver(context.Background(), b)
			var texts []string
			if tc.retry {
				if err == nil {
					t.Fatal("a 429 item was not retried")
				}
				texts = append(texts, err.Error())
			} else {
				if len(b.Reasons()) != 1 {
					t.Fatalf("%d rejections, want 1 (err %v)", len(b.Reasons()), err)
				}
				texts = append(texts, b.Reasons()[0].Reason)
				for _, c := range b.RejectedBy() {
					if c.Class != "http_400" && c.Class != "t" {
						t.Errorf("class %q: a metric label from the server's text", c.Class)
					}
				}
			}
			texts = append(texts, rl.log())
			for _, text := range texts {
				if strings.Contains(text, "Hunter2Pw") {
					t.Errorf("a password in the log: %q", text)
				}
				if strings.Contains(text, "\n[2026") {
					t.Errorf("a forged log line: %q", text)
				}
			}
			if n := len(texts[0]); n > 600 {
				t.Errorf("a reason of %d bytes", n)
			}
		})
	}
}
