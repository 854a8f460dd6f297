package loki

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/sink/httpc"
	"github.com/ctlive/ctlive-fluent-bit/template"
)

const (
	// DefaultURL is Loki's own default listen address.
	DefaultURL = "http://127.0.0.1:3100"
	// PushPath is appended to the URL's path prefix.
	PushPath = "/loki/api/v1/push"

	defaultLabels   = "service, tenant, channel, event, level"
	defaultMetadata = "contactID, sessionID, messageID, userID"
	defaultMaxSize  = 1 * config.MB

	// Bounds of max_request_size, as the elasticsearch sink's: below
	// 64 KiB a flush becomes a request per few lines (at 1 byte, one per
	// line); above 1 GiB no Loki takes it (its distributor refuses bodies
	// past max_recv_msg_size, 100 MB by default).
	minMaxSize = 64 * config.KB
	maxMaxSize = 1 * config.GB

	// maxLabels is Loki's default max_label_names_per_series.
	maxLabels = 15
)

// Encoding is the push body's format.
type Encoding uint8

const (
	Protobuf Encoding = iota // snappy block-compressed logproto.PushRequest
	JSON                     // {"streams":[...]}, gzip unless compress is none
)

func (e Encoding) String() string {
	if e == JSON {
		return "json"
	}
	return "protobuf"
}

// Sink pushes to one Loki endpoint. It is safe for concurrent use: its
// configuration is immutable and each Deliver takes its own buffers from a
// pool.
type Sink struct {
	client   *httpc.Client
	log      *flblog.Logger
	tenant   *template.Template // nil: no X-Scope-OrgID
	labels   []spec             // sorted by name: the selector is canonical
	meta     []spec
	lineJSON bool
	enc      Encoding
	maxSize  int

	// Encoded once: `name=` and `"name":` for labels, the protobuf name
	// field and `"name":` for metadata.
	labelSel, labelJSON []string
	metaProto, metaJSON [][]byte

	states sync.Pool

	// sendHook replaces the HTTP round trip in tests and benchmarks.
	sendHook func(st *state, tenant int32) (result, error)
}

// unsupported are keys of Fluent Bit's loki output (and httpc's api_key)
// that this sink does not have: a user carrying a config over is told what
// to write instead rather than having the key silently ignored.
var unsupported = []struct{ key, hint string }{
	{"uri", "put the path prefix in url, e.g. url http://host:3100/prefix (the sink appends " + PushPath + ")"},
	{"tenant_id_key", "use tenant_id with the key, e.g. tenant_id $org"},
	{"label_map_path", "list the labels with record accessors in labels, e.g. labels app=$kubernetes['labels']['app']"},
	{"auto_kubernetes_labels", "list the labels with record accessors in labels, e.g. labels $kubernetes['namespace_name']"},
	{"remove_keys", "not supported: line_format raw sends the original line alone, json the whole enriched record"},
	{"drop_single_key", "not supported: line_format raw already sends the line alone"},
	{"structured_metadata_map_keys", "list the pairs in structured_metadata, e.g. structured_metadata pod=$kubernetes['pod_name']"},
	{"header", "extra headers are not supported; VictoriaLogs takes its options as url query arguments"},
	{"api_key", "Loki has no API-key scheme: use bearer_token, or http_user and http_passwd"},
}

// New reads an instance's properties.
func New(r *config.Reader, log *flblog.Logger, _ *record.Layout) (*Sink, error) {
	hc := httpc.ReadConfig(r, DefaultURL)
	for _, u := range unsupported {
		switch v := strings.ToLower(r.Raw(u.key)); v {
		case "":
		case "off", "false", "no", "0":
			if u.key == "auto_kubernetes_labels" || u.key == "drop_single_key" {
				break // turned off: what this sink does anyway
			}
			fallthrough
		default:
			r.Errorf(u.key, errors.New("not a key of the ctlive loki sink: "+u.hint))
		}
	}
	if hc.URL != nil {
		// A URL copied from Loki's docs already names the push API.
		hc.URL.Path = strings.TrimSuffix(hc.URL.Path, PushPath)
	}
	s := &Sink{log: log}
	t := r.Raw("tenant_id")
	if len(t) >= 2 && (t[0] == '"' || t[0] == '\'') && t[len(t)-1] == t[0] {
		// A classic configuration keeps quotes as written, and cannot hold
		// an empty value: `""` means none, and `'$tenant'` is $tenant, not
		// a Loki tenant with quotes in its name.
		t = t[1 : len(t)-1]
	}
	if t != "" {
		// A reference without a value must never become a Loki tenant
		// ("unknown" would create one): it renders default_tenant, or the
		// sentinel that makes collect skip the record.
		missing := r.Raw("default_tenant")
		if missing == "" {
			missing = noTenant
		}
		tt, err := template.Parse(t, template.Options{Missing: missing})
		r.Errorf("tenant_id", err)
		if err == nil && tt.Static() {
			// Fixed text that cannot be a header would reject every record.
			if why := badTenant(tt.Append(nil, nil)); why != "" {
				r.Errorf("tenant_id", errors.New(why))
			}
		}
		s.tenant = tt
	}
	var err error
	labels := r.String("labels", defaultLabels)
	if extra := r.Raw("label_keys"); extra != "" {
		labels += "," + extra
	}
	logKey := r.String("log_key", "log") // the pipeline's key; read here only to refuse it as a label
	s.labels, err = parseSpecs(labels, "label", true, logKey)
	r.Errorf("labels", err)
	if len(s.labels) > maxLabels {
		r.Errorf("labels", fmt.Errorf("%d labels: Loki refuses streams with more than %d by default (max_label_names_per_series)", len(s.labels), maxLabels))
	}
	if md := r.String("structured_metadata", defaultMetadata); !strings.EqualFold(md, "none") {
		s.meta, err = parseSpecs(md, "structured metadata", false, logKey)
		r.Errorf("structured_metadata", err)
	}
	for _, m := range s.meta {
		for _, l := range s.labels {
			if l.name == m.name {
				r.Errorf("structured_metadata", fmt.Errorf("%q is also a label (%q): a name is either a stream label or metadata", m.src, l.src))
			}
		}
	}
	s.lineJSON = r.Enum("line_format", "raw", "raw", "json") == "json"
	if r.Enum("encoding", "protobuf", "protobuf", "json") == "json" {
		s.enc = JSON
	}
	s.maxSize = int(r.Size("max_request_size", defaultMaxSize, minMaxSize, maxMaxSize))
	if err := r.Err(); err != nil {
		return nil, err
	}

	sortSpecs(s.labels)
	for _, l := range s.labels {
		s.labelSel = append(s.labelSel, l.name+"=")
		s.labelJSON = append(s.labelJSON, string(record.AppendJSONString(nil, []byte(l.name)))+":")
	}
	for _, m := range s.meta {
		s.metaProto = append(s.metaProto, appendProtoString(nil, fieldName, []byte(m.name)))
		s.metaJSON = append(s.metaJSON, append(record.AppendJSONString(nil, []byte(m.name)), ':'))
	}
	client, err := httpc.New(hc)
	if err != nil {
		return nil, err
	}
	s.client = client
	return s, nil
}

func sortSpecs(specs []spec) {
	slices.SortStableFunc(specs, func(a, b spec) int { return strings.Compare(a.name, b.name) })
}

// Close drops the idle keep-alive connections.
func (s *Sink) Close() error {
	s.client.Close()
	return nil
}

// Deliver pushes b's records: see the package comment for what each answer
// does to them.
func (s *Sink) Deliver(ctx context.Context, b *sink.Batch) error {
	st := s.getState()
	defer s.states.Put(st)
	st.collect(s, b)
	if len(st.entries) == 0 {
		return nil
	}
	st.sortEntries()
	return st.push(ctx, s, b)
}

// maxPooledBuffer keeps one huge flush from pinning its buffers forever.
const maxPooledBuffer = 16 << 20

func (s *Sink) getState() *state {
	st, _ := s.states.Get().(*state)
	if st == nil {
		st = &state{streamIdx: map[string]int32{}, tenantIdx: map[string]int32{}}
	}
	st.reset()
	return st
}

// result of one push request.
type result uint8

const (
	sent        result = iota
	rejected           // refused for good: the events were rejected
	retryTenant        // 429: this tenant's other requests would meet the same limit
	retryAll           // 5xx, transport: the server is unwell, stop the flush
)

// post sends the current request body and marks its events.
func (st *state) post(ctx context.Context, s *Sink, b *sink.Batch, tenant int32) (result, error) {
	if s.sendHook != nil {
		return s.sendHook(st, tenant)
	}
	var hdr http.Header
	if tenant >= 0 {
		hdr = http.Header{"X-Scope-Orgid": {st.tenantIDs[tenant]}}
	}
	var resp *httpc.Response
	var err error
	bodyLen := len(st.body)
	if s.enc == Protobuf {
		st.zbuf = snappyEncode(st.zbuf, st.body)
		bodyLen = len(st.zbuf)
		resp, err = s.client.PostUncompressed(ctx, PushPath, "application/x-protobuf", st.zbuf, hdr)
	} else {
		resp, err = s.client.Post(ctx, PushPath, "application/json", st.body, hdr)
	}
	if err != nil {
		return retryAll, err
	}
	n := len(st.reqEvents)
	switch {
	case resp.Status/100 == 2:
		b.Sent(bodyLen)
		for _, i := range st.reqEvents {
			b.Done(int(i))
		}
		return sent, nil
	case httpc.Retryable(resp.Status):
		err := &StatusError{Status: resp.Status, Body: httpc.Snippet(resp.Body), Tenant: st.tenantName(tenant), Records: n}
		if resp.Status == http.StatusTooManyRequests {
			return retryTenant, err
		}
		return retryAll, err
	case resp.Status == http.StatusUnauthorized, resp.Status == http.StatusForbidden, resp.Status == http.StatusNotFound:
		// Misconfiguration, not bad records: keep the data (Fluent Bit's
		// retry_limit bounds it) while someone fixes credentials or url, as
		// the elasticsearch sink does.
		hint := "check http_user/http_passwd/bearer_token and tenant_id"
		if resp.Status == http.StatusNotFound {
			hint = "check url (the push API is its path prefix + " + PushPath + ")"
		}
		s.log.Errorf("%d records%s not delivered, Fluent Bit will retry: %s answered %d %s: %s: %s",
			n, st.tenantSuffix(tenant), s.client.URL(), resp.Status, http.StatusText(resp.Status), hint, httpc.Snippet(resp.Body))
		return retryAll, &StatusError{Status: resp.Status, Body: httpc.Snippet(resp.Body), Tenant: st.tenantName(tenant), Records: n}
	}
	reason := fmt.Sprintf("loki answered %d %s: %s", resp.Status, http.StatusText(resp.Status), httpc.Snippet(resp.Body))
	class := sink.HTTPClass(resp.Status)
	if resp.Status == http.StatusRequestEntityTooLarge {
		class = sink.TooLarge
	}
	switch resp.Status {
	case http.StatusBadRequest:
		if len(s.meta) > 0 && bytes.Contains(bytes.ToLower(resp.Body), []byte("structured metadata")) {
			// Loki before 3.0 refuses structured metadata unless allow_structured_metadata is on.
			s.log.Errorf("%d records%s dropped: %s refuses structured metadata: enable allow_structured_metadata in Loki's limits_config, "+
				"or set structured_metadata none: %s", n, st.tenantSuffix(tenant), s.client.URL(), httpc.Snippet(resp.Body))
			break
		}
		s.log.Warnf("%d records%s refused by %s with 400, dropped and not retried (a server may have stored the entries before the bad one): %s",
			n, st.tenantSuffix(tenant), s.client.URL(), httpc.Snippet(resp.Body))
	case http.StatusRequestEntityTooLarge:
		s.log.Errorf("%d records%s dropped: %s answered 413: lower max_request_size (now %d bytes)",
			n, st.tenantSuffix(tenant), s.client.URL(), s.maxSize)
	default:
		s.log.Errorf("%d records%s dropped: %s", n, st.tenantSuffix(tenant), reason)
	}
	for _, i := range st.reqEvents {
		b.RejectAs(int(i), class, reason)
	}
	return rejected, nil
}

// StatusError is an answer that may pass later (408, 429, 5xx; 401, 403
// and 404 once the configuration is fixed).
type StatusError struct {
	Status  int
	Body    string
	Tenant  string // "" without tenant_id
	Records int
}

func (e *StatusError) Error() string {
	t := ""
	if e.Tenant != "" {
		t = fmt.Sprintf(" (tenant %q)", e.Tenant)
	}
	return fmt.Sprintf("loki answered %d %s for %d records%s: %s", e.Status, http.StatusText(e.Status), e.Records, t, e.Body)
}

func (st *state) tenantName(t int32) string {
	if t < 0 {
		return ""
	}
	return st.tenantIDs[t]
}

func (st *state) tenantSuffix(t int32) string {
	if t < 0 {
		return ""
	}
	return fmt.Sprintf(" of tenant %q", st.tenantIDs[t])
}

// errNotDelivered wraps the first failure of a flush with how much is left.
func notDelivered(b *sink.Batch, first error) error {
	left := 0
	for i := range b.Events {
		if !b.IsDone(i) {
			left++
		}
	}
	return fmt.Errorf("loki: %d of %d records not delivered, will retry: %w", left, len(b.Events), first)
}

var _ sink.Sink = (*Sink)(nil)
