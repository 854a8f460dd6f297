// Package httpc is the HTTP client shared by the Elasticsearch and Loki
// sinks: base URL with a path prefix, authentication, TLS, gzip, bounded
// timeouts, keep-alive connections shared by Fluent Bit's workers, and the
// classification of failures into "retry later" and "rejected for good".
package httpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/scrub"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/klauspost/compress/gzip"
)

// Config is what an instance's properties say about the HTTP side.
type Config struct {
	URL         *url.URL // scheme, host, an optional path prefix and query (kept on every request)
	User        string   // basic auth (http_user)
	Password    string   // basic auth (http_passwd)
	APIKey      string   // Elasticsearch API key, sent as "ApiKey <key>"
	BearerToken string   // sent as "Bearer <token>"

	CAFile             string // PEM bundle to verify the server with
	ClientCertFile     string // PEM client certificate (mutual TLS)
	ClientKeyFile      string
	InsecureSkipVerify bool // explicit opt-out of certificate verification

	Gzip    bool          // compress request bodies
	Timeout time.Duration // whole request, connect to last response byte
}

// DefaultTimeout bounds a whole request when `timeout` is not set.
const DefaultTimeout = 30 * time.Second

// Keys are the property names httpc reads; the sinks document them.
var Keys = []string{"url", "http_user", "http_passwd", "api_key", "bearer_token",
	"ca_file", "client_cert_file", "client_key_file", "verify_certificate", "compress", "timeout"}

// ReadConfig reads the shared HTTP keys. defaultURL is used when `url` is
// unset. Secrets come from the properties, where Fluent Bit has already
// replaced ${ENV_VAR} references, so users keep them out of config files.
// Values that go into a header are refused when they hold a control
// character (a line break from the file a secret came from): every request
// would fail.
func ReadConfig(r *config.Reader, defaultURL string) Config {
	c := Config{
		User:               r.Raw("http_user"),
		Password:           r.Secret("http_passwd"),
		APIKey:             strings.TrimSpace(r.Secret("api_key")),
		BearerToken:        strings.TrimSpace(r.Secret("bearer_token")),
		CAFile:             r.Raw("ca_file"),
		ClientCertFile:     r.Raw("client_cert_file"),
		ClientKeyFile:      r.Raw("client_key_file"),
		InsecureSkipVerify: !r.Bool("verify_certificate", true),
		Gzip:               r.Enum("compress", "gzip", "gzip", "none", "off") == "gzip",
		Timeout:            r.Timeout("timeout", DefaultTimeout),
	}
	// A user is half a credential, and one holding ':' or a line break is
	// likely a whole one ("user:password" pasted into one key): its value
	// is never echoed, and is kept out of every log line.
	r.CheckHeader("http_user", c.User, true)
	if strings.Contains(c.User, ":") {
		scrub.Register(c.User)
		scrub.Register(c.User[strings.IndexByte(c.User, ':')+1:])
		r.Errorf("http_user", errors.New("must not hold ':' (RFC 7617: basic auth joins user and password with it; "+
			"put the password in http_passwd)"))
	}
	r.CheckHeader("http_passwd", c.Password, true)
	r.CheckHeader("api_key", c.APIKey, true)
	r.CheckHeader("bearer_token", c.BearerToken, true)
	raw := r.String("url", defaultURL)
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		r.Errorf("url", fmt.Errorf("%q is not a URL: %s", scrub.URL(raw), scrub.ParseError(err)))
	case u.Scheme != "http" && u.Scheme != "https":
		r.Errorf("url", fmt.Errorf("%q: the scheme must be http or https", scrub.URL(raw)))
	case u.Host == "":
		r.Errorf("url", fmt.Errorf("%q has no host", scrub.URL(raw)))
	case u.Fragment != "":
		r.Errorf("url", fmt.Errorf("%q: a fragment is not allowed", scrub.URL(raw)))
	default:
		if u.User != nil { // credentials in the URL count as basic auth
			pw, _ := u.User.Password()
			scrub.Register(pw)
			if c.User == "" {
				c.User, c.Password = u.User.Username(), pw
			}
			u.User = nil
		}
		u.Path = strings.TrimRight(u.Path, "/")
		c.URL = u
	}
	auth := 0
	for _, set := range []bool{c.User != "", c.APIKey != "", c.BearerToken != ""} {
		if set {
			auth++
		}
	}
	if auth > 1 {
		r.Errorf("http_user", errors.New("set only one of http_user, api_key and bearer_token"))
	}
	if c.Password != "" && c.User == "" {
		r.Errorf("http_passwd", errors.New("http_passwd is set but http_user is not"))
	}
	if (c.ClientCertFile == "") != (c.ClientKeyFile == "") {
		r.Errorf("client_cert_file", errors.New("client_cert_file and client_key_file go together"))
	}
	return c
}

// Client posts request bodies to the downstream.
type Client struct {
	http     *http.Client
	base     *url.URL
	auth     string // Authorization header value, "" for none
	gzip     bool
	gzipPool sync.Pool
}

// New builds a client whose connections are reused across flushes and
// workers; a bad CA or key file fails here, at plugin start.
func New(c Config) (*Client, error) {
	if c.URL == nil {
		return nil, errors.New("no url")
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout // never wait for ever
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", c.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	if c.ClientCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.ClientCertFile, c.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("client_cert_file/client_key_file: %w", err)
		}
		tlsConf.Certificates = []tls.Certificate{cert}
	}
	dialer := &net.Dialer{Timeout: min(c.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	// Redirects are never followed: a 307/308 would resend the body, and
	// the Authorization header with it, wherever the server points (to
	// http:// on the same host: in clear), and a 2xx from there would count
	// as delivered. A 3xx comes back as an error naming the Location.
	noRedirects := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   min(c.Timeout, 10*time.Second),
		ResponseHeaderTimeout: c.Timeout,
		MaxIdleConnsPerHost:   16, // Fluent Bit's workers share these
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	cl := &Client{
		http: &http.Client{Transport: transport, Timeout: c.Timeout, CheckRedirect: noRedirects},
		base: c.URL,
		gzip: c.Gzip,
	}
	switch {
	case c.User != "":
		req := &http.Request{Header: http.Header{}}
		req.SetBasicAuth(c.User, c.Password)
		cl.auth = req.Header.Get("Authorization")
	case c.APIKey != "":
		cl.auth = "ApiKey " + c.APIKey
	case c.BearerToken != "":
		cl.auth = "Bearer " + c.BearerToken
	}
	return cl, nil
}

// URL is the base URL for log lines: no credentials, query values masked.
func (c *Client) URL() string { return scrub.URL(c.base.String()) }

// Response is a downstream's answer.
type Response struct {
	Status int
	Body   []byte // at most MaxAnswerBody bytes of it (none when streamed)
}

// MaxAnswerBody bounds what Post reads of an answer: enough for any error
// message a server writes, which is only ever logged (cut to 300 bytes) or
// searched for a marker near its start. Answers to be parsed are streamed
// (PostStream) with a bound of their own.
const MaxAnswerBody = 4 << 10

// ErrAnswerTooLarge is what a streamed answer's reader returns past its
// limit.
var ErrAnswerTooLarge = errors.New("answer larger than its limit")

// Post sends body to the base URL's path prefix + path. A transport failure
// (refused, reset, timeout) comes back as a *RetryableError, a redirect
// (3xx) as a permanent error naming its Location; any other HTTP answer
// comes back as a Response for the sink to judge (see Retryable).
func (c *Client) Post(ctx context.Context, path, contentType string, body []byte, header http.Header) (*Response, error) {
	return c.post(ctx, path, contentType, body, header, c.gzip, 0, nil)
}

// PostUncompressed is Post without the client's gzip, whatever `compress`
// says: for bodies whose format carries its own compression (Loki's
// snappy-framed protobuf), sent as given with no Content-Encoding.
func (c *Client) PostUncompressed(ctx context.Context, path, contentType string, body []byte, header http.Header) (*Response, error) {
	return c.post(ctx, path, contentType, body, header, false, 0, nil)
}

// PostStream is Post for an answer that is parsed rather than logged: when
// the status is 2xx, read gets the body as it streams and its error is
// returned as it is; reading past limit bytes fails with an error wrapping
// ErrAnswerTooLarge, and a transport failure midway reaches read as its
// Reader's error. read must not keep the Reader. Any other status is read
// as Post reads it.
func (c *Client) PostStream(ctx context.Context, path, contentType string, body []byte, header http.Header,
	limit int64, read func(io.Reader) error) (*Response, error) {
	return c.post(ctx, path, contentType, body, header, c.gzip, limit, read)
}

func (c *Client) post(ctx context.Context, path, contentType string, body []byte, header http.Header, gzip bool,
	limit int64, read func(io.Reader) error) (*Response, error) {
	var payload []byte
	encoding := ""
	if gzip {
		z := c.compress(body)
		defer c.gzipPool.Put(z)
		payload, encoding = z.buf.Bytes(), "gzip"
	} else {
		payload = body
	}
	u := *c.base
	u.Path += path
	bodies := bodyReaders{payload: payload}
	// Whatever happens, no reader may touch payload once Post returns: the
	// callers (and gzipPool) reuse it.
	defer bodies.detach()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), http.NoBody)
	if err != nil {
		return nil, err
	}
	if len(payload) > 0 {
		req.Body, req.ContentLength = bodies.open(), int64(len(payload))
		// GetBody lets the transport replay the body on a reused connection
		// found dead before anything was written.
		req.GetBody = func() (io.ReadCloser, error) { return bodies.open(), nil }
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "ctlive-fluent-bit")
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &RetryableError{Err: fmt.Errorf("POST %s: %w", redactErr(err, c), errTransport)}
	}
	defer resp.Body.Close()
	if st := resp.StatusCode; st >= 300 && st < 400 {
		return nil, sink.Permanent(fmt.Errorf("POST %s: HTTP %d redirect to %q, not followed: set url to the address the server should be reached at",
			scrub.URL(u.String()), st, scrub.Answer([]byte(scrub.URL(resp.Header.Get("Location"))), 200)))
	}
	if read != nil && resp.StatusCode/100 == 2 {
		return &Response{Status: resp.StatusCode}, read(&capped{r: resp.Body, left: limit, limit: limit})
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBody))
	if err != nil {
		return nil, &RetryableError{Err: fmt.Errorf("POST %s: reading the answer: %w", scrub.URL(u.String()), err)}
	}
	return &Response{Status: resp.StatusCode, Body: data}, nil
}

// capped reads at most left bytes of r, then fails with ErrAnswerTooLarge
// if r has more.
type capped struct {
	r           io.Reader
	left, limit int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		for {
			n, err := c.r.Read(one[:])
			if n > 0 {
				return 0, fmt.Errorf("%w (%d bytes)", ErrAnswerTooLarge, c.limit)
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// bodyReaders hands out readers over one request body and can cut them all
// off. net/http may still read a request body after Client.Do has returned
// (it writes the body on another goroutine, and a server may answer before
// reading it all, as a 413 does), so a pooled buffer must not be reused
// until every reader is detached.
type bodyReaders struct {
	mu      sync.Mutex
	payload []byte
	done    bool
	readers []*guardedReader
}

func (b *bodyReaders) open() io.ReadCloser {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &guardedReader{b: b.payload, detached: b.done}
	b.readers = append(b.readers, r)
	return r
}

func (b *bodyReaders) detach() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	for _, r := range b.readers {
		r.Close()
	}
}

var errDetached = errors.New("request body no longer available")

// guardedReader is a bytes reader whose Close makes every later Read fail
// without touching the bytes; the mutex orders a Read in progress before it.
type guardedReader struct {
	mu       sync.Mutex
	b        []byte
	off      int
	detached bool
}

func (r *guardedReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.detached {
		return 0, errDetached
	}
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *guardedReader) Close() error {
	r.mu.Lock()
	r.detached, r.b = true, nil
	r.mu.Unlock()
	return nil
}

// Close drops the idle keep-alive connections; the client stays usable.
func (c *Client) Close() { c.http.CloseIdleConnections() }

var errTransport = errors.New("downstream unreachable")

// redactErr keeps credentials out of error text (url.Error prints the URL).
func redactErr(err error, c *Client) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return c.URL() + ": " + ue.Err.Error()
	}
	return err.Error()
}

// gzipped is a compressed body and the writer that made it, pooled
// together: a deflate writer's state is hundreds of KB, too much to build
// per request.
type gzipped struct {
	buf bytes.Buffer
	zw  *gzip.Writer
}

func (c *Client) compress(body []byte) *gzipped {
	z, _ := c.gzipPool.Get().(*gzipped)
	if z == nil {
		z = new(gzipped)
		z.zw, _ = gzip.NewWriterLevel(&z.buf, gzip.BestSpeed) // CPU matters more than bytes on the agent
	}
	z.buf.Reset()
	z.zw.Reset(&z.buf)
	z.zw.Write(body)
	z.zw.Close()
	return z
}

// RetryableError is a failure that may pass: the flush returns FLB_RETRY.
type RetryableError struct{ Err error }

func (e *RetryableError) Error() string { return e.Err.Error() }
func (e *RetryableError) Unwrap() error { return e.Err }

// Retryable reports whether an HTTP status may succeed later: 408, 429 and
// 5xx except 501/505 (which never will). Every other 4xx is final.
func Retryable(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return true
	case status == http.StatusNotImplemented, status == http.StatusHTTPVersionNotSupported:
		return false
	default:
		return status >= 500
	}
}

// Snippet is the start of an answer body, for log lines: at most 300 bytes,
// one line, with anything that looks like a credential removed
// (scrub.Answer).
func Snippet(b []byte) string { return scrub.Answer(b, 300) }
