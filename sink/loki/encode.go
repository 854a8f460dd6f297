package loki

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/template"
	"google.golang.org/protobuf/encoding/protowire"
)

// span is a range of one of state's buffers; offsets survive the buffer
// growing, slices would not.
type span struct{ off, n uint32 }

// stream is one label set of one tenant.
type stream struct {
	tenant   int32
	selector string // {name="value", ...}, Loki's (Prometheus) text form
	json     span   // {"name":"value",...} in labelsJSON
	start, n int32  // its entries in state.sorted
}

// entry is one record to push.
type entry struct {
	sec       int64
	nsec      int32
	ev        int32 // index in the batch
	stream    int32
	fromArena bool // line is in arena (JSON); else the event's own line
	line      span
	meta      span // encoded structured metadata, in arena
}

// state is one Deliver's working memory, pooled so that steady-state
// flushes allocate only per new stream and per request.
type state struct {
	arena      []byte // rendered JSON lines and encoded metadata
	scratch    []byte // one value being rendered
	key        []byte // tenant + selector of the record at hand
	labelsJSON []byte

	tenantIdx  map[string]int32
	tenantIDs  []string
	lastTenant int32

	streamIdx   map[string]int32
	streams     []stream
	entries     []entry
	sorted      []int32 // entry indices grouped by stream, by time within each
	streamOrder []int32 // stream indices by tenant, then first appearance
	cursor      []int32

	body      []byte
	zbuf      []byte
	reqEvents []int32

	noTenant int // records whose tenant_id rendered no value

	// encoder position
	streamStart, streamEntries, reqEntries int
	firstStream                            bool
}

func (st *state) reset() {
	if cap(st.arena) > maxPooledBuffer {
		st.arena = nil
	}
	if cap(st.body) > 2*maxPooledBuffer {
		st.body, st.zbuf = nil, nil
	}
	st.arena, st.labelsJSON = st.arena[:0], st.labelsJSON[:0]
	clear(st.tenantIdx)
	clear(st.streamIdx)
	st.tenantIDs, st.streams, st.entries = st.tenantIDs[:0], st.streams[:0], st.entries[:0]
	st.lastTenant = -1
	st.noTenant = 0
}

// appendValue renders sp's value for ev; false when it is missing or empty
// (the label or pair is then left out, as Fluent Bit does).
func appendValue(dst []byte, sp *spec, ev *record.Event) ([]byte, bool) {
	start := len(dst)
	if sp.field >= 0 && ev.Shaped && ev.Has(sp.field) {
		// The common case, without AppendValue's key lookup by name.
		return append(dst, ev.Value(sp.field)...), true
	}
	switch sp.kind {
	case kindStatic:
		dst = append(dst, sp.static...)
	case kindField:
		var ok bool
		if dst, ok = ev.AppendValue(dst, sp.key, sp.path); !ok {
			dst = dst[:start]
		}
	case kindTag:
		dst = append(dst, ev.Tag()...)
	case kindTagPart:
		dst = append(dst, template.TagPart(ev.Tag(), sp.part)...)
	}
	return dst, len(dst) > start
}

// appendQuoted writes v as a label value in the selector. Go quoting is
// what Loki (via the LogQL lexer) and VictoriaLogs (strconv.Unquote) read
// back: \" \\ \n, \x.. for invalid UTF-8. Most values are plain ASCII and
// skip strconv's rune-by-rune walk.
func appendQuoted(dst, v []byte) []byte {
	for _, c := range v {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.AppendQuote(dst, str(v))
		}
	}
	dst = append(dst, '"')
	dst = append(dst, v...)
	return append(dst, '"')
}

// str views b as a string without copying, for lookups and strconv.
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// collect turns each record into an entry of its tenant's stream.
func (st *state) collect(s *Sink, b *sink.Batch) {
	for i, ev := range b.Events {
		if !ev.IsRecord() {
			b.Done(i) // group markers frame records; they are not sent
			continue
		}
		tenant := int32(-1)
		if s.tenant != nil {
			st.scratch = s.tenant.Append(st.scratch[:0], ev)
			if bytes.Contains(st.scratch, []byte(noTenant)) {
				b.Skip(i)
				st.noTenant++
				continue
			}
			if reason := badTenant(st.scratch); reason != "" {
				b.RejectAs(i, sink.BadTenant, reason)
				continue
			}
			tenant = st.tenantOf(st.scratch)
		}
		t := ev.Time()
		e := entry{sec: t.Unix(), nsec: int32(t.Nanosecond()), ev: int32(i), stream: st.streamOf(s, ev, tenant)}
		if !s.lineJSON && ev.Line != nil {
			e.line = span{0, uint32(len(ev.Line))}
		} else {
			// The record as JSON: line_format json, or a record with no line.
			off := len(st.arena)
			st.arena = append(st.arena, '{')
			st.arena, _ = record.AppendJSONMembers(st.arena, ev, "")
			st.arena = append(st.arena, '}')
			e.fromArena, e.line = true, span{uint32(off), uint32(len(st.arena) - off)}
		}
		e.meta = st.appendMeta(s, ev)
		st.entries = append(st.entries, e)
	}
	if st.noTenant > 0 {
		s.log.Warnf("%d records not sent: tenant_id %s renders no value for them and default_tenant is not set; "+
			"counted as not routed (set default_tenant to send them to that Loki tenant)", st.noTenant, s.tenant)
	}
}

// noTenant is what a tenant_id reference without a value renders when
// there is no default_tenant: a NUL, which no tenant ID holds.
const noTenant = "\x00"

// badTenant says why a rendered tenant ID cannot go in a header: Go's HTTP
// client refuses control bytes and would fail the request forever, and
// Loki's tenant IDs are printable ASCII without spaces.
func badTenant(t []byte) string {
	if len(t) > 150 {
		return "tenant_id renders longer than 150 bytes, Loki's limit"
	}
	for _, c := range t {
		if c <= ' ' || c >= 0x7f {
			return "tenant_id renders " + strconv.Quote(string(t)) + ": a tenant ID is printable ASCII without spaces"
		}
	}
	return ""
}

func (st *state) tenantOf(id []byte) int32 {
	if st.lastTenant >= 0 && st.tenantIDs[st.lastTenant] == str(id) {
		return st.lastTenant
	}
	t, ok := st.tenantIdx[str(id)]
	if !ok {
		t = int32(len(st.tenantIDs))
		name := string(id)
		st.tenantIDs = append(st.tenantIDs, name)
		st.tenantIdx[name] = t
	}
	st.lastTenant = t
	return t
}

// fallbackLabel is what Fluent Bit's loki output sends for a record with no
// label: Loki refuses a stream without labels.
const fallbackLabel = `{job="fluent-bit"}`

// streamOf finds (or starts) the stream of ev's label set. The key is built
// in a reused buffer and looked up without converting it to a string, so
// only a new stream allocates.
func (st *state) streamOf(s *Sink, ev *record.Event, tenant int32) int32 {
	k := append(st.key[:0], byte(tenant), byte(tenant>>8), byte(tenant>>16), byte(tenant>>24))
	k = append(k, '{')
	n := 0
	for j := range s.labels {
		var ok bool
		st.scratch, ok = appendValue(st.scratch[:0], &s.labels[j], ev)
		if !ok {
			continue
		}
		if n > 0 {
			k = append(k, ',', ' ')
		}
		n++
		k = append(k, s.labelSel[j]...)
		k = appendQuoted(k, st.scratch)
	}
	st.key = k
	if n == 0 {
		st.key = append(st.key[:4], fallbackLabel...)
	} else {
		st.key = append(st.key, '}')
	}
	if id, ok := st.streamIdx[str(st.key)]; ok {
		return id
	}
	id := int32(len(st.streams))
	key := string(st.key)
	st.streamIdx[key] = id
	sm := stream{tenant: tenant, selector: key[4:]}
	if s.enc == JSON {
		off := len(st.labelsJSON)
		st.labelsJSON = st.appendLabelsJSON(st.labelsJSON, s, ev, n == 0)
		sm.json = span{uint32(off), uint32(len(st.labelsJSON) - off)}
	}
	st.streams = append(st.streams, sm)
	return id
}

// appendLabelsJSON writes the label set as the JSON push API's "stream"
// object; only new streams get here.
func (st *state) appendLabelsJSON(dst []byte, s *Sink, ev *record.Event, fallback bool) []byte {
	if fallback {
		return append(dst, `{"job":"fluent-bit"}`...)
	}
	dst = append(dst, '{')
	n := 0
	for j := range s.labels {
		var ok bool
		st.scratch, ok = appendValue(st.scratch[:0], &s.labels[j], ev)
		if !ok {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(dst, s.labelJSON[j]...)
		dst = record.AppendJSONString(dst, st.scratch)
	}
	return append(dst, '}')
}

// appendMeta encodes ev's structured metadata into the arena, already in
// the body's format.
func (st *state) appendMeta(s *Sink, ev *record.Event) span {
	off := len(st.arena)
	a := st.arena
	n := 0
	for j := range s.meta {
		var ok bool
		st.scratch, ok = appendValue(st.scratch[:0], &s.meta[j], ev)
		if !ok {
			continue
		}
		n++
		if s.enc == Protobuf {
			a = appendMetaPair(a, s.metaProto[j], st.scratch)
			continue
		}
		if n == 1 {
			a = append(a, '{')
		} else {
			a = append(a, ',')
		}
		a = append(a, s.metaJSON[j]...)
		a = record.AppendJSONString(a, st.scratch)
	}
	if n > 0 && s.enc == JSON {
		a = append(a, '}')
	}
	st.arena = a
	return span{uint32(off), uint32(len(a) - off)}
}

// sortEntries groups entries by stream (streams by tenant, then by first
// appearance) and sorts each stream by time, stably. Records usually come
// in time order, so the sort is mostly a check.
func (st *state) sortEntries() {
	ns := len(st.streams)
	st.streamOrder = st.streamOrder[:0]
	for i := 0; i < ns; i++ {
		st.streamOrder = append(st.streamOrder, int32(i))
	}
	slices.SortStableFunc(st.streamOrder, func(a, b int32) int { return int(st.streams[a].tenant - st.streams[b].tenant) })
	for _, e := range st.entries {
		st.streams[e.stream].n++
	}
	st.cursor = slices.Grow(st.cursor[:0], ns)[:ns]
	pos := int32(0)
	for _, id := range st.streamOrder {
		st.streams[id].start = pos
		st.cursor[id] = pos
		pos += st.streams[id].n
	}
	st.sorted = slices.Grow(st.sorted[:0], len(st.entries))[:len(st.entries)]
	for i := range st.entries {
		id := st.entries[i].stream
		st.sorted[st.cursor[id]] = int32(i)
		st.cursor[id]++
	}
	byTime := func(a, b int32) int {
		ea, eb := &st.entries[a], &st.entries[b]
		if ea.sec != eb.sec {
			if ea.sec < eb.sec {
				return -1
			}
			return 1
		}
		return int(ea.nsec - eb.nsec)
	}
	for _, id := range st.streamOrder {
		sm := &st.streams[id]
		seg := st.sorted[sm.start : sm.start+sm.n]
		if !slices.IsSortedFunc(seg, byTime) {
			slices.SortStableFunc(seg, byTime)
		}
	}
}

// line returns e's line.
func (st *state) line(b *sink.Batch, e *entry) []byte {
	if e.fromArena {
		return st.arena[e.line.off : e.line.off+e.line.n]
	}
	return b.Events[e.ev].Line
}

func (st *state) bytes(sp span) []byte { return st.arena[sp.off : sp.off+sp.n] }

// push encodes and sends one request per tenant, cutting a request where
// the next entry would take it past max_request_size.
func (st *state) push(ctx context.Context, s *Sink, b *sink.Batch) error {
	var first error
	for k := 0; k < len(st.streamOrder); {
		tenant := st.streams[st.streamOrder[k]].tenant
		end := k
		for end < len(st.streamOrder) && st.streams[st.streamOrder[end]].tenant == tenant {
			end++
		}
		res, err := st.pushTenant(ctx, s, b, st.streamOrder[k:end], tenant)
		if err != nil && first == nil {
			first = err
		}
		if res == retryAll {
			break
		}
		k = end
	}
	if first != nil {
		return notDelivered(b, first)
	}
	return nil
}

func (st *state) pushTenant(ctx context.Context, s *Sink, b *sink.Batch, streams []int32, tenant int32) (result, error) {
	enc := s.enc
	st.beginRequest(enc)
	for _, id := range streams {
		sm := &st.streams[id]
		st.beginStream(enc, sm)
		for _, ei := range st.sorted[sm.start : sm.start+sm.n] {
			e := &st.entries[ei]
			mark := len(st.body)
			st.writeEntry(enc, b, e)
			if len(st.body)+closing(enc) > s.maxSize && st.reqEntries > 0 {
				st.body = st.body[:mark]
				st.endStream(enc)
				st.endRequest(enc)
				if res, err := st.post(ctx, s, b, tenant); res == retryTenant || res == retryAll {
					return res, err
				}
				st.beginRequest(enc)
				st.beginStream(enc, sm)
				st.writeEntry(enc, b, e)
			}
			st.streamEntries++
			st.reqEntries++
			st.reqEvents = append(st.reqEvents, e.ev)
		}
		st.endStream(enc)
	}
	st.endRequest(enc)
	if st.reqEntries == 0 {
		return sent, nil
	}
	return st.post(ctx, s, b, tenant)
}

// closing is what endStream and endRequest add: `]}` twice for JSON; the
// protobuf stream's length reserve only shrinks.
func closing(enc Encoding) int {
	if enc == JSON {
		return 4
	}
	return 0
}

func (st *state) beginRequest(enc Encoding) {
	st.body, st.reqEvents, st.reqEntries = st.body[:0], st.reqEvents[:0], 0
	st.firstStream = true
	if enc == JSON {
		st.body = append(st.body, `{"streams":[`...)
	}
}

func (st *state) endRequest(enc Encoding) {
	if enc == JSON {
		st.body = append(st.body, ']', '}')
	}
}

func (st *state) beginStream(enc Encoding, sm *stream) {
	st.streamStart, st.streamEntries = len(st.body), 0
	if enc == JSON {
		if !st.firstStream {
			st.body = append(st.body, ',')
		}
		st.body = append(st.body, `{"stream":`...)
		st.body = append(st.body, st.labelsJSON[sm.json.off:sm.json.off+sm.json.n]...)
		st.body = append(st.body, `,"values":[`...)
		return
	}
	st.body = beginMessage(st.body, fieldStreams)
	st.body = protowire.AppendTag(st.body, fieldLabels, protowire.BytesType)
	st.body = protowire.AppendString(st.body, sm.selector)
}

func (st *state) endStream(enc Encoding) {
	if st.streamEntries == 0 {
		st.body = st.body[:st.streamStart] // nothing of it went in this request
		return
	}
	st.firstStream = false
	if enc == JSON {
		st.body = append(st.body, ']', '}')
		return
	}
	st.body = endMessage(st.body, st.streamStart)
}

func (st *state) writeEntry(enc Encoding, b *sink.Batch, e *entry) {
	line := st.line(b, e)
	meta := st.bytes(e.meta)
	if enc == Protobuf {
		st.body = appendEntry(st.body, e.sec, e.nsec, line, meta)
		return
	}
	if st.streamEntries > 0 {
		st.body = append(st.body, ',')
	}
	st.body = append(st.body, '[', '"')
	st.body = appendUnixNano(st.body, e.sec, e.nsec)
	st.body = append(st.body, '"', ',')
	st.body = record.AppendJSONString(st.body, line)
	if len(meta) > 0 {
		st.body = append(st.body, ',')
		st.body = append(st.body, meta...)
	}
	st.body = append(st.body, ']')
}

// appendUnixNano writes sec*1e9+nsec in decimal without overflowing for
// times past 2262.
func appendUnixNano(dst []byte, sec int64, nsec int32) []byte {
	if sec > -9_000_000_000 && sec < 9_000_000_000 {
		return strconv.AppendInt(dst, sec*1_000_000_000+int64(nsec), 10)
	}
	dst = strconv.AppendInt(dst, sec, 10)
	for d := int32(100_000_000); d > 0; d /= 10 {
		dst = append(dst, byte('0'+nsec/d%10))
	}
	return dst
}
