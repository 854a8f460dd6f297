package pipeline

import (
	"bytes"
	"sort"
	"strings"

	"github.com/ctlive/ctlive-fluent-bit/record"
)

// router decides which records this instance sends: several instances with
// their own tenant lists and URLs send each tenant's logs to its own place.
type router struct {
	allow, deny [][]byte // upper case; tenants are compared without case
	fallback    []byte   // default_tenant for records without one
}

func newRouter(allow, deny []string, fallback string) router {
	up := func(list []string) (out [][]byte) {
		for _, t := range list {
			out = append(out, []byte(strings.ToUpper(t)))
		}
		return out
	}
	r := router{allow: up(allow), deny: up(deny)}
	if fallback != "" {
		r.fallback = []byte(fallback)
	}
	return r
}

// admit applies the default tenant and reports whether the record goes to
// this instance. Group markers always pass: they frame the records.
func (r *router) admit(ev *record.Event) bool {
	if !ev.IsRecord() {
		return true
	}
	ev.SetDefaultTenant(r.fallback)
	t := ev.Tenant
	if len(r.allow) > 0 && (t == nil || !contains(r.allow, t)) {
		return false
	}
	return t == nil || !contains(r.deny, t)
}

func contains(list [][]byte, t []byte) bool {
	for _, x := range list {
		if bytes.EqualFold(x, t) {
			return true
		}
	}
	return false
}

func (r *router) describe() string {
	var parts []string
	join := func(l [][]byte) string {
		s := make([]string, len(l))
		for i := range l {
			s[i] = string(l[i])
		}
		return strings.Join(s, ",")
	}
	if len(r.allow) > 0 {
		parts = append(parts, "tenants="+join(r.allow))
	}
	if len(r.deny) > 0 {
		parts = append(parts, "exclude_tenants="+join(r.deny))
	}
	if r.fallback != nil {
		parts = append(parts, "default_tenant="+string(r.fallback))
	}
	return strings.Join(parts, " ")
}

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
}
