package enrich

import (
	"strings"
)

// router decides which records an output instance sends: several instances
// with their own tenant lists and URLs send each tenant's logs to its own
// place. Tenant names are compared exactly, as everywhere else (contract,
// "Where IDs and the tenant may come from"): `tenants AGM` does not take a
// record whose tenant is `agm`, and neither does `Match ctlive.AGM.*`.
type router struct {
	allow, deny []string
	fallback    []byte // default_tenant for records without one
}

func newRouter(allow, deny []string, fallback string) router {
	r := router{allow: allow, deny: deny}
	if fallback != "" {
		r.fallback = []byte(fallback)
	}
	return r
}

// admit reports whether a record of tenant t (nil: none) goes to this
// instance. An allow-list takes only its tenants, never a record without
// one; a deny-list refuses its tenants.
func (r *router) admit(t []byte) bool {
	if len(r.allow) > 0 && (t == nil || !contains(r.allow, t)) {
		return false
	}
	return t == nil || !contains(r.deny, t)
}

func contains(list []string, t []byte) bool {
	for _, x := range list {
		if x == string(t) { // no allocation: compared in place
			return true
		}
	}
	return false
}

func (r *router) describe() string {
	var parts []string
	if len(r.allow) > 0 {
		parts = append(parts, "tenants="+strings.Join(r.allow, ","))
	}
	if len(r.deny) > 0 {
		parts = append(parts, "exclude_tenants="+strings.Join(r.deny, ","))
	}
	if r.fallback != nil {
		parts = append(parts, "default_tenant="+string(r.fallback))
	}
	return strings.Join(parts, " ")
}
