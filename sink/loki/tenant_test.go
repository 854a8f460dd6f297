package loki

import (
	"strings"
	"testing"
)

// A record whose tenant_id renders no value never becomes a Loki tenant
// (it used to go as "unknown", creating that tenant): it goes to
// default_tenant, or it is not sent and counts as not routed, with a line
// saying why.
func TestMissingTenantNeverBecomesALokiTenant(t *testing.T) {
	recs := lines(
		"ctlive | 2025-02-27T10:00:00Z [socketIO] [AGM] newContact 1",
		"ctlive-1 exited with code 137",
		"ctlive | 2025-02-27T10:00:02Z [getIMChannelServiceMessage] [DOMAIN] [chatClosedSuccess]",
	)
	tests := []struct {
		name     string
		props    map[string]string
		tenants  string // requests' X-Scope-OrgID, in order
		skipped  int
		warnings int
	}{
		{"without default_tenant", map[string]string{"tenant_id": "$tenant"}, "AGM", 2, 1},
		{"with default_tenant", map[string]string{"tenant_id": "$tenant", "default_tenant": "shared"}, "AGM,shared", 0, 0},
		{"in a longer template", map[string]string{"tenant_id": "org-$tenant"}, "org-AGM", 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, func(*pushReq) (int, string) { return 204, "" })
			tc.props["url"] = f.url()
			s, log := newSink(t, tc.props)
			b := makeBatch(t, "t", recs)
			if err := deliver(t, s, b); err != nil {
				t.Fatal(err)
			}
			var tried []string
			for _, r := range f.requests() {
				tried = append(tried, r.Tenant)
			}
			if got := strings.Join(tried, ","); got != tc.tenants {
				t.Errorf("requests for tenants %q, want %q", got, tc.tenants)
			}
			if b.Skipped() != tc.skipped || len(undone(b)) != 0 || b.Rejected() != 0 {
				t.Errorf("skipped %d (want %d), undone %v, rejected %d", b.Skipped(), tc.skipped, undone(b), b.Rejected())
			}
			if n := strings.Count(log.String(), "renders no value for them and default_tenant is not set"); n != tc.warnings {
				t.Errorf("%d warnings, want %d:\n%s", n, tc.warnings, log.String())
			}
		})
	}
}
