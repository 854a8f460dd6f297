package pipeline

import (
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/sink/stdout"
	"github.com/klauspost/compress/snappy"
)

// The contract's credentials, one of each kind, and an agent's login for
// `mask userID`.
var wireSecrets = []string{
	"9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d", // session
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqZG9lIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
	"tok_0a1b2c3d4e5f6a7b8c9d", // bearer
	"c7t-5e6f7a8b9c0d1e2f",     // ct7Token
	"dXNlcjpodW50ZXIy",         // Basic
	"hunter2-Pa55",             // password
	"jdoe.private@acd.example.com",
}

// wireChunk plants every credential in every place of a record: the line,
// a payload, an exception message, a URL, a stack frame, and the values of
// other keys at depth.
func wireChunk() []byte {
	s := wireSecrets
	lines := []string{
		"ctlive | 2025-02-27T17:19:20.000000001Z [socketIO] [AGM] agentLogin USER_" + s[6] + " session ID " + s[0],
		"ctlive | 2025-02-27T17:19:20.000000002Z [HTTP] [AGM] newContact url:https://h/x?ctlivetoken=" + s[0] + " Authorization: Bearer " + s[2],
		`ctlive | 2025-02-27T17:19:20.000000003Z [CT7PROTOCOL] [AGM] newContact headers:{"authorization":"Basic ` + s[4] + `","ct7Token":"` + s[3] + `","agent":"` + s[6] + `"}`,
		"ctlive | 2025-02-27T17:19:20.000000004Z [JWT] [AGM] TypeError: invalid token " + s[1] + " for password=" + s[5] + "\n    at check (/app/auth.js:1:1) session " + s[0],
	}
	var b []byte
	for i, l := range lines {
		b = flbhost.AppendV2(b, flbhost.EventTime(time.Unix(1764064800, int64(i))), flbhost.Map{}, flbhost.Map{
			{Key: "log", Value: l},
			{Key: "kubernetes", Value: flbhost.Map{{Key: "annotations", Value: flbhost.Map{
				{Key: "authorization", Value: "Bearer " + s[2]}, {Key: "owner", Value: s[6]}}}}},
			{Key: "password", Value: s[5]},
		})
	}
	return b
}

// wire is everything a sink wrote, decompressed.
type wire struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *wire) add(b []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
}

func (w *wire) Write(b []byte) (int, error) {
	w.add(b)
	return len(b), nil
}

func (w *wire) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

// httpWire answers 200 (the ES bulk answer Elasticsearch gives when every
// document is created) and keeps each body, gunzipped or unsnapped.
func httpWire(t *testing.T, w *wire, answer func(body []byte) string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Header.Get("Content-Encoding") == "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Errorf("gzip: %v", err)
				return
			}
			body, _ = io.ReadAll(zr)
		case r.Header.Get("Content-Type") == "application/x-protobuf":
			var err error
			if body, err = snappy.Decode(nil, body); err != nil {
				t.Errorf("snappy: %v", err)
				return
			}
		}
		w.add(body)
		io.WriteString(rw, answer(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// bulkCreated answers a bulk request: every document created.
func bulkCreated(body []byte) string {
	n := bytes.Count(body, []byte("\n")) / 2
	var b bytes.Buffer
	b.WriteString(`{"errors":false,"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"create":{"status":201}}`)
	}
	b.WriteString("]}")
	return b.String()
}

// tcpWire accepts forward connections and keeps the bytes (no acks asked).
func tcpWire(t *testing.T, w *wire) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					w.add(buf[:n])
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return "tcp://" + ln.Addr().String()
}

// Every sink, on the wire: no credential in clear, whatever place of the
// record it stood in (issue: credentials never leave in clear).
func TestNoSinkPutsACredentialOnTheWire(t *testing.T) {
	chunk := wireChunk()
	masked := []string{"mask", "userID", "mask_key", "0123456789abcdef-wire-key"}
	tests := []struct {
		name  string
		props func(t *testing.T, w *wire) []string
	}{
		{"stdout", nil},
		{"forward", func(t *testing.T, w *wire) []string {
			return []string{"sink", "forward", "url", tcpWire(t, w), "require_ack_response", "off"}
		}},
		{"elasticsearch", func(t *testing.T, w *wire) []string {
			return []string{"sink", "elasticsearch", "url", httpWire(t, w, bulkCreated)}
		}},
		{"loki protobuf", func(t *testing.T, w *wire) []string {
			return []string{"sink", "loki", "url", httpWire(t, w, func([]byte) string { return "" })}
		}},
		{"loki json lines", func(t *testing.T, w *wire) []string {
			return []string{"sink", "loki", "url", httpWire(t, w, func([]byte) string { return "" }), "encoding", "json", "line_format", "json"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &wire{}
			props := map[string]string{"plugin_log_level": "error"}
			if tc.props == nil {
				// The stdout sink's encoder, writing to w instead of os.Stdout.
				Sinks["stdout-wire"] = func(*config.Reader, *flblog.Logger, *record.Layout) (sink.Sink, error) {
					return stdout.NewWriter(w, "date", "double"), nil
				}
				t.Cleanup(func() { delete(Sinks, "stdout-wire") })
				props["sink"] = "stdout-wire"
			} else {
				kv := tc.props(t, w)
				for i := 0; i+1 < len(kv); i += 2 {
					props[kv[i]] = kv[i+1]
				}
			}
			for i := 0; i+1 < len(masked); i += 2 {
				props[masked[i]] = masked[i+1]
			}
			p, err := New("ctlive.0", config.MapGetter(props))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Flush(chunk, "raw.ctlive"); got != OK {
				t.Fatalf("flush = %v", got)
			}
			p.Close()
			out := waitWire(w, 4)
			if len(out) == 0 {
				t.Fatal("nothing reached the wire")
			}
			for _, s := range wireSecrets {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("%q is on the wire in clear:\n%.600q", s, out)
				}
			}
			if !bytes.Contains(out, []byte("sha256:")) && !bytes.Contains(out, []byte("hmac:")) {
				t.Error("no digest on the wire: the tokens were dropped, not redacted")
			}
		})
	}
}

// waitWire waits (bounded) until the wire holds something of each of the
// n records, then returns it.
func waitWire(w *wire, n int) []byte {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b := w.bytes(); bytes.Count(b, []byte("AGM")) >= n {
			return b
		}
		time.Sleep(10 * time.Millisecond)
	}
	return w.bytes()
}
