package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/fwdtest"
	"github.com/ctlive/ctlive-fluent-bit/internal/hostile"
)

// peakRSSBound is what the host may reach, at its peak, while the real
// library works through every hostile record of issue #7 with all four
// sinks. Measured: ~90 MB (the host, Go's runtime, and the 2 MB lines
// the flushes hold with what they are parsed and encoded into). Before
// the fixes a single record of keys nested 26 deep took the process past
// 1.1 GB, and 40 deep killed it (Go's fatal "out of memory", which no
// recover catches).
const peakRSSBound = 256 << 20

// hostileEntry is a chunk entry of a raw msgpack record.
func hostileEntry(body []byte) []byte {
	return flbhost.AppendV2(nil, flbhost.EventTime(baseTime), flbhost.Map{}, flbhost.Raw(body))
}

// Issue #7 through the real library as Fluent Bit loads it: the records
// that used to kill the agent, stall a worker or lose records go through
// every sink; the host lives, its memory stays bounded, and each record
// comes out as the issue says it should.
func TestHostileRecordsThroughTheRealLibrary(t *testing.T) {
	var esDocs, lokiPushes atomic.Int64
	es := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		docs := strings.Count(string(body), "\n") / 2
		esDocs.Add(int64(docs))
		io.WriteString(w, `{"errors":false,"items":[`+strings.Repeat(`{"create":{"status":201}},`, docs)[:max(0, 26*docs-1)]+`]}`)
	}))
	defer es.Close()
	loki := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		lokiPushes.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer loki.Close()
	fwd := fwdtest.Start(t, fwdtest.Options{Discard: true})

	h := flbhost.Start(t, hostBin, pluginSO, flbhost.Options{Timeout: 2 * time.Minute})
	// Every instance has workers, as every example config does: on the
	// engine thread a forward flush waits only engineAckWait for its ack
	// and answers FLB_RETRY by design, which a 2 MB message to the
	// race-built receiver overruns when the two cores are busy (a
	// newcomer's `make test`, helper-82).
	sinks := map[string]*flbhost.Instance{
		"stdout":        h.New("match", "*", "workers", "2"),
		"elasticsearch": h.New("match", "*", "workers", "1", "sink", "elasticsearch", "url", es.URL, "compress", "none"),
		"loki":          h.New("match", "*", "workers", "1", "sink", "loki", "url", loki.URL, "line_format", "json"),
		"forward":       h.New("match", "*", "workers", "1", "sink", "forward", "url", fwd.URL()),
	}
	for name, in := range sinks {
		if in.Init() != flbhost.FLBOK {
			t.Fatalf("%s: init failed:\n%s", name, h.Stderr())
		}
	}

	nonString := hostile.Map(hostile.Str("log"), hostile.Str("[CT7PROTOCOL] [AGM] newContact"),
		[]byte{0x07}, hostile.Str("seven"), hostile.Str("after"), hostile.Str("kept"))
	longLine := func(shape string, size int) []byte {
		for _, s := range hostile.Shapes {
			if s.Name == shape {
				return hostileEntry(hostile.Map(hostile.Str("log"), hostile.Str(string(s.Line(size)))))
			}
		}
		t.Fatalf("no shape %s", shape)
		return nil
	}
	var damaged []byte
	for i := range 5000 {
		damaged = append(damaged, chunk(fmt.Sprintf("[socketIO] [AGM] newContact n%04d", i))...)
	}
	damaged = append(damaged, chunk("[socketIO] [AGM] newContact cut short")[:30]...)

	type flush struct {
		name  string
		data  []byte
		want  int // the flush's result with the stdout sink
		stdio string
	}
	flushes := []flush{
		{"item 1: keys nested 40 deep, the log not CTLive", hostileEntry(hostile.Map(hostile.Str("log"), hostile.Str("plain"),
			hostile.KeyChain(40), hostile.Int(1))), flbhost.FLBOK, `"log":"plain","{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{}:1}`},
		{"item 1: keys nested 40 deep, no log", hostileEntry(hostile.Map(hostile.KeyChain(40), hostile.Int(1))), flbhost.FLBOK, `{"date":`},
		{"keys nested 300 deep", hostileEntry(hostile.Map(hostile.Str("log"), hostile.Str("x"), hostile.KeyChain(300), hostile.Int(1))), flbhost.FLBOK, `null:1}`},
		{"arrays nested 50,000 deep", hostileEntry(hostile.Map(hostile.Str("log"), hostile.Str("x"), hostile.Str("a"), hostile.ArrayChain(50000))), flbhost.FLBOK, `[null]`},
		{"item 4: a 2 MB line of distinct payload labels", longLine("distinct-labels", 2<<20), flbhost.FLBOK, `"payload":{"l0":{"a":1}`},
		// Past parser.MaxSecrets credentials in one line the whole line, and
		// every field taken from it, is "[redacted]": failing closed costs
		// nothing a real CTLive line ever holds.
		{"a 1 MB line of overlapping JWTs", longLine("jwt-parts", 1<<20), flbhost.FLBOK, `"log":"[redacted]"`},
		{"a 1 MB line of session UUIDs", longLine("uuids", 1<<20), flbhost.FLBOK, `"sessionID":"[redacted]"`},
		{"a 1 MB line of ct7token=", longLine("token-run", 1<<20), flbhost.FLBOK, `"message":"[redacted]"`},
		{"item 7: a CTLive record with a key that is not a string", hostileEntry(nonString), flbhost.FLBOK, `"7":"seven","after":"kept","function":"CT7PROTOCOL"`},
		{"item 6: 5,000 good entries, then one cut short", damaged, flbhost.FLBError, `newContact n4999`},
	}
	for _, f := range flushes {
		t.Run(f.name, func(t *testing.T) {
			before := len(h.Stdout())
			for name, in := range sinks {
				got, err := in.TryFlush("tail.0", f.data)
				if err != nil {
					t.Fatalf("%s: the host died: %v\n%s", name, err, logTail(h.Stderr()))
				}
				if got != f.want {
					t.Errorf("%s: flush = %d, want %d\n%s", name, got, f.want, logTail(h.Stderr()))
				}
			}
			if out := h.Stdout()[before:]; !strings.Contains(out, f.stdio) {
				t.Errorf("the stdout sink did not write %s:\n%.600s", f.stdio, out)
			}
		})
	}

	// Item 6: every entry before the damage reached stdout, and the log
	// says how many and how many bytes went.
	if n := strings.Count(h.Stdout(), `"message":"newContact n`); n != 5000 {
		t.Errorf("%d of the 5,000 records before the damage delivered", n)
	}
	if !strings.Contains(h.Stderr(), "damaged at entry 5000: 5000 records before it delivered, the last 30 bytes dropped") {
		t.Errorf("no line counting the damaged chunk's records and bytes:\n%s", logTail(h.Stderr()))
	}
	for _, l := range strings.Split(strings.TrimSpace(h.Stdout()), "\n") {
		if !json.Valid([]byte(l)) {
			t.Fatalf("the stdout sink wrote invalid JSON: %.300s", l)
		}
	}

	peak, err := h.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak RSS of the host: %d MB", peak>>20)
	if peak > peakRSSBound {
		t.Errorf("peak RSS %d MB, over the bound of %d MB", peak>>20, peakRSSBound>>20)
	}
	for _, in := range sinks {
		in.Exit()
	}
	if st := h.Close(); st != 0 {
		t.Fatalf("host exited with %d:\n%s", st, logTail(h.Stderr()))
	}
	if !strings.Contains(h.Stderr(), "cut at 63 levels") || !strings.Contains(h.Stderr(), "records nest maps or arrays deeper than 63 levels") {
		t.Errorf("the records cut at 63 levels are not counted in the log:\n%s", logTail(h.Stderr()))
	}
	if esDocs.Load() == 0 || lokiPushes.Load() == 0 || fwd.Stats().Messages == 0 {
		t.Errorf("a downstream got nothing: elasticsearch %d documents, loki %d pushes, forward %d messages",
			esDocs.Load(), lokiPushes.Load(), fwd.Stats().Messages)
	}
}

// logTail is the end of a long log, for failure messages.
func logTail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}
