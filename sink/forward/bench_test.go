package forward_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/fwdtest"
	"github.com/ctlive/ctlive-fluent-bit/sink/forward"
)

// BenchmarkSend measures one 1,000-entry message per op, acked, against a
// receiver in Discard mode (framing checked, no decoding, no allocations), so
// allocs/op is the client's allocations per message. -benchmem counts the
// whole process, receiver included.
func BenchmarkSend(b *testing.B) {
	const entries = 1000
	var batch []byte
	for i := 0; i < entries; i++ {
		batch = fwdtest.AppendEntry(batch, t0.Add(time.Duration(i)), map[string]any{"tenant": "ACME"}, map[string]any{
			"event": "message", "room": "lobby-42", "user": fmt.Sprintf("user-%04d", i),
			"text": "hello there, this is a typical chat line", "len": int64(41), "ok": true,
		})
	}
	cases := []struct {
		name string
		unix bool
		gzip bool
		ack  bool
	}{
		{"tcp", false, false, true},
		{"tcp-noack", false, false, false},
		{"unix", true, false, true},
		{"tcp-gzip", false, true, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			srv := fwdtest.Start(b, fwdtest.Options{Unix: tc.unix, Discard: true})
			ep, err := forward.ParseURL(srv.URL())
			if err != nil {
				b.Fatal(err)
			}
			cfg := forward.Config{Endpoint: ep, DisableAck: !tc.ack}
			if tc.gzip {
				cfg.Compression = forward.CompressionGzip
			}
			cl, err := forward.NewClient(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			ctx := context.Background()
			if err := cl.Send(ctx, "ctlive.ACME.message", batch, entries); err != nil { // dial, warm buffers
				b.Fatal(err)
			}
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := cl.Send(ctx, "ctlive.ACME.message", batch, entries); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*entries), "ns/entry")
			if !tc.ack { // make sure everything arrived before the server stops
				deadline := time.Now().Add(10 * time.Second)
				for srv.Stats().Messages < b.N+1 && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
			}
			if got := srv.Stats().DiscardedEntries; got != (b.N+1)*entries {
				b.Fatalf("server saw %d entries, want %d", got, (b.N+1)*entries)
			}
		})
	}
}
