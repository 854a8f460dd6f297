package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/pipeline"
)

// The example configurations must keep working as the plugin's keys evolve:
// every ctlive output in them starts with exactly those properties.
func TestExampleConfigurationsAreValid(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	caFile, _ := tlsProxy(t, "http://127.0.0.1:1")
	data, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(ca, data, 0o600)

	files := map[string]func(string) []map[string]string{
		"../fluent-bit.conf":              classicOutputs,
		"../examples/tenant-routing.conf": classicOutputs,
		"../fluent-bit.yaml":              yamlOutputs,
		"../examples/tenant-routing.yaml": yamlOutputs,
	}
	for file, read := range files {
		outputs := read(file)
		if len(outputs) == 0 {
			t.Errorf("%s: no ctlive output found", file)
		}
		for i, props := range outputs {
			if props["ca_file"] != "" {
				props["ca_file"] = ca // the example's path exists only on a real host
			}
			p, err := pipeline.New("ctlive.0", config.MapGetter(props))
			if err != nil {
				t.Errorf("%s: ctlive output %d does not start: %v", file, i, err)
				continue
			}
			p.Close()
		}
	}
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expand replaces ${VAR} and ${VAR:-default} as Fluent Bit does, with a
// placeholder for unset variables (secrets).
func expand(v string) string {
	return envRef.ReplaceAllStringFunc(v, func(m string) string {
		g := envRef.FindStringSubmatch(m)
		if g[2] != "" {
			return g[3]
		}
		return "secret-from-env"
	})
}

// core keys belong to Fluent Bit, not the plugin.
func core(key string) bool {
	switch strings.ToLower(key) {
	case "name", "match", "match_regex", "alias", "workers", "retry_limit", "log_level":
		return true
	}
	return false
}

func classicOutputs(file string) []map[string]string {
	f, err := os.Open(file)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	var out []map[string]string
	var cur map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			cur = nil
			if strings.EqualFold(line, "[OUTPUT]") {
				cur = map[string]string{}
				out = append(out, cur)
			}
		case cur != nil:
			k, v, _ := strings.Cut(line, " ")
			cur[strings.ToLower(k)] = expand(strings.TrimSpace(v))
		}
	}
	return onlyCtlive(out)
}

func yamlOutputs(file string) []map[string]string {
	data, err := os.ReadFile(file)
	if err != nil {
		panic(err)
	}
	var out []map[string]string
	var cur map[string]string
	inOutputs := false
	for _, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		indent := len(raw) - len(strings.TrimLeft(raw, " "))
		if indent <= 2 {
			inOutputs = line == "outputs:"
			cur = nil
			continue
		}
		if !inOutputs {
			continue
		}
		if strings.HasPrefix(line, "- ") {
			cur = map[string]string{}
			out = append(out, cur)
			line = strings.TrimPrefix(line, "- ")
		}
		k, v, _ := strings.Cut(line, ":")
		cur[strings.ToLower(strings.TrimSpace(k))] = expand(strings.TrimSpace(v))
	}
	return onlyCtlive(out)
}

func onlyCtlive(all []map[string]string) []map[string]string {
	var out []map[string]string
	for _, o := range all {
		if o["name"] != "ctlive" {
			continue
		}
		props := map[string]string{"plugin_log_level": "error"}
		for k, v := range o {
			if !core(k) {
				props[k] = v
			}
		}
		out = append(out, props)
	}
	return out
}
