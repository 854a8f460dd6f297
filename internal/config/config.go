// Package config reads an output instance's properties with types,
// defaults and one clear error per bad value. Fluent Bit hands the plugin
// strings only, through FLBPluginConfigKey, and keeps some keys to itself
// (match, host, port, tls.*, workers, retry_limit, log_level, storage.*), so
// none of ours is named like those.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Getter returns a property's value, "" when unset. Fluent Bit matches keys
// without regard to case and has already replaced ${VAR} references.
type Getter func(key string) string

// MapGetter serves properties from a map (tests, tools); keys are matched
// without regard to case, as Fluent Bit does.
func MapGetter(m map[string]string) Getter {
	lower := make(map[string]string, len(m))
	for k, v := range m {
		lower[strings.ToLower(k)] = v
	}
	return func(key string) string { return lower[strings.ToLower(key)] }
}

// Reader collects typed values and the errors of bad ones.
type Reader struct {
	get  Getter
	errs []error
}

func NewReader(get Getter) *Reader { return &Reader{get: get} }

// Err joins every error met so far; nil when all values were good.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

func (r *Reader) fail(key, val, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s %q: %s", key, val, fmt.Sprintf(format, args...)))
}

// Raw is the trimmed value, "" when unset.
func (r *Reader) Raw(key string) string { return strings.TrimSpace(r.get(key)) }

// String returns the value or def.
func (r *Reader) String(key, def string) string {
	if v := r.Raw(key); v != "" {
		return v
	}
	return def
}

// Secret returns the value untrimmed-of-meaning but never echoes it in
// errors; callers must not log it either.
func (r *Reader) Secret(key string) string { return r.get(key) }

// Enum returns the value (lower case) if it is one of allowed, else def
// when unset, else records an error.
func (r *Reader) Enum(key, def string, allowed ...string) string {
	v := strings.ToLower(r.Raw(key))
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(key, v, "must be one of %s", strings.Join(allowed, ", "))
	return def
}

// Bool accepts Fluent Bit's spellings: on/off, true/false, yes/no, 1/0.
func (r *Reader) Bool(key string, def bool) bool {
	switch v := strings.ToLower(r.Raw(key)); v {
	case "":
		return def
	case "on", "true", "yes", "1":
		return true
	case "off", "false", "no", "0":
		return false
	default:
		r.fail(key, v, "must be on or off")
		return def
	}
}

// Int returns an integer within [min, max].
func (r *Reader) Int(key string, def, min, max int) int {
	v := r.Raw(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		r.fail(key, v, "must be a whole number from %d to %d", min, max)
		return def
	}
	return n
}

// Duration accepts Go durations ("1.5s", "250ms") and plain seconds ("10"),
// as Fluent Bit's own time properties do.
func (r *Reader) Duration(key string, def time.Duration) time.Duration {
	v := r.Raw(key)
	if v == "" {
		return def
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
		return time.Duration(secs * float64(time.Second))
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(key, v, "must be a positive duration such as 5s or 250ms")
		return def
	}
	return d
}

// Size accepts bytes with an optional k/K, m/M, g/G suffix (powers of 1024),
// Fluent Bit's size notation ("5M", "512k").
func (r *Reader) Size(key string, def int64) int64 {
	v := r.Raw(key)
	if v == "" {
		return def
	}
	mult := int64(1)
	num := strings.TrimSuffix(strings.TrimSuffix(v, "B"), "b")
	switch strings.ToLower(num[len(num)-1:]) {
	case "k":
		mult, num = 1<<10, num[:len(num)-1]
	case "m":
		mult, num = 1<<20, num[:len(num)-1]
	case "g":
		mult, num = 1<<30, num[:len(num)-1]
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		r.fail(key, v, "must be a positive size such as 5M or 512k")
		return def
	}
	return n * mult
}

// List splits on commas and whitespace and drops empty items.
func (r *Reader) List(key string) []string {
	return strings.FieldsFunc(r.Raw(key), func(c rune) bool { return c == ',' || c == ' ' || c == '\t' })
}

// Check records an error for key unless ok.
func (r *Reader) Check(ok bool, key, val, format string, args ...any) {
	if !ok {
		r.fail(key, val, format, args...)
	}
}

// Add records err (already naming its key), when not nil.
func (r *Reader) Add(err error) {
	if err != nil {
		r.errs = append(r.errs, err)
	}
}

// Errorf records an error about key.
func (r *Reader) Errorf(key string, err error) {
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %w", key, err))
	}
}
