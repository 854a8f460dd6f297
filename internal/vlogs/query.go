package vlogs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	queryTimeout      = 30 * time.Second
	waitPollInterval  = 100 * time.Millisecond
	defaultWaitBudget = 10 * time.Second
)

// queryClient never reuses connections, so a Stop/Restart between two
// queries cannot leave it holding a dead keep-alive connection.
var queryClient = &http.Client{
	Timeout:   queryTimeout,
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

// httpStatusError is a non-2xx answer; the body carries VictoriaLogs' reason.
type httpStatusError struct {
	status int
	body   string
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, strings.TrimSpace(e.body))
}

// retryable tells WaitCount whether polling again can help: a bad query
// (4xx) will not fix itself, a server that is restarting will.
func retryable(err error) bool {
	var se *httpStatusError
	if errors.As(err, &se) {
		return se.status >= 500
	}
	return true // transport errors: refused, reset, timeout
}

func oneTenant(t testing.TB, tenant []Tenant) Tenant {
	t.Helper()
	switch len(tenant) {
	case 0:
		return Tenant{}
	case 1:
		return tenant[0]
	}
	t.Fatalf("vlogs: at most one tenant may be given, got %v", tenant)
	return Tenant{}
}

func (s *Server) do(method, path string, form url.Values, tn Tenant) ([]byte, error) {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if len(form) > 0 {
		path += "?" + form.Encode()
	}
	req, err := http.NewRequest(method, s.URL()+path, body)
	if err != nil {
		return nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	tn.SetHeaders(req.Header)
	resp, err := queryClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return nil, &httpStatusError{status: resp.StatusCode, body: string(b)}
	}
	if err != nil {
		// A query failing after the 200 header was sent shows up as a cut body.
		return nil, fmt.Errorf("read response: %w; partial body: %.512s", err, b)
	}
	return b, nil
}

func (s *Server) query(logsql string, tn Tenant) ([]map[string]string, error) {
	b, err := s.do(http.MethodPost, "/select/logsql/query", url.Values{"query": {logsql}}, tn)
	if err != nil {
		return nil, err
	}
	var rows []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), len(b)+1)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		row := map[string]string{}
		if err := json.Unmarshal(line, &row); err != nil {
			// VictoriaLogs appends an error text if a query fails mid-stream.
			return nil, fmt.Errorf("row %d is not a JSON object of strings (%v): %.512s", len(rows)+1, err, line)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// Query flushes, then runs a LogsQL query on /select/logsql/query and
// returns every row, so everything acknowledged so far is included. All
// values are strings, as VictoriaLogs returns them. Row order is
// unspecified: end the query with `| sort by (_time)` when order matters.
// No time range is applied unless the query has one, so old data is found.
func (s *Server) Query(t testing.TB, logsql string, tenant ...Tenant) []map[string]string {
	t.Helper()
	tn := oneTenant(t, tenant)
	s.Flush(t)
	rows, err := s.query(logsql, tn)
	if err != nil {
		t.Fatalf("vlogs: query %q: %v", logsql, err)
	}
	return rows
}

func (s *Server) count(logsql string, tn Tenant) (int, error) {
	rows, err := s.query(logsql+" | count() as vlogs_rows", tn)
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 {
		return 0, fmt.Errorf("count query returned %d rows, want 1: %v", len(rows), rows)
	}
	return strconv.Atoi(rows[0]["vlogs_rows"])
}

// Count returns how many rows logsql currently yields, after a Flush so
// that everything acknowledged so far is included.
func (s *Server) Count(t testing.TB, logsql string, tenant ...Tenant) int {
	t.Helper()
	tn := oneTenant(t, tenant)
	s.Flush(t)
	n, err := s.count(logsql, tn)
	if err != nil {
		t.Fatalf("vlogs: count %q: %v", logsql, err)
	}
	return n
}

// WaitCount polls (flush, then count) until logsql yields exactly n rows.
// It fails at once when there are more than n rows, since rows never
// disappear and extra rows mean duplicates; it fails after timeout (10s if
// timeout <= 0) with the last count. Transient errors such as a refused
// connection during a Restart are retried; a rejected query is not.
func (s *Server) WaitCount(t testing.TB, logsql string, n int, timeout time.Duration, tenant ...Tenant) {
	t.Helper()
	tn := oneTenant(t, tenant)
	if timeout <= 0 {
		timeout = defaultWaitBudget
	}
	start := time.Now()
	deadline := start.Add(timeout)
	last, polls := -1, 0
	var lastErr error
	for {
		polls++
		err := s.flush()
		if err == nil {
			var c int
			if c, err = s.count(logsql, tn); err == nil {
				last, lastErr = c, nil
				if c == n {
					return
				}
				if c > n {
					t.Fatalf("vlogs: %q yields %d rows, want exactly %d (rows are never removed, so waiting cannot help: duplicates?)", logsql, c, n)
				}
			}
		}
		if err != nil {
			if !retryable(err) {
				t.Fatalf("vlogs: wait for %d rows of %q: %v", n, logsql, err)
			}
			lastErr = err
		}
		if !time.Now().Before(deadline) {
			t.Fatalf("vlogs: %q yields %d rows after %v (%d polls), want %d; last error: %v",
				logsql, last, time.Since(start).Round(time.Millisecond), polls, n, lastErr)
		}
		time.Sleep(min(waitPollInterval, time.Until(deadline)))
	}
}

func (s *Server) flush() error {
	_, err := s.do(http.MethodGet, "/internal/force_flush", nil, Tenant{})
	return err
}

// Flush makes every row acknowledged so far searchable. Without it rows
// become visible about 1-2s after the ingestion request returns.
func (s *Server) Flush(t testing.TB) {
	t.Helper()
	if err := s.flush(); err != nil {
		t.Fatalf("vlogs: force flush: %v", err)
	}
}

func (s *Server) names(t testing.TB, path, logsql string, tenant []Tenant) []string {
	t.Helper()
	tn := oneTenant(t, tenant)
	b, err := s.do(http.MethodPost, path, url.Values{"query": {logsql}}, tn)
	if err != nil {
		t.Fatalf("vlogs: %s for %q: %v", path, logsql, err)
	}
	var resp struct {
		Values []struct {
			Value string `json:"value"`
		} `json:"values"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatalf("vlogs: %s: decode %.512s: %v", path, b, err)
	}
	out := make([]string, 0, len(resp.Values))
	for _, v := range resp.Values {
		out = append(out, v.Value)
	}
	sort.Strings(out)
	return out
}

// FieldNames lists, sorted, the field names present in rows matching logsql
// (including _msg, _time, _stream, _stream_id).
func (s *Server) FieldNames(t testing.TB, logsql string, tenant ...Tenant) []string {
	t.Helper()
	return s.names(t, "/select/logsql/field_names", logsql, tenant)
}

// StreamFieldNames lists, sorted, the stream field names of rows matching logsql.
func (s *Server) StreamFieldNames(t testing.TB, logsql string, tenant ...Tenant) []string {
	t.Helper()
	return s.names(t, "/select/logsql/stream_field_names", logsql, tenant)
}

// Metric returns one series from /metrics, written exactly as exposed, e.g.
// `vl_rows_dropped_total{reason="too_small_timestamp"}`. It fails if the
// series is absent (per-protocol series appear only after first use), so a
// typo cannot read as zero.
func (s *Server) Metric(t testing.TB, series string) float64 {
	t.Helper()
	v, ok := s.metrics(t)[series]
	if !ok {
		t.Fatalf("vlogs: metric %s not exposed", series)
	}
	return v
}

func (s *Server) metrics(t testing.TB) map[string]float64 {
	t.Helper()
	b, err := s.do(http.MethodGet, "/metrics", nil, Tenant{})
	if err != nil {
		t.Fatalf("vlogs: /metrics: %v", err)
	}
	m := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// DroppedRows sums the rows VictoriaLogs accepted with a 2xx answer but did
// not store: timestamps outside retention, too many fields, lines over
// -insert.maxLineSizeBytes. End-to-end tests should expect 0. Field names over
// 128 bytes and rows over ~2MB are dropped too but have no metric; they only
// show as warnings in Log().
func (s *Server) DroppedRows(t testing.TB) int {
	t.Helper()
	total := 0.0
	for k, v := range s.metrics(t) {
		if strings.HasPrefix(k, "vl_rows_dropped_total{") || k == "vl_too_long_lines_skipped_total" {
			total += v
		}
	}
	return int(total)
}
