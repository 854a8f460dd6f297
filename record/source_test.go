package record

import (
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/template"
)

// A contract field's name in a template (tag, index, tenant_id, Loki's
// labels) is the plugin's field: a key of that name in the record is what
// a client wrote, and must never stand in for it. $tenant is the tenant
// routing decided on (Event.Tenant), nothing else: a record the plugin
// found no tenant in, routed to an instance with exclude_tenants AGM, must
// not render AGM from its own "tenant" key (attacker review, item A).
func TestTemplatesReadContractFieldsOnlyFromThePlugin(t *testing.T) {
	const noTenantLine = "ctlive | 2025-02-27T17:19:22.156214484Z [socketIO] client connected"
	tests := []struct {
		name   string
		body   kv
		tenant string // Event.Tenant as the Enrich stage leaves it ("" for none)
		tmpl   string
		want   string
	}{
		{"plain line, record's own tenant key", kv{"log", "plain text", "tenant", "AGM"}, "", "ctlive.$tenant.$event", "ctlive.unknown.unknown"},
		{"CTLive line without tenant, record's own tenant key", kv{"log", noTenantLine, "tenant", "AGM"}, "", "ctlive-$tenant", "ctlive-unknown"},
		{"default_tenant, not the record's key", kv{"log", "plain text", "tenant", "AGM"}, "SHARED", "$tenant", "SHARED"},
		{"the line's tenant, not the record's key", kv{"log", docLine, "tenant", "TENANT1"}, "AGM", "$tenant.$event", "AGM.newContact"},
		{"no log key at all", kv{"tenant", "AGM", "event", "exception"}, "", "$tenant.$event", "unknown.unknown"},
		{"record's own event key", kv{"log", "plain text", "event", "exception"}, "", "$event", "unknown"},
		{"record's own contactID key", kv{"log", "plain text", "contactID", cid}, "", "$contactID", "unknown"},
		{"record's own channel and level keys", kv{"log", noTenantLine, "channel", "CHAT", "level", "error"}, "", "$channel.$level", "unknown.info"},
		{"a subscript of the tenant", kv{"log", "plain text", "tenant", "AGM"}, "AGM", "$tenant['x']", "unknown"},
		{"the plugin's payload", kv{"log", docLine, "payload", "x"}, "AGM", "$payload['response']['chat']", "true"},
		{"any other key is the record's", kv{"log", "plain text", "org", "acme", "tenant", "AGM"}, "", "$org", "acme"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := enriched(t, v1(eventTime(recordTime), tc.body), NewLayout("log", ""))
			if tc.tenant != "" {
				ev.Tenant = []byte(tc.tenant)
			}
			got := template.MustParse(tc.tmpl, template.Options{}).Append(nil, ev)
			if string(got) != tc.want {
				t.Errorf("%s = %q, want %q", tc.tmpl, got, tc.want)
			}
		})
	}
}
