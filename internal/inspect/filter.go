package inspect

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ContactFilter selects rows of `contacts`; its zero value keeps all.
type ContactFilter struct {
	Tenants                []string // the contact's tenant is one of these
	Open                   bool     // not ended
	EndedWithoutTranscript bool     // ended, transcript not saved
	WithExceptions         bool     // at least one exception
}

// Keep reports whether c passes every filter that is set.
func (f *ContactFilter) Keep(c *Contact) bool {
	switch {
	case len(f.Tenants) > 0 && !slices.Contains(f.Tenants, c.Tenant),
		f.Open && c.Ended,
		f.EndedWithoutTranscript && (!c.Ended || c.TranscriptSaved),
		f.WithExceptions && c.Exceptions == 0:
		return false
	}
	return true
}

// Apply keeps the rows that pass, in place.
func (f *ContactFilter) Apply(cs []Contact) []Contact {
	return slices.DeleteFunc(cs, func(c Contact) bool { return !f.Keep(&c) })
}

// ParseWhen reads a --since/--until value: RFC 3339 (fraction and offset
// optional), a date (midnight UTC), or a duration back from now ("2h",
// "90m", "3d"). It returns Unix ns.
func ParseWhen(s string, now time.Time) (int64, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), nil
		}
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := time.ParseDuration(n + "h"); err == nil && d >= 0 {
			return now.Add(-24 * d).UnixNano(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UnixNano(), nil
	}
	return 0, fmt.Errorf("%q is neither an RFC 3339 time nor a duration like 2h", s)
}
