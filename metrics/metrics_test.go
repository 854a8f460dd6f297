package metrics

import (
	"fmt"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/ctlive/ctlive-fluent-bit/internal/metricstest"
)

var (
	Scrape = metricstest.Scrape
	value  = metricstest.Value
)

func listen(t *testing.T) string {
	t.Helper()
	addr, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestInstancesAreScrapedWithTheirLabels(t *testing.T) {
	addr := listen(t)
	a, b := NewInstance("ctlive.test-a", 2), NewInstance("ctlive.test-b", 2)
	defer a.Close()
	defer b.Close()

	tally := NewTally()
	for _, r := range []struct{ tenant, event string }{
		{"AGM", "newContact"}, {"AGM", "newContact"}, {"ACME", "exception"}, {"", None},
		{"THIRD", "newContact"}, {"FOURTH", "endContact"}, // past the cap of 2 tenants
		{`we"ird\`, None},
	} {
		tally.Add([]byte(r.tenant), r.event)
	}
	a.AddRecords(tally)
	a.Delivered.Add(5)
	a.Rejected("mapper_parsing_exception", 2)
	a.FlushSeconds.Update(0.003)
	b.Delivered.Add(7)

	fams := Scrape(t, addr)
	tests := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"ctlive_records_delivered_total", map[string]string{"instance": "ctlive.test-a"}, 5},
		{"ctlive_records_delivered_total", map[string]string{"instance": "ctlive.test-b"}, 7},
		{"ctlive_records_total", map[string]string{"instance": "ctlive.test-a", "tenant": "AGM", "event": "newContact"}, 2},
		{"ctlive_records_total", map[string]string{"instance": "ctlive.test-a", "tenant": None, "event": None}, 1},
		{"ctlive_records_rejected_total", map[string]string{"instance": "ctlive.test-a", "reason": "mapper_parsing_exception"}, 2},
		{"ctlive_flush_duration_seconds", map[string]string{"instance": "ctlive.test-a"}, 1},
		{"ctlive_panics_total", map[string]string{"instance": "ctlive.test-b"}, 0},
	}
	for _, tc := range tests {
		if got := value(fams, tc.family, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.family, tc.labels, got, tc.want)
		}
	}
	// Two tenants have their own series; the other three (the odd one
	// included, whatever its characters) count as other.
	own := 0
	for _, m := range fams["ctlive_records_total"].Metric {
		for _, l := range m.Label {
			if l.GetName() == "tenant" && l.GetValue() != None && l.GetValue() != Other {
				own++
			}
		}
	}
	if own != 2 || value(fams, "ctlive_records_total", map[string]string{"instance": "ctlive.test-a", "tenant": Other}) < 1 {
		t.Errorf("tenant cap: %d tenants with their own series, want 2; other = %v", own,
			value(fams, "ctlive_records_total", map[string]string{"tenant": Other}))
	}
	if fams["ctlive_flush_duration_seconds"].GetType() != dto.MetricType_HISTOGRAM ||
		fams["ctlive_records_delivered_total"].GetType() != dto.MetricType_COUNTER {
		t.Errorf("types: %v, %v", fams["ctlive_flush_duration_seconds"].GetType(), fams["ctlive_records_delivered_total"].GetType())
	}
}

func TestAnOddTenantIsEscaped(t *testing.T) {
	addr := listen(t)
	m := NewInstance("ctlive.test-odd", 10)
	defer m.Close()
	tally := NewTally()
	tally.Add([]byte("a\"b\\c\nd"), "newContact")
	m.AddRecords(tally)
	if got := value(Scrape(t, addr), "ctlive_records_total", map[string]string{"instance": "ctlive.test-odd", "tenant": "a\"b\\c\nd"}); got != 1 {
		t.Errorf("got %v", got)
	}
}

func TestReasonsAreCapped(t *testing.T) {
	addr := listen(t)
	m := NewInstance("ctlive.test-reasons", 10)
	defer m.Close()
	for i := range MaxReasons + 5 {
		m.Rejected(fmt.Sprintf("reason_%d", i), 1)
	}
	fams := Scrape(t, addr)
	if got := value(fams, "ctlive_records_rejected_total", map[string]string{"instance": "ctlive.test-reasons", "reason": Other}); got != 5 {
		t.Errorf("other = %v, want 5", got)
	}
}

func TestAClosedInstanceLeavesNoSeries(t *testing.T) {
	addr := listen(t)
	m := NewInstance("ctlive.test-closed", 10)
	m.Delivered.Inc()
	m.Close()
	fams := Scrape(t, addr)
	for name, f := range fams {
		for _, s := range f.Metric {
			for _, l := range s.Label {
				if l.GetValue() == "ctlive.test-closed" {
					t.Errorf("%s still has the closed instance", name)
				}
			}
		}
	}
}

func TestOneListenerPerProcess(t *testing.T) {
	addr := listen(t)
	if again, err := Listen("127.0.0.1:0"); err != nil || again != addr {
		t.Errorf("the same setting must share the listener: %q, %v", again, err)
	}
	if again, err := Listen(addr); err != nil || again != addr {
		t.Errorf("the bound address must share the listener: %q, %v", again, err)
	}
	if _, err := Listen("127.0.0.2:0"); err == nil || !strings.Contains(err.Error(), "already serves metrics on "+addr) {
		t.Errorf("another address: %v", err)
	}
}
