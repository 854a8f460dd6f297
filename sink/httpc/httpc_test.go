package httpc

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/sink"
)

func readConfig(props map[string]string) (Config, error) {
	r := config.NewReader(config.MapGetter(props))
	c := ReadConfig(r, "http://127.0.0.1:9200")
	return c, r.Err()
}

func mustClient(t *testing.T, props map[string]string) *Client {
	t.Helper()
	c, err := readConfig(props)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cl, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// seen is what a test server received.
type seen struct {
	mu      sync.Mutex
	reqs    []*http.Request
	bodies  [][]byte
	encoded [][]byte // as sent, before gunzip
}

func (s *seen) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("the server saw no request")
	}
	return s.reqs[len(s.reqs)-1], s.bodies[len(s.bodies)-1]
}

// recorder answers 200 "ok" and keeps each request with its decoded body.
func recorder(t *testing.T, s *seen) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server reading body: %v", err)
		}
		body := raw
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Errorf("gzip header: %v", err)
			} else if body, err = io.ReadAll(zr); err != nil {
				t.Errorf("gunzip: %v", err)
			}
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		s.bodies = append(s.bodies, body)
		s.encoded = append(s.encoded, raw)
		s.mu.Unlock()
		io.WriteString(w, "ok")
	}
}

func startRecorder(t *testing.T) (*httptest.Server, *seen) {
	s := new(seen)
	srv := httptest.NewServer(recorder(t, s))
	t.Cleanup(srv.Close)
	return srv, s
}

func TestReadConfig(t *testing.T) {
	c, err := readConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.URL.String() != "http://127.0.0.1:9200" || !c.Gzip || c.Timeout != 30*time.Second || c.InsecureSkipVerify {
		t.Errorf("defaults: url %s gzip %v timeout %v insecure %v", c.URL, c.Gzip, c.Timeout, c.InsecureSkipVerify)
	}
	c, err = readConfig(map[string]string{
		"url": "https://elastic:p%40ss@es.example:9243/prefix/?x=1", "compress": "none", "timeout": "2.5",
		"verify_certificate": "off",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.User != "elastic" || c.Password != "p@ss" {
		t.Errorf("credentials from the url: %q %q", c.User, c.Password)
	}
	if c.URL.User != nil || c.URL.String() != "https://es.example:9243/prefix?x=1" {
		t.Errorf("url kept as %s: want no credentials, no trailing slash, query kept", c.URL)
	}
	if c.Gzip || c.Timeout != 2500*time.Millisecond || !c.InsecureSkipVerify {
		t.Errorf("gzip %v timeout %v insecure %v", c.Gzip, c.Timeout, c.InsecureSkipVerify)
	}
	c, _ = readConfig(map[string]string{"url": "http://u:url-pass@h", "http_user": "cfg", "http_passwd": "cfg-pass"})
	if c.User != "cfg" || c.Password != "cfg-pass" {
		t.Errorf("http_user/http_passwd must win over the url's: %q %q", c.User, c.Password)
	}
}

func TestReadConfigRejects(t *testing.T) {
	const secret = "s3cr3t-pw"
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"scheme", map[string]string{"url": "ftp://h"}, "scheme"},
		{"no host", map[string]string{"url": "http:///path"}, "no host"},
		{"fragment", map[string]string{"url": "http://h/#x"}, "fragment"},
		{"unparsable url with a password", map[string]string{"url": "http://user:" + secret + "%zz@h/"}, "not a URL"},
		{"bad port with a password", map[string]string{"url": "http://user:" + secret + "@h:port/"}, "port"},
		{"password with an unescaped @", map[string]string{"url": "http://user:" + secret + "@x%zz@h/"}, "not a URL"},
		{"two auth methods", map[string]string{"http_user": "u", "api_key": secret}, "only one"},
		{"api key and bearer", map[string]string{"bearer_token": secret, "api_key": secret}, "only one"},
		{"password without user", map[string]string{"http_passwd": secret}, "http_user"},
		{"cert without key", map[string]string{"client_cert_file": "/c.pem"}, "client_key_file"},
		{"compress", map[string]string{"compress": "zstd"}, "compress"},
		{"timeout", map[string]string{"timeout": "-1s"}, "timeout"},
		{"timeout past an hour", map[string]string{"timeout": "1e300"}, `timeout "1e300": must be a duration from 100ms to 1h`},
		{"timeout NaN", map[string]string{"timeout": "NaN"}, "timeout"},
		{"timeout too short", map[string]string{"timeout": "1ms"}, "timeout"},
		{"bearer_token with a line break", map[string]string{"bearer_token": secret + "\nmore"}, "bearer_token: holds a control character"},
		{"api_key with a NUL", map[string]string{"api_key": secret + "\x00"}, "api_key: holds a control character"},
		{"http_passwd with a trailing line break", map[string]string{"http_user": "u", "http_passwd": secret + "\n"}, "http_passwd: holds a control character"},
		{"http_user with a CR", map[string]string{"http_user": "u\rx", "http_passwd": secret}, "http_user"},
		{"http_user with a colon", map[string]string{"http_user": "u:x", "http_passwd": secret}, "RFC 7617"},
		// Attacker review, item D: never echo a credential.
		{"http_user holding a password", map[string]string{"http_user": "u:" + secret}, "http_user: must not hold ':'"},
		{"http_user holding a password and a line break", map[string]string{"http_user": "u:" + secret + "\nx"}, "http_user: holds a control character"},
		{"protocol-relative url with a password", map[string]string{"url": "//admin:" + secret + "@es:9200"}, "scheme"},
		{"one slash after the scheme", map[string]string{"url": "http:/u:" + secret + "@h"}, "no host"},
		{"three slashes after the scheme", map[string]string{"url": "http:///u:" + secret + "@h"}, "no host"},
		{"verify_certificate", map[string]string{"verify_certificate": "sometimes"}, "verify_certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readConfig(tc.props)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

func TestAuthorizationHeader(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"none", nil, ""},
		{"basic", map[string]string{"http_user": "elastic", "http_passwd": "changeme"}, "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="},
		{"basic from the url", map[string]string{"url": "http://elastic:changeme@HOST"}, "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="},
		{"api key", map[string]string{"api_key": " VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw== "},
			"ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="},
		{"bearer", map[string]string{"bearer_token": "tok"}, "Bearer tok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, s := startRecorder(t)
			props := map[string]string{"url": srv.URL}
			for k, v := range tc.props {
				props[k] = strings.ReplaceAll(v, "HOST", strings.TrimPrefix(srv.URL, "http://"))
			}
			cl := mustClient(t, props)
			if _, err := cl.Post(context.Background(), "/x", "text/plain", []byte("a"), nil); err != nil {
				t.Fatal(err)
			}
			req, _ := s.last(t)
			if got := req.Header.Get("Authorization"); got != tc.want {
				t.Errorf("Authorization %q, want %q", got, tc.want)
			}
			if strings.Contains(cl.URL(), "changeme") {
				t.Errorf("URL() shows the password: %s", cl.URL())
			}
		})
	}
}

func TestTransportErrorsHideCredentials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cl := mustClient(t, map[string]string{"url": "http://elastic:s3cr3t@" + addr + "/p?q=1", "timeout": "2s"})
	_, err = cl.Post(context.Background(), "/_bulk", "application/x-ndjson", []byte("{}\n"), nil)
	var re *RetryableError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want *RetryableError", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not say where", err)
	}
}

func TestGzipBodies(t *testing.T) {
	for _, compress := range []string{"gzip", "none"} {
		t.Run(compress, func(t *testing.T) {
			srv, s := startRecorder(t)
			cl := mustClient(t, map[string]string{"url": srv.URL, "compress": compress})
			// Several bodies one after the other: pooled writers must not
			// leak one body's bytes into the next.
			bodies := []string{strings.Repeat("first line\n", 5000), "second\n", "", strings.Repeat("x", 100000)}
			for i, b := range bodies {
				if _, err := cl.Post(context.Background(), "/p", "application/x-ndjson", []byte(b), nil); err != nil {
					t.Fatal(err)
				}
				s.mu.Lock()
				req, got, raw := s.reqs[i], s.bodies[i], s.encoded[i]
				s.mu.Unlock()
				if string(got) != b {
					t.Errorf("body %d: server decoded %d bytes, want %d", i, len(got), len(b))
				}
				gz := req.Header.Get("Content-Encoding") == "gzip"
				if gz != (compress == "gzip") {
					t.Errorf("body %d: Content-Encoding %q", i, req.Header.Get("Content-Encoding"))
				}
				if gz && len(b) > 1000 && len(raw) > len(b)/4 {
					t.Errorf("body %d: %d bytes sent for %d: not compressed", i, len(raw), len(b))
				}
				if req.ContentLength != int64(len(raw)) {
					t.Errorf("body %d: Content-Length %d for %d bytes", i, req.ContentLength, len(raw))
				}
				if ct := req.Header.Get("Content-Type"); ct != "application/x-ndjson" {
					t.Errorf("Content-Type %q", ct)
				}
			}
		})
	}
}

func TestPathPrefixAndQuery(t *testing.T) {
	tests := []struct{ base, path, wantPath, wantQuery string }{
		{"", "/_bulk", "/_bulk", ""},
		{"/", "/_bulk", "/_bulk", ""},
		{"/insert/elasticsearch", "/_bulk", "/insert/elasticsearch/_bulk", ""},
		{"/insert/elasticsearch/?_msg_field=message&_time_field=@timestamp", "/_bulk",
			"/insert/elasticsearch/_bulk", "_msg_field=message&_time_field=@timestamp"},
		{"/loki?x=%2F", "/loki/api/v1/push", "/loki/loki/api/v1/push", "x=%2F"},
	}
	for _, tc := range tests {
		t.Run(tc.base, func(t *testing.T) {
			srv, s := startRecorder(t)
			cl := mustClient(t, map[string]string{"url": srv.URL + tc.base})
			if _, err := cl.Post(context.Background(), tc.path, "text/plain", []byte("a"), nil); err != nil {
				t.Fatal(err)
			}
			req, _ := s.last(t)
			if req.URL.Path != tc.wantPath || req.URL.RawQuery != tc.wantQuery {
				t.Errorf("%s?%s, want %s?%s", req.URL.Path, req.URL.RawQuery, tc.wantPath, tc.wantQuery)
			}
		})
	}
}

func TestHeadersAndResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("AccountID") != "7" || r.Header.Get("User-Agent") != "ctlive-fluent-bit" {
			w.WriteHeader(400)
		}
		w.WriteHeader(202)
		io.WriteString(w, "accepted")
	}))
	defer srv.Close()
	cl := mustClient(t, map[string]string{"url": srv.URL})
	resp, err := cl.Post(context.Background(), "/", "text/plain", []byte("a"), http.Header{"AccountID": {"7"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 202 || string(resp.Body) != "accepted" {
		t.Errorf("response %d %q", resp.Status, resp.Body)
	}
}

// No redirect is followed, whatever its code and wherever it points: the
// server it points to receives nothing (neither the body nor the
// Authorization header), and the answer is a permanent error that names
// the Location without its credentials.
func TestRedirectsAreNeverFollowed(t *testing.T) {
	var targetHits sync.Map
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Store(r.URL.String(), r.Header.Get("Authorization"))
		io.WriteString(w, `{"errors":false,"items":[{"create":{"status":201}}]}`)
	}))
	defer target.Close()
	port := target.URL[strings.LastIndexByte(target.URL, ':')+1:]
	tests := []struct {
		name, location string
		tls            bool
	}{
		{"https to http on the same host", "http://127.0.0.1:" + port + "/_bulk?token=abc", true},
		{"to another host", "http://localhost:" + port + "/_bulk", false},
		{"to another host, with credentials", "http://user:pa55@localhost:" + port + "/_bulk", false},
		{"relative", "/elsewhere/_bulk", false},
		// Attacker review, item D.
		{"protocol-relative, with credentials", "//admin:S3cretPw@localhost:" + port + "/_bulk", false},
		{"relative, with a signature", "/_bulk?X-Amz-Signature=S1gValue", false},
	}
	for _, tc := range tests {
		for _, code := range []int{301, 302, 303, 307, 308} {
			t.Run(fmt.Sprint(tc.name, " ", code), func(t *testing.T) {
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					w.Header().Set("Location", tc.location)
					w.WriteHeader(code)
				})
				var srv *httptest.Server
				if tc.tls {
					srv = httptest.NewTLSServer(h)
				} else {
					srv = httptest.NewServer(h)
				}
				defer srv.Close()
				cl := mustClient(t, map[string]string{"url": srv.URL, "api_key": "k3y-in-clear", "verify_certificate": "off"})
				resp, err := cl.Post(context.Background(), "/_bulk", "application/x-ndjson", []byte("{}\n"), nil)
				if err == nil || !sink.IsPermanent(err) {
					t.Fatalf("Post = %v, %v; want a permanent error", resp, err)
				}
				msg := err.Error()
				if !strings.Contains(msg, fmt.Sprintf("HTTP %d redirect to", code)) || !strings.Contains(msg, "_bulk") {
					t.Errorf("error %q does not name the redirect and where it points", msg)
				}
				for _, secret := range []string{"abc", "pa55", "k3y", "S3cretPw", "S1gValue"} {
					if strings.Contains(msg, secret) {
						t.Errorf("error %q shows %q", msg, secret)
					}
				}
				targetHits.Range(func(k, v any) bool {
					t.Errorf("the redirect's target received %v (Authorization %q)", k, v)
					return true
				})
			})
		}
	}
}

// The transport may still be writing a body when the answer arrives (here
// 413 before the body was read). Once Post returns the caller reuses its
// buffer: no reader may touch it any more (run with -race).
func TestBodyIsReleasedWhenPostReturns(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}))
	defer srv.Close()
	cl := mustClient(t, map[string]string{"url": srv.URL, "compress": "none", "timeout": "5s"})
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB: more than socket buffers hold
	for range 3 {
		resp, err := cl.Post(context.Background(), "/_bulk", "text/plain", body, nil)
		if err != nil {
			// The transport may report the aborted write instead; either way
			// the buffer must be free now.
			var re *RetryableError
			if !errors.As(err, &re) {
				t.Fatalf("error %v, want retryable", err)
			}
		} else if resp.Status != 413 {
			t.Fatalf("status %d", resp.Status)
		}
		for i := range body { // what a pooled buffer's next user does
			body[i] = 'z'
		}
	}
}

func TestEmptyBody(t *testing.T) {
	srv, s := startRecorder(t)
	cl := mustClient(t, map[string]string{"url": srv.URL, "compress": "none"})
	if _, err := cl.Post(context.Background(), "/", "text/plain", nil, nil); err != nil {
		t.Fatal(err)
	}
	req, body := s.last(t)
	if req.ContentLength != 0 || len(body) != 0 || len(req.TransferEncoding) != 0 {
		t.Errorf("empty body sent as length %d, %d bytes, transfer encoding %v", req.ContentLength, len(body), req.TransferEncoding)
	}
}

// stall holds a request until the client gives up on it (or 5s pass). The
// body is read first: only then does the server notice a closed connection.
func stall(r *http.Request) {
	io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

func TestTimeoutsAreBounded(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"no answer", func(w http.ResponseWriter, r *http.Request) { stall(r) }},
		{"answer stalls after the headers", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			io.WriteString(w, `{"items":[`)
			w.(http.Flusher).Flush()
			stall(r)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			cl := mustClient(t, map[string]string{"url": srv.URL, "timeout": "200ms"})
			start := time.Now()
			_, err := cl.Post(context.Background(), "/", "text/plain", []byte("a"), nil)
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("Post returned after %v with a 200ms timeout", d)
			}
			var re *RetryableError
			if !errors.As(err, &re) {
				t.Errorf("error %v, want *RetryableError", err)
			}
		})
	}
	// A Config built by hand without a timeout still gets one.
	u, _ := readConfig(nil)
	u.Timeout = 0
	cl, err := New(u)
	if err != nil {
		t.Fatal(err)
	}
	if cl.http.Timeout != DefaultTimeout {
		t.Errorf("timeout %v, want %v", cl.http.Timeout, DefaultTimeout)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		status int
		want   bool
	}{
		{200, false}, {201, false}, {400, false}, {401, false}, {403, false}, {404, false},
		{408, true}, {409, false}, {413, false}, {429, true},
		{500, true}, {501, false}, {502, true}, {503, true}, {504, true}, {505, false}, {507, true},
	}
	for _, tc := range tests {
		if got := Retryable(tc.status); got != tc.want {
			t.Errorf("Retryable(%d) = %v, want %v", tc.status, got, tc.want)
		}
	}
}

func TestSnippet(t *testing.T) {
	if got := Snippet([]byte("  short answer\n")); got != "short answer" {
		t.Errorf("%q", got)
	}
	if got := Snippet(bytes.Repeat([]byte("a"), 1000)); len(got) != 303 || !strings.HasSuffix(got, "...") {
		t.Errorf("long answer cut to %d bytes: %q", len(got), got[len(got)-5:])
	}
}

// tlsFiles is a throwaway PKI: a CA, a server certificate for 127.0.0.1
// and a client certificate, as PEM files.
type tlsFiles struct {
	caFile, clientCert, clientKey string
	server                        tls.Certificate
	pool                          *x509.CertPool
}

func newTLSFiles(t *testing.T) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ctlive test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ip bool) ([]byte, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	}
	var f tlsFiles
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.caFile = write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	srvCert, srvKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, true)
	if f.server, err = tls.X509KeyPair(srvCert, srvKey); err != nil {
		t.Fatal(err)
	}
	cliCert, cliKey := issue(3, "ctlive-agent", x509.ExtKeyUsageClientAuth, false)
	f.clientCert, f.clientKey = write("client.pem", cliCert), write("client-key.pem", cliKey)
	f.pool = x509.NewCertPool()
	f.pool.AddCert(ca)
	return f
}

func startTLS(t *testing.T, f tlsFiles, clientAuth tls.ClientAuthType) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := "anonymous"
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			who = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		io.WriteString(w, who)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{f.server}, ClientAuth: clientAuth, ClientCAs: f.pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestTLS(t *testing.T) {
	f := newTLSFiles(t)
	plain := startTLS(t, f, tls.NoClientCert)
	mutual := startTLS(t, f, tls.RequireAndVerifyClientCert)
	tests := []struct {
		name    string
		srv     *httptest.Server
		props   map[string]string
		wantErr string // "" for success
		wantWho string
	}{
		{"verified by default: unknown CA fails", plain, nil, "certificate", ""},
		{"ca_file makes it pass", plain, map[string]string{"ca_file": f.caFile}, "", "anonymous"},
		{"verify_certificate off", plain, map[string]string{"verify_certificate": "off"}, "", "anonymous"},
		// TLS 1.3 refuses the missing certificate after the handshake: the
		// client sees an alert or a broken pipe, depending on timing.
		{"mutual TLS without a client certificate fails", mutual, map[string]string{"ca_file": f.caFile}, "*", ""},
		{"mutual TLS with a client certificate", mutual,
			map[string]string{"ca_file": f.caFile, "client_cert_file": f.clientCert, "client_key_file": f.clientKey}, "", "ctlive-agent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]string{"url": tc.srv.URL, "timeout": "5s"}
			for k, v := range tc.props {
				props[k] = v
			}
			cl := mustClient(t, props)
			resp, err := cl.Post(context.Background(), "/", "text/plain", []byte("a"), nil)
			if tc.wantErr != "" {
				if err == nil || tc.wantErr != "*" && !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tc.wantWho {
				t.Errorf("server saw %q, want %q", resp.Body, tc.wantWho)
			}
		})
	}
}

func TestNewRejectsBadTLSFiles(t *testing.T) {
	f := newTLSFiles(t)
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"missing ca_file", map[string]string{"ca_file": "/nonexistent/ca.pem"}, "ca_file"},
		{"ca_file without PEM", map[string]string{"ca_file": notPEM}, "no PEM"},
		{"key does not match", map[string]string{"client_cert_file": f.clientCert, "client_key_file": f.caFile}, "client_cert_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := readConfig(tc.props)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := New(c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

// What is read of an answer is bounded: Post keeps MaxAnswerBody bytes of
// any answer, PostStream hands a 2xx body to its reader and fails the read
// past the limit.
func TestAnswersAreReadWithinBounds(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/error":
			w.WriteHeader(500)
			io.WriteString(w, huge)
		case "/exact":
			io.WriteString(w, "0123456789")
		default:
			io.WriteString(w, huge)
		}
	}))
	defer srv.Close()
	cl := mustClient(t, map[string]string{"url": srv.URL})
	ctx := context.Background()

	resp, err := cl.Post(ctx, "/error", "text/plain", []byte("a"), nil)
	if err != nil || resp.Status != 500 || len(resp.Body) != MaxAnswerBody {
		t.Errorf("Post of a 1 MiB error: %v, %d bytes kept; want %d", err, len(resp.Body), MaxAnswerBody)
	}
	resp, err = cl.Post(ctx, "/", "text/plain", []byte("a"), nil)
	if err != nil || len(resp.Body) != MaxAnswerBody {
		t.Errorf("Post of a 1 MiB answer: %v, %d bytes kept", err, len(resp.Body))
	}

	tests := []struct {
		path    string
		limit   int64
		wantErr bool
	}{
		{"/exact", 10, false},
		{"/exact", 100, false},
		{"/exact", 9, true},
		{"/", 64 << 10, true},
	}
	for _, tc := range tests {
		var got int64
		resp, err := cl.PostStream(ctx, tc.path, "text/plain", []byte("a"), nil, tc.limit, func(r io.Reader) error {
			n, err := io.Copy(io.Discard, r)
			got = n
			return err
		})
		if tc.wantErr != errors.Is(err, ErrAnswerTooLarge) || got > tc.limit {
			t.Errorf("PostStream(%s, limit %d): read %d bytes, err %v", tc.path, tc.limit, got, err)
		}
		if resp == nil || resp.Status != 200 || len(resp.Body) != 0 {
			t.Errorf("PostStream(%s): response %+v", tc.path, resp)
		}
	}

	// An error status is read as Post reads it, not handed to the reader.
	resp, err = cl.PostStream(ctx, "/error", "text/plain", []byte("a"), nil, 10, func(io.Reader) error {
		t.Error("reader called for a 500")
		return nil
	})
	if err != nil || resp.Status != 500 || len(resp.Body) != MaxAnswerBody {
		t.Errorf("PostStream of a 500: %v %v", resp, err)
	}
}

func TestURLHidesQueryValues(t *testing.T) {
	cl := mustClient(t, map[string]string{"url": "http://u:pw@h:9428/insert/elasticsearch?_msg_field=message&token=abc"})
	if got := cl.URL(); got != "http://h:9428/insert/elasticsearch?_msg_field=***&token=***" {
		t.Errorf("URL() = %q", got)
	}
}
