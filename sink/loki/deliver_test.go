package loki

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/sink/httpc"
)

func TestAnswers(t *testing.T) {
	tests := []struct {
		status    int
		body      string
		wantErr   bool   // retryable error returned
		wantDone  bool   // records marked done (delivered or rejected)
		rejected  bool   // ... and rejected
		wantInLog string // "" for no log line
	}{
		{204, "", false, true, false, ""},
		{200, "", false, true, false, ""},
		{400, "entry for stream '{job=\"x\"}' has timestamp too old", false, true, true, "timestamp too old"},
		{400, "stream '{job=\"x\"}' includes structured metadata, but this feature is disallowed", false, true, true, "enable allow_structured_metadata"},
		{401, "no org id", true, false, false, "check http_user/http_passwd/bearer_token"},
		{403, "forbidden", true, false, false, "check http_user/http_passwd/bearer_token"},
		{404, "404 page not found", true, false, false, "check url"},
		{413, "too large", false, true, true, "lower max_request_size"},
		{501, "not implemented", false, true, true, "501"},
		{408, "", true, false, false, ""},
		{429, "Ingestion rate limit exceeded", true, false, false, ""},
		{500, "internal", true, false, false, ""},
		{502, "bad gateway", true, false, false, ""},
		{503, "unavailable", true, false, false, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.status, " ", tc.body), func(t *testing.T) {
			f := startFake(t, func(*pushReq) (int, string) { return tc.status, tc.body })
			s, logs := newSink(t, map[string]string{"url": f.url()})
			b := makeBatch(t, "t", lines(lineNewContact, lineURL, linePlain))
			err := deliver(t, s, b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if err != nil {
				var se *StatusError
				if !errors.As(err, &se) || se.Status != tc.status || sink.IsPermanent(err) {
					t.Errorf("err = %v, want a retryable *StatusError with %d", err, tc.status)
				}
			}
			if done := len(undone(b)) == 0; done != tc.wantDone {
				t.Errorf("all done = %v, want %v (undone %v)", done, tc.wantDone, undone(b))
			}
			if tc.wantDone && !tc.wantErr {
				wantRejected, wantDelivered := 0, 3
				if tc.rejected {
					wantRejected, wantDelivered = 3, 0
				}
				if b.Rejected() != wantRejected || b.Delivered() != wantDelivered {
					t.Errorf("rejected %d delivered %d, want %d and %d", b.Rejected(), b.Delivered(), wantRejected, wantDelivered)
				}
			}
			if tc.wantInLog != "" && !strings.Contains(logs.String(), tc.wantInLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantInLog, logs)
			}
			if tc.wantInLog == "" && logs.String() != "" {
				t.Errorf("unexpected log:\n%s", logs)
			}
		})
	}
}

// Records of a tenant that succeeded are done even when another tenant's
// request fails; the retry then carries only the rest, so nothing is
// stored twice.
func TestRetryCarriesOnlyUndeliveredRecords(t *testing.T) {
	var mu sync.Mutex
	failing := map[string]int{"ACME": 429, "TENANT1": 503}
	f := startFake(t, func(r *pushReq) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		if code := failing[r.Tenant]; code != 0 {
			return code, "try later"
		}
		return 204, ""
	})
	s, _ := newSink(t, map[string]string{"url": f.url(), "tenant_id": "$tenant"})
	recs := lines(
		"ctlive | 2025-02-27T10:00:00Z [socketIO] [AGM] newContact 1",
		"ctlive | 2025-02-27T10:00:01Z [socketIO] [ACME] newContact 2",
		"ctlive | 2025-02-27T10:00:02Z [socketIO] [AGM] endContact 3",
		"ctlive | 2025-02-27T10:00:03Z [socketIO] [TENANT1] newContact 4",
		"ctlive | 2025-02-27T10:00:04Z [socketIO] [DEFAULT] newContact 5",
	)
	b := makeBatch(t, "t", recs)
	err := deliver(t, s, b)
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *StatusError", err)
	}
	// Tenants go in first-appearance order: AGM ok, ACME 429 (skips only
	// ACME), TENANT1 503 (stops the flush: DEFAULT is not tried).
	if got, want := fmt.Sprint(undone(b)), "[1 3 4]"; got != want {
		t.Fatalf("undone %s, want %s", got, want)
	}
	var tried []string
	for _, r := range f.requests() {
		tried = append(tried, r.Tenant)
	}
	if got := strings.Join(tried, ","); got != "AGM,ACME,TENANT1" {
		t.Fatalf("requests for %s, want AGM,ACME,TENANT1", got)
	}

	// Fluent Bit retries the chunk; the pipeline hands over the rest only.
	mu.Lock()
	failing = nil
	mu.Unlock()
	var rest []rec
	for _, i := range undone(b) {
		rest = append(rest, recs[i])
	}
	b2 := makeBatch(t, "t", rest)
	if err := deliver(t, s, b2); err != nil {
		t.Fatal(err)
	}
	delivered := f.accepted()
	for _, r := range recs {
		if delivered[r.line.(string)] != 1 {
			t.Errorf("%q accepted %d times, want exactly once", r.line, delivered[r.line.(string)])
		}
	}
}

func TestUnreachableServerFailsPromptlyAndRetryably(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s, _ := newSink(t, map[string]string{"url": "http://" + addr, "timeout": "5s"})
	b := makeBatch(t, "t", lines(lineNewContact, lineURL))
	start := time.Now()
	err = deliver(t, s, b)
	var re *httpc.RetryableError
	if !errors.As(err, &re) || sink.IsPermanent(err) {
		t.Fatalf("err = %v, want a retryable transport error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v to fail", d)
	}
	if len(undone(b)) != 2 {
		t.Fatalf("undone %v, want both", undone(b))
	}
}

func TestCancelledContextStopsTheFlush(t *testing.T) {
	block := make(chan struct{})
	f := startFake(t, func(*pushReq) (int, string) { <-block; return 204, "" })
	defer close(block)
	s, _ := newSink(t, map[string]string{"url": f.url()})
	b := makeBatch(t, "t", lines(lineURL))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Deliver(ctx, b); err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestRequestShape(t *testing.T) {
	tests := []struct {
		name, url          string
		props              map[string]string
		wantPath, wantType string
		wantEncoding       string
	}{
		{"protobuf is raw snappy without Content-Encoding", "", nil, "/loki/api/v1/push", "application/x-protobuf", ""},
		{"json is gzipped by default", "", map[string]string{"encoding": "json"}, "/loki/api/v1/push", "application/json", "gzip"},
		{"json without compression", "", map[string]string{"encoding": "json", "compress": "none"}, "/loki/api/v1/push", "application/json", ""},
		{"compress does not touch protobuf", "", map[string]string{"compress": "gzip"}, "/loki/api/v1/push", "application/x-protobuf", ""},
		{"path prefix", "/insert", nil, "/insert/loki/api/v1/push", "application/x-protobuf", ""},
		{"URL naming the push API already", "/insert/loki/api/v1/push", nil, "/insert/loki/api/v1/push", "application/x-protobuf", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, nil)
			props := map[string]string{"url": f.url() + tc.url}
			for k, v := range tc.props {
				props[k] = v
			}
			s, _ := newSink(t, props)
			if err := deliver(t, s, makeBatch(t, "t", lines(lineURL))); err != nil {
				t.Fatal(err)
			}
			r := f.requests()[0]
			if r.Path != tc.wantPath || r.ContentType != tc.wantType || r.ContentEncoding != tc.wantEncoding {
				t.Fatalf("path %q type %q encoding %q, want %q %q %q", r.Path, r.ContentType, r.ContentEncoding,
					tc.wantPath, tc.wantType, tc.wantEncoding)
			}
		})
	}
}

// Fluent Bit's workers call Deliver at once; run with -race.
func TestConcurrentDeliveries(t *testing.T) {
	f := startFake(t, nil)
	for _, enc := range []string{"protobuf", "json"} {
		s, _ := newSink(t, map[string]string{"url": f.url(), "encoding": enc, "tenant_id": "$tenant"})
		s.maxSize = 4 << 10 // below max_request_size's floor: several requests per flush
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				var recs []rec
				for i := 0; i < 100; i++ {
					recs = append(recs, rec{line: fmt.Sprintf("ctlive | 2025-02-27T10:00:%02dZ [socketIO] [T%d] newContact %s w%d-%d", i%60, i%3, enc, w, i)})
				}
				b := makeBatch(t, "t", recs)
				if err := s.Deliver(context.Background(), b); err != nil {
					errs <- err
				}
				if len(undone(b)) != 0 {
					errs <- fmt.Errorf("worker %d: undone %v", w, undone(b))
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	seen := map[string]int{}
	for _, r := range f.requests() {
		for _, s := range r.Streams {
			for _, e := range s.Entries {
				if !strings.Contains(e.Line, "["+r.Tenant+"]") {
					t.Errorf("%q sent as tenant %q", e.Line, r.Tenant)
				}
				seen[e.Line]++
			}
		}
	}
	if len(seen) != 2*8*100 {
		t.Errorf("%d distinct lines arrived, want %d", len(seen), 2*8*100)
	}
	for l, n := range seen {
		if n != 1 {
			t.Errorf("%q arrived %d times", l, n)
		}
	}
}
