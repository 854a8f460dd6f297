// Package vlogs runs a real VictoriaLogs server for tests and queries it.
//
// VictoriaLogs accepts the Elasticsearch bulk API and the Loki push API, so
// sink tests can ship records to it and read them back with LogsQL. See
// NOTES.md in this directory for the verified behaviour of those APIs.
//
//	s := vlogs.Start(t)
//	// ... send to s.ElasticsearchURL()+"/_bulk" or s.LokiPushURL() ...
//	s.WaitCount(t, `contactID:="CHAT_AGM_1"`, 1, 10*time.Second)
//	rows := s.Query(t, `contactID:="CHAT_AGM_1"`)
package vlogs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	// Version is the VictoriaLogs release this helper and NOTES.md were verified against.
	Version = "v1.52.1"

	// EnvBinary names the environment variable holding the path of the victoria-logs binary.
	EnvBinary = "VICTORIA_LOGS_BIN"

	// InstallCommand installs the binary where Start looks for it (takes about 2 minutes cold).
	InstallCommand = "go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@" + Version

	binaryName = "victoria-logs"
)

// Bounds for process management; every wait in this package is bounded.
const (
	defaultStartTimeout = 30 * time.Second
	stopTimeout         = 15 * time.Second // SIGTERM grace before SIGKILL
	killWait            = 5 * time.Second
	readyPollInterval   = 20 * time.Millisecond
	startAttempts       = 3 // the free port we picked can be taken before the server binds it
)

// defaultFlags make the server suitable for tests. Later flags win, so
// WithFlags can override any of them.
var defaultFlags = []string{
	// The test corpus is from 2025-02-27; the default 7d retention would
	// drop it silently (200 OK, row never stored). 100y accepts anything after 1926.
	"-retentionPeriod=100y",
	// Same silent drop applies to timestamps more than 2d in the future.
	"-futureRetention=100y",
	// Keep Stop/Restart fast even if a client holds a connection open.
	"-http.maxGracefulShutdownDuration=2s",
	// Nothing else needs turning off: by default the only listener is
	// -httpListenAddr, -pushmetrics.url is empty and nothing phones home.
	// (Passing an empty -pushmetrics.url= is fatal, so the defaults stay implicit.)
}

// Tenant selects a VictoriaLogs tenant via the AccountID/ProjectID headers.
// The zero value is the default tenant (0:0).
type Tenant struct {
	AccountID uint32
	ProjectID uint32
}

func (tn Tenant) String() string { return fmt.Sprintf("%d:%d", tn.AccountID, tn.ProjectID) }

// SetHeaders puts tn on an ingestion or query request.
func (tn Tenant) SetHeaders(h http.Header) {
	h.Set("AccountID", strconv.FormatUint(uint64(tn.AccountID), 10))
	h.Set("ProjectID", strconv.FormatUint(uint64(tn.ProjectID), 10))
}

type config struct {
	flags        []string
	startTimeout time.Duration
}

// Option configures Start.
type Option func(*config)

// WithFlags appends command-line flags; they override the defaults
// (e.g. WithFlags("-retentionPeriod=7d") to reproduce production retention).
func WithFlags(flags ...string) Option {
	return func(c *config) { c.flags = append(c.flags, flags...) }
}

// WithStartTimeout bounds how long Start and Restart wait for readiness (default 30s).
func WithStartTimeout(d time.Duration) Option {
	return func(c *config) { c.startTimeout = d }
}

// Server is a running (or deliberately stopped) victoria-logs process.
// Methods without a testing.TB argument report failures to the TB given to
// Start, so call them from that test's goroutine.
type Server struct {
	t            testing.TB
	bin          string
	addr         string // 127.0.0.1:port, kept across Restart
	dataDir      string
	logPath      string
	extraFlags   []string
	startTimeout time.Duration

	mu   sync.Mutex // serialises start/stop; held during the bounded waits
	proc *process

	logShown atomic.Bool // a failure message already carried the log tail
}

type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed after Wait returns
	err    error         // Wait result, valid once exited is closed
}

// Start launches victoria-logs on 127.0.0.1:<free port> with its data in
// t.TempDir() and stops it in t.Cleanup. Without a binary it skips the test,
// or fails it when the CI environment variable is non-empty; with a binary
// it skips under -short.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{startTimeout: defaultStartTimeout}
	for _, o := range opts {
		o(&cfg)
	}

	bin, err := findBinary(os.Getenv, exec.LookPath, goPath)
	switch {
	case errors.Is(err, errExplicitBinary):
		t.Fatalf("vlogs: %v", err) // a wrong explicit path is a setup bug, never a skip
	case err != nil && os.Getenv("CI") != "":
		t.Fatalf("vlogs: %v\nCI is set, so this fails instead of skipping: a missing downstream must not pass silently", err)
	case err != nil:
		t.Skipf("vlogs: %v", err)
	case testing.Short():
		// After the lookup, so that a broken setup still says so.
		t.Skip("vlogs: -short starts no VictoriaLogs (make test does)")
	}

	root := t.TempDir()
	s := &Server{
		t:            t,
		bin:          bin,
		dataDir:      filepath.Join(root, "data"),
		logPath:      filepath.Join(root, "victoria-logs.log"),
		extraFlags:   cfg.flags,
		startTimeout: cfg.startTimeout,
	}
	// Registered after TempDir, so it runs before the directory is removed.
	t.Cleanup(s.cleanup)

	for attempt := 1; ; attempt++ {
		s.addr = freeLoopbackAddr(t)
		err := s.start()
		if err == nil {
			break
		}
		if errors.Is(err, errAddrInUse) && attempt < startAttempts {
			continue
		}
		t.Fatalf("vlogs: start %s: %v\n%s", bin, err, s.logTail())
	}
	t.Logf("vlogs: %s listening on %s (data %s, log %s)", bin, s.URL(), s.dataDir, s.logPath)
	return s
}

// URL is the server's base URL, e.g. http://127.0.0.1:40123. It survives Restart.
func (s *Server) URL() string { return "http://" + s.addr }

// ElasticsearchURL is the base an Elasticsearch client should use; bulk is at +"/_bulk".
func (s *Server) ElasticsearchURL() string { return s.URL() + "/insert/elasticsearch" }

// LokiPushURL is the full Loki push endpoint (JSON or protobuf).
func (s *Server) LokiPushURL() string { return s.URL() + "/insert/loki/api/v1/push" }

// DataDir is the -storageDataPath; it survives Restart.
func (s *Server) DataDir() string { return s.dataDir }

// Log returns everything the server has logged so far, across restarts.
func (s *Server) Log() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", s.logPath, err)
	}
	return string(b)
}

// Stop shuts the server down gracefully (SIGTERM, so buffered rows are
// persisted); afterwards connections to URL are refused. Stopping a stopped
// server is a no-op.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(syscall.SIGTERM, stopTimeout); err != nil {
		s.t.Fatalf("vlogs: stop: %v\n%s", err, s.logTail())
	}
}

// Kill simulates a crash (SIGKILL). Rows not yet persisted are lost: up to
// -inmemoryDataFlushInterval (5s) worth, even if they were already queryable.
func (s *Server) Kill() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(syscall.SIGKILL, killWait); err != nil {
		s.t.Fatalf("vlogs: kill: %v\n%s", err, s.logTail())
	}
}

// Restart stops the server if it runs and starts it again on the same port
// and data directory, waiting until it is ready.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopLocked(syscall.SIGTERM, stopTimeout); err != nil {
		s.t.Fatalf("vlogs: restart: stop: %v\n%s", err, s.logTail())
	}
	if err := s.startLocked(); err != nil {
		s.t.Fatalf("vlogs: restart on %s: %v\n%s", s.addr, err, s.logTail())
	}
}

func (s *Server) args() []string {
	a := []string{
		"-httpListenAddr=" + s.addr,
		"-storageDataPath=" + s.dataDir,
	}
	a = append(a, defaultFlags...)
	return append(a, s.extraFlags...)
}

var errAddrInUse = errors.New("address already in use")

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startLocked()
}

func (s *Server) startLocked() error {
	if s.proc != nil {
		return errors.New("already running")
	}
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child keeps its own descriptor
	fmt.Fprintf(logFile, "=== vlogs: starting %s %s\n", s.bin, strings.Join(s.args(), " "))

	cmd := exec.Command(s.bin, s.args()...)
	cmd.Stdout = logFile // an *os.File is inherited directly: no copy goroutine for Wait to block on
	cmd.Stderr = logFile
	// Timestamps without a zone are parsed in the server's local zone; pin it.
	cmd.Env = append(os.Environ(), "TZ=UTC")
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	s.proc = p

	if err := s.waitReady(p); err != nil {
		_ = s.stopLocked(syscall.SIGKILL, killWait)
		return err
	}
	return nil
}

func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(s.startTimeout)
	healthURL := s.URL() + "/health"
	for {
		select {
		case <-p.exited:
			if strings.Contains(s.Log(), "address already in use") {
				return fmt.Errorf("%s: %w", s.addr, errAddrInUse)
			}
			return fmt.Errorf("exited before becoming ready: %v", p.err)
		default:
		}
		if resp, err := readyClient.Get(healthURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready at %s within %v", healthURL, s.startTimeout)
		}
		time.Sleep(readyPollInterval)
	}
}

// stopLocked signals the process and waits up to timeout, then SIGKILLs it.
func (s *Server) stopLocked(sig syscall.Signal, timeout time.Duration) error {
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	select {
	case <-p.exited:
		return fmt.Errorf("process had already exited unexpectedly: %v", p.err)
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return nil
	case <-time.After(timeout):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
		return fmt.Errorf("did not exit within %v of %v; killed", timeout, sig)
	case <-time.After(killWait):
		return fmt.Errorf("pid %d survived SIGKILL for %v", p.cmd.Process.Pid, killWait)
	}
}

func (s *Server) cleanup() {
	s.mu.Lock()
	err := s.stopLocked(syscall.SIGTERM, stopTimeout)
	s.mu.Unlock()
	if err != nil {
		s.t.Errorf("vlogs: cleanup: %v", err)
	}
	if s.t.Failed() && !s.logShown.Load() {
		s.t.Logf("vlogs: server log %s:\n%s", s.logPath, s.logTail())
	}
}

// logTail keeps failure messages readable: the end of the log, plus earlier
// warnings (e.g. rows dropped for their timestamp), minus the noise of our
// own force-flush polling and the source-path column.
func (s *Server) logTail() string {
	s.logShown.Store(true)
	const maxTail, maxWarn = 30, 20
	var lines, warns []string
	for _, l := range strings.Split(strings.TrimRight(s.Log(), "\n"), "\n") {
		if strings.Contains(l, "flushing storage to make pending data available") {
			continue
		}
		// time, level, source path, message: the path only adds width.
		if f := strings.SplitN(l, "\t", 4); len(f) == 4 {
			l = f[0] + " " + f[1] + " " + f[3]
		}
		lines = append(lines, l)
	}
	if len(lines) > maxTail {
		for _, l := range lines[:len(lines)-maxTail] {
			if strings.Contains(l, " warn ") || strings.Contains(l, " error ") {
				warns = append(warns, l)
			}
		}
		lines = lines[len(lines)-maxTail:]
	}
	if len(warns) > maxWarn {
		warns = warns[len(warns)-maxWarn:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- victoria-logs log (full: %s) ---\n", s.logPath)
	if len(warns) > 0 {
		b.WriteString("earlier warnings:\n" + strings.Join(warns, "\n") + "\nlast lines:\n")
	}
	b.WriteString(strings.Join(lines, "\n"))
	return b.String()
}

// readyClient never reuses connections: the server behind an address comes and goes.
var readyClient = &http.Client{
	Timeout:   time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("vlogs: pick a free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

var errExplicitBinary = errors.New(EnvBinary + " is set but does not name an executable file")

// findBinary looks in $VICTORIA_LOGS_BIN, then PATH, then each GOPATH entry's bin.
func findBinary(getenv func(string) string, lookPath func(string) (string, error), gopath func() string) (string, error) {
	if p := getenv(EnvBinary); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("%w: %q", errExplicitBinary, p)
	}
	if p, err := lookPath(binaryName); err == nil {
		return p, nil
	}
	checked := []string{"$" + EnvBinary, "PATH"}
	for _, dir := range filepath.SplitList(gopath()) {
		p := filepath.Join(dir, "bin", binaryName)
		if isExecutable(p) {
			return p, nil
		}
		checked = append(checked, p)
	}
	// One line: make test's summary lists a skip by its reason.
	return "", fmt.Errorf("%s not found (checked %s): make test installs it into build/tools; or %s and set %s",
		binaryName, strings.Join(checked, ", "), InstallCommand, EnvBinary)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// goPath asks the go command (it knows `go env -w` settings), falling back
// to $GOPATH and then the documented default $HOME/go.
func goPath() string {
	if goBin, err := exec.LookPath("go"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, goBin, "env", "GOPATH").Output()
		cancel()
		if gp := strings.TrimSpace(string(out)); err == nil && gp != "" {
			return gp
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		return gp
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go")
	}
	return ""
}
