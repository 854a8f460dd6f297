// Package enrich is the one stage where a decoded record becomes the event
// that leaves the plugin: the line is parsed, the record's one tenant is
// decided (default_tenant included), the routing decision is made, and
// credentials and personal data are replaced in every field, in the line
// and in the record's other values, once. Encoders (package record) and
// sinks only read the result, so none of them can emit an unredacted value.
//
// The flow of a flush: decode (record.Entry) → Enrich (this package) →
// encode (record) → deliver (sink).
package enrich

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/parser"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/redact"
)

// Config is what an output instance's keys say about enrichment.
type Config struct {
	LogKey       string // log_key: the key holding the CTLive line ("" is "log")
	NestUnder    string // nest_under: put the added fields in one map under this key
	TimeFromLine bool   // time_from_line: the record's time becomes the line's own

	Components   []string // components: more names that are never tenants
	KnownTenants []string // known_tenants: when set, the only leading tokens taken as tenants

	Tenants        []string // tenants: routing allow-list
	ExcludeTenants []string // exclude_tenants: routing deny-list
	DefaultTenant  string   // default_tenant: the tenant of records that have none

	// Redact replaces credentials (contract, "Credentials and personal
	// data"); on unless the user sets `redact off`.
	Redact bool
	// Mask lists the fields whose values are personal data to replace by a
	// keyed HMAC everywhere in the record (`mask userID`).
	Mask []string
	// MaskKey is the HMAC key: required by Mask, and when set, tokens are
	// digested with it too.
	MaskKey string
}

// Stage enriches events. It is immutable after New and safe for concurrent
// use; each flush brings its own Work.
type Stage struct {
	layout       *record.Layout
	parser       *parser.Parser
	timeFromLine bool
	route        router
	redact       bool
	tokens       *redact.Digester // tokens' digest: keyed when mask_key is set
	mask         masking
}

// New checks the configuration and returns the stage. Every bad value is
// reported, joined into one error.
func New(c Config) (*Stage, error) {
	var errs []error
	s := &Stage{
		layout:       record.NewLayout(c.LogKey, c.NestUnder),
		parser:       parser.New(parser.Options{Components: c.Components, KnownTenants: c.KnownTenants}),
		timeFromLine: c.TimeFromLine,
		route:        newRouter(c.Tenants, c.ExcludeTenants, c.DefaultTenant),
		redact:       c.Redact,
		tokens:       redact.NewDigester([]byte(c.MaskKey)),
	}
	if err := checkMaskKey(c.MaskKey); err != nil {
		errs = append(errs, fmt.Errorf("mask_key: %w", err))
	} else if s.mask, err = newMasking(c.Mask, c.MaskKey); err != nil {
		errs = append(errs, fmt.Errorf("mask: %w", err))
	}
	if slices.Contains(s.route.allow, "") || slices.Contains(s.route.deny, "") {
		errs = append(errs, errors.New("tenants: a tenant name is empty"))
	}
	return s, errors.Join(errs...)
}

// Layout is where the added fields go; sinks check their own keys against it.
func (s *Stage) Layout() *record.Layout { return s.layout }

// Redacts reports whether credentials are replaced (false only with
// `redact off`).
func (s *Stage) Redacts() bool { return s.redact }

// Describe summarises the stage for the instance's start-up log line.
func (s *Stage) Describe() string {
	parts := []string{"log_key=" + s.layout.LogKey}
	if d := s.route.describe(); d != "" {
		parts = append(parts, d)
	}
	switch {
	case !s.redact:
		parts = append(parts, "redact=off")
	case s.tokens.Keyed():
		parts = append(parts, "redact=hmac")
	default:
		parts = append(parts, "redact=sha256")
	}
	if m := s.mask.describe(); m != "" {
		parts = append(parts, "mask="+m)
	}
	return strings.Join(parts, " ")
}

// Enrich fills ev from the decoded entry e of a chunk with tag. Its values
// point into e's chunk and into w, and stay valid until w is Reset.
func (s *Stage) Enrich(ev *record.Event, e *record.Entry, tag string, w *Work) {
	line := ev.Reset(e, tag, s.layout, &w.keys)
	if e.Group != record.NotGroup {
		// Group markers frame records; they are always passed on, their
		// own values protected.
		if s.redact || s.mask.users() {
			s.protectMarker(ev, w)
		}
		return
	}
	r := &ev.Fields
	shaped := false
	if line != nil {
		s.parser.Parse(line, r)
		shaped = r.Shaped()
	}
	if shaped {
		if r.Tenant != nil && tenantInSecret(r) {
			// Read from a credential (password=CHAT_<secret>_<uuid>): never
			// a destination's name (an index, a tag, X-Scope-OrgID).
			r.Tenant = nil
		}
		ev.Tenant = r.Tenant
	}
	if ev.Tenant == nil && s.route.fallback != nil {
		ev.Tenant = s.route.fallback
		if shaped {
			r.Tenant = s.route.fallback // CTLive records also get the field
		}
	}
	ev.Routed = s.route.admit(ev.Tenant)
	if !ev.Routed {
		return // not sent from here: nothing more to do
	}
	if shaped && s.timeFromLine && r.TimeText != nil {
		ev.SetTime(r.Time)
	}
	if s.redact || s.mask.on() {
		s.protect(ev, line, shaped, w)
		if !ev.Routed {
			return // its tenant was inside a credential: routed again (reroute)
		}
	}
	ev.Complete(shaped)
}

// reroute gives a record whose tenant turned out to be inside a credential
// no tenant, or default_tenant, and routes it again: no destination is
// named after a credential.
func (s *Stage) reroute(ev *record.Event) {
	ev.Fields.Tenant, ev.Tenant = nil, nil
	if s.route.fallback != nil {
		ev.Fields.Tenant, ev.Tenant = s.route.fallback, s.route.fallback
	}
	ev.Routed = s.route.admit(ev.Tenant)
}

// tenantInSecret reports whether the tenant overlaps a credential the
// parser found, or may overlap one past parser.MaxSecrets that it did not
// keep (parser.Result.InSecret). A leading token's tenant always stands:
// no credential's text can hold it.
func tenantInSecret(r *parser.Result) bool {
	if r.TooManySecrets {
		for _, sc := range r.Scopes {
			if unsafe.SliceData(sc) == unsafe.SliceData(r.Tenant) {
				return false
			}
		}
	}
	return r.InSecret(r.Tenant)
}

// DecodeChunk decodes and enriches every entry of a chunk, each into its own
// Event, as the plugin does. Tests and tools use it; the plugin itself works
// through chunks in reused windows.
func (s *Stage) DecodeChunk(chunk []byte, tag string) ([]*record.Event, error) {
	var out []*record.Event
	w := new(Work)
	for len(chunk) > 0 {
		var e record.Entry
		rest, err := e.Decode(chunk)
		if err != nil {
			return out, err
		}
		ev := new(record.Event)
		s.Enrich(ev, &e, tag, w)
		out = append(out, ev)
		chunk = rest
	}
	return out, nil
}

// Defaults is the configuration of an instance that sets no key.
func Defaults() Config {
	return Config{LogKey: "log", TimeFromLine: true, Redact: true}
}

// MustNew is New for configurations known to be good (tests, tools).
func MustNew(c Config) *Stage {
	s, err := New(c)
	if err != nil {
		panic(err)
	}
	return s
}

// RedactText returns text with the credentials the parser's rules find in
// any text replaced, as the plugin replaces them in a record's other
// values; text itself when it holds none. For tools that show lines they
// did not receive through the plugin (ctlive-inspect's timelines). The
// result is valid until w is Reset.
func (s *Stage) RedactText(text []byte, w *Work) []byte {
	w.echoes = w.echoes[:0]
	return s.redactText(nil, text, w)
}
