package loki

// End-to-end tests against a real VictoriaLogs (internal/vlogs), which
// speaks Loki's push API in both encodings. Set VICTORIA_LOGS_BIN; without
// the binary these tests skip (or fail when CI is set).

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/onwire"
	"github.com/ctlive/ctlive-fluent-bit/internal/vlogs"
	"github.com/ctlive/ctlive-fluent-bit/sink"
)

// vlURL points the sink at VictoriaLogs' Loki API (the sink appends
// /loki/api/v1/push). disable_message_parsing keeps JSON lines whole in
// _msg, as Loki would, instead of exploding them into fields.
func vlURL(s *vlogs.Server) string { return s.URL() + "/insert?disable_message_parsing=1" }

// corpusRecs is the source document's real lines and a generated corpus.
func corpusRecs(n int) ([]rec, []corpus.Record) {
	all := append(corpus.RealLines(), corpus.Generate(7, n)...)
	recs := make([]rec, len(all))
	for i, r := range all {
		recs[i] = rec{line: r.Line}
	}
	return recs, all
}

// pushAll delivers recs in flushes of size records, as Fluent Bit would.
func pushAll(t *testing.T, s *Sink, recs []rec, size int) {
	t.Helper()
	for i := 0; i < len(recs); i += size {
		b := makeBatch(t, "ctlive.tail", recs[i:min(i+size, len(recs))])
		if err := deliver(t, s, b); err != nil {
			t.Fatalf("flush at record %d: %v", i, err)
		}
		if u := undone(b); len(u) != 0 {
			t.Fatalf("flush at record %d: records %v not done", i, u)
		}
		if b.Rejected() != 0 {
			t.Fatalf("flush at record %d: %d rejected", i, b.Rejected())
		}
	}
}

// wantStream is VictoriaLogs' _stream for a record: its non-empty labels,
// sorted, or Fluent Bit's fallback.
func wantStream(w corpus.Expect) string {
	var parts []string
	for _, l := range []struct{ name, v string }{
		{"channel", w.Channel}, {"event", w.Event}, {"level", w.Level}, {"service", w.Service}, {"tenant", w.Tenant},
	} {
		if l.v != "" {
			parts = append(parts, fmt.Sprintf("%s=%q", l.name, l.v))
		}
	}
	if len(parts) == 0 {
		return `{job="fluent-bit"}`
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// wantTime is the record's _time: the line's own timestamp, or the
// record's when the line has none.
func wantTime(t *testing.T, w corpus.Expect) string {
	if w.Time == "" {
		return t0.Format(time.RFC3339Nano)
	}
	tm, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		t.Fatalf("corpus time %q: %v", w.Time, err)
	}
	return tm.UTC().Format(time.RFC3339Nano)
}

func TestVictoriaLogsStoresEveryRecordOnceWithLabelsAsStreams(t *testing.T) {
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			vl := vlogs.Start(t)
			s, _ := newSink(t, map[string]string{"url": vlURL(vl), "encoding": enc})
			recs, all := corpusRecs(5000)
			pushAll(t, s, recs, 1000)
			vl.WaitCount(t, "*", len(recs), 30*time.Second)

			want := map[string][]corpus.Expect{} // by line: the corpus repeats the real lines
			for _, r := range all {
				sent := onwire.Line(r.Line)
				want[sent] = append(want[sent], r.Want)
			}
			rows := vl.Query(t, "* | fields _msg, _time, _stream, contactID, sessionID, messageID, userID")
			if len(rows) != len(recs) {
				t.Fatalf("%d rows, want %d", len(rows), len(recs))
			}
			bad := 0
			for _, row := range rows {
				ws, ok := want[row["_msg"]]
				if !ok || len(ws) == 0 {
					t.Fatalf("_msg %q: not a line sent, or stored more often than sent", row["_msg"])
				}
				w := ws[0]
				want[row["_msg"]] = ws[1:]
				check := func(what, got, exp string) {
					if got != exp && bad < 10 {
						bad++
						t.Errorf("line %.80q: %s = %q, want %q", row["_msg"], what, got, exp)
					}
				}
				check("_stream", row["_stream"], wantStream(w))
				check("_time", row["_time"], wantTime(t, w))
				check("contactID", row["contactID"], w.ContactID)
				check("sessionID", row["sessionID"], onwire.Token(w.SessionID))
				check("messageID", row["messageID"], w.MessageID)
				check("userID", row["userID"], w.UserID)
			}
			for line, ws := range want {
				if len(ws) != 0 {
					t.Errorf("%d copies of %.80q missing", len(ws), line)
				}
			}
			streamFields := vl.StreamFieldNames(t, "*")
			for _, f := range streamFields {
				switch f {
				case "channel", "event", "level", "service", "tenant", "job":
				default:
					t.Errorf("stream field %q: only labels may be stream fields (all: %v)", f, streamFields)
				}
			}
			fields := strings.Join(vl.FieldNames(t, "*"), ",")
			for _, f := range []string{"contactID", "sessionID", "messageID", "userID"} {
				if !strings.Contains(","+fields+",", ","+f+",") {
					t.Errorf("structured metadata %s is not a field (fields: %s)", f, fields)
				}
			}
			if n := vl.DroppedRows(t); n != 0 {
				t.Errorf("%d rows dropped by VictoriaLogs", n)
			}
		})
	}
}

func TestVictoriaLogsJSONLineIsTheEnrichedRecord(t *testing.T) {
	vl := vlogs.Start(t)
	s, _ := newSink(t, map[string]string{"url": vlURL(vl), "line_format": "json"})
	recs, all := corpusRecs(300)
	pushAll(t, s, recs, 100)
	vl.WaitCount(t, "*", len(recs), 30*time.Second)
	rows := vl.Query(t, "* | fields _msg, _time")
	want := map[string]corpus.Expect{}
	for _, r := range all {
		want[onwire.Line(r.Line)] = r.Want
	}
	seen := map[string]int{}
	for _, row := range rows {
		var m map[string]any
		if err := json.Unmarshal([]byte(row["_msg"]), &m); err != nil {
			t.Fatalf("_msg is not a JSON object: %v\n%s", err, row["_msg"])
		}
		line, _ := m["log"].(string)
		w, ok := want[line]
		if !ok {
			t.Fatalf("JSON line's log %q is not a line sent", line)
		}
		seen[line]++
		if got, _ := m["contactID"].(string); got != w.ContactID {
			t.Errorf("JSON line contactID %q, want %q", got, w.ContactID)
		}
		if w.Event != "" && m["event"] != w.Event {
			t.Errorf("JSON line event %v, want %q", m["event"], w.Event)
		}
		if row["_time"] != wantTime(t, w) {
			t.Errorf("_time %s, want %s", row["_time"], wantTime(t, w))
		}
	}
	for _, r := range all {
		if seen[onwire.Line(r.Line)] == 0 {
			t.Errorf("line %.80q missing", r.Line)
		}
	}
}

// A stopped server makes Deliver fail at once with a retryable error; after
// a restart the retried flush carries only the records not yet delivered,
// so every record is stored exactly once (VictoriaLogs does not
// deduplicate).
func TestVictoriaLogsStopRestartKeepsExactlyOnce(t *testing.T) {
	vl := vlogs.Start(t)
	// Small requests: one flush is several requests.
	s, _ := newSink(t, map[string]string{"url": vlURL(vl), "timeout": "5s"})
	s.maxSize = 16 << 10 // below max_request_size's floor
	recs, _ := corpusRecs(3000)
	const flush = 500
	batches := [][]rec{}
	for i := 0; i < len(recs); i += flush {
		batches = append(batches, recs[i:min(i+flush, len(recs))])
	}
	pushAll(t, s, batches[0], flush)

	vl.Stop()
	b := makeBatch(t, "ctlive.tail", batches[1])
	start := time.Now()
	err := deliver(t, s, b)
	if err == nil || sink.IsPermanent(err) {
		t.Fatalf("Deliver to a stopped server: err = %v, want a retryable error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Deliver took %v to fail", d)
	}
	if len(undone(b)) != len(batches[1]) {
		t.Fatalf("%d of %d records undone", len(undone(b)), len(batches[1]))
	}

	vl.Restart()
	// Fluent Bit retries the chunk: the pipeline hands over the undone records.
	var retry []rec
	for _, i := range undone(b) {
		retry = append(retry, batches[1][i])
	}
	pushAll(t, s, retry, flush)
	for _, bt := range batches[2:] {
		pushAll(t, s, bt, flush)
	}
	vl.WaitCount(t, "*", len(recs), 30*time.Second)
	counts := map[string]int{}
	for _, r := range recs {
		counts[onwire.Line(r.line.(string))]++
	}
	for _, row := range vl.Query(t, `* | stats by (_msg) count() n`) {
		if fmt.Sprint(counts[row["_msg"]]) != row["n"] {
			t.Errorf("%.80q stored %s times, sent %d", row["_msg"], row["n"], counts[row["_msg"]])
		}
	}
}

// tenant_id renders a record field: VictoriaLogs takes a numeric
// X-Scope-OrgID ("7" is account 7, "7:8" account 7 project 8).
func TestVictoriaLogsTenantsAreSeparated(t *testing.T) {
	vl := vlogs.Start(t)
	s, _ := newSink(t, map[string]string{"url": vlURL(vl), "tenant_id": "$account"})
	lines, _ := corpusRecs(600)
	accounts := []string{"7", "8", "7:8"}
	want := map[string]int{}
	var recs []rec
	for i, r := range lines {
		a := accounts[i%len(accounts)]
		want[a]++
		recs = append(recs, rec{line: r.line, extra: []any{"account", a}})
	}
	pushAll(t, s, recs, 200)
	for a, tn := range map[string]vlogs.Tenant{"7": {AccountID: 7}, "8": {AccountID: 8}, "7:8": {AccountID: 7, ProjectID: 8}} {
		vl.WaitCount(t, "*", want[a], 30*time.Second, tn)
	}
	if n := vl.Count(t, "*"); n != 0 {
		t.Errorf("%d rows in the default tenant", n)
	}
}

// TestVictoriaLogsThroughput reports records/s for 100,000 records pushed
// in flushes of 1,000 into a local VictoriaLogs. It asserts only that
// every record arrived.
func TestVictoriaLogsThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const n, flush = 100_000, 1000
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			vl := vlogs.Start(t)
			s, _ := newSink(t, map[string]string{"url": vlURL(vl), "encoding": enc})
			ls := corpus.Lines(11, n)
			var inDeliver time.Duration
			start := time.Now()
			for i := 0; i < n; i += flush {
				var recs []rec
				for _, l := range ls[i:min(i+flush, n)] {
					recs = append(recs, rec{line: string(l)})
				}
				b := makeBatch(t, "ctlive.tail", recs)
				d0 := time.Now()
				if err := deliver(t, s, b); err != nil {
					t.Fatal(err)
				}
				inDeliver += time.Since(d0)
			}
			vl.WaitCount(t, "*", n, 60*time.Second)
			total := time.Since(start)
			t.Logf("%s: %d records: Deliver %v (%.0f records/s acknowledged by VictoriaLogs); "+
				"with parsing and until all searchable %v (%.0f records/s)",
				enc, n, inDeliver.Round(time.Millisecond), float64(n)/inDeliver.Seconds(),
				total.Round(time.Millisecond), float64(n)/total.Seconds())
		})
	}
}
