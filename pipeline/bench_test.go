package pipeline

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/fwdtest"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/sink/stdout"
)

// realisticChunk is 1,000 generated CTLive records in Fluent Bit's chunk
// encoding, as tail + multiline hand them over (docker's stream key too),
// byte for byte as Fluent Bit's log event encoder writes them (map32
// headers: flbhost.AppendEncoded).
func realisticChunk() ([]byte, int) {
	recs := corpus.Generate(1, 1000)
	var b []byte
	size := 0
	for i, r := range recs {
		b = flbhost.AppendEncoded(b, flbhost.EventTime(time.Unix(1764064800, int64(i))),
			flbhost.Map{{Key: "log", Value: r.Line}, {Key: "stream", Value: "stdout"}})
		size += len(r.Line)
	}
	return b, size
}

// BenchmarkFlush: decode -> parse -> enrich -> encode for one chunk of 1,000
// records, through Flush exactly as FLBPluginFlushCtx calls it. "json" is
// the stdout sink's encoder (JSON lines, as for Elasticsearch) and
// "msgpack" the forward sink's (entries as re-injected into Fluent Bit),
// each with the output going nowhere; "forward" is the whole forward sink:
// tags rendered (the default ctlive.$tenant.$event), one message per tag,
// written to a fake in_forward on a unix socket in this process, which
// checks the framing and acks. Allocations are per chunk; ns/record is
// reported separately.
func BenchmarkFlush(b *testing.B) {
	data, lineBytes := realisticChunk()
	for _, tc := range []struct {
		name string
		sink func(b *testing.B) *Pipeline
	}{
		{"json", func(b *testing.B) *Pipeline { return newTest(b, stdout.NewWriter(io.Discard, "date", "double")) }},
		{"msgpack", func(b *testing.B) *Pipeline { return newTest(b, &msgpackDiscard{}) }},
		{"forward", func(b *testing.B) *Pipeline {
			srv := fwdtest.Start(b, fwdtest.Options{Unix: true, Discard: true})
			p, err := New("ctlive.0", config.MapGetter(map[string]string{"sink": "forward", "url": srv.URL(), "plugin_log_level": "error"}))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { p.Close() })
			return p
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := tc.sink(b)
			b.SetBytes(int64(lineBytes))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if p.Flush(data, "tail.0") != OK {
					b.Fatal("flush failed")
				}
			}
			b.StopTimer()
			perRecord(b, 1000)
		})
	}
}

// msgpackDiscard encodes each event as the forward sink does, then drops it.
type msgpackDiscard struct{ buf []byte }

func (m *msgpackDiscard) Deliver(_ context.Context, b *sink.Batch) error {
	m.buf = m.buf[:0]
	for i, ev := range b.Events {
		m.buf = record.AppendMsgpack(m.buf, ev)
		b.Done(i)
	}
	return nil
}

func (m *msgpackDiscard) Close() error { return nil }

// perRecord reports the per-record figures the performance targets use.
func perRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
