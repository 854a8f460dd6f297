package pipeline

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
)

// recorder serves props and remembers every key asked for.
type recorder struct {
	mu    sync.Mutex
	props config.Getter
	asked map[string]bool
}

func (r *recorder) get(key string) string {
	r.mu.Lock()
	r.asked[strings.ToLower(key)] = true
	r.mu.Unlock()
	return r.props(key)
}

// sinkConfigs start each sink with the properties that make it read every
// key it has (tag_key only with include_tag_key on).
var sinkConfigs = map[string]map[string]string{
	"stdout":        {"sink": "stdout", "plugin_log_level": "off"},
	"forward":       {"sink": "forward", "plugin_log_level": "off"},
	"elasticsearch": {"sink": "elasticsearch", "include_tag_key": "on", "plugin_log_level": "off"},
	"loki":          {"sink": "loki", "tenant_id": "$tenant", "plugin_log_level": "off"},
}

// readBy starts an instance of each sink and returns, per key, the sinks
// whose start read it (the misspelling probes left out).
func readBy(t *testing.T) map[string][]string {
	t.Helper()
	probes := map[string]bool{}
	for _, v := range Misspellings() {
		probes[v] = true
	}
	read := map[string][]string{}
	for _, sink := range slices.Sorted(maps.Keys(sinkConfigs)) {
		rec := &recorder{props: config.MapGetter(sinkConfigs[sink]), asked: map[string]bool{}}
		p, err := New("ctlive.0", rec.get)
		if err != nil {
			t.Fatalf("sink %s does not start: %v", sink, err)
		}
		p.Close()
		for k := range rec.asked {
			if !probes[k] {
				read[k] = append(read[k], sink)
			}
		}
	}
	return read
}

func TestEveryKeyReadIsDeclaredWithTheSinksThatReadIt(t *testing.T) {
	read := readBy(t)
	for key, sinks := range read {
		k, ok := LookupKey(key)
		if !ok {
			t.Errorf("%s is read (by %v) but not declared in Keys: Fluent Bit would refuse it as unknown", key, sinks)
			continue
		}
		want := k.Sinks
		if want == nil {
			want = slices.Collect(maps.Keys(sinkConfigs))
		}
		slices.Sort(sinks)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(sinks, want) {
			t.Errorf("%s is read by %v, declared for %v", key, sinks, want)
		}
	}
	for _, k := range Keys {
		if _, ok := read[k.Name]; !ok {
			t.Errorf("%s is declared but no sink reads it", k.Name)
		}
	}
}

func TestKeysAreDeclaredOnceInLowerCase(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys {
		if k.Name != strings.ToLower(k.Name) || seen[k.Name] {
			t.Errorf("key %q: declared twice or not in lower case", k.Name)
		}
		seen[k.Name] = true
		if k.Desc == "" || strings.Contains(k.Desc, "\n") {
			t.Errorf("key %q: want a one-line description", k.Name)
		}
	}
}

// A default in the table is a value the key accepts: -h shows it, and a
// user copying it must get what leaving the key out gives.
func TestDeclaredDefaultsAreAccepted(t *testing.T) {
	for _, k := range Keys {
		if k.Default == "" {
			continue
		}
		sink := "stdout"
		if k.Sinks != nil {
			sink = k.Sinks[0]
		}
		props := map[string]string{k.Name: k.Default}
		for key, v := range sinkConfigs[sink] {
			props[key] = v
		}
		p, err := New("ctlive.0", config.MapGetter(props))
		if err != nil {
			t.Errorf("%s %s (its declared default) is refused: %v", k.Name, k.Default, err)
			continue
		}
		p.Close()
	}
}

func TestLikelyMisspellingsAreRefusedWithTheKeyMeant(t *testing.T) {
	tests := []struct {
		key, meant string
	}{
		{"tenant", "tenants"},
		{"exclude_tenant", "exclude_tenants"},
		{"exclude-tenants", "exclude_tenants"},
		{"excludetenants", "exclude_tenants"},
		{"mask_keys", "mask_key"},
		{"masks", "mask"},
		{"known_tenant", "known_tenants"},
		{"Log-Key", "log_key"},
		{"tenats", "tenants"},
		{"tennants", "tenants"},
		{"tenatns", "tenants"},
		{"default_tenants", "default_tenant"},
		{"labes", "labels"},
		{"component", "components"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			_, err := New("ctlive.0", config.MapGetter(map[string]string{"sink": "stdout", tc.key: "AGM"}))
			want := strings.ToLower(tc.key) + `: unknown key: did you mean ` + tc.meant + `?`
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want %q", err, want)
			}
		})
	}
}

// A key only another sink reads is not an error (Fluent Bit accepts it, and
// switching sinks should not need a new file), but it is said once at start.
func TestKeysOfAnotherSinkAreNamedAtStart(t *testing.T) {
	tests := []struct {
		name  string
		sink  string
		props map[string]string
		want  []string
	}{
		{"index with stdout", "stdout", map[string]string{"index": "ctlive"},
			[]string{"index is read only by sink elasticsearch: sink stdout ignores it"}},
		{"url with stdout", "stdout", map[string]string{"url": "http://127.0.0.1:9200"},
			[]string{"url is read only by sink forward and elasticsearch and loki: sink stdout ignores it"}},
		{"labels with elasticsearch", "elasticsearch", map[string]string{"labels": "tenant"},
			[]string{"labels is read only by sink loki: sink elasticsearch ignores it"}},
		{"a key of Fluent Bit's es output", "stdout", map[string]string{"logstash_format": "on"},
			[]string{"logstash_format is a key of Fluent Bit's own es output, not of ctlive: sink stdout ignores it"}},
		{"the sink's own keys", "forward", map[string]string{"tag": "x", "url": "tcp://127.0.0.1:24224"}, nil},
		{"keys every sink reads", "stdout", map[string]string{"tenants": "AGM", "redact": "on"}, nil},
		{"a key set to blanks", "stdout", map[string]string{"index": "  "}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := keysOfOtherSinks(config.MapGetter(tc.props), tc.sink)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The check must never refuse a real key: every declared key is set at
// once, and none is reported as a misspelling.
func TestNoDeclaredKeyCountsAsAMisspelling(t *testing.T) {
	props := map[string]string{}
	for _, k := range Keys {
		props[k.Name] = "x"
	}
	r := config.NewReader(config.MapGetter(props))
	checkMisspelt(r, config.MapGetter(props))
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestEnvKeysHandedOverRawAreExpandedOrRefused(t *testing.T) {
	env := map[string]string{"AGM_TENANTS": "AGM, ACME", "MASK_KEY": "s3cr3t-mask-key-of-32-bytes-long"}
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok && v != ""
	}
	tests := []struct {
		name    string
		props   map[string]string
		refused string // "" when it starts
	}{
		{"a set variable", map[string]string{"tenants": "${AGM_TENANTS}"}, ""},
		{"an unset variable in an allow-list", map[string]string{"tenants": "${NOT_SET}"}, "tenants: ${NOT_SET} is unset or empty"},
		{"an unset variable in a deny-list", map[string]string{"exclude_tenants": "${NOT_SET}"}, "exclude_tenants: ${NOT_SET}"},
		{"an unset variable in known_tenants", map[string]string{"known_tenants": "AGM, ${NOT_SET}"}, "known_tenants: ${NOT_SET}"},
		{"an unset default tenant", map[string]string{"default_tenant": "${NOT_SET}"}, "default_tenant: ${NOT_SET}"},
		{"an unset mask key", map[string]string{"mask": "userID", "mask_key": "${NOT_SET}"}, "mask_key: ${NOT_SET}"},
		{"an unset mask list", map[string]string{"mask": "${NOT_SET}"}, "mask: ${NOT_SET}"},
		{"a set mask key", map[string]string{"mask": "userID", "mask_key": "${MASK_KEY}"}, ""},
		{"an explicit empty default names nothing", map[string]string{"tenants": "${NOT_SET:-}"}, "tenants: ${NOT_SET:-} expands to nothing"},
		{"a default", map[string]string{"tenants": "${NOT_SET:-AGM}"}, ""},
		// The contract's templates are $tenant: ${tenant} is a variable, and
		// unset it would send every tenant to one tag, index or Loki tenant.
		{"a tag template written ${tenant}", map[string]string{"tag": "ctlive.${tenant}.$event"}, "a template writes the field $tenant"},
		{"a tenant_id written ${tenant:-AGM}", map[string]string{"tenant_id": "${tenant:-AGM}"}, "a template writes the field $tenant"},
		{"an index written ${Event:-x}", map[string]string{"index": "ctlive-${Event:-x}"}, "a template writes the field $Event"},
		{"a variable with a default that names no field", map[string]string{"tag": "${CLUSTER:-prod}.$tenant"}, ""},
		{"an index template written ${tenant}", map[string]string{"index": "ctlive-${tenant}-%Y"}, "index: ${tenant…}"},
		{"a tenant_id naming an unset variable", map[string]string{"tenant_id": "${LOKI_TENANT}"}, "tenant_id: ${LOKI_TENANT}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]string{"sink": "stdout", "plugin_log_level": "off"}
			for k, v := range tc.props {
				props[k] = v
			}
			p, err := NewWith("ctlive.0", config.MapGetter(props), Options{RawEnv: true, LookupEnv: lookup})
			switch {
			case tc.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Fatalf("err = %v, want %q", err, tc.refused)
			case err != nil && strings.Contains(err.Error(), "s3cr3t"):
				t.Fatalf("a secret in the error: %v", err)
			}
			if p != nil {
				p.Close()
			}
		})
	}
}

func TestEnvKeysExpandToTheirValue(t *testing.T) {
	lookup := func(name string) (string, bool) { return map[string]string{"T": "AGM"}[name], name == "T" }
	props := config.MapGetter(map[string]string{"tenants": "${T}, ACME", "log_key": "${T}"})
	get, errs := expandEnvKeys(props, Options{RawEnv: true, LookupEnv: lookup})
	if len(errs) != 0 || get("tenants") != "AGM, ACME" || get("TENANTS") != "AGM, ACME" {
		t.Errorf("tenants = %q, %v", get("tenants"), errs)
	}
	if get("log_key") != "${T}" {
		t.Errorf("a key that is not Env is left to Fluent Bit: log_key = %q", get("log_key"))
	}
	get, _ = expandEnvKeys(props, Options{})
	if get("tenants") != "${T}, ACME" {
		t.Errorf("without RawEnv the host has expanded already: %q", get("tenants"))
	}
}

// The README's configuration tables list exactly the declared keys.
func TestReadmeListsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "\n## Configuration")
	end := strings.Index(text[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README has no Configuration section")
	}
	row := regexp.MustCompile("(?m)^\\| ((?:`[a-z_]+`(?:, )?)+) \\|")
	name := regexp.MustCompile("`([a-z_]+)`")
	documented := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(text[start:start+1+end], -1) {
		for _, n := range name.FindAllStringSubmatch(m[1], -1) {
			documented[n[1]] = true
		}
	}
	for _, k := range Keys {
		if k.Type != Refused && !documented[k.Name] {
			t.Errorf("%s is not in the README's configuration tables", k.Name)
		}
		delete(documented, k.Name)
	}
	for n := range documented {
		t.Errorf("the README documents %s, which is not a declared key", n)
	}
}
