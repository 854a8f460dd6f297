package loki

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/template"
)

// valueKind says where a label's or a metadata pair's value comes from.
type valueKind uint8

const (
	kindStatic  valueKind = iota // fixed text
	kindField                    // a record accessor: a contract field or a record key, maybe with subscripts
	kindTag                      // $TAG
	kindTagPart                  // $TAG[n]
)

// spec is one item of `labels` or `structured_metadata`: a name and where
// its value comes from.
type spec struct {
	name   string
	kind   valueKind
	static string
	key    string
	path   []template.PathElem
	part   int
	src    string // the item as written, for messages
	field  int    // the single-valued contract field key names, or -1
}

// singleValued are the contract fields Event.Value returns.
var singleValued = func() map[string]int {
	m := map[string]int{}
	for i, name := range record.FieldNames {
		switch i {
		case record.FieldScopes, record.FieldPayload, record.FieldStack:
		default:
			m[name] = i
		}
	}
	return m
}()

// highCardinality are the fields that must never be labels: each value
// (one per contact, session, message, line...) would be a Loki stream of its
// own, which Loki refuses past a limit and indexes at great cost. They
// belong in structured metadata or the line.
var highCardinality = map[string]string{
	"contactID": "one value per contact",
	"sessionID": "one value per agent session",
	"messageID": "one value per message",
	"userID":    "one value per customer or agent",
	"time":      "one value per line",
	"message":   "the line's text",
	"url":       "unbounded",
	"payload":   "JSON documents",
	"stack":     "stack traces",
	"error":     "error messages",
}

// splitItems splits a comma-separated list, ignoring commas inside
// brackets and quotes so that $payload['a,b'] stays one item.
func splitItems(s string) []string {
	var items []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' && depth > 0:
			quoted = !quoted // a doubled quote toggles twice: still inside
		case quoted:
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case c == ',' && depth == 0:
			items = append(items, s[start:i])
			start = i + 1
		}
	}
	items = append(items, s[start:])
	var out []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

func isNameStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isNameByte(c byte) bool  { return isNameStart(c) || '0' <= c && c <= '9' }

// validName reports whether s is a Loki label name: [a-zA-Z_][a-zA-Z0-9_]*.
func validName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

// sanitizeName makes a derived name valid the way Fluent Bit's loki output
// does (pack_label_key): other characters become '_', and a leading digit
// gets a '_' before it.
func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !isNameByte(c) {
			b[i] = '_'
		}
	}
	if len(b) == 0 || !isNameStart(b[0]) {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

// parseSpec reads one item: `field`, `$accessor`, `name=$accessor` or
// `name=fixed text`, as Fluent Bit's loki output takes them in `labels`.
func parseSpec(item, what string) (spec, error) {
	sp := spec{src: item, field: -1}
	value := item
	if i := strings.IndexByte(item, '='); i >= 0 && !strings.ContainsAny(item[:i], "$['") {
		sp.name = strings.TrimSpace(item[:i])
		value = strings.TrimSpace(item[i+1:])
		if !validName(sp.name) {
			return sp, fmt.Errorf("%q: %q is not a valid %s name ([a-zA-Z_][a-zA-Z0-9_]*)", item, sp.name, what)
		}
		if value == "" {
			return sp, fmt.Errorf("%q: no value after '='", item)
		}
		if value[0] != '$' {
			sp.kind, sp.static = kindStatic, value
			return sp, nil
		}
	} else if value[0] != '$' {
		// A bare field name, as in the defaults: the same as $field.
		if !validName(value) {
			return sp, fmt.Errorf("%q: write a field name, $accessor, name=$accessor or name=text", item)
		}
		value = "$" + value
	}
	if err := parseAccessor(&sp, value, what); err != nil {
		return sp, fmt.Errorf("%q: %w", item, err)
	}
	if sp.name == "" {
		sp.name = derivedName(&sp)
	}
	sp.field = -1
	if i, ok := singleValued[sp.key]; ok && sp.kind == kindField && len(sp.path) == 0 {
		sp.field = i
	}
	return sp, nil
}

// parseAccessor reads `$key`, `$key['sub'][0]...`, `$TAG` or `$TAG[n]`: a
// single reference, since a label is either fixed text or one value.
func parseAccessor(sp *spec, s, what string) error {
	if _, err := template.Parse(s, template.Options{}); err != nil {
		return err // the template parser's messages are the precise ones
	}
	i := 1
	for i < len(s) && isNameByte(s[i]) {
		i++
	}
	sp.kind, sp.key = kindField, s[1:i]
	for i < len(s) && s[i] == '[' {
		i++
		var e template.PathElem
		if s[i] == '\'' {
			var b strings.Builder
			for i++; i < len(s); i++ {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i++
						continue
					}
					break
				}
				b.WriteByte(s[i])
			}
			i++ // the closing quote
			e.Key = b.String()
		} else {
			for ; s[i] >= '0' && s[i] <= '9'; i++ {
				e.Index = e.Index*10 + int(s[i]-'0')
			}
			e.IsIndex = true
		}
		i++ // ']'
		sp.path = append(sp.path, e)
	}
	if i != len(s) {
		return fmt.Errorf("a %s value is fixed text or one record accessor ($key, $key['sub'], $TAG, $TAG[n]), not a template", what)
	}
	if sp.key == "TAG" {
		sp.kind = kindTag
		if len(sp.path) == 1 {
			sp.kind, sp.part = kindTagPart, sp.path[0].Index
		}
		sp.path = nil
	}
	return nil
}

// derivedName names `$key['a']['b']` after its last key, as Fluent Bit does.
func derivedName(sp *spec) string {
	name := sp.key
	for _, e := range sp.path {
		if !e.IsIndex {
			name = e.Key
		}
	}
	if sp.kind == kindTag || sp.kind == kindTagPart {
		name = "tag"
	}
	return sanitizeName(name)
}

// parseSpecs reads a list of items; labels are refused on the
// high-cardinality fields and on logKey, the record's line.
func parseSpecs(list, what string, labels bool, logKey string) ([]spec, error) {
	var specs []spec
	var errs []error
	for _, item := range splitItems(list) {
		sp, err := parseSpec(item, what)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if labels && sp.kind == kindField {
			why, bad := highCardinality[sp.key]
			if sp.key == logKey && len(sp.path) == 0 {
				why, bad = "the line itself", true
			}
			if bad && !(sp.key == "payload" && len(sp.path) > 0) {
				errs = append(errs, fmt.Errorf("%q: %s cannot be a label (%s): each value would be a Loki stream of its own; "+
					"send it as structured metadata (structured_metadata) or keep it in the line", item, sp.key, why))
				continue
			}
		}
		if k := slices.IndexFunc(specs, func(o spec) bool { return o.name == sp.name }); k >= 0 {
			errs = append(errs, fmt.Errorf("%q: the %s name %q is already given by %q", item, what, sp.name, specs[k].src))
			continue
		}
		specs = append(specs, sp)
	}
	return specs, errors.Join(errs...)
}
