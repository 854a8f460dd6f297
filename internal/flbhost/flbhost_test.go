package flbhost

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Built once for the whole package by TestMain.
var hostBin, pluginSO string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "flbhost-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if hostBin, err = BuildHost(dir); err == nil {
		pluginSO, err = buildTestPlugin(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// buildTestPlugin builds testdata/ctlivetest. fluent-bit-go/output needs
// github.com/ugorji/go/codec, whose go.sum lines the module may lack; then
// the build runs against a scratch copy of go.mod/go.sum that has them.
func buildTestPlugin(dir string) (string, error) {
	b := PluginBuild{Package: "./internal/flbhost/testdata/ctlivetest"}
	so, err := BuildPlugin(dir, b)
	if err == nil || !strings.Contains(err.Error(), "missing go.sum entry") {
		return so, err
	}
	return buildTestPluginWith(dir, b)
}

func buildTestPluginWith(dir string, b PluginBuild) (string, error) {
	return BuildPlugin(dir, b)
}

func start(t *testing.T, opts Options) *Host {
	t.Helper()
	return Start(t, hostBin, pluginSO, opts)
}

// linesWith returns the plugin's stdout lines that start with prefix.
func linesWith(out, prefix string) []string {
	var found []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			found = append(found, line)
		}
	}
	return found
}

func oneRecord(t time.Time, log string) []byte {
	return Entry(t, map[string]any{"log": log})
}

var t0 = time.Unix(1700000000, 123456789)

func TestStartReportsRegisteredNameAfterPreRegister(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	if got := h.PluginName(); got != "ctlive-test" {
		t.Errorf("PluginName() = %q, want ctlive-test", got)
	}
	if got := linesWith(h.Stdout(), "pre"); len(got) == 0 || got[0] != "preregister hot_reloading=0" {
		t.Errorf("first pre* line = %q, want preregister hot_reloading=0", got)
	}
	if !strings.Contains(h.Stdout(), "preregister hot_reloading=0\nregister\n") {
		t.Errorf("want preregister then register, stdout:\n%s", h.Stdout())
	}
}

func TestEachInstanceInitsWithItsOwnProperties(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	a := h.New("id", "alpha", "flush_return", "1")
	b := h.New("id", "beta", "flush_return", "2")
	if ret := a.Init(); ret != FLBOK {
		t.Fatalf("a.Init() = %d", ret)
	}
	if ret := b.Init(); ret != FLBOK {
		t.Fatalf("b.Init() = %d", ret)
	}

	if got := a.Flush("app.a", oneRecord(t0, "x")); got != FLBOK {
		t.Errorf("a.Flush = %d, want %d", got, FLBOK)
	}
	if got := b.Flush("app.b", oneRecord(t0, "y")); got != FLBRetry {
		t.Errorf("b.Flush = %d, want %d", got, FLBRetry)
	}

	want := []string{
		"flush id=alpha tag=app.a records=1 ret=1",
		"flush id=beta tag=app.b records=1 ret=2",
	}
	if got := linesWith(h.Stdout(), "flush id="); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("flush lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Fluent Bit hands every instance the same flbgo_output_plugin and only
// repoints o_ins at init, so a plugin pointer kept past init reads the
// most recently initialised instance's properties.
func TestConfigReadAfterInitSeesLastInitialisedInstance(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	a := h.New("id", "alpha", "show_in_flush", "id")
	b := h.New("id", "beta")
	a.Init()
	b.Init()
	a.Flush("t", oneRecord(t0, "x"))
	want := `flushprop id=alpha key=id value="beta"`
	if got := linesWith(h.Stdout(), "flushprop"); len(got) != 1 || got[0] != want {
		t.Errorf("flushprop lines = %q, want [%s]", got, want)
	}
}

func TestPropertiesFollowFluentBitSemantics(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Env: []string{"FLBHOST_GREETING=hello", "FLBHOST_EMPTY="}})
	// ${HOSTNAME} is gethostname() only when HOSTNAME is absent; an empty
	// one counts as unset.
	hostname, hostnameOK := os.LookupEnv("HOSTNAME")
	if !hostnameOK {
		hostname, _ = os.Hostname()
	}
	hostnameOK = hostname != ""

	tests := []struct {
		name   string
		set    [][2]string
		key    string
		want   string
		wantOK bool
	}{
		{"set value is returned", [][2]string{{"format", "json"}}, "format", "json", true},
		{"lookup ignores case", [][2]string{{"Format", "json"}}, "FORMAT", "json", true},
		{"unset key is null", nil, "format", "", false},
		{"empty value is null", [][2]string{{"format", ""}}, "format", "", false},
		{"spaces are kept", [][2]string{{"format", "  a b  "}}, "format", "  a b  ", true},
		{"first of repeated keys wins", [][2]string{{"k", "1"}, {"K", "2"}}, "k", "1", true},
		{"empty first value shadows a later one", [][2]string{{"k", ""}, {"k", "2"}}, "k", "", false},
		{"match is core", [][2]string{{"Match", "*"}}, "match", "", false},
		{"alias is core", [][2]string{{"alias", "x"}}, "alias", "", false},
		{"workers is core", [][2]string{{"workers", "4"}}, "workers", "", false},
		{"retry_limit is core", [][2]string{{"Retry_Limit", "3"}}, "retry_limit", "", false},
		{"host is core", [][2]string{{"host", "example.com"}}, "host", "", false},
		{"net.* is core", [][2]string{{"net.keepalive", "on"}}, "net.keepalive", "", false},
		{"oauth2* is core", [][2]string{{"oauth2.enable", "on"}}, "oauth2.enable", "", false},
		{"tls.* is core", [][2]string{{"tls.verify", "off"}}, "tls.verify", "", false},
		{"storage.total_limit_size is core", [][2]string{{"storage.total_limit_size", "1M"}}, "storage.total_limit_size", "", false},
		{"tls.windows.* reaches plugins on Linux", [][2]string{{"tls.windows.certstore_name", "My"}}, "tls.windows.certstore_name", "My", true},
		{"unlisted storage.* reaches the plugin", [][2]string{{"storage.type", "filesystem"}}, "storage.type", "filesystem", true},
		{"env variable is replaced", [][2]string{{"greeting", "${FLBHOST_GREETING} world"}}, "greeting", "hello world", true},
		{"undefined env variable is empty", [][2]string{{"greeting", "[${FLBHOST_UNDEFINED}]"}}, "greeting", "[]", true},
		{"only an undefined variable is null", [][2]string{{"greeting", "${FLBHOST_UNDEFINED}"}}, "greeting", "", false},
		{"empty env variable counts as unset", [][2]string{{"greeting", "${FLBHOST_EMPTY:-fallback}"}}, "greeting", "fallback", true},
		{"default applies to undefined", [][2]string{{"greeting", "${FLBHOST_UNDEFINED:-x}y"}}, "greeting", "xy", true},
		{"unterminated reference is literal", [][2]string{{"greeting", "a${B"}}, "greeting", "a${B", true},
		{"a brace before the reference stops translation", [][2]string{{"greeting", "x}${FLBHOST_GREETING}"}}, "greeting", "x}${FLBHOST_GREETING}", true},
		{"HOSTNAME falls back to gethostname", [][2]string{{"h", "${HOSTNAME}"}}, "h", hostname, hostnameOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := h.New()
			for _, kv := range tc.set {
				if err := in.Set(kv[0], kv[1]); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := in.Property(tc.key)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("Property(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// The same semantics seen from inside the plugin, through the real
// api->output_get_property call that fluent-bit-go makes.
func TestPluginSeesNullForUnsetEmptyAndCoreKeys(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	in := h.New("id", "p", "show", "ID,match,blank,missing", "Match", "*", "blank", "")
	in.Init()
	want := []string{
		`prop id=p key=ID value="p"`,
		`prop id=p key=match value=<null>`,
		`prop id=p key=blank value=<null>`,
		`prop id=p key=missing value=<null>`,
	}
	if got := linesWith(h.Stdout(), "prop "); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("prop lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSetRefusesWhatFluentBitRefuses(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	tests := []struct {
		key, value string
		refused    bool
	}{
		{"tls", "on", true}, // Go plugins register without FLB_IO_TLS
		{"tls", "off", false},
		{"log_level", "chatty", true},
		{"log_level", "Debug", false},
		{"log_level", "", false}, // empty is not parsed at all
		{"anything", "goes", false},
	}
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			err := h.New().Set(tc.key, tc.value)
			var refused *ReplyError
			if got := errors.As(err, &refused); got != tc.refused {
				t.Errorf("Set(%q, %q) = %v; refused %v, want %v", tc.key, tc.value, err, got, tc.refused)
			}
		})
	}
}

func TestInitReturnDecidesSuccess(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	tests := []struct {
		initReturn string
		want       int
		exitable   bool
	}{
		{"1", 1, true},
		{"5", 5, true},
		{"0", 0, false},
		{"-1", -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.initReturn, func(t *testing.T) {
			in := h.New("init_return", tc.initReturn)
			if got := in.Init(); got != tc.want {
				t.Fatalf("Init() = %d, want %d", got, tc.want)
			}
			// A failed instance is destroyed by Fluent Bit without exit.
			_, err := h.call("exit " + escape(in.Name()))
			if (err == nil) != tc.exitable {
				t.Errorf("exit after init %s: err = %v, want exitable %v", tc.initReturn, err, tc.exitable)
			}
		})
	}
}

func TestFlushResultIsMappedLikeProxyCbFlush(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	tests := []struct {
		pluginReturns string
		want          int
	}{
		{"0", FLBError},
		{"1", FLBOK},
		{"2", FLBRetry},
		{"3", FLBError},
		{"-1", FLBError},
		{"42", FLBError},
	}
	for _, tc := range tests {
		t.Run(tc.pluginReturns, func(t *testing.T) {
			in := h.New("flush_return", tc.pluginReturns)
			in.Init()
			if got := in.Flush("t", oneRecord(t0, "x")); got != tc.want {
				t.Errorf("plugin returned %s: Flush = %d, want %d", tc.pluginReturns, got, tc.want)
			}
		})
	}
}

func TestFlushWorksOnEveryStackChoice(t *testing.T) {
	t.Parallel()
	for _, stack := range []int{0, -1, 256 * 1024} {
		t.Run(fmt.Sprint(stack), func(t *testing.T) {
			h := start(t, Options{FlushStack: stack})
			in := h.New()
			in.Init()
			if got := in.Flush("t", oneRecord(t0, "x")); got != FLBOK {
				t.Errorf("Flush = %d", got)
			}
		})
	}
}

func TestConcurrentFlushesRunTogetherOnOneContext(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	in := h.New("id", "w", "sleep_ms", "300")
	in.Init()
	chunks := [][]byte{
		oneRecord(t0, "a"),
		append(oneRecord(t0, "b"), oneRecord(t0, "c")...),
		oneRecord(t0, "a"), // same bytes as the first: one file, two calls
		oneRecord(t0, "d"),
	}
	rets := in.FlushConcurrent("t", chunks, 4)
	if fmt.Sprint(rets) != "[1 1 1 1]" {
		t.Errorf("FlushConcurrent = %v, want [1 1 1 1]", rets)
	}
	in.Exit()
	want := "exit id=w flushes=4 records=5 max_inflight=4"
	if got := linesWith(h.Stdout(), "exit id="); len(got) != 1 || got[0] != want {
		t.Errorf("exit lines = %q, want [%s]", got, want)
	}
}

func TestChunkIsPoisonedOnceFlushReturns(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	in := h.New("id", "k", "mode", "keep")
	in.Init()
	in.Flush("t", oneRecord(t0, "first"))
	in.Flush("t", oneRecord(t0, "second"))
	want := []string{"stale id=k first=none", "stale id=k first=c1c1c1c1c1c1c1c1"}
	if got := linesWith(h.Stdout(), "stale"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stale lines = %q, want %q", got, want)
	}
}

func TestShutdownExitsInstancesInCreationOrderThenUnregisters(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	a := h.New("id", "a")
	b := h.New("id", "b")
	c := h.New("id", "c")
	failed := h.New("id", "failed", "init_return", "0")
	c.Init()
	a.Init()
	b.Init()
	failed.Init()
	if got := b.Exit(); got != FLBOK {
		t.Errorf("b.Exit() = %d", got)
	}
	if status := h.Close(); status != 0 {
		t.Errorf("Close() = %d, want 0", status)
	}

	var events []string
	for _, line := range strings.Split(h.Stdout(), "\n") {
		if strings.HasPrefix(line, "preexit") || strings.HasPrefix(line, "exit") || line == "unregister" {
			id, _, _ := strings.Cut(line, " flushes")
			events = append(events, id)
		}
	}
	want := []string{
		"preexit hot_reloading=0", "exit id=b", // explicit
		"preexit hot_reloading=0", "exit id=a", // shutdown: creation order,
		"preexit hot_reloading=0", "exit id=c", // not init order
		"unregister",
	}
	if strings.Join(events, "\n") != strings.Join(want, "\n") {
		t.Errorf("shutdown events:\n%s\nwant:\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}
}

func TestPanicInsideFlushIsReportedWithItsMessage(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	in := h.New("id", "boom", "mode", "panic")
	in.Init()
	_, err := in.TryFlush("t", oneRecord(t0, "x"))
	if err == nil || !strings.Contains(err.Error(), "host died") {
		t.Fatalf("TryFlush error = %v, want host died", err)
	}
	if !strings.Contains(err.Error(), "panic: ctlive-test: deliberate panic in FlushCtx id=boom") {
		t.Errorf("error lacks the panic message:\n%v", err)
	}
	if status := h.Close(); status != 128+int(syscall.SIGABRT) {
		t.Errorf("Close() = %d, want %d: the Go runtime aborts on a panic in c-shared code", status, 128+int(syscall.SIGABRT))
	}
}

func TestHungFlushTimesOutAndKillsHost(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Timeout: time.Second})
	in := h.New("mode", "hang")
	in.Init()
	began := time.Now()
	_, err := in.TryFlush("t", oneRecord(t0, "x"))
	if err == nil || !strings.Contains(err.Error(), "no reply within 1s") {
		t.Fatalf("TryFlush error = %v, want a timeout", err)
	}
	// A bound only against hanging: a loaded CI machine may take seconds to
	// kill and reap the host.
	if waited := time.Since(began); waited > 30*time.Second {
		t.Errorf("timeout took %v", waited)
	}
	if _, err := in.TryFlush("t", oneRecord(t0, "x")); err == nil {
		t.Error("a call after the host was killed succeeded")
	}
	if status := h.Close(); status != 128+int(syscall.SIGKILL) {
		t.Errorf("Close() = %d, want %d (killed)", status, 128+int(syscall.SIGKILL))
	}
}

func TestScriptErrorsAreRepliedNotFatal(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	tests := []string{
		"bogus",
		"new",
		"init nosuch",
		"set nosuch k v",
		"flush nosuch t /dev/null",
		"get",
		"new bad%zz",
	}
	for _, cmd := range tests {
		t.Run(cmd, func(t *testing.T) {
			_, err := h.call(cmd)
			var refused *ReplyError
			if !errors.As(err, &refused) {
				t.Errorf("%q: err = %v, want a ReplyError", cmd, err)
			}
		})
	}
	in := h.New()
	in.Init()
	if _, err := h.call("flush " + in.Name() + " t /nonexistent/chunk"); err == nil {
		t.Error("flush of a missing chunk file succeeded")
	}
	if got := in.Flush("t", oneRecord(t0, "x")); got != FLBOK {
		t.Errorf("host unusable after errors: Flush = %d", got)
	}
}
