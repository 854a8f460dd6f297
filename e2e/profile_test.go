package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
)

// CTLIVE_CPUPROFILE (plugin/profile.go, README: Performance) profiles the
// plugin in place: two instances share one profile, written when the last
// one exits, and the agent says where it goes.
func TestCPUProfileInPlaceIsWrittenWhenTheLastInstanceExits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctlive.prof")
	h := flbhost.Start(t, hostBin, pluginSO, flbhost.Options{Env: []string{"CTLIVE_CPUPROFILE=" + path}})
	a := h.New("match", "a.*")
	b := h.New("match", "b.*")
	if a.Init() != flbhost.FLBOK || b.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	var lines []string
	for _, r := range corpus.Generate(7, 2000) {
		lines = append(lines, r.Line)
	}
	data := chunk(lines...)
	for range 10 {
		if a.Flush("a.log", data) != flbhost.FLBOK {
			t.Fatal(h.Stderr())
		}
	}
	a.Exit()
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		t.Errorf("profile of %d bytes written while instance b still runs", fi.Size())
	}
	b.Exit()
	h.Close()
	prof, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no profile: %v\n%s", err, h.Stderr())
	}
	if !bytes.HasPrefix(prof, []byte{0x1f, 0x8b}) { // pprof's format: gzipped protobuf
		t.Errorf("%s is not a pprof profile (%d bytes)", path, len(prof))
	}
	if !strings.Contains(h.Stderr(), "CTLIVE_CPUPROFILE: writing a CPU profile to "+path) {
		t.Errorf("the agent's log does not say where the profile goes:\n%s", h.Stderr())
	}
}
