package lnav_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/contrib/lnav"
	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/parser"
)

// The raw format against the project's parser, the oracle: each record is
// one lnav message (its stack frames and an error's properties joined to
// its first line), and each field lnav reads equals the parser's, but for
// the allowed differences listed below, each with its reason.

// oracle is the parser with the contract's component names. The parser on
// main may not know all of them yet; passing the list again is harmless
// once it does.
var oracle = parser.New(parser.Options{Components: lnav.Components})

// field is one field compared: lnav's column, and the parser's value in
// the same spelling ("" for none).
type field struct {
	name   string
	lnav   func(row map[string]any) string
	parser func(r *parser.Result) string
}

func column(name string) func(map[string]any) string {
	return func(row map[string]any) string { return str(row, name) }
}

var fields = []field{
	{"service", column("service"), func(r *parser.Result) string { return string(r.Service) }},
	// lnav shows times to the millisecond, as the wall time it read.
	{"time", column("log_actual_time"), func(r *parser.Result) string {
		if r.TimeText == nil {
			return ""
		}
		return r.Time.Format("2006-01-02 15:04:05.000")
	}},
	{"function", column("function"), func(r *parser.Result) string { return string(r.Function) }},
	{"tenant", column("tenant"), func(r *parser.Result) string { return string(r.Tenant) }},
	{"contactID", column("contactID"), func(r *parser.Result) string { return string(r.ContactID) }},
	{"channel", column("channel"), func(r *parser.Result) string { return string(r.Channel) }},
	{"userID", column("userID"), func(r *parser.Result) string { return string(r.UserID) }},
	{"sessionID", column("sessionID"), func(r *parser.Result) string { return string(r.SessionID) }},
	{"messageID", column("messageID"), func(r *parser.Result) string { return string(r.MessageID) }},
	{"errorType", column("errorType"), func(r *parser.Result) string { return string(r.ErrorType) }},
	{"level", func(row map[string]any) string {
		if l := str(row, "log_level"); l != "warning" {
			return l
		}
		return "warn"
	}, func(r *parser.Result) string { return r.Level.String() }},
	// Not a field of the format: ctlive.sql's view, from the first line's
	// error type or Unhandled word and the message's stack frames.
	{"exception", column("exception"), func(r *parser.Result) string {
		if r.Event == parser.EventException {
			return "1"
		}
		return "0"
	}},
}

// rawQuery reads each message of the raw format, and whether ctlive.sql's
// ctlive_lines view counts it as an exception.
const rawQuery = `SELECT c.log_level, c.log_actual_time, c.service, c.function, c.tenant, c.contactID, c.channel,
	c.userID, c.sessionID, c.messageID, c.errorType, c.log_body, c.log_raw_text, l.exception
	FROM ctlive_log c JOIN ctlive_lines l ON l.log_line = c.log_line`

// difference is one field on which lnav and the oracle disagree.
type difference struct {
	field        string
	lnav, oracle string
	line         string         // the record, as the plugin receives it
	parsed       *parser.Result // the oracle's reading of line
	joined       bool           // lnav's message also holds lines without a timestamp
}

// allowed lists the differences lnav 0.11 cannot avoid.
var allowed = []struct {
	reason string
	covers func(d difference) bool
}{
	{"lnav 0.11 ignores a timestamp's offset and keeps the wall time as written", func(d difference) bool {
		text := string(d.parsed.TimeText)
		if d.field != "time" || strings.HasSuffix(text, "Z") {
			return false
		}
		wall, err := time.Parse("2006-01-02T15:04:05.999999999", text[:len(text)-len("+00:00")])
		return err == nil && d.lnav == wall.Format("2006-01-02 15:04:05.000")
	}},
	{"lnav takes the level from a message's first line: an exception known by its stack frames alone keeps that line's level", func(d difference) bool {
		if d.field != "level" || d.parsed.Stack == nil {
			return false
		}
		first, _, _ := strings.Cut(d.line, "\n")
		var r parser.Result
		oracle.Parse([]byte(first), &r)
		return d.lnav == r.Level.String()
	}},
	{"lines without a timestamp, joined to a message, can bring it stack frames", func(d difference) bool {
		return d.field == "exception" && d.joined
	}},
}

const noTimestamp = "lnav needs a timestamp to make a message: a line without one joins the message before it (or, first in a file, stands alone with no fields)"

func TestRawFormatAgreesWithTheParser(t *testing.T) {
	l := installed(t)
	generated := corpus.Generate(20250227, 3000)
	sources := []struct {
		name    string
		path    func(t *testing.T) string
		records []corpus.Record
	}{
		{"testdata/sample.log", func(*testing.T) string { return "../../testdata/sample.log" }, corpus.SampleRecords()},
		{"the guide's lines", func(t *testing.T) string {
			return writeLines(t, "guide.log", corpus.RealLineTexts())
		}, corpus.RealLines()},
		// Every line style: replicas, compose v1, ANSI colours, no prefix,
		// offsets, no timestamp; frames without their own prefix.
		{"a generated corpus", func(t *testing.T) string {
			lines := make([]string, len(generated))
			for i, r := range generated {
				lines[i] = r.Line
			}
			return writeLines(t, "corpus.log", lines)
		}, generated},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			rows := l.query(t, rawQuery, src.path(t))
			compareWithOracle(t, rows, src.records)
		})
	}
}

// message is what one lnav message must hold: a record with a timestamp,
// and the lines of the records without one that follow it.
type message struct {
	record corpus.Record
	lines  int
}

func compareWithOracle(t *testing.T, rows []map[string]any, records []corpus.Record) {
	t.Helper()
	byFirst := map[string][]map[string]any{}
	for _, row := range rows {
		first, _, _ := strings.Cut(str(row, "log_raw_text"), "\n")
		byFirst[first] = append(byFirst[first], row)
	}
	var msgs []message
	uses := map[string]int{}
	for _, rec := range records {
		n := strings.Count(rec.Line, "\n") + 1
		var r parser.Result
		oracle.Parse([]byte(rec.Line), &r)
		if r.TimeText == nil && len(msgs) > 0 {
			msgs[len(msgs)-1].lines += n
			uses[noTimestamp]++
			continue
		}
		msgs = append(msgs, message{rec, n})
	}
	agree := map[string]int{}
	compared := 0
	for _, m := range msgs {
		first, _, _ := strings.Cut(m.record.Line, "\n")
		queue := byFirst[first]
		if len(queue) == 0 {
			t.Errorf("no lnav message starts with %q", first)
			continue
		}
		row := queue[0]
		byFirst[first] = queue[1:]
		if got := strings.Count(str(row, "log_raw_text"), "\n") + 1; got != m.lines {
			t.Errorf("%d lines in lnav's message, want %d: %q", got, m.lines, str(row, "log_raw_text"))
		}
		var r parser.Result
		oracle.Parse([]byte(m.record.Line), &r)
		if r.TimeText == nil {
			if lv := str(row, "log_level"); lv != "unknown" {
				t.Errorf("a line without a timestamp has level %q in lnav: %q", lv, first)
			}
			uses[noTimestamp]++
			continue
		}
		compared++
	fields:
		for _, f := range fields {
			d := difference{field: f.name, lnav: f.lnav(row), oracle: f.parser(&r), line: m.record.Line, parsed: &r,
				joined: m.lines > strings.Count(m.record.Line, "\n")+1}
			if d.lnav == d.oracle {
				agree[f.name]++
				continue
			}
			for _, a := range allowed {
				if a.covers(d) {
					uses[a.reason]++
					continue fields
				}
			}
			t.Errorf("%s: lnav %q, parser %q\n%s", f.name, d.lnav, d.oracle, m.record.Line)
		}
	}
	for first, queue := range byFirst {
		if len(queue) > 0 {
			t.Errorf("lnav made a message of a line that starts no record: %q", first)
		}
	}
	var summary []string
	for _, f := range fields {
		summary = append(summary, fmt.Sprintf("%s %d", f.name, agree[f.name]))
	}
	t.Logf("%d records, %d lnav messages; agreements per field (of %d): %s",
		len(records), len(rows), compared, strings.Join(summary, ", "))
	reasons := make([]string, 0, len(uses))
	for reason := range uses {
		reasons = append(reasons, reason)
	}
	sort.Strings(reasons)
	for _, reason := range reasons {
		t.Logf("allowed %d×: %s", uses[reason], reason)
	}
}
