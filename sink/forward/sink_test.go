package forward

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/internal/fwdtest"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
)

var (
	stage     = enrich.MustNew(enrich.Defaults())
	chunkTime = time.Unix(1764064800, 0)
)

// events decodes a chunk into events, the way the pipeline does.
func events(t testing.TB, chunk []byte) []*record.Event {
	t.Helper()
	out, err := stage.DecodeChunk(chunk, "tail.0")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func chunkOf(lines ...string) []byte {
	var b []byte
	for _, l := range lines {
		b = flbhost.AppendV2(b, flbhost.EventTime(chunkTime), flbhost.Map{}, flbhost.Map{{Key: "log", Value: l}})
	}
	return b
}

func newSink(t testing.TB, props ...string) *Sink {
	t.Helper()
	m := map[string]string{}
	for i := 0; i+1 < len(props); i += 2 {
		m[props[i]] = props[i+1]
	}
	s, err := New(config.NewReader(config.MapGetter(m)), nil, stage.Layout())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func deliver(s *Sink, evs []*record.Event) (*sink.Batch, error) {
	b := new(sink.Batch)
	b.Reset("tail.0", evs)
	return b, s.Deliver(context.Background(), b)
}

func tags(evs []fwdtest.Event) string {
	var t []string
	for _, e := range evs {
		t = append(t, e.Tag)
	}
	sort.Strings(t)
	return strings.Join(t, " ")
}

func TestForwardTagsRecordsByTenantAndEvent(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	s := newSink(t, "url", srv.URL())
	evs := events(t, chunkOf(
		"ctlive | 2025-02-27T17:19:20.130843858Z [CT7PROTOCOL] [AGM] newContact url:https://server1/ctLiveService/contact",
		"[socketIO] [endContact] from client with room [CHAT_TENANT1_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024]",
		"[REDIS] Set contact",
		"GET /health 200",
	))
	b, err := deliver(s, evs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := srv.WaitEvents(4, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := "ctlive.AGM.newContact ctlive.TENANT1.endContact ctlive.unknown.unknown ctlive.unknown.unknown"; tags(got) != want {
		t.Errorf("tags %q, want %q", tags(got), want)
	}
	for i := range evs {
		if !b.IsDone(i) {
			t.Errorf("event %d not marked done", i)
		}
	}
	for _, e := range got {
		if e.Tag == "ctlive.AGM.newContact" {
			if !e.Time.Equal(time.Date(2025, 2, 27, 17, 19, 20, 130843858, time.UTC)) {
				t.Errorf("EventTime %v is not the line's, with nanoseconds", e.Time)
			}
			if e.Record["url"] != "https://server1/ctLiveService/contact" || e.Metadata == nil {
				t.Errorf("record %v metadata %v", e.Record, e.Metadata)
			}
		}
		if e.Tag == "ctlive.unknown.unknown" && e.Record["log"] == "GET /health 200" && len(e.Record) != 1 {
			t.Errorf("a non-CTLive record changed: %v", e.Record)
		}
	}
	if n := len(srv.Messages()); n != 3 {
		t.Errorf("%d messages, want one per tag (3)", n)
	}
}

func TestForwardTagTemplateUsesTheChunkTag(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	s := newSink(t, "url", srv.URL(), "tag", "routed.$TAG[0].$tenant")
	if _, err := deliver(s, events(t, chunkOf("[fn] [AGM] x"))); err != nil {
		t.Fatal(err)
	}
	got, _ := srv.WaitEvents(1, 5*time.Second)
	if tags(got) != "routed.tail.AGM" {
		t.Errorf("tag %q", tags(got))
	}
}

func TestForwardSplitsLargeFlushesIntoMessages(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{MaxMessageBytes: 64 << 10})
	s := newSink(t, "url", srv.URL(), "max_message_size", "64k")
	lines := make([]string, 300)
	for i := range lines {
		lines[i] = fmt.Sprintf("[socketIO] [AGM] newContact record %03d %s", i, strings.Repeat("x", 700))
	}
	if _, err := deliver(s, events(t, chunkOf(lines...))); err != nil {
		t.Fatal(err)
	}
	got, err := srv.WaitEvents(300, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n < 3 {
		t.Errorf("%d messages for ~250 KB of records under a 64 KiB limit", n)
	}
	for i, e := range got {
		if !strings.Contains(e.Record["log"].(string), fmt.Sprintf("record %03d ", i)) {
			t.Fatalf("record %d out of order: %v", i, e.Record["log"])
		}
	}
}

func TestForwardRejectsARecordLargerThanAMessage(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	s := newSink(t, "url", srv.URL(), "max_message_size", "64k")
	evs := events(t, chunkOf("[fn] [AGM] small", "[fn] [AGM] "+strings.Repeat("y", 70000)))
	b, err := deliver(s, evs)
	if err != nil {
		t.Fatal(err)
	}
	if b.Rejected() != 1 || !b.IsDone(0) {
		t.Errorf("rejected %d, first done %v", b.Rejected(), b.IsDone(0))
	}
	if got, _ := srv.WaitEvents(1, 5*time.Second); len(got) != 1 {
		t.Errorf("%d events", len(got))
	}
}

func TestForwardDownstreamAwayThenBack(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	s := newSink(t, "url", srv.URL(), "connect_timeout", "1s")
	evs := events(t, chunkOf("[fn] [AGM] newContact", "[fn] [TENANT1] endContact"))
	srv.Stop()
	start := time.Now()
	b, err := deliver(s, evs)
	if err == nil || !IsRetryable(err) || sink.IsPermanent(err) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %v to give up on a stopped server", time.Since(start))
	}
	var undone []*record.Event
	for i, ev := range evs {
		if !b.IsDone(i) {
			undone = append(undone, ev)
		}
	}
	srv.Restart()
	if _, err := deliver(s, undone); err != nil {
		t.Fatal(err)
	}
	got, err := srv.WaitEvents(2, 5*time.Second)
	if err != nil || tags(got) != "ctlive.AGM.newContact ctlive.TENANT1.endContact" {
		t.Errorf("after restart: %q, %v", tags(got), err)
	}
}

func TestForwardHandshakeIsAConfigurationError(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{HELO: true, ExpectViolations: true})
	s := newSink(t, "url", srv.URL())
	if _, err := deliver(s, events(t, chunkOf("[fn] [AGM] x"))); !sink.IsPermanent(err) || !errors.Is(err, ErrHandshakeRequired) {
		t.Errorf("err = %v", err)
	}
}

func TestForwardKeepsLogGroupsPerTag(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{AllowGroupMarkers: true})
	s := newSink(t, "url", srv.URL())
	var c []byte
	c = flbhost.AppendGroupStart(c, flbhost.Map{{Key: "resource", Value: "ctlive"}}, flbhost.Map{})
	c = append(c, chunkOf("[fn] [AGM] a", "[fn] [TENANT1] b", "[fn] [AGM] c")...)
	c = flbhost.AppendGroupEnd(c)
	if _, err := deliver(s, events(t, c)); err != nil {
		t.Fatal(err)
	}
	got, err := srv.WaitEvents(7, 5*time.Second) // two markers and the records, per tag
	if err != nil {
		t.Fatal(err)
	}
	per := map[string][]string{}
	for _, e := range got {
		what := e.Group
		if what == "" {
			what = fmt.Sprint(e.Record["message"])
		}
		per[e.Tag] = append(per[e.Tag], what)
	}
	if got := fmt.Sprint(per["ctlive.AGM.unknown"]); got != "[start a c end]" {
		t.Errorf("AGM message: %s", got)
	}
	if got := fmt.Sprint(per["ctlive.TENANT1.unknown"]); got != "[start b end]" {
		t.Errorf("TENANT1 message: %s", got)
	}
}

// A tag whose records outgrow one message continues in another: each
// message of a log group opens with the group's start marker and closes
// with its end, as in_forward expects of a message on its own.
func TestForwardOpensEveryMessageOfASplitGroupWithItsStart(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{AllowGroupMarkers: true, MaxMessageBytes: 64 << 10})
	s := newSink(t, "url", srv.URL(), "max_message_size", "64k")
	lines := make([]string, 200)
	for i := range lines {
		lines[i] = fmt.Sprintf("[socketIO] [AGM] newContact record %03d %s", i, strings.Repeat("x", 700))
	}
	var c []byte
	c = flbhost.AppendGroupStart(c, flbhost.Map{{Key: "resource", Value: "ctlive"}}, flbhost.Map{})
	c = append(c, chunkOf(lines...)...)
	c = flbhost.AppendGroupEnd(c)
	if _, err := deliver(s, events(t, c)); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	want := 200
	for range msgs {
		want += 2
	}
	got, err := srv.WaitEvents(want, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < 3 {
		t.Fatalf("%d messages for ~150 KB of records under a 64 KiB limit", len(msgs))
	}
	next := 0
	for k, m := range msgs {
		in := got[:m.Entries]
		got = got[m.Entries:]
		if in[0].Group != "start" || in[len(in)-1].Group != "end" {
			t.Fatalf("message %d of %d runs from %q to %q, want start ... end", k, len(msgs), in[0].Group, in[len(in)-1].Group)
		}
		for _, e := range in[1 : len(in)-1] {
			if !strings.Contains(e.Record["log"].(string), fmt.Sprintf("record %03d ", next)) {
				t.Fatalf("message %d: record %d out of order: %.40v", k, next, e.Record["log"])
			}
			next++
		}
	}
	if next != 200 {
		t.Errorf("%d records in the messages, want 200", next)
	}
}

// The buffers of one flush serve the next: nothing of the first flush's
// messages reaches the second's.
func TestForwardReusedMessagesHoldOnlyTheirFlushsRecords(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{})
	s := newSink(t, "url", srv.URL())
	big := strings.Repeat("z", 5000)
	if _, err := deliver(s, events(t, chunkOf("[fn] [AGM] first "+big, "[fn] [TENANT1] first "+big))); err != nil {
		t.Fatal(err)
	}
	if _, err := deliver(s, events(t, chunkOf("[fn] [TENANT1] second", "[fn] [AGM] second"))); err != nil {
		t.Fatal(err)
	}
	got, err := srv.WaitEvents(4, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range got {
		order = append(order, e.Tag+" "+strings.Fields(e.Record["message"].(string))[0])
	}
	want := "[ctlive.AGM.unknown first ctlive.TENANT1.unknown first ctlive.TENANT1.unknown second ctlive.AGM.unknown second]"
	if fmt.Sprint(order) != want {
		t.Errorf("events %v\nwant   %s", order, want)
	}
	if n := len(srv.Messages()); n != 4 {
		t.Errorf("%d messages, want one per tag per flush (4)", n)
	}
}

// One row per key and per kind of wrong value: each is refused at start
// with one line naming the key, the value (unless secret) and what is
// allowed.
func TestForwardConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"url scheme", map[string]string{"url": "http://127.0.0.1:24224"}, "unsupported scheme"},
		{"url with credentials", map[string]string{"url": "tcp://user:pass@host:24224?shared_key=s3cret"},
			`url: forward: URL "tcp://***@host:24224?shared_key=***" must not have user info`},
		{"url with credentials and a bad port", map[string]string{"url": "tcp://user:pass@host:port?shared_key=s3cret"}, "url: forward: invalid URL"},
		{"url with credentials, no scheme", map[string]string{"url": "user:pass@host:24224"}, `"***@host:24224" has no scheme`},
		{"tag", map[string]string{"tag": "ctlive.${TENANT}"}, "tag"},
		{"compress", map[string]string{"compress": "zstd"}, "compress"},
		{"require_ack_response", map[string]string{"require_ack_response": "maybe"}, "require_ack_response"},
		{"ack_timeout not a duration", map[string]string{"ack_timeout": "soon"}, `ack_timeout "soon": must be a duration from 100ms to 1h`},
		{"ack_timeout 1e300", map[string]string{"ack_timeout": "1e300"}, `ack_timeout "1e300": must be a duration from 100ms to 1h`},
		{"connect_timeout NaN", map[string]string{"connect_timeout": "NaN"}, `connect_timeout "NaN": must be a duration`},
		{"connect_timeout too short", map[string]string{"connect_timeout": "1ms"}, `connect_timeout "1ms"`},
		{"write_timeout negative", map[string]string{"write_timeout": "-5s"}, `write_timeout "-5s"`},
		{"write_timeout past an hour", map[string]string{"write_timeout": "2h"}, `write_timeout "2h"`},
		{"max_message_size 1000", map[string]string{"max_message_size": "1000"}, `max_message_size "1000": must be a size from 64k to 64M`},
		{"max_message_size a unit alone", map[string]string{"max_message_size": "B"}, `max_message_size "B": must be a size`},
		{"max_message_size past the ceiling", map[string]string{"max_message_size": "1G"}, `max_message_size "1G"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(config.NewReader(config.MapGetter(tc.props)), nil, stage.Layout())
			if err == nil {
				s.Close()
				t.Fatalf("%v accepted", tc.props)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line containing %q", msg, tc.want)
			}
			for _, secret := range []string{"pass", "s3cret"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q shows %q", msg, secret)
				}
			}
		})
	}
}

// A max_message_size above in_forward's default buffer_max_size is legal
// (in_forward's may have been raised) but warned about at start.
func TestForwardWarnsAboveInForwardsDefaultBufferMaxSize(t *testing.T) {
	tests := []struct {
		size string
		warn bool
	}{{"6144000", false}, {"6M", false}, {"6.2M", true}, {"6144001", true}, {"64M", true}}
	for _, tc := range tests {
		log, buf := flblog.Capture("ctlive.0", flblog.Info)
		s, err := New(config.NewReader(config.MapGetter(map[string]string{"max_message_size": tc.size})), log, stage.Layout())
		if err != nil {
			t.Fatalf("%s: %v", tc.size, err)
		}
		s.Close()
		if warned := strings.Contains(buf.String(), "raise buffer_max_size on the in_forward input"); warned != tc.warn {
			t.Errorf("max_message_size %s: warned %v, want %v:\n%s", tc.size, warned, tc.warn, buf.String())
		}
	}
}

// in_forward drops the connection of a message past its buffer_max_size
// without a word; the error (which the retry log line quotes) names that
// likely cause.
func TestForwardResetAfterALargeMessageNamesTheLikelyCause(t *testing.T) {
	srv := fwdtest.Start(t, fwdtest.Options{MaxMessageBytes: 100 << 10, ExpectViolations: true})
	s := newSink(t, "url", srv.URL(), "max_message_size", "1M")
	lines := make([]string, 400)
	for i := range lines {
		lines[i] = fmt.Sprintf("[socketIO] [AGM] newContact record %03d %s", i, strings.Repeat("x", 1000))
	}
	_, err := deliver(s, events(t, chunkOf(lines...)))
	if err == nil || !IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "in_forward closes the connection when a message exceeds its buffer_max_size") ||
		!strings.Contains(msg, "lower max_message_size or raise buffer_max_size") {
		t.Errorf("error %q does not name the likely cause", msg)
	}
}
