package flblog

import (
	"bytes"
	"regexp"
	"sync"
	"testing"
)

func TestLinesLookLikeFluentBits(t *testing.T) {
	var buf bytes.Buffer
	l := NewWriter(&buf, &sync.Mutex{}, "ctlive.0", Info)
	l.Warnf("retrying %d records", 3)
	l.Debugf("not shown at info")
	want := regexp.MustCompile(`^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3}\] \[ warn\] \[output:ctlive:ctlive\.0\] retrying 3 records\n$`)
	if !want.MatchString(buf.String()) {
		t.Errorf("%q", buf.String())
	}
}

func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Level
		err  bool
	}{{"error", Error, false}, {"WARN", Warn, false}, {"off", Off, false}, {"trace", Trace, false}, {"loud", Info, true}} {
		got, err := ParseLevel(tc.name)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: %v %v", tc.name, got, err)
		}
	}
	var buf bytes.Buffer
	l := NewWriter(&buf, &sync.Mutex{}, "x", Off)
	l.Errorf("hidden")
	if buf.Len() != 0 || l.Enabled(Error) {
		t.Error("off writes nothing")
	}
}

func TestLinesNeverCarryCredentials(t *testing.T) {
	l, buf := Capture("ctlive.0", Info)
	l.Warnf("tag %q: delivery failed: bulk request to %s: HTTP 503: %s", "t", "http://h/?token=abc", "Authorization: Bearer xyz")
	l.Errorf("invalid configuration, not starting: url: %s", "tcp://user:pass@host:24224?shared_key=s3cret")
	for _, secret := range []string{"abc", "xyz", "pass", "s3cret"} {
		if bytes.Contains([]byte(buf.String()), []byte(secret)) {
			t.Errorf("the log shows %q:\n%s", secret, buf.String())
		}
	}
}
