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
	"unicode"

	"github.com/ctlive/ctlive-fluent-bit/internal/scrub"
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
	get      Getter
	errs     []error
	register func(secret string) // scrub.Register; tests that read thousands of values replace it
}

func NewReader(get Getter) *Reader { return &Reader{get: get, register: scrub.Register} }

// Err joins every error met so far; nil when all values were good.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

func (r *Reader) fail(key, val, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s %q: %s", key, val, fmt.Sprintf(format, args...)))
}

// Raw is the trimmed value, "" when unset.
func (r *Reader) Raw(key string) string { return strings.TrimSpace(r.get(key)) }

// Given is the value as the host handed it over, untrimmed: "" only when
// the key is unset. A key Given but with an empty Raw was set to blanks.
func (r *Reader) Given(key string) string { return r.get(key) }

// String returns the value or def.
func (r *Reader) String(key, def string) string {
	if v := r.Raw(key); v != "" {
		return v
	}
	return def
}

// Secret returns the value untrimmed-of-meaning but never echoes it in
// errors, and registers it with scrub so that no log line prints it.
func (r *Reader) Secret(key string) string {
	v := r.get(key)
	r.register(v)
	return v
}

// CheckHeader refuses a value that will be sent in an HTTP header when it
// holds a control character (CR, LF, NUL, DEL, ...): Go's HTTP client
// refuses such a header, so every request would fail, and a line break
// from a secret file or variable is the usual cause. A secret value is
// never echoed, not even in part.
func (r *Reader) CheckHeader(key, value string, secret bool) {
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < ' ' || c == 0x7f {
			if secret {
				r.errs = append(r.errs, fmt.Errorf("%s: holds a control character (0x%02x): a header value must be printable text", key, c))
			} else {
				r.fail(key, value, "holds a control character: a header value must be printable text")
			}
			return
		}
	}
}

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
// as Fluent Bit's own time properties do, within [min, max]. NaN, infinities
// and values past max (1e300) are refused before any conversion: a float
// too large for a time.Duration converts to garbage.
func (r *Reader) Duration(key string, def, min, max time.Duration) time.Duration {
	v := r.Raw(key)
	if v == "" {
		return def
	}
	d, ok := parseDuration(v, max)
	if !ok || d < min {
		r.fail(key, v, "must be a duration from %s to %s, in seconds or with a unit (ms, s, m, h)", formatDuration(min), formatDuration(max))
		return def
	}
	return d
}

// Bounds of every timeout key (timeout, connect_timeout, write_timeout,
// ack_timeout). Below 100ms an ordinary pause of a busy server, or of the
// agent's own garbage collector, fails a request that the server may well
// have stored, and the retry sends it again (see the README's Delivery);
// above an hour a stuck downstream holds a Fluent Bit worker longer than
// any retry schedule is worth.
const (
	MinTimeout = 100 * time.Millisecond
	MaxTimeout = time.Hour
)

// Timeout is Duration within [MinTimeout, MaxTimeout].
func (r *Reader) Timeout(key string, def time.Duration) time.Duration {
	return r.Duration(key, def, MinTimeout, MaxTimeout)
}

// parseDuration reads v as seconds or a Go duration; ok is false unless
// the result is positive and at most max.
func parseDuration(v string, max time.Duration) (time.Duration, bool) {
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		// Written so that NaN fails too.
		if !(secs > 0 && secs <= max.Seconds()) {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	d, err := time.ParseDuration(v)
	return d, err == nil && d > 0 && d <= max
}

// formatDuration writes d in the largest unit that divides it: 1h, 5m,
// 30s, 100ms.
func formatDuration(d time.Duration) string {
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d%u.unit == 0 {
			return strconv.FormatInt(int64(d/u.unit), 10) + u.name
		}
	}
	return d.String()
}

// Size accepts bytes with an optional k, m or g suffix (powers of 1000 as
// in Fluent Bit, any case, an optional trailing b, a fraction allowed:
// "5M", "512k", "64KB", "1.5M"), within [min, max].
func (r *Reader) Size(key string, def, min, max int64) int64 {
	v := r.Raw(key)
	if v == "" {
		return def
	}
	n, ok := parseSize(v)
	if !ok || n < min || n > max {
		r.fail(key, v, "must be a size from %s to %s, in bytes or with k, M or G (powers of 1000)", FormatSize(min), FormatSize(max))
		return def
	}
	return n
}

// Size units are Fluent Bit's (src/flb_utils.c, flb_utils_size_to_bytes):
// powers of 1000, so `6M` means the same here as in an in_forward's
// buffer_max_size next to it.
const (
	KB = 1000
	MB = 1000 * KB
	GB = 1000 * MB
)

// parseSize reads a number, a fraction allowed, then optionally k, m or g
// and optionally b, in any case ("5M", "512k", "1.5MB", "64 KB"), as
// flb_utils_size_to_bytes does; ok is false for anything else, for zero,
// and past 1 TB.
func parseSize(v string) (int64, bool) {
	num := v
	if strings.HasSuffix(num, "b") || strings.HasSuffix(num, "B") {
		num = num[:len(num)-1]
	}
	mult := float64(1)
	if num != "" {
		switch num[len(num)-1] {
		case 'k', 'K':
			mult = KB
		case 'm', 'M':
			mult = MB
		case 'g', 'G':
			mult = GB
		}
		if mult > 1 {
			num = num[:len(num)-1]
		}
	}
	num = strings.TrimSpace(num)
	if num == "" || strings.ContainsAny(num, "eEnNiIxXpP_+-") { // digits and one '.' only
		return 0, false
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 || f*mult > 1e12 || f*mult < 1 {
		return 0, false
	}
	return int64(f * mult), true
}

// FormatSize writes n in the largest unit that divides it: 64k, 5M, 1G,
// 6144000.
func FormatSize(n int64) string {
	for _, u := range []struct {
		unit int64
		name string
	}{{GB, "G"}, {MB, "M"}, {KB, "k"}} {
		if n != 0 && n%u.unit == 0 {
			return strconv.FormatInt(n/u.unit, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// List splits on commas and every whitespace (line breaks too: a YAML
// block list arrives one item a line) and drops empty items.
func (r *Reader) List(key string) []string {
	return strings.FieldsFunc(r.Raw(key), func(c rune) bool { return c == ',' || unicode.IsSpace(c) })
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
