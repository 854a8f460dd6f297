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

func TestNoDateKey(t *testing.T) {
	var out bytes.Buffer
	b := batchOf(t, flbhost.AppendV2(nil, flbhost.EventTime(time.Unix(1, 0)), flbhost.Map{}, flbhost.Map{}))
	NewWriter(&out, "", "double").Deliver(context.Background(), b)
	if out.String() != "{}\n" {
		t.Errorf("%q", out.String())
	}
}
