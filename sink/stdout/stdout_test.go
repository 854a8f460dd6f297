package stdout

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/sink"
)

func batchOf(t *testing.T, chunk []byte) *sink.Batch {
	t.Helper()
	evs, err := enrich.MustNew(enrich.Defaults()).DecodeChunk(chunk, "tail.0")
	if err != nil {
		t.Fatal(err)
	}
	b := new(sink.Batch)
	b.Reset("tail.0", evs)
	return b
}

func TestJSONLinesWithTheDateFirst(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	var c []byte
	c = flbhost.AppendV2(c, flbhost.EventTime(at), flbhost.Map{}, flbhost.Map{{Key: "log", Value: "[socketIO] [AGM] newContact"}})
	c = flbhost.AppendGroupStart(c, flbhost.Map{}, flbhost.Map{})
	c = flbhost.AppendV2(c, flbhost.EventTime(at), flbhost.Map{}, flbhost.Map{{Key: "date", Value: "theirs"}})
	tests := []struct {
		format, date string
	}{
		{"double", `{"date":1767323045.123456`},
		{"epoch", `{"date":1767323045`},
		{"iso8601", `{"date":"2026-01-02T03:04:05.123456Z"`},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		b := batchOf(t, c)
		if err := NewWriter(&out, "date", tc.format).Deliver(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines: a group marker is not a record", len(lines))
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, tc.date) || !json.Valid([]byte(l)) {
				t.Errorf("%s: %s", tc.format, l)
			}
		}
		if strings.Contains(lines[1], "theirs") {
			t.Errorf("the record's own date key must give way: %s", lines[1])
		}
		if b.Delivered() != 2 || !b.IsDone(1) {
			t.Errorf("delivered %d", b.Delivered())
		}
	}
}

// Each record's date is its own, however the records of a chunk share or
// change their seconds (the seconds' text is remembered between records).
func TestEachRecordHasItsOwnDate(t *testing.T) {
	times := []time.Time{
		time.Unix(1740666285, 825029000), time.Unix(1740666285, 999999000), time.Unix(1740666286, 1000),
		time.Unix(1740666285, 0), time.Unix(999999999, 5000), time.Unix(1000000000, 0), time.Unix(0, 0),
	}
	want := []string{"1740666285.825029", "1740666285.999999", "1740666286.000001",
		"1740666285.000000", "999999999.000005", "1000000000.000000", "0.000000"}
	var c []byte
	for _, at := range times {
		c = flbhost.AppendV2(c, flbhost.EventTime(at), flbhost.Map{}, flbhost.Map{{Key: "log", Value: "[socketIO] [AGM] newContact"}})
	}
	for _, format := range []string{"double", "epoch"} {
		var out bytes.Buffer
		if err := NewWriter(&out, "date", format).Deliver(context.Background(), batchOf(t, c)); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		for i, l := range lines {
			w := want[i]
			if format == "epoch" {
				w = w[:strings.IndexByte(w, '.')]
			}
			if !strings.HasPrefix(l, `{"date":`+w+`,`) {
				t.Errorf("%s, record %d: %s, want date %s", format, i, l[:min(len(l), 40)], w)
			}
		}
	}
}

// helper-60: a line's own timestamp before 1970 becomes the record's
// time; its double date is that instant (-0.75), not the whole seconds
// and the fraction joined ("-1.250000").
func TestDatesBeforeNineteenSeventy(t *testing.T) {
	for _, tc := range []struct{ line, double, epoch string }{
		{"1969-12-31T23:59:59.250000000Z [socketIO] x", "-0.750000", "-1"},
		{"1900-01-01T00:00:00.5Z [socketIO] x", "-2208988799.500000", "-2208988800"},
		{"1969-12-31T23:59:59Z [socketIO] x", "-1.000000", "-1"},
	} {
		c := flbhost.AppendV2(nil, flbhost.EventTime(time.Unix(1, 0)), flbhost.Map{}, flbhost.Map{{Key: "log", Value: tc.line}})
		for format, want := range map[string]string{"double": tc.double, "epoch": tc.epoch} {
			var out bytes.Buffer
			if err := NewWriter(&out, "date", format).Deliver(context.Background(), batchOf(t, c)); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out.String(), `{"date":`+want+`,`) {
				t.Errorf("%s of %q: %.40s, want %s", format, tc.line, out.String(), want)
			}
		}
	}
}

func TestNoDateKey(t *testing.T) {
	var out bytes.Buffer
	b := batchOf(t, flbhost.AppendV2(nil, flbhost.EventTime(time.Unix(1, 0)), flbhost.Map{}, flbhost.Map{}))
	NewWriter(&out, "", "double").Deliver(context.Background(), b)
	if out.String() != "{}\n" {
		t.Errorf("%q", out.String())
	}
}
