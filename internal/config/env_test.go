package config

import (
	"slices"
	"testing"
)

// Expand gives what src/flb_env.c flb_env_var_translate gives, quirks
// included, and names the variables it found unset.
func TestExpandMirrorsFluentBit(t *testing.T) {
	env := map[string]string{"A": "alpha", "B": "beta"}
	lookup := func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	tests := []struct {
		in, want string
		unset    []string
	}{
		{"plain", "plain", nil},
		{"${A}", "alpha", nil},
		{"x ${A} y ${B} z", "x alpha y beta z", nil},
		{"${UNSET}", "", []string{"UNSET"}},
		{"AGM, ${UNSET}", "AGM, ", []string{"UNSET"}},
		{"${UNSET:-dflt}", "dflt", nil},
		{"${UNSET:-}", "", nil},
		{"${A:-dflt}", "alpha", nil},
		// "}" is searched from the scan position: the first "}" ends the name.
		{"}${A}", "}${A}", nil},
		// A "${" without "}" ends the scan and drops the rest.
		{"${A}x${B", "alpha", nil},
		{"${", "${", nil},
		{"$A", "$A", nil},
		{"${}", "${}", nil},
	}
	for _, tc := range tests {
		got, unset := Expand(tc.in, lookup)
		if got != tc.want || !slices.Equal(unset, tc.unset) {
			t.Errorf("Expand(%q) = %q, %v; want %q, %v", tc.in, got, unset, tc.want, tc.unset)
		}
	}
}

func TestLookupEnvCountsEmptyAsUnset(t *testing.T) {
	t.Setenv("CTLIVE_TEST_EMPTY", "")
	t.Setenv("CTLIVE_TEST_SET", "v")
	if _, ok := LookupEnv("CTLIVE_TEST_EMPTY"); ok {
		t.Error("an empty variable counts as set")
	}
	if v, ok := LookupEnv("CTLIVE_TEST_SET"); !ok || v != "v" {
		t.Errorf("got %q, %v", v, ok)
	}
}
