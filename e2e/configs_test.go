package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
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

	for file, read := range exampleFiles {
		outputs := forPipeline(read(file))
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

// exampleFiles are every configuration the project ships, with the reader
// of their ctlive outputs.
var exampleFiles = map[string]func(string) []map[string]string{
	"../fluent-bit.conf":                     classicOutputs,
	"../examples/tenant-routing.conf":        classicOutputs,
	"../examples/kubernetes/fluent-bit.conf": classicOutputs,
	"../examples/kubernetes/values.yaml":     helmOutputs,
	"../fluent-bit.yaml":                     yamlOutputs,
	"../examples/tenant-routing.yaml":        yamlOutputs,
}

// Each ctlive output of the examples loads in the host harness as Fluent
// Bit 5.1.1 loads it (its config map checks the names), with workers set:
// without them Fluent Bit flushes on its engine thread.
func TestExampleConfigurationsLoadInTheHost(t *testing.T) {
	for file, read := range exampleFiles {
		outputs := read(file)
		h := flbhost.Start(t, hostBin, pluginSO, flbhost.Options{Env: []string{
			"AGM_ES_API_KEY=k", "LOKI_TOKEN=t", "SHARED_ES_PASSWORD=p"}})
		for i, props := range outputs {
			if props["workers"] == "" {
				t.Errorf("%s: ctlive output %d does not set workers", file, i)
			}
			if props["ca_file"] != "" {
				delete(props, "ca_file") // the example's path exists only on a real host
			}
			if props["metrics_listen"] != "" {
				props["metrics_listen"] = "127.0.0.1:0" // the example's port may be taken here
			}
			props["plugin_log_level"] = "error"
			delete(props, "name")
			in := h.NewMap(props)
			if in.Init() != flbhost.FLBOK {
				t.Errorf("%s: ctlive output %d does not start in the host:\n%s", file, i, h.Stderr())
				continue
			}
			in.Exit()
		}
		h.Close()
	}
}

// helmOutputs reads the [OUTPUT] sections of a Helm values file's
// config.outputs block (classic format, indented).
func helmOutputs(file string) []map[string]string {
	data, err := os.ReadFile(file)
	if err != nil {
		panic(err)
	}
	_, block, ok := strings.Cut(string(data), "\n  outputs: |\n")
	if !ok {
		panic(file + ": no config.outputs block")
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "    ") {
			break // the block ends at the next key
		}
		lines = append(lines, l)
	}
	tmp, err := os.CreateTemp("", "helm-outputs-*.conf")
	if err != nil {
		panic(err)
	}
	defer os.Remove(tmp.Name())
	tmp.WriteString(strings.Join(lines, "\n"))
	tmp.Close()
	return classicOutputs(tmp.Name())
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
			cur[strings.ToLower(k)] = strings.TrimSpace(v)
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
		cur[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return onlyCtlive(out)
}

// onlyCtlive keeps the ctlive outputs, as written.
func onlyCtlive(all []map[string]string) []map[string]string {
	var out []map[string]string
	for _, o := range all {
		if o["name"] == "ctlive" {
			out = append(out, o)
		}
	}
	return out
}

// forPipeline turns sections into what pipeline.New gets: ${VAR} expanded
// and Fluent Bit's own keys left out.
func forPipeline(outputs []map[string]string) []map[string]string {
	var out []map[string]string
	for _, o := range outputs {
		props := map[string]string{"plugin_log_level": "error"}
		for k, v := range o {
			if !core(k) {
				props[k] = expand(v)
			}
		}
		if props["metrics_listen"] != "" {
			props["metrics_listen"] = "127.0.0.1:0" // the example's port may be taken here
		}
		out = append(out, props)
	}
	return out
}

// Every README snippet that starts a ctlive output sets workers: people
// copy them, and without workers Fluent Bit flushes on its engine thread.
func TestReadmeSnippetsSetWorkers(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(data), "```")
	found := 0
	for i := 1; i < len(blocks); i += 2 { // the odd pieces are inside fences
		b := blocks[i]
		for _, l := range strings.Split(b, "\n") {
			if strings.Contains(l, "-o ctlive") {
				found++
				if !strings.Contains(l, "workers") {
					t.Errorf("README command without workers: %s", l)
				}
			}
		}
		for _, section := range regexp.MustCompile(`(?m)^\s*- name: ctlive$|(?mi)^\s*Name\s+ctlive$`).FindAllStringIndex(b, -1) {
			found++
			rest := b[section[1]:]
			if next := regexp.MustCompile(`(?m)^\s*- name:|^\[`).FindStringIndex(rest); next != nil {
				rest = rest[:next[0]]
			}
			if !regexp.MustCompile(`(?mi)^\s*workers[: ]`).MatchString(rest) {
				t.Errorf("README ctlive section without workers:%s", b[section[0]:section[1]]+rest)
			}
		}
	}
	if found == 0 {
		t.Fatal("no ctlive snippet found in the README")
	}
}
