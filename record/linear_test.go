package record_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/internal/hostile"
	"github.com/ctlive/ctlive-fluent-bit/record"
)

// Every encoder writes at most a constant factor of a record's size,
// whatever it holds (issue #7): see hostile.JSONFactor for why these
// factors. The fuzz targets check them on records built by hostile.Build
// (keys nested in keys, nesting past MaxDepth, every msgpack type, CTLive
// lines with payloads and credentials), after the Enrich stage.

// stages enrich as the plugin does: redaction on, then also masking and
// nesting the fields.
var stages = []*enrich.Stage{
	enrich.MustNew(enrich.Defaults()),
	enrich.MustNew(enrich.Config{LogKey: "log", NestUnder: "ctlive", TimeFromLine: true, Redact: true,
		Mask: []string{"userID", "sessionID"}, MaskKey: "0123456789abcdef0123"}),
}

func enrichOne(t *testing.T, st *enrich.Stage, raw []byte) *record.Event {
	t.Helper()
	evs, err := st.DecodeChunk(raw, "tail.0")
	if err != nil || len(evs) != 1 {
		t.Fatalf("decode: %v", err)
	}
	return evs[0]
}

// The records that come nearest the factors, by construction: a line's
// bytes that JSON writes six times larger, in all five places they can
// stand; the shortest credentials, replaced by digests, in those places.
func TestWorstRecordsStayWithinTheFactors(t *testing.T) {
	const exception = "[CT7PROTOCOL] [AGM] newContact TypeError: url:x:{\"a\":\""
	tests := []struct {
		name string
		line string
	}{
		{"invalid UTF-8 in the message, error, url and payload", exception + strings.Repeat("\xff", 2000) + `"}`},
		{"control bytes in leading tokens", strings.Repeat("[\x01\x01] ", 300) + "newContact"},
		{"tokens of one byte", exception + strings.Repeat("ct7token:x ", 200) + `"}`},
		{"authorization values of one byte", "[CT7PROTOCOL] [AGM] newContact TypeError: url:" + strings.Repeat("authorization:x,", 200)},
		{"the shortest e-mail addresses", exception + strings.Repeat("a@b.c,", 300) + `"}`},
		{"passwords of one byte", exception + strings.Repeat("pwd=x,", 300) + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := append(hostile.Entry(nil)[:13], hostile.Map(hostile.Str("log"), hostile.Str(tc.line))...)
			for _, st := range stages {
				ev := enrichOne(t, st, raw)
				if !ev.Shaped {
					t.Fatal("not CTLive-shaped")
				}
				js, _ := record.JSON{}.AppendMembers(nil, ev)
				mp := record.AppendMsgpack(nil, ev)
				if len(js) > hostile.JSONFactor*len(raw) || len(mp) > hostile.MsgpackFactor*len(raw) {
					t.Errorf("JSON %.1f×, MessagePack %.1f× the entry; the factors are %d and %d", float64(len(js))/float64(len(raw)),
						float64(len(mp))/float64(len(raw)), hostile.JSONFactor, hostile.MsgpackFactor)
				}
			}
		})
	}
}

func seeds(f *testing.F) {
	for _, p := range hostile.Seeds() {
		f.Add(p)
	}
}

func FuzzJSONIsLinear(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, program []byte) {
		raw := hostile.Entry(program)
		for _, st := range stages {
			ev := enrichOne(t, st, raw)
			for _, j := range []record.JSON{{}, {Reserved: "log", ReplaceDots: true}} {
				out, _ := j.AppendMembers([]byte{'{'}, ev)
				out = append(out, '}')
				if len(out) > hostile.JSONFactor*len(raw)+hostile.Slack {
					t.Fatalf("%d bytes of JSON for a %d-byte entry (%d×)", len(out), len(raw), len(out)/len(raw))
				}
				if !json.Valid(out) {
					t.Fatalf("invalid JSON %q", out)
				}
			}
		}
	})
}

func FuzzMsgpackIsLinear(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, program []byte) {
		raw := hostile.Entry(program)
		for _, st := range stages {
			ev := enrichOne(t, st, raw)
			out := record.AppendMsgpack(nil, ev)
			if len(out) > hostile.MsgpackFactor*len(raw)+hostile.Slack {
				t.Fatalf("%d bytes of MessagePack for a %d-byte entry (%d×)", len(out), len(raw), len(out)/len(raw))
			}
			if d, err := hostile.Nesting(out); err != nil || d > record.MaxDepth+1 {
				t.Fatalf("the entry nests %d deep (%v): Fluent Bit cannot unpack it", d, err)
			}
			var e record.Entry
			if rest, err := e.Decode(out); err != nil || len(rest) != 0 || e.TooDeep {
				t.Fatalf("the entry does not decode on its own: %v, %d left, too deep %v", err, len(rest), e.TooDeep)
			}
		}
	})
}
