package config

import (
	"strings"
	"testing"
	"time"
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
	if r.Duration("d1", 0) != 1500*time.Millisecond || r.Duration("d2", 0) != 250*time.Millisecond {
		t.Error("duration")
	}
	if r.Size("s1", 0) != 5<<20 || r.Size("s2", 0) != 512<<10 || r.Size("s3", 0) != 2048 {
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
	r.Duration("d", time.Second)
	r.Size("s", 1)
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
