package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/internal/hostile"
	"github.com/ctlive/ctlive-fluent-bit/record"
)

// logged gives p a logger whose lines the test reads.
func logged(p *Pipeline) *flblog.Buffer {
	buf := new(flblog.Buffer)
	p.Log = flblog.NewWriter(buf, new(sync.Mutex), "ctlive.0", flblog.Info)
	return buf
}

func numberedLines(n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("[socketIO] [AGM] newContact n%05d", i)
	}
	return lines
}

// Issue #7, item 6: a chunk damaged after good entries used to deliver
// nothing (or nothing of its last window). Fluent Bit's own outputs
// deliver the good entries first; so does the plugin, then it answers
// FLB_ERROR (retrying cannot mend the chunk) and logs how many records it
// delivered and how many bytes it dropped.
func TestDamagedChunkDeliversEveryEntryBeforeTheDamage(t *testing.T) {
	cut := func(n int) []byte { // n good entries, then one cut short
		last := chunkOf("[socketIO] [AGM] newContact the last one")
		return append(chunkOf(numberedLines(n)...), last[:len(last)-5]...)
	}
	junk := func(n int) []byte { return append(chunkOf(numberedLines(n)...), 0xc1, 0xc1, 0xc1) }
	tests := []struct {
		name    string
		data    []byte
		good    int
		dropped int
	}{
		{"ten good entries, then one cut short", cut(10), 10, len(chunkOf("[socketIO] [AGM] newContact the last one")) - 5},
		{"5,000 good entries across windows, then one cut short", cut(5000), 5000, len(chunkOf("[socketIO] [AGM] newContact the last one")) - 5},
		{"a window's worth, then junk", junk(window), window, 3},
		{"damaged at the first entry", junk(0), 0, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &capture{}
			p := newTest(t, c)
			log := logged(p)
			if got := p.Flush(tc.data, "tail.0"); got != Error {
				t.Errorf("flush = %v, want FLB_ERROR", got)
			}
			msgs := c.field("message")
			if len(msgs) != tc.good {
				t.Fatalf("%d records delivered, want the %d before the damage", len(msgs), tc.good)
			}
			for i, m := range msgs {
				if m != fmt.Sprintf("newContact n%05d", i) {
					t.Fatalf("record %d is %q: each once, in order", i, m)
				}
			}
			want := fmt.Sprintf("damaged at entry %d: %d records before it delivered, the last %d bytes dropped", tc.good, tc.good, tc.dropped)
			if !strings.Contains(log.String(), want) {
				t.Errorf("log does not say %q:\n%s", want, log)
			}
			if p.Stats.CorruptChunk.Load() != 1 || p.Stats.Delivered.Load() != int64(tc.good) {
				t.Errorf("corrupt %d, delivered %d", p.Stats.CorruptChunk.Load(), p.Stats.Delivered.Load())
			}
		})
	}
}

// The good entries of a damaged chunk are delivered like any others: a
// downstream failure asks for a retry, and the retry sends only what was
// not delivered, then fails the chunk.
func TestDamagedChunkRetrySendsOnlyTheRest(t *testing.T) {
	data := append(chunkOf(numberedLines(10)...), 0xc1)
	c := &capture{fail: func(call int) (int, error) {
		if call == 1 {
			return 4, errors.New("downstream went away")
		}
		return 1 << 30, nil
	}}
	p := newTest(t, c)
	log := logged(p)
	for attempt, want := range []Status{Retry, Error} {
		if got := p.Flush(data, "tail.0"); got != want {
			t.Fatalf("attempt %d: %v, want %v", attempt+1, got, want)
		}
	}
	msgs := c.field("message")
	for i, m := range msgs {
		if m != fmt.Sprintf("newContact n%05d", i) {
			t.Errorf("record %d is %q: each exactly once, in order", i, m)
		}
	}
	if len(msgs) != 10 {
		t.Errorf("%d records delivered, want 10", len(msgs))
	}
	if !strings.Contains(log.String(), "10 records before it delivered, the last 1 bytes dropped") {
		t.Errorf("the log does not count the earlier attempt's records:\n%s", log)
	}
	if p.Stats.CorruptChunk.Load() != 1 {
		t.Errorf("corrupt chunks %d: the retry that met the damage counts it", p.Stats.CorruptChunk.Load())
	}
}

// Records nested past Fluent Bit's depth are delivered, cut there, and
// counted; the count is in the exit line.
func TestRecordsCutAtMaxDepthAreCounted(t *testing.T) {
	var data []byte
	ts := flbhost.EventTime(time.Unix(1764064800, 0))
	for _, body := range [][]byte{
		hostile.Map(hostile.Str("log"), hostile.Str("plain"), hostile.KeyChain(100), hostile.Str("v")),
		hostile.Map(hostile.Str("log"), hostile.Str("plain"), hostile.Str("k"), hostile.ArrayChain(record.MaxDepth-1)),
		hostile.Map(hostile.Str("log"), hostile.Str("[fn] [AGM] newContact p:"+string(hostile.DeepJSON(70)))),
	} {
		data = flbhost.AppendV2(data, ts, flbhost.Map{}, flbhost.Raw(body))
	}
	c := &capture{}
	p := newTest(t, c)
	log := logged(p)
	if got := p.Flush(data, "tail.0"); got != OK {
		t.Fatalf("flush = %v", got)
	}
	if len(c.records) != 3 || p.Stats.Truncated.Load() != 2 {
		t.Errorf("%d records delivered, %d counted as cut; want 3 and 2", len(c.records), p.Stats.Truncated.Load())
	}
	p.Close()
	for _, want := range []string{"2 records nest maps or arrays deeper than 63 levels", "2 cut at 63 levels"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log does not say %q:\n%s", want, log)
		}
	}
}
