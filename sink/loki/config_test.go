package loki

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/template"
)

func TestSplitItemsKeepsCommasInsideSubscripts(t *testing.T) {
	tests := map[string][]string{
		"service, tenant,channel":        {"service", "tenant", "channel"},
		" a ,, b ,":                      {"a", "b"},
		"x=$p['a,b'], y":                 {"x=$p['a,b']", "y"},
		"x=$p['it''s, ok'], $q[0]":       {"x=$p['it''s, ok']", "$q[0]"},
		"job=fluent-bit, $sub['stream']": {"job=fluent-bit", "$sub['stream']"},
		"":                               nil,
	}
	for in, want := range tests {
		if got := splitItems(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitItems(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLabelItems(t *testing.T) {
	tests := []struct {
		item string
		want spec // src is filled in from item
	}{
		{"tenant", spec{name: "tenant", kind: kindField, key: "tenant", field: record.FieldTenant}},
		{"$tenant", spec{name: "tenant", kind: kindField, key: "tenant", field: record.FieldTenant}},
		{"org=$tenant", spec{name: "org", kind: kindField, key: "tenant", field: record.FieldTenant}},
		{"job=fluent-bit", spec{name: "job", kind: kindStatic, static: "fluent-bit", field: -1}},
		{"env = prod eu", spec{name: "env", kind: kindStatic, static: "prod eu", field: -1}},
		{"$kubernetes['namespace_name']", spec{name: "namespace_name", kind: kindField, key: "kubernetes",
			path: []template.PathElem{{Key: "namespace_name"}}, field: -1}},
		{"$kubernetes['labels']['app.kubernetes.io/name']", spec{name: "app_kubernetes_io_name", kind: kindField, key: "kubernetes",
			path: []template.PathElem{{Key: "labels"}, {Key: "app.kubernetes.io/name"}}, field: -1}},
		{"$list[2]", spec{name: "list", kind: kindField, key: "list", path: []template.PathElem{{Index: 2, IsIndex: true}}, field: -1}},
		{"$m['9lives']", spec{name: "_9lives", kind: kindField, key: "m", path: []template.PathElem{{Key: "9lives"}}, field: -1}},
		{"$m['it''s']", spec{name: "it_s", kind: kindField, key: "m", path: []template.PathElem{{Key: "it's"}}, field: -1}},
		{"$TAG", spec{name: "tag", kind: kindTag, key: "TAG", field: -1}},
		{"part=$TAG[1]", spec{name: "part", kind: kindTagPart, key: "TAG", part: 1, field: -1}},
		{"status=$payload['response']['status']", spec{name: "status", kind: kindField, key: "payload",
			path: []template.PathElem{{Key: "response"}, {Key: "status"}}, field: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.item, func(t *testing.T) {
			specs, err := parseSpecs(tc.item, "label", true, "log")
			if err != nil {
				t.Fatal(err)
			}
			tc.want.src = tc.item
			if len(specs) != 1 || !reflect.DeepEqual(specs[0], tc.want) {
				t.Fatalf("got %+v, want %+v", specs, tc.want)
			}
		})
	}
}

func TestBadLabelItemsAreRefused(t *testing.T) {
	tests := []struct{ item, wantErr string }{
		{"contactID", "contactID cannot be a label"},
		{"$sessionID", "sessionID cannot be a label"},
		{"cid=$contactID", "contactID cannot be a label"},
		{"messageID", "structured metadata"},
		{"userID", "cannot be a label"},
		{"time", "cannot be a label"},
		{"message", "cannot be a label"},
		{"url", "cannot be a label"},
		{"payload", "cannot be a label"},
		{"stack", "cannot be a label"},
		{"$stack[0]", "cannot be a label"},
		{"error", "cannot be a label"},
		{"log", "the line itself"},
		{"x=$log", "the line itself"},
		{"bad-name=x", "not a valid label name"},
		{"9x=y", "not a valid label name"},
		{"x=", "no value"},
		{"x=$a-$b", "not a template"},
		{"x=pre$tenant", ""}, // fixed text: '$' not first is literal
		{"x=${HOME}", "environment variable"},
		{"$", "'$' at end"},
		{"some thing", "write a field name"},
		{"tenant, org=$x, tenant", "already given"},
		{"$a['x'], x", "already given"},
	}
	for _, tc := range tests {
		t.Run(tc.item, func(t *testing.T) {
			_, err := parseSpecs(tc.item, "label", true, "log")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestMetadataMayHoldHighCardinalityFields(t *testing.T) {
	specs, err := parseSpecs("contactID, sessionID, messageID, userID, stack, payload", "structured metadata", false, "log")
	if err != nil || len(specs) != 6 {
		t.Fatalf("%d specs, err %v", len(specs), err)
	}
}

func TestConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		wantErr string
		check   func(t *testing.T, s *Sink)
	}{
		{name: "defaults", check: func(t *testing.T, s *Sink) {
			var labels, meta []string
			for _, l := range s.labels {
				labels = append(labels, l.name)
			}
			for _, m := range s.meta {
				meta = append(meta, m.name)
			}
			if got := strings.Join(labels, ","); got != "channel,event,level,service,tenant" {
				t.Errorf("labels %s", got)
			}
			if got := strings.Join(meta, ","); got != "contactID,sessionID,messageID,userID" {
				t.Errorf("metadata %s", got)
			}
			if s.enc != Protobuf || s.lineJSON || s.tenant != nil || s.maxSize != 1000000 {
				t.Errorf("encoding %v lineJSON %v tenant %v max %d", s.enc, s.lineJSON, s.tenant, s.maxSize)
			}
			if s.client.URL() != "http://127.0.0.1:3100" {
				t.Errorf("url %s", s.client.URL())
			}
		}},
		{name: "label_keys add labels", props: map[string]string{"labels": "job=x", "label_keys": "$a, $b['c']"},
			check: func(t *testing.T, s *Sink) {
				if len(s.labels) != 3 || s.labels[0].name != "a" || s.labels[1].name != "c" || s.labels[2].name != "job" {
					t.Errorf("labels %+v", s.labels)
				}
			}},
		{name: "structured_metadata none", props: map[string]string{"structured_metadata": "none"},
			check: func(t *testing.T, s *Sink) {
				if len(s.meta) != 0 {
					t.Errorf("metadata %+v", s.meta)
				}
			}},
		{name: "json and sizes", props: map[string]string{"encoding": "JSON", "line_format": "json", "max_request_size": "512k"},
			check: func(t *testing.T, s *Sink) {
				if s.enc != JSON || !s.lineJSON || s.maxSize != 512000 {
					t.Errorf("encoding %v lineJSON %v max %d", s.enc, s.lineJSON, s.maxSize)
				}
			}},
		{name: "contactID as a label", props: map[string]string{"labels": "tenant, contactID"}, wantErr: "labels: \"contactID\": contactID cannot be a label"},
		{name: "the line's key as a label", props: map[string]string{"log_key": "msg", "labels": "msg"}, wantErr: "the line itself"},
		{name: "label_keys are checked too", props: map[string]string{"label_keys": "$sessionID"}, wantErr: "sessionID cannot be a label"},
		{name: "a name both label and metadata", props: map[string]string{"structured_metadata": "tenant"}, wantErr: "is also a label"},
		{name: "too many labels", props: map[string]string{"labels": "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p"}, wantErr: "more than 15"},
		{name: "line_format", props: map[string]string{"line_format": "key_value"}, wantErr: "line_format"},
		{name: "encoding", props: map[string]string{"encoding": "avro"}, wantErr: "encoding"},
		{name: "tenant_id syntax", props: map[string]string{"tenant_id": "${TENANT}"}, wantErr: "tenant_id"},
		{name: "url", props: map[string]string{"url": "ftp://x"}, wantErr: "url"},
		{name: "Fluent Bit's uri", props: map[string]string{"uri": "/loki/api/v1/push"}, wantErr: "uri: not a key of the ctlive loki sink: put the path prefix in url"},
		{name: "Fluent Bit's remove_keys", props: map[string]string{"remove_keys": "kubernetes"}, wantErr: "remove_keys: not a key"},
		{name: "api_key", props: map[string]string{"api_key": "k"}, wantErr: "use bearer_token"},
		{name: "Fluent Bit's drop_single_key on", props: map[string]string{"drop_single_key": "on"}, wantErr: "drop_single_key: not a key"},
		{name: "Fluent Bit's switches turned off are harmless", props: map[string]string{"drop_single_key": "off", "auto_kubernetes_labels": "Off"},
			check: func(t *testing.T, s *Sink) {}},
		{name: "max_request_size", props: map[string]string{"max_request_size": "lots"}, wantErr: "max_request_size"},
		{name: "max_request_size 1", props: map[string]string{"max_request_size": "1"}, wantErr: `max_request_size "1": must be a size from 64k to 1G`},
		{name: "max_request_size a unit alone", props: map[string]string{"max_request_size": "B"}, wantErr: `max_request_size "B": must be a size from 64k to 1G`},
		{name: "max_request_size past the ceiling", props: map[string]string{"max_request_size": "2G"}, wantErr: `max_request_size "2G"`},
		{name: "timeout 1e300", props: map[string]string{"timeout": "1e300"}, wantErr: `timeout "1e300": must be a duration from 100ms to 1h`},
		{name: "bearer_token with a line break", props: map[string]string{"bearer_token": "s3cr3t\nx"}, wantErr: "bearer_token: holds a control character"},
		{name: "http_passwd with a line break", props: map[string]string{"http_user": "u", "http_passwd": "s3cr3t\n"}, wantErr: "http_passwd: holds a control character"},
		{name: "static tenant_id with a control character", props: map[string]string{"tenant_id": "org\x01"}, wantErr: "tenant_id: tenant_id renders"},
		{name: "static tenant_id with a space", props: map[string]string{"tenant_id": "org one"}, wantErr: "printable ASCII without spaces"},
		{name: "max_request_size at the floor", props: map[string]string{"max_request_size": "64k"},
			check: func(t *testing.T, s *Sink) {
				if s.maxSize != 64000 {
					t.Errorf("max %d", s.maxSize)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(config.NewReader(config.MapGetter(tc.props)), nil, stage.Layout())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Errorf("err = %v shows a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}
