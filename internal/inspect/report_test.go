package inspect

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
)

// chromium returns Debian's chromium, or skips the test without it (fails
// under CI, which installs it: .ci/run).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (apt-get install -y chromium): the report cannot be checked")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser check")
	return ""
}

// requestTrap is an HTTP proxy that answers nothing and records the first
// line of every request the browser makes through it.
type requestTrap struct {
	l    net.Listener
	mu   sync.Mutex
	seen []string
}

func newRequestTrap(t *testing.T) *requestTrap {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &requestTrap{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				tr.mu.Lock()
				tr.seen = append(tr.seen, strings.TrimSpace(line))
				tr.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return tr
}

func (tr *requestTrap) requests() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.seen...)
}

// TestReportRendersInChromium: the report of an interleaved corpus is one
// self-contained file (no script, nothing to fetch) that headless Chromium
// renders with JavaScript off into a picture with the charts' colours,
// without console errors and without a single network request.
func TestReportRendersInChromium(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	log := writeFile(t, "ctlive.log", rawLog(cutAfterEnd(corpus.Generate(61, 8000))))
	report := filepath.Join(dir, "report.html")
	mustRun(t, "report", log, "-o", report)
	html, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing that would load: scripts, sources, links, CSS imports or urls.
	if m := regexp.MustCompile(`(?i)<script|\ssrc=|\shref=|@import|url\(|<link|<iframe|<img`).Find(html); m != nil {
		t.Errorf("the report refers to something outside itself: %q", m)
	}
	for _, want := range []string{"<svg", "ended without a saved transcript", "exceptions"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("the report lacks %q", want)
		}
	}

	trap := newRequestTrap(t)
	shot := filepath.Join(dir, "report.png")
	out := screenshot(t, browser, trap, report, shot, 1280, 2000)
	// The same profile runs no script: a page whose script would paint
	// itself red stays white.
	control := filepath.Join(dir, "control.html")
	os.WriteFile(control, []byte(`<body><p>scripts off</p><script>document.body.style.background="red"</script></body>`), 0o644)
	screenshot(t, browser, trap, control, filepath.Join(dir, "control.png"), 300, 200)
	if red := countColor(t, filepath.Join(dir, "control.png"), 0xff, 0, 0); red > 0 {
		t.Fatalf("JavaScript is on in the browser profile: the control page painted %d red pixels", red)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "CONSOLE") || strings.Contains(l, "Uncaught") {
			t.Errorf("console message: %s", l)
		}
	}
	for _, r := range trap.requests() {
		if !browserOwnHosts.MatchString(r) {
			t.Errorf("the page made a network request: %q", r)
		}
	}
	if ink, blue := inkShare(t, shot), countColor(t, shot, 0x4e, 0x79, 0xa7); ink < 0.02 || blue < 500 {
		t.Errorf("the screenshot looks blank: %.1f%% of pixels not white, %d pixels of the first tenant's colour", 100*ink, blue)
	}
}

// browserOwnHosts are the services Chromium itself calls at start (updates,
// network time, sign-in), whatever the page; a page's request goes anywhere
// else (a CDN, a font, a tracker) and fails the test.
var browserOwnHosts = regexp.MustCompile(`^(CONNECT |GET |POST )(https?://)?(update\.googleapis\.com|clients\d?\.google\.com|accounts\.google\.com|redirector\.gvt1\.com|[a-z0-9-]+\.gvt1\.com|optimizationguide-pa\.googleapis\.com|content-autofill\.googleapis\.com|safebrowsing\.googleapis\.com)[:/]`)

// screenshot renders page into a PNG with headless Chromium, JavaScript
// off (the profile's content setting), every request sent to trap.
func screenshot(t *testing.T, browser string, trap *requestTrap, page, png string, w, h int) string {
	t.Helper()
	profile := t.TempDir()
	os.MkdirAll(filepath.Join(profile, "Default"), 0o755)
	prefs := `{"profile":{"default_content_setting_values":{"javascript":2}}}`
	if err := os.WriteFile(filepath.Join(profile, "Default", "Preferences"), []byte(prefs), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--no-pings", "--disable-domain-reliability",
		"--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
		"--user-data-dir="+profile,
		// Every request, loopback included, goes to the trap.
		"--proxy-server=http://"+trap.l.Addr().String(), "--proxy-bypass-list=<-loopback>",
		"--enable-logging=stderr", "--v=0",
		fmt.Sprintf("--window-size=%d,%d", w, h), "--screenshot="+png, "file://"+page)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	if _, err := os.Stat(png); err != nil {
		t.Fatalf("chromium wrote no screenshot: %v\n%s", err, out)
	}
	return string(out)
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// inkShare is the share of a picture's pixels that are not white.
func inkShare(t *testing.T, path string) float64 {
	img := decodePNG(t, path)
	b := img.Bounds()
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 245 || g>>8 < 245 || bl>>8 < 245 {
				ink++
			}
		}
	}
	return float64(ink) / float64(b.Dx()*b.Dy())
}

// countColor counts the pixels close to one colour.
func countColor(t *testing.T, path string, r0, g0, b0 int) int {
	img := decodePNG(t, path)
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, r0) && near(g>>8, g0) && near(bl>>8, b0) {
				n++
			}
		}
	}
	return n
}

func near(a uint32, b int) bool { return int(a) >= b-6 && int(a) <= b+6 }

// TestReportFlagsContactsWithTheirStrips: every contact that ended without
// a saved transcript or hit an exception is in the report (up to --limit,
// the rest counted), each with a strip of its own lines.
func TestReportFlagsContactsWithTheirStrips(t *testing.T) {
	recs := cutAfterEnd(corpus.Generate(67, 6000))
	var flagged []string
	for _, l := range corpus.Lifecycles(recs) {
		if l.Ended && !l.TranscriptSaved || l.Exceptions > 0 {
			flagged = append(flagged, l.ContactID)
		}
	}
	log := writeFile(t, "ctlive.log", rawLog(recs))
	cases := []struct {
		name  string
		limit int
	}{{"all", len(flagged)}, {"limited", 3}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			report := filepath.Join(t.TempDir(), "report.html")
			mustRun(t, "report", "--limit", fmt.Sprint(c.limit), "-o", report, log)
			html, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			strips := strings.Count(string(html), `aria-label="lines of `)
			if strips != c.limit {
				t.Errorf("%d strips, want %d", strips, c.limit)
			}
			shown := 0
			for _, id := range flagged {
				if strings.Contains(string(html), `aria-label="lines of `+id+` by function"`) {
					shown++
				}
			}
			if shown != c.limit {
				t.Errorf("%d of the flagged contacts have a strip, want %d", shown, c.limit)
			}
			if more := len(flagged) - c.limit; more > 0 && !strings.Contains(string(html), fmt.Sprintf("and %d more", more)) {
				t.Errorf("the %d contacts left out are not counted", more)
			}
			if lanes := strings.Count(string(html), `class="lane0"`); lanes < c.limit {
				t.Errorf("%d strips have lines, want %d", lanes, c.limit)
			}
		})
	}
}
