package elasticsearch

import (
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/record"
)

func TestNewDefaults(t *testing.T) {
	s := newSink(t, nil)
	if got := s.client.URL(); got != DefaultURL {
		t.Errorf("url %q, want %q", got, DefaultURL)
	}
	if s.index.String() != DefaultIndex || !s.memoIndex || s.staticAction != nil {
		t.Errorf("index %q memo %v static %q", s.index, s.memoIndex, s.staticAction)
	}
	if s.timeKey != "@timestamp" || string(s.docStart) != `{"@timestamp":"` {
		t.Errorf("time key %q, doc start %q", s.timeKey, s.docStart)
	}
	if !s.genID || s.tagKey != "" || s.maxRequest != 5000000 {
		t.Errorf("id %v, tag key %q, max request %d", s.genID, s.tagKey, s.maxRequest)
	}
}

func TestNewReadsKeys(t *testing.T) {
	s := newSink(t, map[string]string{
		"URL": "https://es.example:9200/prefix", "Index": "Logs-ALL", "time_key": "ts",
		"id": "off", "include_tag_key": "on", "tag_key": "fluent_tag", "max_request_size": "512k",
	})
	if got := s.client.URL(); got != "https://es.example:9200/prefix" {
		t.Errorf("url %q", got)
	}
	if string(s.staticAction) != `{"create":{"_index":"logs-all"` {
		t.Errorf("static action %q: a static index is lower-cased once", s.staticAction)
	}
	if s.timeKey != "ts" || s.genID || s.tagKey != "fluent_tag" || s.maxRequest != 512000 {
		t.Errorf("time key %q, id %v, tag key %q, max request %d", s.timeKey, s.genID, s.tagKey, s.maxRequest)
	}
	if s := newSink(t, map[string]string{"index": "Logs-100%%"}); string(s.staticAction) != `{"create":{"_index":"logs-100%"` {
		t.Errorf("static action %q: the template's %%%% is one %%", s.staticAction)
	}
	if s := newSink(t, map[string]string{"tag_key": "x"}); s.tagKey != "" {
		t.Errorf("tag_key without include_tag_key adds the tag under %q", s.tagKey)
	}
	if s := newSink(t, map[string]string{"include_tag_key": "on"}); s.tagKey != "_flb-key" {
		t.Errorf("default tag key %q, want Fluent Bit's _flb-key", s.tagKey)
	}
}

func TestNewRejectsBadValues(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string // in the error
	}{
		{"index syntax", map[string]string{"index": "ctlive-${tenant}"}, "index"},
		{"static index with a slash", map[string]string{"index": "a/b"}, "index"},
		{"static index starting with _", map[string]string{"index": "_logs"}, "index"},
		{"time_key is a contract field", map[string]string{"time_key": "message"}, "time_key"},
		{"tag_key is a contract field", map[string]string{"include_tag_key": "on", "tag_key": "tenant"}, "tag_key"},
		{"tag_key equals time_key", map[string]string{"include_tag_key": "on", "tag_key": "@timestamp"}, "tag_key"},
		{"max_request_size too small", map[string]string{"max_request_size": "1k"}, "max_request_size"},
		{"max_request_size not a size", map[string]string{"max_request_size": "lots"}, "max_request_size"},
		{"id not a bool", map[string]string{"id": "maybe"}, "id"},
		{"url scheme", map[string]string{"url": "ftp://h"}, "url"},
		{"Fluent Bit's logstash_format", map[string]string{"logstash_format": "on"}, "set index"},
		{"Fluent Bit's type", map[string]string{"Type": "_doc"}, "_type"},
		{"Fluent Bit's pipeline", map[string]string{"pipeline": "p"}, "?pipeline="},
		{"Fluent Bit's generate_id", map[string]string{"generate_id": "on"}, "use id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(config.NewReader(config.MapGetter(tc.props)), nil, stage.Layout())
			if err == nil {
				s.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestNewReportsEveryBadValueAtOnce(t *testing.T) {
	_, err := New(config.NewReader(config.MapGetter(map[string]string{"time_key": "level", "id": "x"})), nil, stage.Layout())
	if err == nil || !strings.Contains(err.Error(), "time_key") || !strings.Contains(err.Error(), "id") {
		t.Errorf("error %v: want both keys named", err)
	}
}

func TestNewIgnoresFluentBitKeysWithBuiltInEffect(t *testing.T) {
	newSink(t, map[string]string{"suppress_type_name": "on", "time_key_nanos": "on", "buffer_size": "false", "trace_error": "on"})
}

// A record layout that would lose the line or the fields in the document
// stops the instance at start.
func TestLayoutConflictsRefusedAtStart(t *testing.T) {
	props := map[string]string{"include_tag_key": "on", "tag_key": "t"}
	tests := []struct {
		name   string
		layout *record.Layout
		ok     bool
	}{
		{"defaults", record.NewLayout("log", ""), true},
		{"log_key is the time key", record.NewLayout("@timestamp", ""), false},
		{"fields nested under the time key", record.NewLayout("log", "@timestamp"), false},
		{"fields nested under the tag key", record.NewLayout("log", "t"), false},
		{"fields nested elsewhere", record.NewLayout("log", "ctlive"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(config.NewReader(config.MapGetter(props)), nil, tc.layout)
			if (err == nil) != tc.ok {
				t.Errorf("New = %v, want ok=%v", err, tc.ok)
			}
			if s != nil {
				s.Close()
			}
		})
	}
}

func TestMemoizable(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"ctlive-$tenant-%Y.%m.%d", true},
		{"ctlive-%G.%V-$TAG[1]", true},
		{"ctlive-100%%-$tenant", true},
		{"ctlive", true},
		{"ctlive-$tenant-%Y.%m.%d-%H", false},
		{"ctlive-$event-%Y", false},
		{"ctlive-$tenant['x']", false},
		{"ctlive-%s", false},
	}
	for _, tc := range tests {
		s := newSink(t, map[string]string{"index": tc.src})
		if s.memoIndex != tc.want {
			t.Errorf("%q: memo %v, want %v", tc.src, s.memoIndex, tc.want)
		}
	}
}
