package pipeline

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
)

// One row per instance-wide key and per kind of wrong value: New refuses
// each with one line naming the key, the value (never a secret's) and what
// is allowed.
func TestInstanceKeysAreCheckedAtStart(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string // "" when accepted
	}{
		{"go_gc_percent not a number", map[string]string{"go_gc_percent": "x"}, `go_gc_percent "x": must be -1`},
		{"go_gc_percent 0", map[string]string{"go_gc_percent": "0"}, `go_gc_percent "0": must be -1 (collector off, with go_memory_limit) or a whole number from 25 to 10000`},
		{"go_gc_percent 1", map[string]string{"go_gc_percent": "1"}, `go_gc_percent "1"`},
		{"go_gc_percent past the ceiling", map[string]string{"go_gc_percent": "100000"}, `go_gc_percent "100000"`},
		{"go_gc_percent below -1", map[string]string{"go_gc_percent": "-2"}, `go_gc_percent "-2"`},
		{"go_gc_percent off without a memory limit", map[string]string{"go_gc_percent": "-1"}, "set go_memory_limit too"},
		{"go_memory_limit 1", map[string]string{"go_memory_limit": "1"}, `go_memory_limit "1": must be a size from 32M to 1000G`},
		{"go_memory_limit a unit alone", map[string]string{"go_memory_limit": "B"}, `go_memory_limit "B"`},
		{"go_memory_limit below the floor", map[string]string{"go_memory_limit": "31M"}, `go_memory_limit "31M"`},
		{"go_memory_limit past the ceiling", map[string]string{"go_memory_limit": "2048G"}, `go_memory_limit "2048G"`},
		{"forward url with credentials", map[string]string{"sink": "forward", "url": "tcp://user:pass@host:24224?shared_key=s3cret"}, "url: forward: URL"},
		{"go_gc_percent 100", map[string]string{"go_gc_percent": "100"}, ""},
		{"go_gc_percent off with a memory limit", map[string]string{"go_gc_percent": "-1", "go_memory_limit": "512M"}, ""},
	}
	// Accepted rows set the process's collector: put it back.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]string{"plugin_log_level": "off"}
			for k, v := range tc.props {
				props[k] = v
			}
			p, err := New("ctlive.0", config.MapGetter(props))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				p.Close()
				return
			}
			if err == nil {
				p.Close()
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line containing %q", msg, tc.want)
			}
			for _, secret := range []string{"s3cr", "pass"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q shows a secret", msg)
				}
			}
		})
	}
}
