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

func TestNoDateKey(t *testing.T) {
	var out bytes.Buffer
	b := batchOf(t, flbhost.AppendV2(nil, flbhost.EventTime(time.Unix(1, 0)), flbhost.Map{}, flbhost.Map{}))
	NewWriter(&out, "", "double").Deliver(context.Background(), b)
	if out.String() != "{}\n" {
		t.Errorf("%q", out.String())
	}
}
