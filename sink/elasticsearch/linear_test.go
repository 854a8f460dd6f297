package elasticsearch

import (
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	hostilerec "github.com/ctlive/ctlive-fluent-bit/internal/hostile"
)

// A bulk entry is at most hostilerec.JSONFactor times its record, plus an
// action line, whatever the record holds (issue #7): keys nested in keys,
// nesting past record.MaxDepth, every msgpack type, CTLive lines with
// payloads and credentials; after the Enrich stage, redacting and masking.
func FuzzBulkIsLinear(f *testing.F) {
	for _, p := range hostilerec.Seeds() {
		f.Add(p)
	}
	masking := enrich.MustNew(enrich.Config{LogKey: "log", NestUnder: "ctlive", TimeFromLine: true, Redact: true,
		Mask: []string{"userID", "sessionID"}, MaskKey: "0123456789abcdef0123"})
	sinks := []*Sink{
		newSink(f, nil),
		newSink(f, map[string]string{"replace_dots": "on", "include_tag_key": "on"}),
	}
	f.Fuzz(func(t *testing.T, program []byte) {
		raw := hostilerec.Entry(program)
		for _, st := range []*enrich.Stage{stage, masking} {
			evs, err := st.DecodeChunk(raw, "tail.0")
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sinks {
				f := s.getFlush("tail.0")
				out := s.appendRecord(nil, evs[0], f)
				s.putFlush(f)
				if len(out) > hostilerec.JSONFactor*len(raw)+hostilerec.Slack {
					t.Fatalf("a %d-byte bulk entry for a %d-byte record (%d×)", len(out), len(raw), len(out)/len(raw))
				}
				if docs := parseNDJSON(t, out); len(docs) != 1 {
					t.Fatalf("%d documents", len(docs))
				}
			}
		}
	})
}
