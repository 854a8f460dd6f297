package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/record"
)

// Type is a key's kind of value, as Fluent Bit's config map names it
// (include/fluent-bit/flb_config_map.h, FLB_CONFIG_MAP_*): `fluent-bit -o
// ctlive -h` prints it.
type Type int

// The values are Fluent Bit's, so the plugin's registration copies them as
// they are.
const (
	String  Type = 0  // FLB_CONFIG_MAP_STR
	Int     Type = 2  // FLB_CONFIG_MAP_INT
	Bool    Type = 3  // FLB_CONFIG_MAP_BOOL
	Size    Type = 5  // FLB_CONFIG_MAP_SIZE
	Time    Type = 6  // FLB_CONFIG_MAP_TIME
	Refused Type = 7  // FLB_CONFIG_MAP_DEPRECATED: Fluent Bit accepts it (with a warning) so that the sink can say what to use instead
	List    Type = 30 // FLB_CONFIG_MAP_CLIST
)

// Key is one property of a ctlive output instance.
type Key struct {
	Name    string
	Type    Type
	Default string // as written in a configuration; "" for none or a default that depends on the sink
	Desc    string // one line, for `-h`
	// Sinks lists the sinks that read the key; nil means every sink.
	Sinks []string
	// Env marks a key whose unset ${VAR} must stop the instance: an
	// allow-list or deny-list that silently became empty would route every
	// tenant, a mask without its key would not mask, a url would become the
	// default destination, and a tag, index or tenant_id template written
	// `${tenant}` (the contract's templates are `$tenant`) would send every
	// tenant to one destination. On hosts with the config map Fluent Bit hands
	// such a key over raw (FLB_CONFIG_MAP_DYNAMIC_ENV) and New expands it
	// itself. A value that is blank once expanded (`${VAR:-}`, a variable
	// set to spaces or a line break) stops it too, on every host.
	Env bool
	// Template marks a template over the record's fields ($tenant).
	Template bool
}

var (
	httpSinks = []string{"elasticsearch", "loki"}
	onlyES    = []string{"elasticsearch"}
	onlyLoki  = []string{"loki"}
)

// Keys is every property the plugin reads: pipeline.New's and each sink's.
// The config map the plugin registers with Fluent Bit, the misspelling
// check, `fluent-bit -o ctlive -h` and the README's tables come from here;
// TestEveryKeyReadIsDeclared and TestReadmeListsEveryKey keep it honest.
var Keys = withRefused([]Key{
	{Name: "sink", Default: DefaultSink, Desc: "where records go: stdout, forward, elasticsearch or loki"},
	{Name: "log_key", Default: "log", Desc: "the record key holding the CTLive line"},
	{Name: "nest_under", Desc: "put the added fields in one map under this key (default: at the top level)"},
	{Name: "time_from_line", Type: Bool, Default: "on", Desc: "the record's timestamp becomes the line's own"},
	{Name: "components", Type: List, Desc: "extra component names that are never tenants, e.g. KAFKA, SMTP"},
	{Name: "known_tenants", Type: List, Env: true, Desc: "when set, only these leading tokens are tenants"},
	{Name: "tenants", Type: List, Env: true, Desc: "routing allow-list: only these tenants go to this instance"},
	{Name: "exclude_tenants", Type: List, Env: true, Desc: "routing deny-list: these tenants never go to this instance"},
	{Name: "default_tenant", Env: true, Desc: "tenant of records that have none"},
	{Name: "redact", Type: Bool, Default: "on", Desc: "replace session IDs, tokens and passwords by digests"},
	{Name: "mask", Type: List, Env: true, Desc: "fields to replace by a keyed hash, e.g. userID, sessionID"},
	{Name: "mask_key", Env: true, Desc: "the secret of mask's hash, e.g. ${CTLIVE_MASK_KEY}"},
	{Name: "plugin_log_level", Default: "info", Desc: "the plugin's own log level: off, error, warn, info, debug or trace"},
	{Name: "go_gc_percent", Type: Int, Desc: "debug.SetGCPercent for the whole process (default: Go's, 100)"},
	{Name: "go_memory_limit", Type: Size, Desc: "debug.SetMemoryLimit for the whole process, e.g. 512M"},
	{Name: "metrics_listen", Desc: "host:port serving /metrics in the Prometheus text format (one listener per process)"},
	{Name: "metrics_max_tenants", Type: Int, Default: "50", Desc: "tenants with their own metric series; the rest count as other"},

	{Name: "json_date_key", Default: "date", Sinks: []string{"stdout"}, Desc: "stdout: the time member written first; off for none"},
	{Name: "json_date_format", Default: "double", Sinks: []string{"stdout"}, Desc: "stdout: double, epoch or iso8601"},

	{Name: "url", Env: true, Sinks: []string{"forward", "elasticsearch", "loki"},
		Desc: "forward: tcp://127.0.0.1:24224 or unix:///path; elasticsearch: http://127.0.0.1:9200; loki: http://127.0.0.1:3100"},
	{Name: "tag", Default: "ctlive.$tenant.$event", Env: true, Template: true, Sinks: []string{"forward"}, Desc: "forward: tag of each record sent (template)"},
	{Name: "require_ack_response", Type: Bool, Default: "on", Sinks: []string{"forward"}, Desc: "forward: wait for in_forward's ack of each message"},
	{Name: "compress", Sinks: []string{"forward", "elasticsearch", "loki"}, Desc: "forward: none (default) or gzip; elasticsearch, loki: gzip (default) or none"},
	{Name: "connect_timeout", Type: Time, Default: "5s", Sinks: []string{"forward"}, Desc: "forward: bound of a connection attempt"},
	{Name: "write_timeout", Type: Time, Default: "10s", Sinks: []string{"forward"}, Desc: "forward: bound of writing one message"},
	{Name: "ack_timeout", Type: Time, Default: "30s", Sinks: []string{"forward"}, Desc: "forward: bound of waiting for one ack"},
	{Name: "max_message_size", Type: Size, Default: "6144000", Sinks: []string{"forward"}, Desc: "forward: bytes per message, below in_forward's buffer_max_size"},

	{Name: "index", Default: "ctlive-$tenant-%Y.%m.%d", Env: true, Template: true, Sinks: onlyES, Desc: "elasticsearch: index template with strftime on the record's time"},
	{Name: "time_key", Default: "@timestamp", Sinks: onlyES, Desc: "elasticsearch: member holding the RFC 3339 time"},
	{Name: "id", Type: Bool, Default: "on", Sinks: onlyES, Desc: "elasticsearch: deterministic _id with create, so a retry stores nothing twice"},
	{Name: "include_tag_key", Type: Bool, Default: "off", Sinks: onlyES, Desc: "elasticsearch: add the Fluent Bit tag"},
	{Name: "tag_key", Default: "_flb-key", Sinks: onlyES, Desc: "elasticsearch: member holding the tag"},
	{Name: "replace_dots", Type: Bool, Default: "off", Sinks: onlyES, Desc: "elasticsearch: '.' in keys, at every depth, becomes '_' (Fluent Bit es's Replace_Dots)"},
	{Name: "max_request_size", Type: Size, Sinks: httpSinks, Desc: "elasticsearch: bulk body cap (default 5M); loki: push body cap (default 1M)"},

	{Name: "tenant_id", Env: true, Template: true, Sinks: onlyLoki, Desc: "loki: X-Scope-OrgID template, e.g. $tenant; unset sends none"},
	{Name: "labels", Type: List, Default: "service, tenant, channel, event, level", Sinks: onlyLoki, Desc: "loki: stream labels"},
	{Name: "label_keys", Type: List, Sinks: onlyLoki, Desc: "loki: more stream labels"},
	{Name: "structured_metadata", Type: List, Default: "contactID, sessionID, messageID, userID", Sinks: onlyLoki, Desc: "loki: per-entry metadata; none for none"},
	{Name: "line_format", Default: "raw", Sinks: onlyLoki, Desc: "loki: raw (the original line) or json (the enriched record)"},
	{Name: "encoding", Default: "protobuf", Sinks: onlyLoki, Desc: "loki: protobuf (snappy) or json (gzip)"},

	{Name: "http_user", Sinks: httpSinks, Desc: "basic auth user"},
	{Name: "http_passwd", Sinks: httpSinks, Desc: "basic auth password"},
	{Name: "api_key", Sinks: httpSinks, Desc: "elasticsearch: API key (Authorization: ApiKey)"},
	{Name: "bearer_token", Sinks: httpSinks, Desc: "Authorization: Bearer token"},
	{Name: "ca_file", Sinks: httpSinks, Desc: "PEM bundle to verify the server (default: the system's roots)"},
	{Name: "client_cert_file", Sinks: httpSinks, Desc: "client certificate for mutual TLS"},
	{Name: "client_key_file", Sinks: httpSinks, Desc: "client key for mutual TLS"},
	{Name: "verify_certificate", Type: Bool, Default: "on", Sinks: httpSinks, Desc: "verify the server's certificate"},
	{Name: "timeout", Type: Time, Default: "30s", Sinks: httpSinks, Desc: "bound of a whole request"},
})

// refusedKeys are keys of Fluent Bit's own es and loki outputs that users
// copy: the sinks refuse each with what to use instead. They are in the
// config map so that Fluent Bit lets them through to that hint.
var refusedKeys = []struct {
	sink  string
	names []string
}{
	{"elasticsearch", []string{"logstash_format", "logstash_prefix", "logstash_prefix_key", "logstash_dateformat", "type",
		"generate_id", "id_key", "write_operation", "path", "pipeline", "time_key_format",
		"current_time_key", "cloud_id", "cloud_auth", "aws_auth"}},
	{"loki", []string{"uri", "tenant_id_key", "label_map_path", "auto_kubernetes_labels", "remove_keys", "drop_single_key",
		"structured_metadata_map_keys", "header"}},
}

func withRefused(keys []Key) []Key {
	for _, r := range refusedKeys {
		for _, name := range r.names {
			keys = append(keys, Key{Name: name, Type: Refused, Sinks: []string{r.sink},
				Desc: "not a ctlive key (Fluent Bit's own " + r.sink + " output has it): refused, saying what to use"})
		}
	}
	return keys
}

// LookupKey returns the declared key named name (any case).
func LookupKey(name string) (Key, bool) {
	for _, k := range Keys {
		if strings.EqualFold(k.Name, name) {
			return k, true
		}
	}
	return Key{}, false
}

// misspellings maps each likely misspelling of a key to the key: a plural
// or singular, '-' or nothing for '_', a letter dropped, doubled or swapped
// with the next. Names that are keys themselves are left out.
var misspellings = func() map[string]string {
	m := map[string]string{}
	for _, k := range Keys {
		if k.Type == Refused {
			continue
		}
		for _, v := range variants(k.Name) {
			if _, isKey := LookupKey(v); !isKey && v != "" {
				m[v] = k.Name
			}
		}
	}
	return m
}()

func variants(name string) []string {
	var out []string
	if s, ok := strings.CutSuffix(name, "s"); ok {
		out = append(out, s)
	} else {
		out = append(out, name+"s")
	}
	if strings.Contains(name, "_") {
		out = append(out, strings.ReplaceAll(name, "_", "-"), strings.ReplaceAll(name, "_", ""))
	}
	for i := range len(name) {
		out = append(out, name[:i]+name[i+1:], name[:i+1]+name[i:])
		if i+1 < len(name) && name[i] != name[i+1] {
			out = append(out, name[:i]+name[i+1:i+2]+name[i:i+1]+name[i+2:])
		}
	}
	return out
}

// Misspellings lists every name checkMisspelt asks Fluent Bit about.
func Misspellings() []string {
	names := make([]string, 0, len(misspellings))
	for v := range misspellings {
		names = append(names, v)
	}
	slices.Sort(names)
	return names
}

// checkMisspelt refuses a property set under a likely misspelling of a
// key. Fluent Bit before 5.1.1 hands a Go plugin only the values of the
// keys it asks for, so a typo (`tenant AGM`) would otherwise be ignored
// and, in an allow-list, route every tenant; asking for each misspelling is
// what a plugin can do there. Hosts with the config map refuse unknown keys
// themselves, before the plugin starts.
func checkMisspelt(r *config.Reader, get config.Getter) {
	for _, v := range Misspellings() {
		if strings.TrimSpace(get(v)) != "" {
			r.Errorf(v, fmt.Errorf("unknown key: did you mean %s?", misspellings[v]))
		}
	}
}

// keysOfOtherSinks says, one line each, which keys that are set only
// another sink reads (`index` with sink stdout): Fluent Bit accepts every
// key of the config map whatever the sink, so without a word a key left
// from an earlier sink, or written for the wrong one, would be ignored.
func keysOfOtherSinks(get config.Getter, sink string) []string {
	var out []string
	for _, k := range Keys {
		if k.Sinks == nil || slices.Contains(k.Sinks, sink) || strings.TrimSpace(get(k.Name)) == "" {
			continue
		}
		if k.Type == Refused {
			theirs := strings.Replace(k.Sinks[0], "elasticsearch", "es", 1) // Fluent Bit's plugin names
			out = append(out, fmt.Sprintf("%s is a key of Fluent Bit's own %s output, not of ctlive: sink %s ignores it", k.Name, theirs, sink))
			continue
		}
		out = append(out, fmt.Sprintf("%s is read only by sink %s: sink %s ignores it", k.Name, strings.Join(k.Sinks, " and "), sink))
	}
	return out
}

// expandEnvKeys expands the Env keys' ${VAR} when the host hands them over
// raw, and returns an error for each variable that is unset or empty: such
// a key must not quietly become empty (an allow-list would route every
// tenant). Fluent Bit's own variables (@SET, a YAML env section) are not
// the process's, so they cannot be seen here: the error says so.
func expandEnvKeys(get config.Getter, opts Options) (config.Getter, []error) {
	if !opts.RawEnv {
		return get, nil
	}
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = config.LookupEnv
	}
	var errs []error
	expanded := map[string]string{}
	for _, k := range Keys {
		if !k.Env {
			continue
		}
		raw := get(k.Name)
		if k.Template {
			// ${tenant:-AGM} has a default, so Expand takes it quietly, and
			// every tenant would get AGM's tag, index or Loki tenant.
			if name, ok := fieldVariable(raw, lookup); ok {
				errs = append(errs, fmt.Errorf("%s: ${%s…} is an environment variable, unset, named like the record's field %s: "+
					"a template writes the field $%s", k.Name, name, name, name))
				continue
			}
		}
		v, unset := config.Expand(raw, lookup)
		for _, name := range unset {
			errs = append(errs, fmt.Errorf("%s: ${%s} is unset or empty, and this key must not silently lose its value: "+
				"set %s in Fluent Bit's process environment (variables from @SET or a YAML env section are not visible "+
				"to the plugin for this key), or leave the key out for no value", k.Name, name, name))
		}
		if len(unset) == 0 && raw != "" && v != raw && strings.TrimSpace(v) == "" {
			// ${VAR:-}, or a variable set to blanks: the key is set and
			// names nothing. Reported here, where the variable is known;
			// the key then reads as unset, so checkBlank says nothing more.
			errs = append(errs, fmt.Errorf("%s: %s expands to nothing, and a key that is set must name something: "+
				"leave the key out for no value", k.Name, raw))
			v = ""
		}
		expanded[k.Name] = v
	}
	return func(key string) string {
		if v, ok := expanded[strings.ToLower(key)]; ok {
			return v
		}
		return get(key)
	}, errs
}

// fieldVariable returns the name of the first ${name} or ${name:-default}
// in v that is named like one of the contract's fields (record.FieldNames,
// any case) and unset in the environment: a template's $name written the
// shell's way.
func fieldVariable(v string, lookup func(string) (string, bool)) (string, bool) {
	for rest := v; ; {
		i := strings.Index(rest, "${")
		if i < 0 {
			return "", false
		}
		rest = rest[i+2:]
		end := strings.IndexAny(rest, ":}")
		if end < 0 {
			return "", false
		}
		name := rest[:end]
		for _, f := range record.FieldNames {
			if strings.EqualFold(name, f) {
				if _, set := lookup(name); !set {
					return name, true
				}
			}
		}
	}
}

// checkBlank refuses an Env key that is set to blanks only (spaces, a line
// break: what a variable Fluent Bit expanded can hold), which would read as
// unset: the default tenant dropped, the default url. List keys are checked
// by names, which also refuses `tenants ,,,`. Only the keys sinkName reads
// are looked at.
func checkBlank(r *config.Reader, sinkName string) {
	for _, k := range Keys {
		if !k.Env || k.Type == List || k.Sinks != nil && !slices.Contains(k.Sinks, sinkName) {
			continue
		}
		if r.Given(k.Name) == "" || r.Raw(k.Name) != "" {
			continue
		}
		r.Errorf(k.Name, fmt.Errorf("is set to blanks only, and a key that is set must name something: leave the key out for no value"))
	}
}
