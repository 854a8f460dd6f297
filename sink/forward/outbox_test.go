package forward

import (
	"fmt"
	"slices"
	"strings"
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

// A record goes to the message of the tag its template renders, and a
// tag's messages are full but for its last: runs of equal tenants and
// events, a change of one field only, a tenant missing, a tenant named
// like the missing text, messages that fill up mid-run, templates of
// fields, record keys, subscripts and the time.
func TestEachRecordGoesToTheMessageOfItsOwnTag(t *testing.T) {
	cid := func(tenant string) string { return "CHAT_" + tenant + "_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c" }
	lines := []string{
		"[fn] [AGM] newContact", "[fn] [AGM] newContact", "[fn] [AGM] endContact", "[fn] [AGM] endContact",
		"[fn] [BETA] endContact", "[fn] [BETA] endContact", "[fn] nothing here", "[fn] nothing here",
		"[fn] [unknown] newContact " + cid("unknown"), "[fn] [AGM] x", "[fn] [AGM] x " + cid("AGM"),
		"[fn] [AGM] endContact", "[fn] warn [AGM] x", "[fn] [AGM] error x", "[fn] [AGM] error y",
		"not a CTLive line", "not a CTLive line either", "[fn] [AGM] newContact",
	}
	long := strings.Repeat("x", 5<<10) // twice in an entry (log, message): six fill a message
	var full []string                  // runs of records of one tag that fill several messages
	for _, tenant := range []string{"AGM", "BETA", "AGM"} {
		for i := 0; i < 12; i++ {
			full = append(full, "[fn] ["+tenant+"] newContact "+long)
		}
	}
	for _, tc := range []struct {
		name  string
		tag   string
		lines []string
	}{
		{"the default", DefaultTag, lines},
		{"the chunk's tag and a field", "re.$TAG[0].$level", lines},
		{"a field twice", "$event.$event", lines},
		{"the default, messages filling up", DefaultTag, full},
		{"a record key", "ctlive.$stream", lines},
		{"a subscript", "ctlive.$scopes[0]", lines},
		{"the time", "ctlive.%Y", lines},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, "tag", tc.tag, "max_message_size", "64k")
			// Twice, the second flush in the first one's outbox, in the
			// other order: nothing of the first may steer the second.
			for flush, lines := range [][]string{tc.lines, reversed(tc.lines)} {
				var b sink.Batch
				evs := events(t, chunkOf(lines...))
				b.Reset("tail.0", evs)
				o := s.outboxes.get()
				s.pack(o, &b)
				seen := 0
				for _, m := range o.msgs {
					if len(m.entries) > s.maxBytes {
						t.Errorf("flush %d: a message of %d bytes, above %d", flush, len(m.entries), s.maxBytes)
					}
					for _, i := range m.events {
						seen++
						if want := string(s.tag.Append(nil, evs[i])); m.tag != want {
							t.Errorf("flush %d: record %d (%.40q) went to %q, its tag is %q", flush, i, lines[i], m.tag, want)
						}
					}
				}
				if seen != len(evs) {
					t.Fatalf("flush %d: %d of %d records packed", flush, seen, len(evs))
				}
				// A tag's messages are full but for its last: each holds more
				// than half of max_message_size when records are small against
				// it, so there are few.
				bytesOf, msgsOf := map[string]int{}, map[string]int{}
				for _, m := range o.msgs {
					bytesOf[m.tag] += len(m.entries)
					msgsOf[m.tag]++
				}
				for tag, n := range msgsOf {
					if most := 2*bytesOf[tag]/s.maxBytes + 1; n > most {
						t.Errorf("flush %d: %d messages of tag %q for %d bytes, want at most %d", flush, n, tag, bytesOf[tag], most)
					}
				}
				s.outboxes.put(o)
			}
		})
	}
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}
