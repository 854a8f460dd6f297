// Package flbhost loads a Fluent Bit Go output plugin (.so) and drives it
// the way Fluent Bit does, so tests can exercise the real library where
// Fluent Bit is not installed.
//
// The work is done by host.c, a small C program that mirrors Fluent Bit's
// Go proxy (see the comment at its top for the protocol and the Fluent Bit
// functions it follows). This package builds it and the plugin, runs it as
// a child process, and offers typed calls plus chunk encoders.
//
//	host, _ := flbhost.BuildHost(dir)
//	so, _ := flbhost.BuildPlugin(dir, flbhost.PluginBuild{Package: "./plugin"})
//	h := flbhost.Start(t, host, so, flbhost.Options{})
//	in := h.New("match", "*", "format", "json")
//	if in.Init() <= 0 {
//		t.Fatal("init failed")
//	}
//	chunk := flbhost.Entry(time.Unix(1700000000, 0), map[string]any{"log": "hi"})
//	if ret := in.Flush("app.log", chunk); ret != flbhost.FLBOK {
//		t.Fatalf("flush = %d", ret)
//	}
//	in.Exit()
//	h.Close()
//	_ = h.Stdout() // what the plugin printed
package flbhost

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Flush return codes (fluent-bit-go output/flb_plugin.h).
const (
	FLBError = 0
	FLBOK    = 1
	FLBRetry = 2
)

// DefaultTimeout bounds each call when Options.Timeout is zero.
const DefaultTimeout = 20 * time.Second

// Options tune a host process.
type Options struct {
	// Timeout bounds every call; a call that takes longer kills the host
	// and fails the test. Zero means DefaultTimeout.
	Timeout time.Duration
	// Env is added to the host's environment, e.g. for ${VAR} in property
	// values.
	Env []string
	// FlushStack is the size of the stack flushes run on. Zero keeps
	// Fluent Bit's coroutine size (64 KiB); negative runs flushes on the
	// calling thread's own stack.
	FlushStack int
	// Layout is the size of the proxy def the host hands FLBPluginRegister:
	// LayoutConfigMap (the default) or LayoutOld.
	Layout Layout
}

// Layout is a size of struct flb_plugin_proxy_def.
type Layout int

const (
	// LayoutConfigMap is Fluent Bit 5.1.1's 48-byte def, whose config_map
	// member the host uses: it checks property names before init, stores
	// FLB_CONFIG_MAP_DYNAMIC_ENV values raw and prints the map with Help.
	LayoutConfigMap Layout = 48
	// LayoutOld is the 40-byte def of earlier releases, placed against an
	// inaccessible page: a plugin writing config_map there dies of SIGSEGV.
	LayoutOld Layout = 40
)

func (l Layout) args() []string {
	if l == 0 {
		return nil
	}
	return []string{"-L", strconv.Itoa(int(l))}
}

// Help runs the host in help mode: what `fluent-bit -e PLUGIN -o NAME -h`
// prints as the plugin's OPTIONS, nothing when the plugin registered no
// config map. env is added to the environment.
func Help(hostPath, pluginPath string, layout Layout, env ...string) (string, error) {
	plugin, err := filepath.Abs(pluginPath)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, hostPath, append([]string{"-p", plugin, "-H"}, layout.args()...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("flbhost -H: %w\n%s", err, stderr.String())
	}
	return string(out), nil
}

// Host is one running host process with one loaded plugin. Its methods
// must be called from the test's goroutine.
type Host struct {
	tb         testing.TB
	opts       Options
	dir        string
	name       string
	cmd        *exec.Cmd
	stdin      *os.File
	replies    chan string
	stop       chan struct{}
	exited     chan struct{}
	stdoutPath string
	stderrPath string

	mu        sync.Mutex
	broken    error // set once the host died or hung; every later call fails with it
	closed    bool
	instances int
	files     int
}

// ReplyError is the host refusing a command, as Fluent Bit would refuse
// it (for example a property value it rejects). The host is still usable.
type ReplyError struct {
	Command string
	Message string
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("flbhost: %s: %s", e.Command, e.Message)
}

// Start runs the host program at hostPath with the plugin at pluginPath,
// waits for the plugin to register, and arranges for the process to be
// killed when the test ends.
func Start(tb testing.TB, hostPath, pluginPath string, opts Options) *Host {
	tb.Helper()
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	// dlopen searches the library path for names without a slash.
	plugin, err := filepath.Abs(pluginPath)
	if err != nil {
		tb.Fatal(err)
	}
	h := &Host{
		tb:      tb,
		opts:    opts,
		dir:     tb.TempDir(),
		replies: make(chan string, 4),
		stop:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	h.stdoutPath = filepath.Join(h.dir, "stdout")
	h.stderrPath = filepath.Join(h.dir, "stderr")

	// Files rather than pipes: once the plugin's write(2) has returned the
	// text is readable, so output printed during a call is there when the
	// call's reply arrives.
	stdout, err := os.Create(h.stdoutPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(h.stderrPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer stderr.Close()
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	defer stdinR.Close()
	resultR, resultW, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	defer resultW.Close()

	args := append([]string{"-p", plugin, "-S", "-r", "3"}, opts.Layout.args()...)
	switch {
	case opts.FlushStack < 0:
		args = append(args, "-s", "0")
	case opts.FlushStack > 0:
		args = append(args, "-s", strconv.Itoa(opts.FlushStack))
	}
	h.cmd = exec.Command(hostPath, args...)
	h.cmd.Env = append(os.Environ(), opts.Env...)
	h.cmd.Stdin = stdinR
	h.cmd.Stdout = stdout
	h.cmd.Stderr = stderr
	h.cmd.ExtraFiles = []*os.File{resultW} // fd 3
	if err := h.cmd.Start(); err != nil {
		resultR.Close()
		stdinW.Close()
		tb.Fatalf("flbhost: starting %s: %v", hostPath, err)
	}
	h.stdin = stdinW
	go h.readReplies(resultR)
	go func() {
		h.cmd.Wait()
		close(h.exited)
	}()
	tb.Cleanup(h.cleanup)

	fields, err := h.await("start")
	var refused *ReplyError
	if errors.As(err, &refused) {
		err = h.failure("start", "%s", refused.Message)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if len(fields) != 2 || fields[0] != "ready" {
		tb.Fatal(h.failure("start", "unexpected greeting %q", fields))
	}
	if h.name, err = unescape(fields[1]); err != nil {
		tb.Fatal(h.failure("start", "%v", err))
	}
	return h
}

// PluginName is the name the plugin registered with.
func (h *Host) PluginName() string { return h.name }

// Stdout is everything the plugin (and the Go runtime in it) has printed
// on stdout so far.
func (h *Host) Stdout() string { return readAll(h.stdoutPath) }

// Stderr is everything printed on stderr so far, the host's own
// "[flbhost]" notes included.
func (h *Host) Stderr() string { return readAll(h.stderrPath) }

// New creates an instance and sets properties given as key, value pairs,
// in order, as a [OUTPUT] section would. A property Fluent Bit refuses
// fails the test; use Set to test refusals.
func (h *Host) New(keyValues ...string) *Instance {
	h.tb.Helper()
	if len(keyValues)%2 != 0 {
		h.tb.Fatalf("flbhost: New wants key, value pairs; got %d strings", len(keyValues))
	}
	in := &Instance{h: h, name: fmt.Sprintf("%s.%d", h.name, h.instances)}
	h.instances++
	h.must(h.call("new " + escape(in.name)))
	for i := 0; i < len(keyValues); i += 2 {
		if err := in.Set(keyValues[i], keyValues[i+1]); err != nil {
			h.tb.Fatal(err)
		}
	}
	return in
}

// NewMap is New with the properties set in key order.
func (h *Host) NewMap(props map[string]string) *Instance {
	h.tb.Helper()
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	kv := make([]string, 0, 2*len(props))
	for _, k := range keys {
		kv = append(kv, k, props[k])
	}
	return h.New(kv...)
}

// Close asks the host to shut down the way Fluent Bit does (exit every
// initialised instance in creation order, unregister, unload) and returns
// its exit status the way a shell reports it: 0 normally, 128+N after
// signal N. A Go panic inside a c-shared library aborts (134, SIGABRT); a
// host killed after a timeout gives 137. Closing twice returns the same
// status.
func (h *Host) Close() int {
	h.tb.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.broken != nil {
		h.kill() // already dead, or hung and not worth waiting for
	} else if !h.closed {
		if _, err := h.callLocked("quit"); err != nil {
			h.tb.Fatal(err)
		}
	}
	h.closed = true
	h.stdin.Close()
	select {
	case <-h.exited:
	case <-time.After(h.opts.Timeout):
		h.kill()
		h.tb.Fatal(h.failure("quit", "host did not exit within %v; killed", h.opts.Timeout))
	}
	return exitStatus(h.cmd.ProcessState)
}

func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// Instance is one output instance of the loaded plugin.
type Instance struct {
	h    *Host
	name string
}

// Name is the instance's name, "<plugin>.<n>" as Fluent Bit names them.
func (in *Instance) Name() string { return in.name }

// Set sets a property with Fluent Bit's semantics: ${VAR} is replaced from
// the environment, an empty result reads as unset, core keys (match,
// alias, workers, tls.*, ...) are kept from the plugin. It returns a
// *ReplyError when Fluent Bit would refuse the value.
func (in *Instance) Set(key, value string) error {
	in.h.tb.Helper()
	cmd := "set " + escape(in.name) + " " + escape(key)
	if value != "" {
		cmd += " " + escape(value)
	}
	_, err := in.h.call(cmd)
	var refused *ReplyError
	if errors.As(err, &refused) {
		return err
	}
	in.h.must(nil, err)
	return nil
}

// Property is what the plugin gets for key from FLBPluginConfigKey;
// ok is false when Fluent Bit hands it NULL.
func (in *Instance) Property(key string) (value string, ok bool) {
	in.h.tb.Helper()
	fields := in.h.must(in.h.call("get " + escape(in.name) + " " + escape(key)))
	switch {
	case len(fields) == 1 && fields[0] == "null":
		return "", false
	case len(fields) == 2 && fields[0] == "value":
		v, err := unescape(fields[1])
		in.h.must(nil, err)
		return v, true
	}
	in.h.tb.Fatalf("flbhost: get: unexpected reply %q", fields)
	return "", false
}

// Init calls FLBPluginInit (then FLBPluginOutputPreRun) and returns what
// FLBPluginInit returned; Fluent Bit treats <= 0 as failure.
func (in *Instance) Init() int {
	in.h.tb.Helper()
	return in.h.mustInts("init "+escape(in.name), 1)[0]
}

// Flush hands one chunk to the plugin and returns the flush result as
// Fluent Bit sees it (FLBError, FLBOK or FLBRetry).
func (in *Instance) Flush(tag string, chunk []byte) int {
	in.h.tb.Helper()
	ret, err := in.TryFlush(tag, chunk)
	in.h.must(nil, err)
	return ret
}

// TryFlush is Flush for tests that expect the host to die or hang: it
// returns the failure instead of failing the test.
func (in *Instance) TryFlush(tag string, chunk []byte) (int, error) {
	in.h.tb.Helper()
	rets, err := in.h.flush(in, tag, [][]byte{chunk}, 1)
	if err != nil {
		return 0, err
	}
	return rets[0], nil
}

// FlushConcurrent hands the chunks to the plugin from threads threads at
// once, all on this instance and its one context, as Fluent Bit's output
// workers do. It returns one result per chunk, in chunk order.
func (in *Instance) FlushConcurrent(tag string, chunks [][]byte, threads int) []int {
	in.h.tb.Helper()
	rets, err := in.h.flush(in, tag, chunks, threads)
	in.h.must(nil, err)
	return rets
}

// Exit calls FLBPluginOutputPreExit and FLBPluginExitCtx (or
// FLBPluginExit) and returns the latter's result; the instance is gone
// afterwards.
func (in *Instance) Exit() int {
	in.h.tb.Helper()
	return in.h.mustInts("exit "+escape(in.name), 1)[0]
}

func (h *Host) flush(in *Instance, tag string, chunks [][]byte, threads int) ([]int, error) {
	h.tb.Helper()
	if tag == "" || len(chunks) == 0 || threads < 1 {
		h.tb.Fatalf("flbhost: flush wants a tag, chunks and threads >= 1")
	}
	// Identical chunks share a file; the host copies each into a fresh
	// buffer per call anyway.
	byContent := map[[32]byte]string{}
	cmd := []string{"flush", escape(in.name), escape(tag)}
	for _, c := range chunks {
		sum := sha256.Sum256(c)
		path, ok := byContent[sum]
		if !ok {
			path = filepath.Join(h.dir, fmt.Sprintf("chunk-%d", h.files))
			h.files++
			if err := os.WriteFile(path, c, 0o600); err != nil {
				h.tb.Fatal(err)
			}
			defer os.Remove(path)
			byContent[sum] = path
		}
		cmd = append(cmd, escape(path))
	}
	cmd = append(cmd, "threads", strconv.Itoa(threads))
	fields, err := h.call(strings.Join(cmd, " "))
	if err != nil {
		return nil, err
	}
	return h.ints(cmd[0], fields, len(chunks))
}

func (h *Host) mustInts(cmd string, n int) []int {
	h.tb.Helper()
	rets, err := h.ints(cmd, h.must(h.call(cmd)), n)
	h.must(nil, err)
	return rets
}

func (h *Host) ints(cmd string, fields []string, n int) ([]int, error) {
	if len(fields) != n {
		return nil, h.failure(cmd, "want %d results, got %q", n, fields)
	}
	rets := make([]int, n)
	for i, f := range fields {
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, h.failure(cmd, "bad result %q", f)
		}
		rets[i] = v
	}
	return rets, nil
}

func (h *Host) must(fields []string, err error) []string {
	h.tb.Helper()
	if err != nil {
		h.tb.Fatal(err)
	}
	return fields
}

func (h *Host) call(cmd string) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.callLocked(cmd)
}

func (h *Host) callLocked(cmd string) ([]string, error) {
	if h.broken != nil {
		return nil, h.broken
	}
	if h.closed {
		return nil, fmt.Errorf("flbhost: %s: host already closed", verb(cmd))
	}
	if _, err := h.stdin.WriteString(cmd + "\n"); err != nil {
		return nil, h.failure(cmd, "sending the command: %v", err)
	}
	return h.await(cmd)
}

// await takes the reply to cmd, or reports why there is none.
func (h *Host) await(cmd string) ([]string, error) {
	timer := time.NewTimer(h.opts.Timeout)
	defer timer.Stop()
	select {
	case line, ok := <-h.replies:
		if !ok {
			select {
			case <-h.exited:
			case <-time.After(5 * time.Second):
				h.kill()
			}
			return nil, h.failure(cmd, "host died: %v", h.cmd.ProcessState)
		}
		if rest, ok := strings.CutPrefix(line, "err "); ok {
			return nil, &ReplyError{Command: verb(cmd), Message: rest}
		}
		if line == "ok" {
			return nil, nil
		}
		if rest, ok := strings.CutPrefix(line, "ok "); ok {
			return strings.Split(rest, " "), nil
		}
		return nil, h.failure(cmd, "unreadable reply %q", line)
	case <-timer.C:
		h.kill()
		return nil, h.failure(cmd, "no reply within %v; host killed", h.opts.Timeout)
	}
}

// failure records that the host can no longer be trusted and describes
// why, with what it printed.
func (h *Host) failure(cmd, format string, args ...any) error {
	err := fmt.Errorf("flbhost: %s: %s\n--- host stderr (tail) ---\n%s\n--- host stdout (tail) ---\n%s",
		verb(cmd), fmt.Sprintf(format, args...), tail(h.Stderr(), 4096), tail(h.Stdout(), 2048))
	h.broken = err
	return err
}

func (h *Host) readReplies(r *os.File) {
	defer close(h.replies)
	defer r.Close()
	lines := bufio.NewReader(r)
	for {
		line, err := lines.ReadString('\n')
		if err != nil {
			return
		}
		select {
		case h.replies <- strings.TrimSuffix(line, "\n"):
		case <-h.stop:
			return
		}
	}
}

func (h *Host) kill() {
	select {
	case <-h.exited:
	default:
		h.cmd.Process.Kill()
		<-h.exited
	}
}

func (h *Host) cleanup() {
	close(h.stop)
	select {
	case <-h.exited:
	default:
		h.kill()
	}
	h.stdin.Close()
}

func verb(cmd string) string {
	v, _, _ := strings.Cut(cmd, " ")
	return v
}

func readAll(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// escape makes s one protocol token: host.c percent-decodes every token.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			panic("flbhost: NUL cannot cross into C strings")
		case c == '%' || c <= ' ' || c == 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("flbhost: bad escape in %q", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("flbhost: bad escape in %q", s)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}
