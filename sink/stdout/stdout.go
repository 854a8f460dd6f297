// Package stdout prints enriched records as JSON lines, like Fluent Bit's
// own stdout output with `format json_lines`: for demos, debugging, and
// `make run`.
package stdout

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
)

// Sink writes one JSON object per record per line.
type Sink struct {
	mu         sync.Mutex // one flush's lines stay together across workers
	w          io.Writer
	dateKey    string // "" writes no date member
	dateMember []byte // `"date":`, encoded once
	dateFormat string
	bufs       sync.Pool
}

// New reads json_date_key (default "date"; off/false/none for no date) and
// json_date_format (double, epoch or iso8601), Fluent Bit's stdout keys.
func New(r *config.Reader, _ *flblog.Logger, _ *record.Layout) (*Sink, error) {
	dateKey := r.String("json_date_key", "date")
	switch strings.ToLower(dateKey) {
	case "off", "false", "none", "no":
		dateKey = ""
	}
	return NewWriter(os.Stdout, dateKey, r.Enum("json_date_format", "double", "double", "epoch", "iso8601")), nil
}

// NewWriter writes to w with the given date member ("" for none).
func NewWriter(w io.Writer, dateKey, dateFormat string) *Sink {
	return &Sink{w: w, dateKey: dateKey, dateFormat: dateFormat,
		dateMember: append(record.AppendJSONString(nil, []byte(dateKey)), ':')}
}

func (s *Sink) Deliver(_ context.Context, b *sink.Batch) error {
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	buf := (*bp)[:0]
	var secs secondsText
	for i, ev := range b.Events {
		if !ev.IsRecord() {
			b.Done(i) // group markers frame records; they are not records
			continue
		}
		buf = s.appendLine(buf, ev, &secs)
	}
	s.mu.Lock()
	_, err := s.w.Write(buf)
	s.mu.Unlock()
	*bp = buf
	s.bufs.Put(bp)
	if err != nil {
		return fmt.Errorf("writing to stdout: %w", err)
	}
	b.Sent(len(buf))
	for i := range b.Events {
		b.Done(i)
	}
	return nil
}

func (s *Sink) appendLine(buf []byte, ev *record.Event, secs *secondsText) []byte {
	buf = append(buf, '{')
	start := len(buf)
	if s.dateKey != "" {
		buf = append(buf, s.dateMember...)
		buf = appendDate(buf, ev.Time(), s.dateFormat, secs)
		buf = append(buf, ',')
	}
	mark := len(buf)
	buf, wrote := record.AppendJSONMembers(buf, ev, s.dateKey)
	if !wrote {
		buf = buf[:mark]
		if mark > start {
			buf = buf[:mark-1] // the comma after the date
		}
	}
	return append(buf, '}', '\n')
}

// secondsText remembers the text of the last whole seconds written: the
// records of a chunk mostly share them, and formatting them again was half
// of a date's cost.
type secondsText struct {
	sec int64
	n   int // 0: nothing remembered
	buf [20]byte
}

func (c *secondsText) append(dst []byte, sec int64) []byte {
	if c.n == 0 || c.sec != sec {
		c.sec, c.n = sec, len(strconv.AppendInt(c.buf[:0], sec, 10))
	}
	return append(dst, c.buf[:c.n]...)
}

func appendDate(buf []byte, t time.Time, format string, secs *secondsText) []byte {
	switch format {
	case "epoch":
		return secs.append(buf, t.Unix())
	case "iso8601":
		buf = append(buf, '"')
		buf = t.UTC().AppendFormat(buf, "2006-01-02T15:04:05.000000Z")
		return append(buf, '"')
	}
	// Seconds with microseconds, as Fluent Bit prints its double dates.
	sec, ns := t.Unix(), t.Nanosecond()
	if sec < 0 && ns > 0 {
		// Before 1970 (a line's own timestamp): -0.75 is -1 s and 250 ms
		// in Go's time, and its text is "-0" and the rest of the second.
		buf = append(buf, '-')
		sec, ns = -(sec + 1), 1e9-ns
	}
	buf = secs.append(buf, sec)
	us := ns / 1000
	// Two digits at a time from a table: three divisions, not six.
	hi, mid, lo := 2*(us/10000), 2*(us/100%100), 2*(us%100)
	return append(buf, '.', pairs[hi], pairs[hi+1], pairs[mid], pairs[mid+1], pairs[lo], pairs[lo+1])
}

// pairs holds 00 to 99, two digits each, for appendDate.
const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

func (s *Sink) Close() error { return nil }
