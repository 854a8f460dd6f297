package forward

import (
	"fmt"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/sink"
)

// A finished flush's outbox is kept for the next only when it is small:
// tenants come from the lines, so a flush of many tags must not pin its
// messages (and their tag strings) for the life of the agent.
func TestIdleOutboxesAreBoundedAndHoldNoTags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tenants int
		kept    bool
	}{
		{"a few tags: kept", 3, true},
		{"half as many tags as a kept outbox may hold", maxIdleTags / 2, true},
		{"twice as many: dropped", 2 * maxIdleTags, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t)
			lines := make([]string, tc.tenants)
			for i := range lines {
				lines[i] = fmt.Sprintf("[fn] [TENANT%06d] newContact", i)
			}
			var b sink.Batch
			b.Reset("tail.0", events(t, chunkOf(lines...)))
			o := s.outboxes.get()
			s.pack(o, &b)
			if len(o.msgs) != tc.tenants {
				t.Fatalf("%d messages for %d tenants", len(o.msgs), tc.tenants)
			}
			s.outboxes.put(o)
			if kept := len(s.outboxes.idle) == 1; kept != tc.kept {
				t.Fatalf("outbox of %d tags kept: %v, want %v", tc.tenants, kept, tc.kept)
			}
			for i, m := range o.msgs[:cap(o.msgs)] {
				if m.tag != "" || len(m.entries) != 0 {
					t.Fatalf("message %d still holds tag %q and %d bytes after put", i, m.tag, len(m.entries))
				}
			}
			if len(o.byTag) != 0 {
				t.Errorf("%d tags still in byTag after put", len(o.byTag))
			}
		})
	}
}

func TestIdleOutboxesAreDroppedPastTheirByteBound(t *testing.T) {
	var p outboxes
	big := &outbox{byTag: map[string]int{}, entry: make([]byte, 0, maxIdleOutboxBytes+1)}
	p.put(big)
	small := &outbox{byTag: map[string]int{}, msgs: make([]message, 4)}
	p.put(small)
	if len(p.idle) != 1 || p.idle[0] != small {
		t.Fatalf("idle outboxes %v: want only the small one", p.idle)
	}
	for range 2 * maxIdleOutboxes {
		p.put(&outbox{byTag: map[string]int{}})
	}
	if len(p.idle) != maxIdleOutboxes {
		t.Errorf("%d idle outboxes, want at most %d", len(p.idle), maxIdleOutboxes)
	}
	if got := p.get(); got == nil || len(p.idle) != maxIdleOutboxes-1 {
		t.Errorf("get did not take an idle outbox")
	}
}
