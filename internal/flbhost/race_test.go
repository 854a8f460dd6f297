package flbhost

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Documents why PluginBuild.Race is of no use on linux/amd64: the library
// builds but aborts as soon as it is loaded. Opt-in because a cold -race
// c-shared build takes tens of seconds. If this starts failing, -race
// plugins have become loadable.
func TestRacePluginAbortsWhenLoaded(t *testing.T) {
	if os.Getenv("FLBHOST_RACE_PROBE") == "" {
		t.Skip("set FLBHOST_RACE_PROBE=1 to build the test plugin with -race")
	}
	b := PluginBuild{Package: "./internal/flbhost/testdata/ctlivetest", Output: "out_ctlivetest_race.so", Race: true}
	dir := t.TempDir()
	so, err := BuildPlugin(dir, b)
	if err != nil && strings.Contains(err.Error(), "missing go.sum entry") {
		// Same scratch go.mod as TestMain's plugin needed.
		so, err = buildTestPluginWith(dir, b)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hostBin, "-p", so, "-S", "-R", os.DevNull)
	cmd.Stdin = strings.NewReader("quit\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Run()
	if !strings.Contains(stderr.String(), "ThreadSanitizer failed to allocate") {
		t.Errorf("status %d; the -race plugin loaded? stderr:\n%s", exitStatus(cmd.ProcessState), stderr.String())
	}
}
