package elasticsearch

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/record"
)

// appendRecord writes one bulk entry: the action line and the document line.
// It runs once per record and allocates nothing once f's buffers have grown
// (a non-ASCII index name is the one exception, see appendIndex).
func (s *Sink) appendRecord(dst []byte, ev *record.Event, f *flush) []byte {
	if s.staticAction != nil {
		dst = append(dst, s.staticAction...)
	} else {
		dst = append(dst, `{"create":{"_index":`...)
		dst = s.appendIndex(dst, ev, f)
	}
	if s.genID {
		dst = append(dst, `,"_id":"`...)
		dst = f.appendID(dst, ev)
		dst = append(dst, '"')
	}
	dst = append(dst, "}}\n"...)

	dst = append(dst, s.docStart...) // {"@timestamp":"
	dst = appendTime(dst, ev.Time())
	dst = append(dst, '"')
	if s.tagKey != "" && !f.hasKey(ev, s.tagKey) {
		dst = append(dst, f.tagMember...)
	}
	mark := len(dst)
	dst = append(dst, ',')
	dst, ok := record.AppendJSONMembers(dst, ev, s.timeKey)
	if !ok {
		dst = dst[:mark]
	}
	return append(dst, "}\n"...)
}

// appendIndex writes the record's index as a JSON string. When the index
// depends only on the tenant and the day (the default does), the names
// rendered in this flush are remembered: a flush holds few tenants and
// usually one day, and this saves the template (~100 ns) on most records.
func (s *Sink) appendIndex(dst []byte, ev *record.Event, f *flush) []byte {
	if !s.memoIndex || ev.Tenant == nil {
		return s.renderIndex(dst, ev, f)
	}
	day := ev.Time().Unix()
	if day < 0 {
		day -= secondsPerDay - 1 // round towards the past
	}
	day /= secondsPerDay
	for k := range f.memo {
		if m := &f.memo[k]; m.day == day && bytes.Equal(m.tenant, ev.Tenant) {
			return append(dst, f.arena[m.start:m.end]...)
		}
	}
	start := len(dst)
	dst = s.renderIndex(dst, ev, f)
	if len(f.memo) < maxMemo {
		a := len(f.arena)
		f.arena = append(f.arena, dst[start:]...)
		f.memo = append(f.memo, indexMemo{tenant: ev.Tenant, day: day, start: a, end: len(f.arena)})
	}
	return dst
}

const (
	secondsPerDay = 24 * 60 * 60
	maxMemo       = 16 // linear search beats a map at this size
)

// indexMemo is one rendered index name, arena[start:end], JSON-quoted.
// tenant points into the flush's chunk: the memo is cleared with the flush.
type indexMemo struct {
	tenant     []byte
	day        int64
	start, end int
}

// memoizable reports whether an index template renders the same for every
// record of one tenant and UTC day: it reads no field but $tenant (as a
// whole) and its strftime directives are date-only. The tag is fixed
// within a flush. The scan may see a directive where there is none (in a
// quoted subscript); that only turns the memo off.
func memoizable(src string, keys []string) bool {
	for _, k := range keys {
		if k != "tenant" {
			return false
		}
	}
	if strings.Contains(src, "$tenant[") {
		return false
	}
	for i := 0; i+1 < len(src); i++ {
		if src[i] != '%' {
			continue
		}
		if !strings.ContainsRune(dateDirectives, rune(src[i+1])) {
			return false
		}
		i++
	}
	return true
}

// dateDirectives are the template's strftime verbs that change at most
// once a day; '%' stands for the escape "%%". %z and %Z are fixed (UTC).
const dateDirectives = "YCyGgVmbhBdjUWuwaAFzZ%"

// renderIndex renders the index template, lower-cased (Elasticsearch
// refuses upper-case index names: invalid_index_name_exception), as a JSON
// string. Tenants are upper case (AGM), so lowering is the common path.
func (s *Sink) renderIndex(dst []byte, ev *record.Event, f *flush) []byte {
	dst = append(dst, '"')
	start := len(dst)
	dst = s.index.Append(dst, ev)
	plain := true
	for i := start; i < len(dst); i++ {
		switch c := dst[i]; {
		case 'A' <= c && c <= 'Z':
			dst[i] = c + ('a' - 'A')
		case c < 0x20, c == '"', c == '\\', c >= 0x80:
			plain = false
		}
	}
	if plain {
		return append(dst, '"')
	}
	// Rare: a field value with non-ASCII letters or characters JSON must
	// escape. bytes.ToLower handles Unicode (and allocates).
	f.scratch = append(f.scratch[:0], dst[start:]...)
	return record.AppendJSONString(dst[:start-1], bytes.ToLower(f.scratch))
}

// appendID writes the document's _id: the first 128 bits of SHA-256 over
// the tag, the event time and the line (the whole raw record when it has
// no line), base64url like Elasticsearch's own ids (22 characters).
//
// Why deterministic: a bulk request whose answer is lost (timeout, reset)
// is retried whole; with `create` and the same _id, Elasticsearch answers
// 409 for the copies it already has, which counts as delivered, so retries
// add no duplicates.
//
// Why SHA-256: a collision makes Elasticsearch drop a distinct record as a
// "duplicate", silently. A 64-bit hash reaches a 1-in-40 chance of some
// collision at ~1e9 documents in one index, and log lines are partly
// written by outsiders (chat text), so a non-cryptographic hash also
// invites crafted collisions. 128 bits of SHA-256 make both negligible,
// from the standard library, the same on every platform and release.
// Measured on 220-byte inputs (the corpus' lines are ~180 bytes): SHA-256
// 212 ns (SHA-NI), SHA-1 192 ns, MD5 339 ns, FNV-128a 615 ns, two seeded
// xxhash64 57 ns (a new dependency, and no crafted-collision safety). In
// place it is ~300 ns of a record's ~1.2 µs encoding, and a whole flush
// costs ~6 µs a record with gzip (BenchmarkEncodeParts, BenchmarkDeliver).
func (f *flush) appendID(dst []byte, ev *record.Event) []byte {
	h := f.hashIn[:0]
	tag := ev.Tag()
	// Length-prefixed fields, so no two inputs run together the same way.
	h = binary.BigEndian.AppendUint32(h, uint32(len(tag)))
	h = append(h, tag...)
	t := ev.Time()
	h = binary.BigEndian.AppendUint64(h, uint64(t.Unix()))
	h = binary.BigEndian.AppendUint32(h, uint32(t.Nanosecond()))
	if ev.Line != nil {
		h = append(h, 'L')
		h = append(h, ev.Line...)
	} else {
		h = append(h, 'R')
		h = append(h, ev.Body...)
	}
	f.hashIn = h
	sum := sha256.Sum256(h)
	return base64.RawURLEncoding.AppendEncode(dst, sum[:16])
}

// hasKey reports whether the record already has key (its own, or a field
// the plugin adds), so the tag member does not repeat it: Elasticsearch
// rejects documents with a repeated key.
func (f *flush) hasKey(ev *record.Event, key string) bool {
	var ok bool
	f.scratch, ok = ev.AppendValue(f.scratch[:0], key, nil)
	return ok
}

// appendTime writes t in UTC as RFC 3339 with all nine fractional digits,
// which Elasticsearch's default date format (strict_date_optional_time)
// and date_nanos fields read exactly. Hand-written: time.AppendFormat
// costs about three times as much, and this runs once per record.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000000000Z07:00")
	}
	hour, min, sec := t.Clock()
	ns := t.Nanosecond()
	var b [30]byte
	put2 := func(i, v int) { b[i], b[i+1] = byte('0'+v/10), byte('0'+v%10) }
	put2(0, year/100)
	put2(2, year%100)
	b[4] = '-'
	put2(5, int(month))
	b[7] = '-'
	put2(8, day)
	b[10] = 'T'
	put2(11, hour)
	b[13] = ':'
	put2(14, min)
	b[16] = ':'
	put2(17, sec)
	b[19] = '.'
	for i := 28; i >= 20; i-- {
		b[i] = byte('0' + ns%10)
		ns /= 10
	}
	b[29] = 'Z'
	return append(dst, b[:]...)
}
