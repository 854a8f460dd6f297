package loki

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/internal/hostile"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
)

// A push body is at most hostile.LokiFactor times its records, plus a
// request's framing, whatever a record holds (issue #7), in both encodings
// and both line formats; after the Enrich stage, redacting and masking.
func FuzzPushIsLinear(f *testing.F) {
	for _, p := range hostile.Seeds() {
		f.Add(p)
	}
	masking := enrich.MustNew(enrich.Config{LogKey: "log", TimeFromLine: true, Redact: true,
		Mask: []string{"userID", "sessionID"}, MaskKey: "0123456789abcdef0123"})
	var sinks []*Sink
	body, invalid := 0, false
	for _, enc := range []string{"protobuf", "json"} {
		for _, format := range []string{"raw", "json"} {
			s, _ := newSink(f, map[string]string{"encoding": enc, "line_format": format})
			s.sendHook = func(st *state, _ int32) (result, error) {
				body += len(st.body)
				invalid = invalid || s.enc == JSON && !json.Valid(st.body)
				return sent, nil
			}
			sinks = append(sinks, s)
		}
	}
	f.Fuzz(func(t *testing.T, program []byte) {
		raw := hostile.Entry(program)
		for _, st := range []*enrich.Stage{stage, masking} {
			evs, err := st.DecodeChunk(raw, "tail.0")
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sinks {
				var b sink.Batch
				b.Reset("tail.0", []*record.Event{evs[0]})
				body, invalid = 0, false
				if err := s.Deliver(context.Background(), &b); err != nil {
					t.Fatal(err)
				}
				if body > hostile.LokiFactor*len(raw)+hostile.Slack {
					t.Fatalf("a %d-byte push body (%s) for a %d-byte record (%d×)", body, s.enc, len(raw), body/len(raw))
				}
				if invalid {
					t.Fatal("the JSON push body is not valid JSON")
				}
			}
		}
	})
}
