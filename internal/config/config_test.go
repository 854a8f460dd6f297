package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/ctlive/ctlive-fluent-bit/internal/scrub"
)

func reader(kv ...string) *Reader {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return NewReader(MapGetter(m))
}

func TestKeysMatchWithoutCase(t *testing.T) {
	if got := reader("Log_Key", "message").String("log_key", "log"); got != "message" {
		t.Errorf("got %q", got)
	}
}

func TestTypedValues(t *testing.T) {
	r := reader("b1", "On", "b2", "false", "n", " 42 ", "d1", "1.5", "d2", "250ms",
		"s1", "5M", "s2", "512k", "s3", "2048", "l", "a, b  c,,d", "e", "GZIP")
	if !r.Bool("b1", false) || r.Bool("b2", true) || !r.Bool("unset", true) {
		t.Error("bool")
	}
	if r.Int("n", 0, 0, 100) != 42 {
		t.Error("int")
	}
	if r.Duration("d1", 0, time.Millisecond, time.Hour) != 1500*time.Millisecond || r.Duration("d2", 0, time.Millisecond, time.Hour) != 250*time.Millisecond {
		t.Error("duration")
	}
	if r.Size("s1", 0, 1, GB) != 5*MB || r.Size("s2", 0, 1, GB) != 512*KB || r.Size("s3", 0, 1, GB) != 2048 {
		t.Error("size")
	}
	if got := strings.Join(r.List("l"), "|"); got != "a|b|c|d" {
		t.Errorf("list %q", got)
	}
	if r.Enum("e", "none", "none", "gzip") != "gzip" {
		t.Error("enum")
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestBadValuesAreAllReportedByKey(t *testing.T) {
	r := reader("b", "perhaps", "n", "101", "d", "-1s", "s", "lots", "e", "zstd")
	r.Bool("b", false)
	r.Int("n", 0, 0, 100)
	r.Duration("d", time.Second, time.Millisecond, time.Hour)
	r.Size("s", 1, 1, GB)
	r.Enum("e", "none", "none", "gzip")
	err := r.Err()
	for _, key := range []string{`b "perhaps"`, `n "101"`, `d "-1s"`, `s "lots"`, `e "zstd"`} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

func TestSecretsNeverAppearInErrors(t *testing.T) {
	r := reader("password", "hunter2")
	r.Errorf("password", nil)
	if r.Secret("password") != "hunter2" || r.Err() != nil {
		t.Fatal("secret")
	}
}

func TestSizes(t *testing.T) {
	const min, max = 64 * KB, 64 * MB
	tests := []struct {
		in   string
		want int64 // 0: refused
	}{
		{"65536", 65536}, {"64k", 64000}, {"64K", 64000}, {"64kb", 64000}, {"64 KB", 64000},
		{"5M", 5000000}, {"5m", 5000000}, {"5MB", 5000000}, {"64M", 64000000}, {"65536b", 65536}, {" 1M ", 1000000},
		{"1.5M", 1500000}, {"6144000", 6144000}, {"6.144M", 6144000},
		// Refused, never a panic: a unit alone, nothing, junk, out of range.
		{"B", 0}, {"b", 0}, {"k", 0}, {"KB", 0}, {" M", 0}, {"M ", 0}, {"5bb", 0}, {"5kk", 0}, {"5 k b", 0},
		{"-5M", 0}, {"0", 0}, {"1e6", 0}, {"5T", 0}, {"lots", 0}, {"1000", 0}, {"65M", 0}, {"1G", 0},
		{"9223372036854775807", 0}, {"99999999999999999999k", 0}, {"\x00", 0},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			r := reader("max_message_size", tc.in)
			got := r.Size("max_message_size", 7, min, max)
			err := r.Err()
			switch {
			case tc.want != 0 && (got != tc.want || err != nil):
				t.Errorf("Size(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			case tc.want == 0 && (got != 7 || err == nil):
				t.Errorf("Size(%q) = %d, %v; want the default and an error", tc.in, got, err)
			case tc.want == 0 && err.Error() != fmt.Sprintf("max_message_size %q: must be a size from 64k to 64M, in bytes or with k, M or G (powers of 1000)", strings.TrimSpace(tc.in)):
				t.Errorf("error %q: want the key, the value and the range", err)
			}
		})
	}
}

func TestDurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration // 0: refused
	}{
		{"30", 30 * time.Second}, {"1.5", 1500 * time.Millisecond}, {"250ms", 250 * time.Millisecond},
		{"1h", time.Hour}, {"3600", time.Hour}, {"0.1", 100 * time.Millisecond}, {"1m30s", 90 * time.Second},
		// Refused: silently 30s, a negative or an undefined conversion before.
		{"1e300", 0}, {"NaN", 0}, {"nan", 0}, {"Inf", 0}, {"+Inf", 0}, {"-Inf", 0}, {"3601", 0}, {"1h0m1s", 0},
		{"2562047h", 0}, {"9999999999999999999ns", 0}, {"0", 0}, {"-1s", 0}, {"0s", 0}, {"99ms", 0}, {"0.01", 0},
		{"5 s", 0}, {"soon", 0}, {"s", 0}, {"1e-300", 0},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			r := reader("timeout", tc.in)
			got := r.Duration("timeout", 7, 100*time.Millisecond, time.Hour)
			err := r.Err()
			switch {
			case tc.want != 0 && (got != tc.want || err != nil):
				t.Errorf("Duration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			case tc.want == 0 && (got != 7 || err == nil):
				t.Errorf("Duration(%q) = %v, %v; want the default and an error", tc.in, got, err)
			case tc.want == 0 && err.Error() != fmt.Sprintf("timeout %q: must be a duration from 100ms to 1h, in seconds or with a unit (ms, s, m, h)", tc.in):
				t.Errorf("error %q: want the key, the value and the range", err)
			}
		})
	}
}

func TestHeaderValuesWithControlCharactersAreRefused(t *testing.T) {
	tests := []struct {
		name, value string
		secret, ok  bool
	}{
		{"printable", "s3cr3t DEF-123_=+/", true, true},
		{"a line break", "s3cr3t\nv4lue", true, false},
		{"a trailing line break from a file", "s3cr3tv4lue\n", true, false},
		{"CR", "s3cr3t\rv4lue", true, false},
		{"NUL", "s3cr3t\x00v4lue", true, false},
		{"DEL", "s3cr3t\x7fv4lue", true, false},
		{"a tab", "s3cr3t\tv4lue", true, false},
		{"a user name is shown", "us\ner", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := reader()
			r.CheckHeader("bearer_token", tc.value, tc.secret)
			err := r.Err()
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err == nil {
				return
			}
			if !strings.HasPrefix(err.Error(), "bearer_token") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line starting with the key", err)
			}
			if tc.secret && (strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "v4lue")) {
				t.Errorf("error %q echoes the secret", err)
			}
		})
	}
}

func TestSecretsAreRegisteredForScrubbing(t *testing.T) {
	r := reader("api_key", "k3y-registered-by-the-reader")
	r.Secret("api_key")
	if got := scrub.Line("answer: k3y-registered-by-the-reader"); strings.Contains(got, "k3y") {
		t.Errorf("a secret read from the configuration is printed: %q", got)
	}
}

// FuzzReader: whatever a property holds, no Reader method panics, a typed
// value is the default or within its range, and a refused value is one
// error that starts with the key.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"", "B", "k", " M", "5M", "1e300", "NaN", "-1", "on", "a,b c", "\x00", "9223372036854775808", "1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		const key = "some_key"
		check := func(what string, r *Reader, inRange bool) {
			t.Helper()
			err := r.Err()
			if err == nil {
				if !inRange {
					t.Fatalf("%s(%q): accepted out of range", what, v)
				}
				return
			}
			if msg := err.Error(); !strings.HasPrefix(msg, key) || strings.Contains(msg, "\n") {
				t.Fatalf("%s(%q): error %q is not one line starting with the key", what, v, msg)
			}
		}
		get := func(string) string { return v }
		newReader := func() *Reader {
			r := NewReader(get)
			r.register = func(string) {} // the process-wide registry would grow with every input
			return r
		}

		r := newReader()
		s := r.Size(key, 7, 64*KB, 64*MB)
		check("Size", r, s == 7 || s >= 64*KB && s <= 64*MB)

		r = newReader()
		d := r.Duration(key, 7, 100*time.Millisecond, time.Hour)
		check("Duration", r, d == 7 || d >= 100*time.Millisecond && d <= time.Hour)

		r = newReader()
		n := r.Int(key, 7, -1, 10000)
		check("Int", r, n == 7 || n >= -1 && n <= 10000)

		r = newReader()
		r.Bool(key, true)
		check("Bool", r, true)

		r = newReader()
		e := r.Enum(key, "none", "none", "gzip")
		check("Enum", r, e == "none" || e == "gzip")

		r = newReader()
		for _, item := range r.List(key) {
			if item == "" || strings.ContainsRune(item, ',') || strings.IndexFunc(item, unicode.IsSpace) >= 0 {
				t.Fatalf("List(%q) has item %q", v, item)
			}
		}
		_ = r.String(key, "def")
		_ = r.Raw(key)
		if r.Secret(key) != v {
			t.Fatalf("Secret changed the value")
		}
		r.CheckHeader(key, v, true)
		check("CheckHeader", r, true)
	})
}

// A YAML block list (`exclude_tenants: |` with one name a line) arrives
// with line breaks: every whitespace separates items, or "AGM\nTENANT1"
// is one name that matches nothing and splits the start-up log line.
func TestListSplitsOnEveryWhitespace(t *testing.T) {
	tests := []struct {
		name, value string
		want        []string
	}{
		{"commas and spaces", "AGM, TENANT1  ACME,,X", []string{"AGM", "TENANT1", "ACME", "X"}},
		{"a YAML block list", "AGM\nTENANT1\n", []string{"AGM", "TENANT1"}},
		{"Windows line ends", "AGM\r\nTENANT1\r\n", []string{"AGM", "TENANT1"}},
		{"tabs, vertical tabs and form feeds", "AGM\tTENANT1\vACME\fX", []string{"AGM", "TENANT1", "ACME", "X"}},
		{"a folded list with commas", "AGM,\n  TENANT1,\n  ACME", []string{"AGM", "TENANT1", "ACME"}},
		{"only separators", " ,\n\r\v\f,", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := reader("l", tc.value).List("l")
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("List(%q) = %q, want %q", tc.value, got, tc.want)
			}
		})
	}
}
