package pipeline

import (
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
)

// A routing key (and url, mask, mask_key, default_tenant) that is present
// but names nothing must stop the instance: `tenants ${AGM_T}` with AGM_T
// set to " " would otherwise be an allow-list that takes every tenant, and
// `url ${ES_URL:-}` the default destination (attacker review, item B).
// oldHost: Fluent Bit before 5.1.1 expanded ${VAR} before the plugin saw
// the value; otherwise the host hands the Env keys over raw and the plugin
// expands them from env.
func TestAKeySetToNothingRefusesStart(t *testing.T) {
	env := map[string]string{"BLANK": " ", "NEWLINE": "\n", "COMMAS": " , ,\n", "AGM": "AGM"}
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok && v != ""
	}
	tests := []struct {
		name    string
		oldHost bool
		key     string
		value   string
		refused bool
	}{
		{"a blank allow-list", true, "tenants", " ", true},
		{"a line break as allow-list", true, "tenants", "\n", true},
		{"separators only as deny-list", true, "exclude_tenants", " ,\n,\t", true},
		{"a blank known_tenants", true, "known_tenants", "\r\n", true},
		{"a blank mask", true, "mask", " ", true},
		{"a blank default tenant", true, "default_tenant", " ", true},
		{"a blank url", true, "url", " \n", true},
		{"a variable set to a blank", false, "tenants", "${BLANK}", true},
		{"a variable set to a line break", false, "exclude_tenants", "${NEWLINE}", true},
		{"a variable set to separators", false, "known_tenants", "${COMMAS}", true},
		{"an empty default of an unset variable", false, "tenants", "${NOT_SET:-}", true},
		{"an empty default in the deny-list", false, "exclude_tenants", "${NOT_SET:-}", true},
		{"an empty default for the default tenant", false, "default_tenant", "${NOT_SET:-}", true},
		{"an empty default for mask_key", false, "mask_key", "${NOT_SET:-}", true},
		{"an empty default for the url", false, "url", "${NOT_SET:-}", true},
		{"an unset variable in the url", false, "url", "${NOT_SET}", true},
		{"a blank variable in the url", false, "url", "${BLANK}", true},
		{"a variable that names a tenant", false, "tenants", "${AGM}", false},
		{"a default that names a tenant", false, "tenants", "${NOT_SET:-AGM}", false},
		{"a url from a default", false, "url", "${NOT_SET:-http://127.0.0.1:9200}", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]string{"sink": "elasticsearch", "plugin_log_level": "off", tc.key: tc.value}
			p, err := NewWith("ctlive.0", config.MapGetter(props), Options{RawEnv: !tc.oldHost, LookupEnv: lookup})
			if p != nil {
				p.Close()
			}
			switch {
			case !tc.refused && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused && err == nil:
				t.Fatalf("%s %q started", tc.key, tc.value)
			case tc.refused && !strings.HasPrefix(err.Error(), tc.key):
				t.Errorf("the error does not name %s first: %v", tc.key, err)
			}
		})
	}
}
