package pipeline

import (
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/sink"
)

// A record a sink skips (no destination here, e.g. a Loki tenant_id that
// renders no value) counts as not routed, not as delivered, and the flush
// is done with it.
func TestSkippedRecordsCountAsNotRouted(t *testing.T) {
	p := newTest(t, funcSink(func(b *sink.Batch) error {
		b.Skip(0)
		b.Done(1)
		return nil
	}))
	if got := p.Flush(chunkOf("[socketIO] [AGM] newContact", "[socketIO] [AGM] endContact"), "tail.0"); got != OK {
		t.Fatalf("flush = %v", got)
	}
	if nr, d := p.Stats.NotRouted.Load(), p.Stats.Delivered.Load(); nr != 1 || d != 1 {
		t.Errorf("not routed %d, delivered %d; want 1 and 1", nr, d)
	}
}
