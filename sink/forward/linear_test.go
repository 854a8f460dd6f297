package forward

import (
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/internal/hostile"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/tinylib/msgp/msgp"
)

// The entries and tag a record becomes are at most hostile.MsgpackFactor
// times its size, whatever it holds (issue #7), and in_forward can unpack
// each entry: its containers nest at most 64 deep, its own array counted
// (record.MaxDepth). After the Enrich stage, redacting and masking; log
// group markers with deep metadata around the record.
func FuzzForwardIsLinear(f *testing.F) {
	for _, p := range hostile.Seeds() {
		f.Add(p)
	}
	masking := enrich.MustNew(enrich.Config{LogKey: "log", NestUnder: "ctlive", TimeFromLine: true, Redact: true,
		Mask: []string{"userID", "sessionID"}, MaskKey: "0123456789abcdef0123"})
	s := newSink(f)
	f.Fuzz(func(t *testing.T, program []byte) {
		raw := hostile.Entry(program)
		// A group around the record, its start's metadata as deep as the record's.
		group := append([]byte{0x92, 0x92, 0xd7, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, raw[12:len(raw)-len(hostile.Build(program))]...)
		group = append(group, 0x80)
		end := []byte{0x92, 0x92, 0xd7, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0x80, 0x80}
		chunk := append(append(append([]byte(nil), group...), raw...), end...)
		for _, st := range []*enrich.Stage{stage, masking} {
			evs, err := st.DecodeChunk(chunk, "tail.0")
			if err != nil {
				t.Fatal(err)
			}
			var b sink.Batch
			b.Reset("tail.0", evs)
			o := &outbox{byTag: map[string]int{}}
			s.pack(o, &b)
			size := 0
			for _, m := range o.msgs {
				size += len(m.tag) + len(m.entries)
				for rest := m.entries; len(rest) > 0; {
					if d, err := hostile.Nesting(rest); err != nil || d > record.MaxDepth+1 {
						t.Fatalf("an entry nests %d deep (%v): in_forward cannot unpack it", d, err)
					}
					rest, _ = msgp.Skip(rest)
				}
			}
			if size > hostile.MsgpackFactor*len(chunk)+hostile.Slack {
				t.Fatalf("%d bytes to forward for a %d-byte chunk (%d×)", size, len(chunk), size/len(chunk))
			}
		}
	})
}
