package elasticsearch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/onwire"
	"github.com/ctlive/ctlive-fluent-bit/internal/vlogs"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
)

// vlURL points the sink at VictoriaLogs' bulk API, naming the time and
// message fields (VictoriaLogs ignores @timestamp and message otherwise)
// and making the low-cardinality tenant and service the stream.
func vlURL(s *vlogs.Server) string {
	return s.ElasticsearchURL() + "?_msg_field=message&_time_field=@timestamp&_stream_fields=tenant,service"
}

// inspectionLines reads the source document's lines from the repository's
// testdata (comments left out).
func inspectionLines(t testing.TB) []string {
	data, err := os.ReadFile("../../testdata/inspection-lines.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// flushes cuts events into Fluent Bit-sized flushes.
func flushes(evs []*record.Event, size int) [][]*record.Event {
	var out [][]*record.Event
	for len(evs) > 0 {
		n := min(size, len(evs))
		out = append(out, evs[:n])
		evs = evs[n:]
	}
	return out
}

// recordTime is the Fluent Bit time lineEvents gives record seq.
func recordTime(seq int) time.Time { return t0.Add(time.Duration(seq) * time.Millisecond) }

func TestVictoriaLogsEndToEnd(t *testing.T) {
	vl := vlogs.Start(t)
	s := newSink(t, map[string]string{"url": vlURL(vl)})

	doc := inspectionLines(t)
	recs := append(corpus.RealLines(), corpus.Generate(7, 5000)...)
	lines := append([]string(nil), doc...)
	for _, r := range recs {
		lines = append(lines, r.Line)
	}
	evs := lineEvents(t, "ctlive.docker", lines)
	for _, fl := range flushes(evs, 1000) {
		b := newBatch("ctlive.docker", fl)
		if err := s.Deliver(context.Background(), b); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		if got := b.Delivered(); got != len(fl) {
			t.Fatalf("delivered %d of %d", got, len(fl))
		}
	}
	vl.WaitCount(t, "*", len(lines), 30*time.Second)
	if n := vl.DroppedRows(t); n != 0 {
		t.Fatalf("VictoriaLogs dropped %d rows", n)
	}

	rows := vl.Query(t, "*")
	bySeq := make(map[int]map[string]string, len(rows))
	for _, row := range rows {
		seq, err := strconv.Atoi(row["seq"])
		if err != nil {
			t.Fatalf("row without seq: %v", row)
		}
		if bySeq[seq] != nil {
			t.Fatalf("record %d stored twice", seq)
		}
		bySeq[seq] = row
	}
	for seq, l := range lines {
		row := bySeq[seq]
		if row == nil {
			t.Fatalf("record %d missing: %s", seq, l)
		}
		if want := onwire.Line(l); row["log"] != want {
			t.Errorf("record %d: log %q, want the line as sent %q", seq, row["log"], want)
		}
	}

	// Every record with known fields carries exactly them, and its _time
	// is the line's own timestamp to the nanosecond.
	checked := 0
	for k, r := range recs {
		seq := len(doc) + k
		row := bySeq[seq]
		for _, f := range corpus.StringFields {
			if !r.Want.Checked(f) {
				continue
			}
			if got, want := row[f.String()], asSent(f, r.Want.Get(f)); got != want {
				t.Errorf("record %d (%s): %s = %q, want %q", seq, r.Line, f, got, want)
			}
		}
		if r.Want.Checked(corpus.FieldStackFrames) {
			var frames []string
			if st := row["stack"]; st != "" {
				if err := json.Unmarshal([]byte(st), &frames); err != nil {
					t.Errorf("record %d: stack %q: %v", seq, st, err)
				}
			}
			if len(frames) != r.Want.StackFrames {
				t.Errorf("record %d: %d stack frames, want %d", seq, len(frames), r.Want.StackFrames)
			}
		}
		hasPayload := false
		for k := range row {
			hasPayload = hasPayload || strings.HasPrefix(k, "payload.")
		}
		if r.Want.Checked(corpus.FieldHasPayload) && hasPayload != r.Want.HasPayload {
			t.Errorf("record %d (%s): payload fields %v, want %v", seq, r.Line, hasPayload, r.Want.HasPayload)
		}
		want := recordTime(seq)
		if r.Want.Time != "" {
			lt, err := time.Parse(time.RFC3339Nano, r.Want.Time)
			if err != nil {
				t.Fatal(err)
			}
			want = lt
		}
		if got := row["_time"]; got != want.UTC().Format(time.RFC3339Nano) {
			t.Errorf("record %d: _time %s, want %s", seq, got, want.UTC().Format(time.RFC3339Nano))
		}
		checked++
		if t.Failed() {
			break
		}
	}
	if checked != len(recs) {
		t.Errorf("checked %d of %d records", checked, len(recs))
	}

	// The source document's example, end to end: payload flattened, the
	// message as _msg, tenant and service as the stream.
	ex := vl.Query(t, `function:=CT7PROTOCOL event:=newContact payload.response.chat:=true payload.response.video:=true`)
	if len(ex) == 0 {
		t.Fatal("the guide's newContact response line is not found by its payload")
	}
	if !strings.HasPrefix(ex[0]["_msg"], "newContact response:") {
		t.Errorf("_msg %q, want the message field", ex[0]["_msg"])
	}
	ex = vl.Query(t, `url:="https://server1/ctLiveService/contact" tenant:=AGM`)
	if len(ex) == 0 || ex[0]["_stream"] != `{service="ctlive",tenant="AGM"}` {
		t.Errorf("the guide's url line: %v, want it in the stream {service=\"ctlive\",tenant=\"AGM\"}", ex)
	}
}

// The server goes away in the middle of a stream: Deliver fails promptly
// with a retryable error, and after a restart the records not done are sent
// again; each record is then stored exactly once.
func TestVictoriaLogsOutageAndRestart(t *testing.T) {
	vl := vlogs.Start(t)
	const timeout = 3 * time.Second
	s := newSink(t, map[string]string{"url": vlURL(vl), "timeout": "3s", "max_request_size": "64k"})
	recs := corpus.Generate(3, 4000)
	lines := make([]string, len(recs))
	for i, r := range recs {
		lines[i] = r.Line
	}
	fls := flushes(lineEvents(t, "ctlive.docker", lines), 1000)
	var pending []*sink.Batch // what Fluent Bit would keep for retry
	deliver := func(b *sink.Batch) {
		start := time.Now()
		err := s.Deliver(context.Background(), b)
		if d := time.Since(start); d > timeout+time.Second {
			t.Errorf("Deliver took %v with the server down; timeout is %v", d, timeout)
		}
		switch {
		case err == nil:
		case isRetryable(err):
			pending = append(pending, b)
		default:
			t.Fatalf("Deliver: %v, want a retryable error", err)
		}
	}

	deliver(newBatch("ctlive.docker", fls[0]))
	if len(pending) != 0 {
		t.Fatal("the first flush failed with the server up")
	}
	// Stop the server while the second flush (16 requests) is under way.
	done := make(chan struct{})
	b1 := newBatch("ctlive.docker", fls[1])
	go func() {
		defer close(done)
		start := time.Now()
		err := s.Deliver(context.Background(), b1)
		if d := time.Since(start); d > timeout+time.Second {
			t.Errorf("Deliver took %v across the stop", d)
		}
		if err != nil && !isRetryable(err) {
			t.Errorf("Deliver across the stop: %v, want a retryable error", err)
		}
	}()
	time.Sleep(5 * time.Millisecond)
	vl.Stop()
	<-done
	if n := len(undone(b1)); n > 0 {
		t.Logf("flush across the stop: %d of %d records done before it", len(fls[1])-n, len(fls[1]))
		pending = append(pending, b1)
	}
	for _, fl := range fls[2:] {
		deliver(newBatch("ctlive.docker", fl))
	}
	if len(pending) < len(fls)-2 {
		t.Fatalf("%d flushes failed while the server was down, want at least %d", len(pending), len(fls)-2)
	}

	vl.Restart()
	for _, b := range pending {
		// As Fluent Bit does: retry the chunk; the plugin hands over only
		// the records not done yet. A stale keep-alive connection may cost
		// one attempt.
		for attempt := 0; ; attempt++ {
			retry := newBatch("ctlive.docker", undone(b))
			err := s.Deliver(context.Background(), retry)
			for i := range retry.Events {
				if retry.IsDone(i) {
					markDone(b, retry.Events[i])
				}
			}
			if err == nil {
				break
			}
			if attempt == 2 {
				t.Fatalf("retry after restart: %v", err)
			}
		}
	}
	vl.WaitCount(t, "*", len(lines), 30*time.Second)
	if dup := vl.Query(t, "* | stats by (seq) count() as n | filter n:>1"); len(dup) > 0 {
		t.Fatalf("records stored more than once: %v", dup[:min(5, len(dup))])
	}
}

// markDone marks ev done in b, the original batch it came from.
func markDone(b *sink.Batch, ev *record.Event) {
	for i, e := range b.Events {
		if e == ev {
			b.Done(i)
		}
	}
}

// Two tenants, two sinks, two servers: each server holds its tenant's
// records and nothing else.
func TestVictoriaLogsTenantSeparation(t *testing.T) {
	tenants := []string{"AGM", "TENANT1"}
	servers := []*vlogs.Server{vlogs.Start(t), vlogs.Start(t)}
	recs := corpus.Generate(5, 3000)
	lines := make([]string, len(recs))
	for i, r := range recs {
		lines[i] = r.Line
	}
	evs := lineEvents(t, "ctlive.docker", lines)
	want := make([]int, len(tenants))
	for k, tn := range tenants {
		var mine []*record.Event
		for _, ev := range evs {
			if string(ev.Tenant) == tn {
				mine = append(mine, ev)
			}
		}
		want[k] = len(mine)
		if len(mine) < 100 {
			t.Fatalf("only %d records of tenant %s in the corpus", len(mine), tn)
		}
		s := newSink(t, map[string]string{"url": vlURL(servers[k])})
		if err := s.Deliver(context.Background(), newBatch("ctlive.docker", mine)); err != nil {
			t.Fatal(err)
		}
	}
	for k, vl := range servers {
		vl.WaitCount(t, "*", want[k], 30*time.Second)
		rows := vl.Query(t, "* | stats by (tenant) count() as n")
		if len(rows) != 1 || rows[0]["tenant"] != tenants[k] || rows[0]["n"] != strconv.Itoa(want[k]) {
			t.Errorf("server of %s holds %v, want only %d rows of %s", tenants[k], rows, want[k], tenants[k])
		}
	}
}

// BenchmarkVictoriaLogs ships 100,000 corpus records per op, in flushes
// of 1,000, into a local VictoriaLogs (sharing this machine's cores), and
// reports records/s as acknowledged by the server.
func BenchmarkVictoriaLogs(b *testing.B) {
	const n, flushSize = 100000, 1000
	evs := corpusEvents(b, n)
	fls := flushes(evs, flushSize)
	for _, workers := range []int{1, 2} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			vl := vlogs.Start(b)
			s := newSink(b, map[string]string{"url": vlURL(vl)})
			var mu sync.Mutex
			var slowest time.Duration // one flush: shows stalls the average hides
			start := time.Now()
			for b.Loop() {
				var wg sync.WaitGroup
				next := make(chan []*record.Event)
				for range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						batch := new(sink.Batch)
						for fl := range next {
							batch.Reset("ctlive.docker", fl)
							began := time.Now()
							if err := s.Deliver(context.Background(), batch); err != nil {
								b.Error(err)
							}
							d := time.Since(began)
							mu.Lock()
							slowest = max(slowest, d)
							mu.Unlock()
						}
					}()
				}
				for _, fl := range fls {
					next <- fl
				}
				close(next)
				wg.Wait()
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "records/s")
			b.ReportMetric(float64(slowest.Milliseconds()), "slowest-flush-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// VictoriaLogs answers 400 for a document it cannot decode after storing
// the ones before it (NOTES.md); the sink must count those as done, reject
// the bad one and send the rest again: each good record stored once.
func TestVictoriaLogsBadDocumentInTheMiddle(t *testing.T) {
	vl := vlogs.Start(t)
	// VictoriaLogs takes the time from the record's own "ts", which record
	// 4 carries in a form it cannot parse.
	s := newSink(t, map[string]string{"url": vl.ElasticsearchURL() + "?_msg_field=message&_time_field=ts"})
	var chunk []byte
	for i := range 10 {
		body := kv{"log", fmt.Sprintf("[socketIO] [AGM] record %d", i), "seq", i}
		if i == 4 {
			body = append(body, "ts", "bogus")
		}
		chunk = appendEntry(chunk, recordTime(i), body)
	}
	b := newBatch("t", decodeChunk(t, "t", chunk))
	rl := watch(s, b)
	if err := s.Deliver(context.Background(), b); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if rej := rl.rejectedSet(); len(rej) != 1 || !rej[4] {
		t.Errorf("rejected %v, want record 4; log:\n%s", rej, rl.log())
	}
	vl.WaitCount(t, "*", 9, 10*time.Second)
	if rows := vl.Query(t, "seq:=4"); len(rows) != 0 {
		t.Errorf("the bad record was stored: %v", rows)
	}
	if dup := vl.Query(t, "* | stats by (seq) count() as n | filter n:>1"); len(dup) > 0 {
		t.Errorf("stored twice: %v", dup)
	}
}

// asSent is a field's expected value as it leaves the plugin: a session ID
// as its digest.
func asSent(f corpus.Field, v string) string {
	if f == corpus.FieldSessionID {
		return onwire.Token(v)
	}
	return v
}
