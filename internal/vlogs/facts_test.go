package vlogs

// These tests pin the VictoriaLogs behaviours NOTES.md tells sink authors to
// rely on or to guard against. If one fails after a VictoriaLogs upgrade,
// update NOTES.md together with the test.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFact_ESBulkIgnoresTimestampAndMessageUnlessNamed(t *testing.T) {
	t.Parallel()
	s := Start(t)
	bulk(t, s, "", nil, `{"index":{}}`, `{"@timestamp":"2025-02-27T10:11:12Z","message":"m","app":"plain"}`)
	rows := s.Query(t, `app:=plain`)
	if len(rows) != 1 {
		t.Fatalf("rows = %v", rows)
	}
	r := rows[0]
	if strings.HasPrefix(r["_time"], "2025-") || r["@timestamp"] != "2025-02-27T10:11:12Z" || r["message"] != "m" || r["_msg"] == "m" {
		t.Fatalf("without _time_field/_msg_field want ingestion-time _time and @timestamp/message kept as plain fields; got %v", r)
	}

	// The VL-* headers are equivalent to the query args.
	bulk(t, s, "", map[string]string{"VL-Time-Field": "@timestamp", "VL-Msg-Field": "message", "VL-Stream-Fields": "app"},
		`{"index":{}}`, `{"@timestamp":"2025-02-27T10:11:12Z","message":"m","app":"hdr"}`)
	rows = s.Query(t, `app:=hdr`)
	if len(rows) != 1 || rows[0]["_time"] != "2025-02-27T10:11:12Z" || rows[0]["_msg"] != "m" || rows[0]["_stream"] != `{app="hdr"}` {
		t.Fatalf("with VL-* headers rows = %v", rows)
	}
}

func TestFact_ESBulkWithFormContentTypeStoresNothingButAnswers200(t *testing.T) {
	t.Parallel()
	s := Start(t)
	status, body := post(t, s.ElasticsearchURL()+"/_bulk?"+esArgs, "application/x-www-form-urlencoded",
		strings.NewReader(`{"index":{}}`+"\n"+`{"message":"lost","app":"form"}`+"\n"), nil)
	var resp struct {
		Errors bool  `json:"errors"`
		Items  []any `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &resp); status != http.StatusOK || err != nil || resp.Errors || len(resp.Items) != 0 {
		t.Fatalf("got %d %s, want 200 with errors:false and no items", status, body)
	}
	if n := s.Count(t, `*`); n != 0 {
		t.Fatalf("%d rows stored, want 0", n)
	}
}

func TestFact_ESBulkKeepsRowsBeforeABadLineAndAnswers400(t *testing.T) {
	t.Parallel()
	s := Start(t)
	body := strings.Join([]string{
		`{"index":{}}`, `{"message":"p1","app":"partial"}`,
		`{"index":{}}`, `{"message":"p2" BROKEN`,
		`{"index":{}}`, `{"message":"p3","app":"partial"}`,
	}, "\n") + "\n"
	status, resp := post(t, s.ElasticsearchURL()+"/_bulk?"+esArgs, "application/x-ndjson", strings.NewReader(body), nil)
	if status != http.StatusBadRequest || !strings.Contains(resp, "cannot decode log message #1") {
		t.Fatalf("got %d %s", status, resp)
	}
	if rows := s.Query(t, `app:=partial`); len(rows) != 1 || rows[0]["_msg"] != "p1" {
		t.Fatalf("rows = %v, want only p1 (stored although the request failed)", rows)
	}
}

func TestFact_ESBulkRejectsActionsOtherThanIndexAndCreate(t *testing.T) {
	t.Parallel()
	s := Start(t)
	for _, action := range []string{`{"delete":{"_id":"1"}}`, `{"update":{"_id":"1"}}`} {
		status, resp := post(t, s.ElasticsearchURL()+"/_bulk", "application/x-ndjson",
			strings.NewReader(action+"\n"+`{"doc":{"message":"x"}}`+"\n"), nil)
		if status != http.StatusBadRequest || !strings.Contains(resp, `expecting "create" or "index"`) {
			t.Errorf("%s: got %d %s", action, status, resp)
		}
	}
	status, resp := post(t, s.URL()+"/insert/elasticsearch/ctlive/_bulk", "application/x-ndjson",
		strings.NewReader(`{"index":{}}`+"\n"+`{"message":"x"}`+"\n"), nil)
	if status != http.StatusBadRequest || !strings.Contains(resp, "unsupported path") {
		t.Errorf("per-index bulk path: got %d %s", status, resp)
	}
}

func TestFact_LokiStoresIdenticalEntriesEachTime(t *testing.T) {
	t.Parallel()
	s := Start(t)
	push := `{"streams":[{"stream":{"job":"dup"},"values":[["1740651075123456789","same",{"k":"v"}],["1740651075123456789","same",{"k":"v"}]]}]}`
	lokiJSON(t, s, push, nil)
	lokiJSON(t, s, push, nil)
	s.WaitCount(t, `{job="dup"}`, 4, 10*time.Second)
}

func TestFact_LokiXScopeOrgIDSelectsNumericTenantsOnly(t *testing.T) {
	t.Parallel()
	s := Start(t)
	lokiJSON(t, s, `{"streams":[{"stream":{"job":"org"},"values":[["","x"]]}]}`, map[string]string{"X-Scope-OrgID": "7:8"})
	s.WaitCount(t, `{job="org"}`, 1, 10*time.Second, Tenant{AccountID: 7, ProjectID: 8})

	status, resp := post(t, s.LokiPushURL(), "application/json",
		strings.NewReader(`{"streams":[{"stream":{"job":"org"},"values":[["","x"]]}]}`), map[string]string{"X-Scope-OrgID": "ctlive"})
	if status != http.StatusBadRequest || !strings.Contains(resp, "cannot parse accountID") {
		t.Fatalf("non-numeric X-Scope-OrgID: got %d %s", status, resp)
	}
}

func TestFact_LokiProtobufIsSnappyByDefaultAndKeepsStructuredMetadata(t *testing.T) {
	t.Parallel()
	s := Start(t)
	// PushRequest{streams: [Stream{labels, entries: [Entry{timestamp, line, structuredMetadata}]}]}
	ts := pbVarint(pbVarint(nil, 1, 1740651072), 2, 123456789)
	entry := pbBytes(nil, 1, ts)
	entry = pbBytes(entry, 2, []byte("pb line"))
	entry = pbBytes(entry, 3, pbBytes(pbBytes(nil, 1, []byte("contactID")), 2, []byte("CHAT_AGM_PB")))
	stream := pbBytes(pbBytes(nil, 1, []byte(`{job="pb", env="ci"}`)), 2, entry)
	req := pbBytes(nil, 1, stream)

	status, resp := post(t, s.LokiPushURL(), "application/x-protobuf", bytes.NewReader(req), nil)
	if status != http.StatusBadRequest || !strings.Contains(resp, "snappy") {
		t.Fatalf("unsnappied protobuf without Content-Encoding: got %d %s, want a snappy error", status, resp)
	}
	status, resp = post(t, s.LokiPushURL(), "application/x-protobuf", bytes.NewReader(snappyLiterals(req)), nil)
	if status != http.StatusNoContent {
		t.Fatalf("snappy protobuf: got %d %s", status, resp)
	}
	rows := s.Query(t, `{job="pb"}`)
	want := map[string]string{"_msg": "pb line", "_time": "2025-02-27T10:11:12.123456789Z", "contactID": "CHAT_AGM_PB", "_stream": `{env="ci",job="pb"}`}
	if len(rows) != 1 {
		t.Fatalf("rows = %v", rows)
	}
	for k, v := range want {
		if rows[0][k] != v {
			t.Errorf("%s = %q, want %q", k, rows[0][k], v)
		}
	}
}

func TestFact_OldRowsAreDroppedWith2xxUnderProductionRetention(t *testing.T) {
	t.Parallel()
	s := Start(t, WithFlags("-retentionPeriod=7d", "-futureRetention=2d"))
	bulk(t, s, esArgs, nil,
		`{"index":{}}`, `{"@timestamp":"2025-02-27T10:11:12Z","message":"too old","app":"ret"}`,
		`{"index":{}}`, `{"@timestamp":"`+time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)+`","message":"too new","app":"ret"}`)
	if n := s.Count(t, `*`); n != 0 {
		t.Fatalf("%d rows stored, want 0", n)
	}
	if got := s.DroppedRows(t); got != 2 {
		t.Fatalf("DroppedRows = %d, want 2", got)
	}
	if got := s.Metric(t, `vl_rows_dropped_total{reason="too_small_timestamp"}`); got != 1 {
		t.Fatalf("too_small_timestamp = %v, want 1", got)
	}
}

func pbVarint(b []byte, field int, v uint64) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3)
	return binary.AppendUvarint(b, v)
}

func pbBytes(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|2)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// snappyLiterals is a valid snappy block that stores src uncompressed, enough
// to speak Loki's default encoding without a dependency.
func snappyLiterals(src []byte) []byte {
	dst := binary.AppendUvarint(nil, uint64(len(src)))
	for len(src) > 0 {
		n := min(len(src), 65536)
		switch l := n - 1; {
		case l < 60:
			dst = append(dst, byte(l<<2))
		case l < 1<<8:
			dst = append(dst, 60<<2, byte(l))
		default:
			dst = append(dst, 61<<2, byte(l), byte(l>>8))
		}
		dst = append(dst, src[:n]...)
		src = src[n:]
	}
	return dst
}
