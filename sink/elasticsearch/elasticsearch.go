package elasticsearch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/internal/scrub"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/sink/httpc"
	"github.com/ctlive/ctlive-fluent-bit/template"
)

// Defaults of the sink's own keys.
const (
	DefaultURL            = "http://127.0.0.1:9200"
	DefaultIndex          = "ctlive-$tenant-%Y.%m.%d"
	DefaultTimeKey        = "@timestamp"
	DefaultTagKey         = "_flb-key" // Fluent Bit's es output's default
	DefaultMaxRequestSize = 5 * config.MB
)

// Bounds of max_request_size: below 64 KiB every flush becomes many
// requests; above 1 GiB no server takes it (Elasticsearch's
// http.max_content_length defaults to 100 MB).
const (
	minRequestSize = 64 * config.KB
	maxRequestSize = 1 * config.GB
)

const (
	bulkPath    = "/_bulk"
	contentType = "application/x-ndjson" // VictoriaLogs loses the body with a form type
)

// Sink sends records to the bulk API of Elasticsearch, OpenSearch or
// anything that speaks it (VictoriaLogs). It is safe for concurrent use.
type Sink struct {
	client *httpc.Client
	log    *flblog.Logger

	index        *template.Template
	staticAction []byte // `{"create":{"_index":"name"` when the index is static
	memoIndex    bool   // the index depends on the tenant and the day only
	tenantIndex  bool   // the index names the tenant: see foldsApart
	timeKey      string
	docStart     []byte // `{"@timestamp":"`
	tagKey       string // "" unless include_tag_key
	json         record.JSON
	genID        bool
	maxRequest   int

	pool sync.Pool // *flush
}

var _ sink.Sink = (*Sink)(nil)

// unsupported are Fluent Bit es output keys this sink does not have; a user
// carrying a config over gets told what to use instead rather than having
// the key silently ignored. Keys whose effect is already built in
// (suppress_type_name, time_key_nanos, buffer_size, trace_*) are accepted
// and ignored.
var unsupported = []struct{ key, hint string }{
	{"logstash_format", "set index, e.g. index logstash-%Y.%m.%d"},
	{"logstash_prefix", "set index, e.g. index mylogs-%Y.%m.%d"},
	{"logstash_prefix_key", "set index with a record field, e.g. index ctlive-$tenant-%Y.%m.%d"},
	{"logstash_dateformat", "set index with strftime directives, e.g. index ctlive-%Y.%m"},
	{"type", "mapping types are gone since Elasticsearch 7; this sink never sends _type"},
	{"generate_id", "use id (on by default)"},
	{"id_key", "ids are generated from the record (id on) or left to the server (id off)"},
	{"write_operation", "this sink always uses create (a retried document answers 409 and counts as delivered)"},
	{"path", "put the path prefix in url, e.g. url http://host:9200/prefix"},
	{"pipeline", "add it to url, e.g. url http://host:9200?pipeline=NAME"},
	{"time_key_format", "the time is always RFC 3339 in UTC with nanoseconds"},
	{"current_time_key", "not supported"},
	{"cloud_id", "set url to the deployment's Elasticsearch endpoint"},
	{"cloud_auth", "use http_user and http_passwd, or api_key"},
	{"aws_auth", "AWS SigV4 signing is not supported; use http_user/http_passwd or api_key"},
}

// New reads the sink's keys (see the package documentation).
func New(r *config.Reader, log *flblog.Logger, layout *record.Layout) (*Sink, error) {
	hc := httpc.ReadConfig(r, DefaultURL)
	for _, u := range unsupported {
		if v := r.Raw(u.key); v != "" {
			r.Errorf(u.key, errors.New("not a key of the ctlive elasticsearch sink: "+u.hint))
		}
	}
	s := &Sink{log: log}

	indexSrc := r.String("index", DefaultIndex)
	tmpl, err := template.Parse(indexSrc, template.Options{Strftime: true})
	if err != nil {
		r.Errorf("index", err)
	} else {
		s.index = tmpl
		s.memoIndex = memoizable(indexSrc, tmpl.Keys())
		s.tenantIndex = slices.Contains(tmpl.Keys(), "tenant")
		if d := r.Raw("default_tenant"); s.tenantIndex && d != "" && !foldsApart(d) {
			r.Errorf("default_tenant", fmt.Errorf("%q has lower-case or non-ASCII letters, and index %q names the tenant: "+
				"Elasticsearch lower-cases index names, so it could share an index with another tenant (shared with SHARED), "+
				"and every record without a tenant would be rejected; write it in capitals", d, indexSrc))
		}
		if tmpl.Static() {
			name := strings.ToLower(string(tmpl.Append(nil, nil))) // "%%" renders as "%"
			if err := checkIndexName(name); err != nil {
				r.Errorf("index", err)
			}
			s.staticAction = record.AppendJSONString([]byte(`{"create":{"_index":`), []byte(name))
		}
	}

	s.timeKey = r.String("time_key", DefaultTimeKey)
	r.Check(!isFieldName(s.timeKey), "time_key", s.timeKey, "is a field the plugin adds; pick another name")
	s.docStart = append(record.AppendJSONString([]byte{'{'}, []byte(s.timeKey)), ':', '"')

	if r.Bool("include_tag_key", false) {
		s.tagKey = r.String("tag_key", DefaultTagKey)
		r.Check(!isFieldName(s.tagKey), "tag_key", s.tagKey, "is a field the plugin adds; pick another name")
		r.Check(s.tagKey != s.timeKey, "tag_key", s.tagKey, "is also the time_key")
	}
	s.json = record.JSON{Reserved: s.timeKey, ReplaceDots: r.Bool("replace_dots", false)}
	s.genID = r.Bool("id", true)
	s.maxRequest = int(r.Size("max_request_size", DefaultMaxRequestSize, minRequestSize, maxRequestSize))

	r.Add(checkLayout(layout, s.timeKey, s.tagKey))
	if err := r.Err(); err != nil {
		return nil, err
	}
	if s.client, err = httpc.New(hc); err != nil {
		return nil, err
	}
	s.pool.New = func() any { return new(flush) }
	return s, nil
}

func isFieldName(k string) bool { return slices.Contains(record.FieldNames[:], k) }

// foldsApart reports whether lower-casing tenant, as the index name is,
// cannot make it another tenant's: tenants are compared exactly (agm is
// not AGM, and passes `exclude_tenants AGM`), but ctlive-agm and ctlive-AGM
// are one index. Capitals, digits and other ASCII lower-case one to one;
// a lower-case letter could be another tenant's capital, and bytes.ToLower
// maps some non-ASCII letters onto ASCII ones (the Kelvin sign onto k).
func foldsApart[T string | []byte](tenant T) bool {
	for i := 0; i < len(tenant); i++ {
		if c := tenant[i]; c >= 0x80 || 'a' <= c && c <= 'z' {
			return false
		}
	}
	return true
}

// checkIndexName applies Elasticsearch's rules for index names
// (MetadataCreateIndexService.validateIndexOrAliasName) to a static index,
// so a bad one fails at start rather than on every record.
func checkIndexName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("%q is not a valid index name", name)
	case len(name) > 255:
		return fmt.Errorf("index names are at most 255 bytes")
	case strings.ContainsAny(name, `\/*?"<>| ,#:`):
		return fmt.Errorf(`%q: index names must not contain \ / * ? " < > | , # : or spaces`, name)
	case strings.ContainsAny(name[:1], "-_+"):
		return fmt.Errorf("%q: index names must not start with -, _ or +", name)
	}
	return nil
}

// checkLayout refuses a record layout that cannot work with this sink's
// keys: the document would lose the line or the fields.
func checkLayout(l *record.Layout, timeKey, tagKey string) error {
	switch {
	case l.LogKey == timeKey:
		return fmt.Errorf("log_key and time_key are both %q: the line would be lost", l.LogKey)
	case l.NestUnder != "" && l.NestUnder == timeKey:
		return fmt.Errorf("time_key %q is also the key the fields are nested under (nest_under)", timeKey)
	case l.NestUnder != "" && l.NestUnder == tagKey:
		return fmt.Errorf("tag_key %q is also the key the fields are nested under (nest_under)", tagKey)
	}
	return nil
}

// flush is one Deliver call's working state, pooled across calls.
type flush struct {
	body      []byte // the current request: action and document lines
	recs      []int  // batch index of each document in body
	offs      []int  // where each document's action line starts in body
	items     []bulkItem
	scratch   []byte
	hashIn    []byte
	tagMember []byte // `,"_flb-key":"tag"`
	memo      []indexMemo
	arena     []byte // rendered index names of memo
	warned413 bool
	logged4xx bool
}

func (s *Sink) getFlush(tag string) *flush {
	f := s.pool.Get().(*flush)
	f.body, f.recs, f.offs = f.body[:0], f.recs[:0], f.offs[:0]
	f.memo, f.arena = f.memo[:0], f.arena[:0]
	f.warned413, f.logged4xx = false, false
	if s.tagKey != "" {
		f.tagMember = append(f.tagMember[:0], ',')
		f.tagMember = record.AppendJSONString(f.tagMember, []byte(s.tagKey))
		f.tagMember = append(f.tagMember, ':')
		f.tagMember = record.AppendJSONString(f.tagMember, []byte(tag))
	}
	return f
}

func (s *Sink) putFlush(f *flush) {
	clear(f.memo) // it points into the chunk, which Fluent Bit frees
	f.memo = f.memo[:0]
	if cap(f.body) > 2*s.maxRequest+(1<<20) {
		f.body = nil // one huge document: do not keep its buffer forever
	}
	s.pool.Put(f)
}

// Deliver encodes the batch's undone records as bulk NDJSON and sends it in
// requests of at most max_request_size bytes (before compression), one
// after the other. It stops at the first request that must be retried;
// what was not sent stays undone for Fluent Bit's retry.
func (s *Sink) Deliver(ctx context.Context, b *sink.Batch) error {
	f := s.getFlush(b.Tag)
	defer s.putFlush(f)
	var err error
	for i, ev := range b.Events {
		if b.IsDone(i) {
			continue
		}
		if !ev.IsRecord() {
			b.Done(i) // group markers are not records
			continue
		}
		if s.tenantIndex && ev.Tenant != nil && !foldsApart(ev.Tenant) {
			b.RejectAs(i, sink.TenantCase, fmt.Sprintf("tenant %q differs from another only in case once lower-cased "+
				"for index %q (Elasticsearch index names are lower case): not sent, so that no two tenants share an index",
				ev.Tenant, s.index.String()))
			continue
		}
		if s.tenantIndex && strings.EqualFold(string(ev.Tenant), template.DefaultMissing) {
			b.RejectAs(i, sink.TenantCase, fmt.Sprintf("tenant %q would share index %q with the records that have no tenant "+
				"(%s is how a missing value renders): not sent; set default_tenant to give those an index of their own",
				ev.Tenant, s.index.String(), template.DefaultMissing))
			continue
		}
		start := len(f.body)
		f.body = s.appendRecord(f.body, ev, f)
		if len(f.body) > s.maxRequest && len(f.recs) > 0 {
			// This document overflows the request: send the ones before it,
			// then start the next request with it.
			if err = s.send(ctx, b, f, f.body[:start], 0, len(f.recs)); err != nil {
				break
			}
			f.body = f.body[:copy(f.body, f.body[start:])]
			f.recs, f.offs = f.recs[:0], f.offs[:0]
			start = 0
		}
		f.recs = append(f.recs, i)
		f.offs = append(f.offs, start)
	}
	if err == nil && len(f.recs) > 0 {
		err = s.send(ctx, b, f, f.body, 0, len(f.recs))
	}
	return err
}

// send posts body, which holds documents lo..hi-1 of f.recs, and marks
// them from the answer.
func (s *Sink) send(ctx context.Context, b *sink.Batch, f *flush, body []byte, lo, hi int) error {
	for {
		next, err := s.sendOnce(ctx, b, f, body, lo, hi)
		if err != nil || next == hi {
			return err
		}
		// Part of the request went through: send the rest again.
		body, lo = body[f.offs[next]-f.offs[lo]:], next
	}
}

// sendOnce posts body and marks documents lo..hi-1 from the answer. It
// returns hi, or the first document to send again when the server stored
// only the ones before it.
func (s *Sink) sendOnce(ctx context.Context, b *sink.Batch, f *flush, body []byte, lo, hi int) (int, error) {
	var answer bulkAnswer
	resp, err := s.client.PostStream(ctx, bulkPath, contentType, body, nil, answerLimit(hi-lo), func(r io.Reader) error {
		var err error
		answer, err = readBulk(r, hi-lo, f.items)
		f.items = answer.items
		return err
	})
	if resp == nil {
		return hi, err // transport failure (*httpc.RetryableError) or a redirect (permanent)
	}
	st := resp.Status
	switch {
	case st >= 200 && st < 300:
		b.Sent(len(body))
		return hi, s.markItems(b, f, answer, err, lo, hi)

	case st == http.StatusRequestEntityTooLarge:
		if hi-lo == 1 {
			b.RejectAs(f.recs[lo], sink.TooLarge, fmt.Sprintf("document of %d bytes is larger than the server accepts "+
				"(HTTP 413: its request body limit, http.max_content_length, or a proxy's in front of it)", len(body)))
			return hi, nil
		}
		if !f.warned413 {
			f.warned413 = true
			s.log.Warnf("%s answered 413 to a bulk request of %d bytes: the server's request body limit is below max_request_size "+
				"(now %d bytes): Elasticsearch's and OpenSearch's http.max_content_length (100mb by default), or a proxy's in "+
				"front of it (nginx client_max_body_size, 1m by default); splitting the request and sending the halves, "+
				"set max_request_size below that limit", s.client.URL(), len(body), s.maxRequest)
		}
		mid := lo + (hi-lo)/2
		cut := f.offs[mid] - f.offs[lo]
		if err := s.send(ctx, b, f, body[:cut], lo, mid); err != nil {
			return hi, err
		}
		return hi, s.send(ctx, b, f, body[cut:], mid, hi)

	case httpc.Retryable(st):
		return hi, retryable("bulk request to %s: HTTP %d: %s", s.client.URL(), st, httpc.Snippet(resp.Body))

	case st == http.StatusUnauthorized, st == http.StatusForbidden, st == http.StatusProxyAuthRequired:
		// Credentials or permissions: nothing is wrong with the records, and
		// they pass once the configuration is fixed.
		return hi, retryable("bulk request to %s: HTTP %d (check http_user/http_passwd, api_key or bearer_token and the user's privileges): %s",
			s.client.URL(), st, httpc.Snippet(resp.Body))

	case st == http.StatusNotFound:
		// Wrong path: the url's prefix is wrong, not the records.
		return hi, retryable("bulk request to %s%s: HTTP 404 (check the url's path): %s", s.client.URL(), bulkPath, httpc.Snippet(resp.Body))
	}

	if n, ok := partialDecodeFailure(resp.Body); st == http.StatusBadRequest && ok && n < hi-lo {
		// VictoriaLogs stores documents one by one and stops at the first
		// one it cannot decode, naming it: those before it are stored,
		// and those after it can still go.
		for k := lo; k < lo+n; k++ {
			b.Done(f.recs[k])
		}
		s.logOnce4xx(b, f, st, 1, resp.Body)
		b.RejectAs(f.recs[lo+n], sink.HTTPClass(st), "HTTP 400: the server could not decode this document")
		return lo + n + 1, nil
	}

	// Any other 4xx: the server refuses the request as it is, and sending
	// it again would get the same answer.
	s.logOnce4xx(b, f, st, hi-lo, resp.Body)
	reason := "HTTP " + strconv.Itoa(st) + " for its whole bulk request"
	for k := lo; k < hi; k++ {
		b.RejectAs(f.recs[k], sink.HTTPClass(st), reason)
	}
	return hi, nil
}

// logOnce4xx logs the server's reason for refusing n documents, once per
// flush: a misconfiguration would otherwise log it for every request.
func (s *Sink) logOnce4xx(b *sink.Batch, f *flush, status, n int, body []byte) {
	if f.logged4xx {
		return
	}
	f.logged4xx = true
	s.log.Errorf("%s refused %d document(s) with HTTP %d, not retried: %s",
		s.client.URL(), n, status, httpc.Snippet(body))
}

// partialDecodeFailure reads VictoriaLogs' "cannot decode log message #N
// in /_bulk request" (N counts documents from 0).
func partialDecodeFailure(body []byte) (int, bool) {
	const marker = "cannot decode log message #"
	i := strings.Index(string(body), marker)
	if i < 0 {
		return 0, false
	}
	digits := body[i+len(marker):]
	n := 0
	for n < len(digits) && n < 9 && '0' <= digits[n] && digits[n] <= '9' {
		n++
	}
	v, err := strconv.Atoi(string(digits[:n]))
	return v, err == nil
}

// markItems applies a 2xx bulk answer to documents lo..hi-1. Items answer
// documents in order. Delivered: 2xx, and 409 on create (the document with
// that _id is already there: an earlier attempt whose answer was lost).
// Retried: 429 and 5xx. Rejected for good: any other status. An answer
// that could not be read (readErr) marks nothing and is retried: with id
// on, documents the server did store answer 409 the next time.
func (s *Sink) markItems(b *sink.Batch, f *flush, a bulkAnswer, readErr error, lo, hi int) error {
	n := hi - lo
	if readErr != nil {
		return retryable("bulk answer from %s to %d documents: %w", s.client.URL(), n, readErr)
	}
	retry, firstRetry := 0, -1
	if a.allOK {
		for k := lo; k < lo+a.count; k++ {
			b.Done(f.recs[k])
		}
	} else {
		for j, item := range a.items {
			i := f.recs[lo+j]
			switch st := item.status; {
			case st >= 200 && st < 300, st == http.StatusConflict:
				b.Done(i)
			case st == 0, httpc.Retryable(st):
				retry++
				if firstRetry < 0 {
					firstRetry = j
				}
			default:
				b.RejectAs(i, itemClass(item), itemReason(item))
			}
		}
	}
	if a.count < n {
		return retryable("bulk answer from %s lists %d items for %d documents; the rest are sent again", s.client.URL(), a.count, n)
	}
	if retry > 0 {
		return retryable("%s refused %d of %d documents for now, e.g. %s", s.client.URL(), retry, n, itemReason(a.items[firstRetry]))
	}
	return nil
}

// itemClass is the error type Elasticsearch names (mapper_parsing_exception,
// document_parsing_exception, ...), a short fixed word, else the status.
func itemClass(it bulkItem) string {
	t := it.errType
	if t == "" || len(t) > 64 || strings.Trim(t, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return sink.HTTPClass(it.status)
	}
	return t
}

// itemReason is what an item's answer says, for a log line. Its type and
// reason (its causes' too) are the server's text, so the whole goes
// through the answer scrubber: credentials masked, control characters
// (line breaks) made spaces, at most maxItemReason bytes.
func itemReason(it bulkItem) string {
	if it.status == 0 {
		return "no status in the bulk answer"
	}
	s := "HTTP " + strconv.Itoa(it.status)
	if it.errType != "" {
		s += " " + it.errType
	}
	if it.reason != "" {
		s += ": " + it.reason
	}
	return scrub.Answer([]byte(s), maxItemReason)
}

// maxItemReason bounds an item's reason in a log line: the type (up to
// maxType) and the reason (already cut to 200 bytes by scrubReason).
const maxItemReason = 300

func retryable(format string, a ...any) error {
	return &httpc.RetryableError{Err: fmt.Errorf(format, a...)}
}

// Close drops idle connections.
func (s *Sink) Close() error {
	s.client.Close()
	return nil
}
