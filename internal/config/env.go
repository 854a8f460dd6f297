package config

import (
	"os"
	"strings"
)

// LookupEnv is os.LookupEnv with Fluent Bit's presets: an empty variable
// counts as unset (src/flb_env.c, flb_env_get) and HOSTNAME falls back to
// the host name (env_preset).
func LookupEnv(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	if name == "HOSTNAME" && !ok {
		if h, err := os.Hostname(); err == nil {
			return h, true
		}
	}
	return v, ok && v != ""
}

// Expand replaces ${NAME} and ${NAME:-default} in v the way Fluent Bit's
// src/flb_env.c flb_env_var_translate does, quirks included: "}" is looked
// for from the scan position, not after "${"; a "${" without a "}" after
// it ends the scan and drops the rest; text after the last "}" is kept
// only when a variable was found. It also returns the names it found
// neither set nor defaulted, in order: Fluent Bit puts nothing in their
// place.
func Expand(v string, lookup func(string) (string, bool)) (string, []string) {
	var out strings.Builder
	var unset []string
	haveVar := false
	end := -1 // the last "}" looked up; -1 when the last lookup found none
	for i := 0; i < len(v); i++ {
		start := strings.Index(v[i:], "${")
		if start < 0 {
			break
		}
		end = strings.Index(v[i:], "}")
		if end < 0 {
			break
		}
		start, end = i+start+2, i+end
		if end-start <= 0 || end-start >= 4096 {
			break
		}
		name, def, hasDef := v[start:end], "", false
		if sep := strings.Index(name, ":"); sep >= 0 && sep+1 < len(name) && name[sep+1] == '-' {
			name, def, hasDef = name[:sep], name[sep+2:], true
		}
		haveVar = true
		out.WriteString(v[i : start-2])
		if val, ok := lookup(name); ok {
			out.WriteString(val)
		} else if hasDef {
			out.WriteString(def)
		} else {
			unset = append(unset, name)
		}
		i = end // the loop's i++ steps past the "}"
	}
	if end >= 0 && haveVar {
		out.WriteString(v[end+1:])
	}
	if out.Len() == 0 && !haveVar {
		return v, nil
	}
	return out.String(), unset
}
