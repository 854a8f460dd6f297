package corpus

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSampleLogIsUpToDate(t *testing.T) {
	got, err := os.ReadFile("../../testdata/sample.log")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, Sample()) {
		t.Fatal("testdata/sample.log differs from the generator: run go generate ./internal/corpus")
	}
}

func TestInspectionLinesFileIsUpToDate(t *testing.T) {
	got, err := os.ReadFile("../../testdata/inspection-lines.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, InspectionLines()) {
		t.Fatal("testdata/inspection-lines.txt differs from the generator: run go generate ./internal/corpus")
	}
}

func TestInspectionLinesAreTheGuidesLines(t *testing.T) {
	text := string(InspectionLines())
	if !strings.HasPrefix(text, "# ") {
		t.Error("no header comment")
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	real := RealLines()
	if len(lines) != len(real) || len(lines) != 11 {
		t.Fatalf("%d lines, %d real records; the guide has 11 lines", len(lines), len(real))
	}
	for i, r := range real {
		if lines[i] != r.Line {
			t.Errorf("line %d: %q, record %q", i, lines[i], r.Line)
		}
	}
}

var reComposeLine = regexp.MustCompile(`^ctlive  \| (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.+)$`)

func TestSampleLogLooksLikeComposeOutput(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(string(Sample()), "\n"), "\n")
	if len(lines) < 300 || len(lines) > 600 {
		t.Errorf("%d lines, want 300–600", len(lines))
	}
	have := map[string]bool{}
	var last time.Time
	frames := 0
	for i, l := range lines {
		m := reComposeLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %d is not compose output: %q", i+1, l)
		}
		ts, _ := time.Parse(time.RFC3339Nano, m[1])
		if ts.Before(last) {
			t.Fatalf("line %d goes back in time", i+1)
		}
		last = ts
		if strings.HasPrefix(m[2], "    at ") {
			frames++
		}
		have[l] = true
	}
	for _, r := range append(append([]realLine{}, realEndContact...), realNewContact...) {
		if l := "ctlive  | " + r.timeText() + " " + r.body(); !have[l] {
			t.Errorf("the guide's line is not in place: %q", l)
		}
	}

	tenants, contacts := map[string]bool{}, map[string]bool{}
	exceptions, framesWanted := 0, 0
	for _, r := range SampleRecords() {
		tenants[r.Want.Tenant] = true
		contacts[r.Want.ContactID] = true
		if r.Want.StackFrames > 0 {
			exceptions++
			framesWanted += r.Want.StackFrames
		}
	}
	if exceptions < 2 || exceptions > 3 {
		t.Errorf("%d exceptions with stack frames, want two or three", exceptions)
	}
	if frames != framesWanted {
		t.Errorf("%d frame lines, the records hold %d frames", frames, framesWanted)
	}
	if len(tenants) < 1+4 || len(contacts) < 1+10 { // "" counts once
		t.Errorf("%d tenants, %d contacts: want all four tenants and at least ten contacts", len(tenants)-1, len(contacts)-1)
	}
}

func TestSampleRecordsMatchContractOracle(t *testing.T) {
	for i, r := range SampleRecords() {
		if d := diff(oracle(r.Line), r.Want); d != nil {
			t.Fatalf("record %d %q:\n%s", i, r.Line, strings.Join(d, "\n"))
		}
	}
}
