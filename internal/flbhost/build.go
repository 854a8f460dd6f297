package flbhost

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

//go:embed host.c
var hostSource []byte

// Builds can be slow on a cold cache (a c-shared build recompiles the
// runtime with cgo), but never unbounded.
const (
	gccTimeout     = time.Minute
	goBuildTimeout = 5 * time.Minute
)

var builds = struct {
	sync.Mutex
	done map[string]string
}{done: map[string]string{}}

// cached returns what build made for key earlier in this process, as long
// as the file is still there, and builds it otherwise.
func cached(key string, build func() (string, error)) (string, error) {
	builds.Lock()
	defer builds.Unlock()
	if p, ok := builds.done[key]; ok {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := build()
	if err != nil {
		return "", err
	}
	builds.done[key] = p
	return p, nil
}

// BuildHost compiles the host program (host.c, embedded in this package)
// with gcc into dir/flbhost and returns its path. Calls for the same dir
// within one process reuse the first build.
func BuildHost(dir string) (string, error) {
	return cached("host\x00"+dir, func() (string, error) {
		src := filepath.Join(dir, "flbhost.c")
		bin := filepath.Join(dir, "flbhost")
		if err := os.WriteFile(src, hostSource, 0o644); err != nil {
			return "", err
		}
		ctx, cancel := context.WithTimeout(context.Background(), gccTimeout)
		defer cancel()
		// -rdynamic exports malloc_usable_size, as Fluent Bit (linked with
		// ENABLE_EXPORTS) exports its allocator: the plugin binds to it.
		cmd := exec.CommandContext(ctx, "gcc", "-std=gnu11", "-O2", "-g", "-Wall", "-Werror", "-pthread", "-rdynamic",
			"-o", bin, src, "-ldl", "-lpthread")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("flbhost: gcc: %v\n%s", err, out)
		}
		return bin, nil
	})
}

// PluginBuild says which Go package to build as a Fluent Bit plugin.
type PluginBuild struct {
	// Package is an import path, or a path relative to the module root
	// starting with "./".
	Package string
	// Output is the file name inside the build directory; by default
	// "out_<last element of Package>.so". Fluent Bit loads names starting
	// with "flb-" as C plugins (src/flb_plugin.c, flb_plugin_load_router),
	// so those are refused.
	Output string
	// Race adds -race. It builds, but on linux/amd64 the library aborts as
	// soon as it is loaded: "ThreadSanitizer failed to allocate ... bytes at
	// address ..." (errno 12). The race runtime's shadow layout covers the
	// executable and the Go heap only, not a module mapped at 0x7f... by
	// dlopen. Race-check the plugin's Go packages with go test -race.
	Race bool
}

// BuildPlugin runs go build -buildmode=c-shared for b from the module root
// and returns the path of the library in dir. Identical requests within
// one process reuse the first build.
func BuildPlugin(dir string, b PluginBuild) (string, error) {
	if b.Package == "" {
		return "", errors.New("flbhost: PluginBuild.Package is empty")
	}
	if b.Output == "" {
		b.Output = "out_" + path.Base(b.Package) + ".so"
	}
	if strings.HasPrefix(b.Output, "flb-") {
		return "", fmt.Errorf("flbhost: %s: Fluent Bit would load it as a C plugin, not through the Go proxy", b.Output)
	}
	key := fmt.Sprintf("plugin\x00%s\x00%+v", dir, b)
	return cached(key, func() (string, error) {
		root, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		out := filepath.Join(dir, b.Output)
		args := []string{"build", "-buildmode=c-shared", "-o", out}
		if b.Race {
			args = append(args, "-race")
		}
		args = append(args, b.Package)
		if err := runGo(root, goBuildTimeout, args...); err != nil {
			return "", err
		}
		return out, nil
	})
}

// ModuleRoot is the directory of the main module's go.mod, found from the
// working directory.
func ModuleRoot() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("flbhost: go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("flbhost: not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

func runGo(dir string, timeout time.Duration, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("flbhost: go %s: %v\n%s", strings.Join(args, " "), err, out.Bytes())
	}
	return nil
}
