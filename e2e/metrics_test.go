package e2e

import (
	"regexp"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/metricstest"
)

// Two instances in one process share one listener and are told apart by
// their instance label; what each counted is what Prometheus reads.
func TestMetricsOfTwoInstancesThroughTheSharedObject(t *testing.T) {
	h := start(t)
	agm := h.New("match", "*", "workers", "1", "tenants", "AGM", "metrics_listen", "127.0.0.1:0")
	others := h.New("match", "*", "workers", "1", "exclude_tenants", "AGM", "metrics_listen", "127.0.0.1:0", "metrics_max_tenants", "1")
	if agm.Init() <= 0 || others.Init() <= 0 {
		t.Fatal(h.Stderr())
	}
	lines := chunk("[CT7PROTOCOL] [AGM] newContact x", "[CT7PROTOCOL] [AGM] endContact y",
		"[CT7PROTOCOL] [ACME] newContact z", "[CT7PROTOCOL] [BETA] newContact w", "not a CTLive line")
	for _, in := range []*flbhost.Instance{agm, others} {
		if got := in.Flush("raw.ctlive", lines); got != flbhost.FLBOK {
			t.Fatalf("flush = %d\n%s", got, h.Stderr())
		}
	}
	addrs := regexp.MustCompile(`metrics=http://([0-9.:]+)/metrics`).FindAllStringSubmatch(h.Stderr(), -1)
	if len(addrs) != 2 || addrs[0][1] != addrs[1][1] {
		t.Fatalf("want both instances on one listener, start lines say %v\n%s", addrs, h.Stderr())
	}
	fams := metricstest.Scrape(t, addrs[0][1])
	tests := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"ctlive_records_total", map[string]string{"instance": "ctlive.0", "tenant": "AGM", "event": "newContact"}, 1},
		{"ctlive_records_total", map[string]string{"instance": "ctlive.0", "tenant": "AGM", "event": "endContact"}, 1},
		{"ctlive_records_total", map[string]string{"instance": "ctlive.0", "tenant": "none", "event": "none"}, 1},
		{"ctlive_records_total", map[string]string{"instance": "ctlive.0", "tenant": "ACME", "event": "newContact"}, 1},
		{"ctlive_records_delivered_total", map[string]string{"instance": "ctlive.0"}, 2},
		{"ctlive_records_not_routed_total", map[string]string{"instance": "ctlive.0"}, 3},
		// CTLive-shaped classifies what came in, routed here or not.
		{"ctlive_records_ctlive_shaped_total", map[string]string{"instance": "ctlive.0"}, 4},
		{"ctlive_records_ctlive_shaped_total", map[string]string{"instance": "ctlive.1"}, 4},
		{"ctlive_records_delivered_total", map[string]string{"instance": "ctlive.1"}, 3},
		{"ctlive_records_not_routed_total", map[string]string{"instance": "ctlive.1"}, 2},
		{"ctlive_flush_duration_seconds", map[string]string{"instance": "ctlive.1"}, 1},
	}
	for _, tc := range tests {
		if got := metricstest.Value(fams, tc.family, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.family, tc.labels, got, tc.want)
		}
	}
	// metrics_max_tenants 1: one of AGM, ACME and BETA has its own series,
	// the other two count as other; no record is lost.
	own, total := map[string]bool{}, 0.0
	for _, m := range fams["ctlive_records_total"].Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["instance"] != "ctlive.1" {
			continue
		}
		total += m.Counter.GetValue()
		if labels["tenant"] != "other" && labels["tenant"] != "none" {
			own[labels["tenant"]] = true
		}
	}
	if len(own) != 1 || total != 5 {
		t.Errorf("ctlive.1: tenants with their own series %v (want 1), %v records (want 5)", own, total)
	}
	if metricstest.Value(fams, "ctlive_sent_bytes_total", map[string]string{"instance": "ctlive.0"}) <= 0 {
		t.Error("no bytes counted as sent")
	}
	agm.Exit()
	others.Exit()
	h.Close()
}
