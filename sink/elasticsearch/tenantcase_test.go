package elasticsearch

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/sink"
)

// Tenants are compared exactly (agm is not AGM), but Elasticsearch index
// names are lower case: `CHAT_agm_<uuid>` gives the tenant agm, which
// passes `exclude_tenants AGM`, and must not land in ctlive-agm-…, AGM's
// index. A record whose tenant lower-casing could merge with another's is
// rejected for good when the index names the tenant (attacker review,
// item C).
func TestTenantsThatDifferOnlyInCaseNeverShareAnIndex(t *testing.T) {
	const (
		agm   = "ctlive | 2025-02-27T17:19:20.1Z [CT7PROTOCOL] [AGM] newContact"
		lower = "ctlive | 2025-02-27T17:19:20.2Z [socketIO] room CHAT_agm_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
		mixed = "ctlive | 2025-02-27T17:19:20.3Z [socketIO] room CHAT_Agm_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
		acme  = "ctlive | 2025-02-27T17:19:20.4Z [socketIO] room WHATSAPP_ACME_EU2_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
		none  = "plain text"
		// unknown is what a missing tenant renders as: a tenant of that
		// name would share the index of every record without one.
		unknown = "ctlive | 2025-02-27T17:19:20.5Z [CT7PROTOCOL] [UNKNOWN] newContact"
	)
	tests := []struct {
		name     string
		index    string
		lines    []string
		indexes  []string // of the documents sent, in order
		rejected int      // records rejected as tenant_case
	}{
		{"the default index", "", []string{agm, lower, mixed, acme, none},
			[]string{"ctlive-agm-2025.02.27", "ctlive-acme_eu2-2025.02.27", "ctlive-unknown-2025.02.27"}, 2},
		{"a tenant named like the missing value", "", []string{unknown, none},
			[]string{"ctlive-unknown-2025.02.27"}, 1},
		{"the tenant in a template of its own", "logs-$tenant", []string{lower, agm},
			[]string{"logs-agm"}, 1},
		{"an index without the tenant", "ctlive-%Y", []string{agm, lower},
			[]string{"ctlive-2025", "ctlive-2025"}, 0},
		{"a static index", "ctlive", []string{lower, agm},
			[]string{"ctlive", "ctlive"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeES(t, allCreated)
			props := map[string]string{"url": srv.URL}
			if tc.index != "" {
				props["index"] = tc.index
			}
			s := newSink(t, props)
			b := newBatch("t", lineEvents(t, "t", tc.lines))
			if err := s.Deliver(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range srv.requests() {
				for _, d := range r.Docs {
					got = append(got, d.Action["create"]["_index"].(string))
				}
			}
			if !slices.Equal(got, tc.indexes) {
				t.Errorf("indexes %q, want %q", got, tc.indexes)
			}
			var n int
			for _, c := range b.RejectedBy() {
				if c.Class == sink.TenantCase {
					n = c.N
				}
			}
			if n != tc.rejected || b.Rejected() != tc.rejected {
				t.Errorf("%d rejected as %s (%d in all), want %d", n, sink.TenantCase, b.Rejected(), tc.rejected)
			}
			for _, r := range b.Reasons() {
				if !strings.Contains(r.Reason, "differs from another only in case") && !strings.Contains(r.Reason, "with the records that have no tenant") {
					t.Errorf("reason %q does not say why", r.Reason)
				}
			}
		})
	}
}

// A default_tenant that lower-casing could merge with a tenant of the
// logs (shared and SHARED) is refused at start when the index names the
// tenant: every record without a tenant would be rejected otherwise.
func TestADefaultTenantThatCouldShareAnIndexIsRefusedAtStart(t *testing.T) {
	tests := []struct {
		name, defaultTenant, index string
		refused                    bool
	}{
		{"lower case, default index", "shared", "", true},
		{"mixed case, tenant in the index", "Shared", "logs-$tenant", true},
		{"upper case", "SHARED", "", false},
		{"lower case, index without the tenant", "shared", "ctlive-%Y", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]string{"default_tenant": tc.defaultTenant}
			if tc.index != "" {
				props["index"] = tc.index
			}
			s, err := New(config.NewReader(config.MapGetter(props)), nil, stage.Layout())
			if s != nil {
				s.Close()
			}
			if (err != nil) != tc.refused {
				t.Fatalf("err = %v, want refused %v", err, tc.refused)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "default_tenant") {
				t.Errorf("the error does not name default_tenant: %v", err)
			}
		})
	}
}
