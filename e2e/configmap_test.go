package e2e

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/fwdtest"
	"github.com/ctlive/ctlive-fluent-bit/pipeline"
)

func startLayout(t *testing.T, layout flbhost.Layout, env ...string) *flbhost.Host {
	t.Helper()
	return flbhost.Start(t, hostBin, pluginSO, flbhost.Options{Layout: layout, Env: env})
}

// What an instance with these properties does at start, on each layout:
// Fluent Bit 5.1.1 checks names against the plugin's config map before
// init; older hosts leave it to the plugin, which refuses the misspellings
// of its own keys but cannot know every other name.
func TestKeysAreCheckedOnBothLayouts(t *testing.T) {
	tests := []struct {
		name       string
		props      []string
		configMap  string // stderr on the 48-byte layout; "" when it starts
		oldLayout  string // stderr on the 40-byte layout; "" when it starts
		oldStarts  bool
		mapRefuses bool
	}{
		{name: "a declared key", props: []string{"tenants", "AGM"}, oldStarts: true},
		{name: "an unknown key", props: []string{"bogus_key", "1"}, mapRefuses: true, oldStarts: true,
			configMap: "[error] [config] ctlive: unknown configuration property 'bogus_key'. The following properties are allowed: sink, log_key,"},
		{name: "a singular for a plural", props: []string{"tenant", "AGM"}, mapRefuses: true,
			configMap: "unknown configuration property 'tenant'",
			oldLayout: "invalid configuration, not starting: tenant: unknown key: did you mean tenants?"},
		{name: "a plural for a singular", props: []string{"mask_keys", "k"}, mapRefuses: true,
			configMap: "unknown configuration property 'mask_keys'",
			oldLayout: "mask_keys: unknown key: did you mean mask_key?"},
		{name: "a dropped letter", props: []string{"exclude_tenant", "AGM"}, mapRefuses: true,
			configMap: "unknown configuration property 'exclude_tenant'",
			oldLayout: "exclude_tenant: unknown key: did you mean exclude_tenants?"},
		{name: "a dash for an underscore", props: []string{"known-tenants", "AGM"}, mapRefuses: true,
			configMap: "unknown configuration property 'known-tenants'",
			oldLayout: "known-tenants: unknown key: did you mean known_tenants?"},
		{name: "a key set twice", props: []string{"sink", "stdout", "sink", "forward"}, mapRefuses: true, oldStarts: true,
			configMap: "[error] [config] ctlive: configuration property 'sink' is set 2 times"},
		{name: "a key of Fluent Bit's es output", props: []string{"sink", "elasticsearch", "logstash_format", "on"}, mapRefuses: false,
			configMap: "logstash_format: not a key of the ctlive elasticsearch sink: set index",
			oldLayout: "logstash_format: not a key of the ctlive elasticsearch sink: set index"},
	}
	for _, layout := range []flbhost.Layout{flbhost.LayoutConfigMap, flbhost.LayoutOld} {
		h := startLayout(t, layout)
		for _, tc := range tests {
			t.Run(tc.name+"/"+map[flbhost.Layout]string{48: "5.1.1", 40: "older"}[layout], func(t *testing.T) {
				before := len(h.Stderr())
				in := h.New(append([]string{"plugin_log_level", "error"}, tc.props...)...)
				started := in.Init() > 0
				stderr := h.Stderr()[before:]
				want, wantStart := tc.configMap, !tc.mapRefuses
				if tc.configMap != "" && !tc.mapRefuses {
					wantStart = false // the plugin refuses it after Fluent Bit let it through
				}
				if layout == flbhost.LayoutOld {
					want, wantStart = tc.oldLayout, tc.oldStarts
				}
				if started != wantStart {
					t.Fatalf("started = %v, want %v\n%s", started, wantStart, stderr)
				}
				if want != "" && !strings.Contains(stderr, want) {
					t.Logf("full stderr:\n%s", h.Stderr())
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
				if started {
					in.Exit()
				}
			})
		}
		if code := h.Close(); code != 0 {
			t.Fatalf("host exit %d\n%s", code, h.Stderr())
		}
	}
}

// -h lists every key with its default and description, as Fluent Bit
// prints it; an older host has no map to print.
func TestHelpListsEveryKey(t *testing.T) {
	out, err := flbhost.Help(hostBin, pluginSO, flbhost.LayoutConfigMap)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range pipeline.Keys {
		def := k.Default
		if def == "" {
			def = "default" // Fluent Bit's rendering of a nil default
		}
		entry := "\n" + k.Name + " "
		i := strings.Index(out, entry)
		if i < 0 {
			t.Errorf("-h does not list %s", k.Name)
			continue
		}
		block, _, _ := strings.Cut(out[i+1:], "\n\n")
		flat := strings.Join(strings.Fields(block), " ")
		if !strings.Contains(flat, strings.Join(strings.Fields(k.Desc), " ")) || !strings.Contains(block, "> default: "+def+", type: ") {
			t.Errorf("-h entry of %s lacks its description or default %q:\n%s", k.Name, def, block)
		}
	}
	old, err := flbhost.Help(hostBin, pluginSO, flbhost.LayoutOld)
	if err != nil || old != "" {
		t.Errorf("an older host prints no options: %q, %v", old, err)
	}
}

// The guard page under the old layout's def is what proves the plugin
// never writes past it: forcing the map there must kill the host.
func TestForcingTheMapOnTheOldLayoutIsCaught(t *testing.T) {
	_, err := flbhost.Help(hostBin, pluginSO, flbhost.LayoutOld, "CTLIVE_CONFIG_MAP=on")
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("host survived a write past the 40-byte def: %v", err)
	}
	// The Go runtime in the plugin reports the fault, then ends the process
	// by a signal of its own.
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || !strings.Contains(err.Error(), "SIGSEGV") {
		t.Fatalf("host ended with %v, want a crash on SIGSEGV", err)
	}
	// And the override's other side: no map even where it would fit.
	out, err := flbhost.Help(hostBin, pluginSO, flbhost.LayoutConfigMap, "CTLIVE_CONFIG_MAP=off")
	if err != nil || out != "" {
		t.Errorf("CTLIVE_CONFIG_MAP=off still registered a map: %q, %v", out, err)
	}
}

// On 5.1.1 a routing key's ${VAR} reaches the plugin raw: an unset one
// stops the instance. Older hosts hand over "" for it, the same as an
// unset key, and the instance starts (the README says so).
func TestUnsetVariableInARoutingKey(t *testing.T) {
	for _, tc := range []struct {
		layout flbhost.Layout
		starts bool
	}{{flbhost.LayoutConfigMap, false}, {flbhost.LayoutOld, true}} {
		h := startLayout(t, tc.layout, "CTLIVE_TEST_SET_TENANTS=AGM")
		in := h.New("tenants", "${CTLIVE_TEST_UNSET_TENANTS}", "plugin_log_level", "error")
		if started := in.Init() > 0; started != tc.starts {
			t.Errorf("layout %d: started = %v, want %v\n%s", tc.layout, started, tc.starts, h.Stderr())
		} else if started {
			in.Exit()
		}
		set := h.New("tenants", "${CTLIVE_TEST_SET_TENANTS}", "match", "*", "workers", "1")
		if set.Init() <= 0 {
			t.Fatalf("layout %d: a set variable is refused\n%s", tc.layout, h.Stderr())
		}
		if got := set.Flush("raw.ctlive", chunk("[CT7PROTOCOL] [AGM] newContact x", "[CT7PROTOCOL] [ACME] newContact y")); got != flbhost.FLBOK {
			t.Fatalf("flush = %d", got)
		}
		set.Exit()
		h.Close()
		if recs := jsonLines(t, h.Stdout()); len(recs) != 1 || recs[0]["tenant"] != "AGM" {
			t.Errorf("layout %d: want only AGM's record, got %v", tc.layout, recs)
		}
		if !strings.Contains(h.Stderr(), "tenants=AGM") {
			t.Errorf("layout %d: the start line does not show the expanded list\n%s", tc.layout, h.Stderr())
		}
		if tc.layout == flbhost.LayoutConfigMap && !strings.Contains(h.Stderr(), "tenants: ${CTLIVE_TEST_UNSET_TENANTS} is unset or empty") {
			t.Errorf("no reason given:\n%s", h.Stderr())
		}
	}
}

// url gets the routing keys' treatment on 5.1.1: Fluent Bit hands it over
// raw, and a variable that is unset, defaults to empty or holds only
// blanks stops the instance, where it used to leave the default url and
// send every record to the wrong destination (attacker review, item B).
func TestUnsetOrEmptyVariableInTheURLStopsTheInstance(t *testing.T) {
	tests := []struct {
		name, sink, url string
		refusal         string // in stderr; "" when it starts
	}{
		{"unset, elasticsearch", "elasticsearch", "${CTLIVE_TEST_UNSET_URL}", "url: ${CTLIVE_TEST_UNSET_URL} is unset or empty"},
		{"unset, loki", "loki", "${CTLIVE_TEST_UNSET_URL}", "url: ${CTLIVE_TEST_UNSET_URL} is unset or empty"},
		{"unset, forward", "forward", "${CTLIVE_TEST_UNSET_URL}", "url: ${CTLIVE_TEST_UNSET_URL} is unset or empty"},
		{"an empty default", "elasticsearch", "${CTLIVE_TEST_UNSET_URL:-}", "url: ${CTLIVE_TEST_UNSET_URL:-} expands to nothing"},
		{"set to blanks", "loki", "${CTLIVE_TEST_BLANK_URL}", "url: ${CTLIVE_TEST_BLANK_URL} expands to nothing"},
		{"set", "elasticsearch", "${CTLIVE_TEST_SET_URL}", ""},
		{"a default", "loki", "${CTLIVE_TEST_UNSET_URL:-http://127.0.0.1:9}", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := startLayout(t, flbhost.LayoutConfigMap, "CTLIVE_TEST_SET_URL=http://127.0.0.1:9", "CTLIVE_TEST_BLANK_URL=  ")
			in := h.New("sink", tc.sink, "url", tc.url, "plugin_log_level", "error", "match", "*", "workers", "1")
			started := in.Init() > 0
			if started {
				in.Exit()
			}
			h.Close()
			switch {
			case started != (tc.refusal == ""):
				t.Errorf("url %s: started = %v\n%s", tc.url, started, h.Stderr())
			case tc.refusal != "" && !strings.Contains(h.Stderr(), tc.refusal):
				t.Errorf("no reason given, want %q:\n%s", tc.refusal, h.Stderr())
			}
		})
	}
}

// Without workers Fluent Bit flushes on its engine thread; the plugin says
// so once, with the fix. With workers it says nothing.
func TestFlushOnTheEngineThreadIsAnnouncedOnce(t *testing.T) {
	const warning = "flushing on Fluent Bit's engine thread because this output has no `workers`"
	for _, tc := range []struct {
		props []string
		warns int
	}{{[]string{"match", "*"}, 1}, {[]string{"match", "*", "workers", "1"}, 0}} {
		h := start(t)
		in := h.New(tc.props...)
		if in.Init() <= 0 {
			t.Fatal(h.Stderr())
		}
		for range 3 {
			in.Flush("raw.ctlive", chunk("[CT7PROTOCOL] [AGM] newContact x"))
		}
		in.Exit()
		h.Close()
		if n := strings.Count(h.Stderr(), warning); n != tc.warns {
			t.Errorf("%v: %d warnings, want %d\n%s", tc.props, n, tc.warns, h.Stderr())
		}
		if tc.warns > 0 && !strings.Contains(h.Stderr(), "Set `workers 1` (or more) on this output") {
			t.Errorf("the warning does not give the fix:\n%s", h.Stderr())
		}
	}
}

// The forward loop without workers, through the real library on the
// harness's engine thread: the first flush writes and answers retry at
// once, and its retry, after in_forward has read and acked, confirms the
// records without sending them again.
func TestForwardLoopOnTheEngineThreadDeliversEachRecordOnce(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	g := fwdtest.NewGate(t, srv.Addr())
	h := start(t)
	in := h.New("match", "raw.*", "sink", "forward", "url", g.URL())
	if in.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	data := chunk("[CT7PROTOCOL] [AGM] newContact a", "[CT7PROTOCOL] [ACME] newContact b")
	if got := in.Flush("raw.ctlive", data); got != flbhost.FLBRetry {
		t.Fatalf("first flush = %d, want FLB_RETRY\n%s", got, h.Stderr())
	}
	g.Release()
	if _, err := srv.WaitEvents(2, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for range 500 { // bounded: the acks follow the events at once
		if srv.Stats().Acks >= 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := in.Flush("raw.ctlive", data); got != flbhost.FLBOK {
		t.Fatalf("retry = %d, want FLB_OK\n%s", got, h.Stderr())
	}
	in.Exit()
	h.Close()
	if n := srv.Stats().Messages; n != 2 || len(srv.Events()) != 2 {
		t.Errorf("%d messages, %d records; want 2 and 2 (one message per tag, nothing sent twice)", n, len(srv.Events()))
	}
	if !strings.Contains(h.Stderr(), "stopped: 2 records (2 CTLive-shaped), 2 delivered") {
		t.Errorf("exit summary:\n%s", h.Stderr())
	}
}

// A key that only another sink reads starts the instance (switching sinks
// should not need a new file) but is named at start, on either layout.
func TestAKeyOfAnotherSinkIsNamedAtStart(t *testing.T) {
	for _, layout := range []flbhost.Layout{flbhost.LayoutConfigMap, flbhost.LayoutOld} {
		h := startLayout(t, layout)
		in := h.New("match", "*", "workers", "1", "index", "ctlive")
		if in.Init() <= 0 {
			t.Fatalf("layout %d: did not start\n%s", layout, h.Stderr())
		}
		in.Exit()
		h.Close()
		if !strings.Contains(h.Stderr(), "index is read only by sink elasticsearch: sink stdout ignores it") {
			t.Errorf("layout %d: the key is not named:\n%s", layout, h.Stderr())
		}
	}
}
