package corpus

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWantMatchesContractOracle(t *testing.T) {
	seeds := []int64{1, 2}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		for i, r := range Generate(seed, 10000) {
			if d := diff(oracle(r.Line), r.Want); d != nil {
				t.Fatalf("seed %d record %d %q:\n%s", seed, i, r.Line, strings.Join(d, "\n"))
			}
		}
	}
}

func TestRealLinesMatchContractOracle(t *testing.T) {
	for _, r := range RealLines() {
		if d := diff(oracle(r.Line), r.Want); d != nil {
			t.Errorf("%q:\n%s", r.Line, strings.Join(d, "\n"))
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(7, 3000), Generate(7, 3000)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two corpora of the same seed differ")
	}
	if reflect.DeepEqual(a, Generate(8, 3000)) {
		t.Fatal("corpora of different seeds are equal")
	}
	lines := Lines(7, 3000)
	if len(lines) != len(a) {
		t.Fatalf("Lines returned %d texts, Generate %d records", len(lines), len(a))
	}
	for i := range a {
		if string(lines[i]) != a[i].Line {
			t.Fatalf("text %d: Lines %q, Generate %q", i, lines[i], a[i].Line)
		}
	}
}

func TestLinesDoNotOverwriteEachOther(t *testing.T) {
	lines := Lines(1, 3)
	want := string(lines[1])
	_ = append(lines[0], "XXXXXXXXXXXXXXXX"...)
	if string(lines[1]) != want {
		t.Fatal("appending to one text changed the next")
	}
}

func TestGenerateReturnsExactlyN(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5, 17, 1000} {
		if got := len(Generate(3, n)); got != n {
			t.Errorf("Generate(3, %d) returned %d records", n, got)
		}
		if got := len(Lines(3, n)); got != n {
			t.Errorf("Lines(3, %d) returned %d texts", n, got)
		}
	}
}

// The bounds are the package comment's mix, with room for seeds to vary.
var mixBounds = map[Case][2]float64{
	CaseMessage:        {45, 62},
	CaseNewContact:     {5, 11},
	CaseJoinContact:    {3, 7},
	CaseEndContact:     {6, 12},
	CaseSaveTranscript: {5, 10},
	CaseAgentLogin:     {2, 5},
	CaseRoutine:        {6, 12},
	CaseWarning:        {2, 5},
	CaseError:          {0.2, 1},
	CaseException:      {0.6, 1.8},
}

func TestMixIsWithinBounds(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		rs := Generate(seed, 10000)
		count := map[Case]int{}
		payload, info := 0, 0
		for _, r := range rs {
			count[r.Case]++
			if r.Want.HasPayload {
				payload++
			}
			if r.Want.Level == "info" {
				info++
			}
		}
		pct := func(n int) float64 { return float64(n) * 100 / float64(len(rs)) }
		for _, c := range Cases {
			b := mixBounds[c]
			if p := pct(count[c]); p < b[0] || p > b[1] {
				t.Errorf("seed %d: %s is %.2f%% of records, want %.1f–%.1f%%", seed, c, p, b[0], b[1])
			}
		}
		if p := pct(payload); p < 3 || p > 12 {
			t.Errorf("seed %d: %.2f%% of records carry a payload, want 3–12%%", seed, p)
		}
		if p := pct(info); p < 90 {
			t.Errorf("seed %d: %.2f%% of records are info, want most", seed, p)
		}
	}
}

var events = map[string]bool{"": true, "newContact": true, "endContact": true, "joinContact": true,
	"agentLogin": true, "saveTranscript": true, "exception": true}

func TestWantIsConsistent(t *testing.T) {
	rs := append(Generate(1, 10000), RealLines()...)
	rs = append(rs, SampleRecords()...)
	for i, r := range rs {
		w := r.Want
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("record %d %q: "+format, append([]any{i, r.Line}, args...)...)
		}
		plain := reANSI.ReplaceAllString(r.Line, "")
		first, _, multi := strings.Cut(plain, "\n")
		for _, f := range StringFields {
			if v := w.Get(f); v != "" && f != FieldLevel && f != FieldEvent && !strings.Contains(first, v) {
				fail("%s %q is not in the first line", f, v)
			}
		}
		if w.Service != "" && !strings.HasPrefix(first, w.Service+" ") {
			fail("the line does not start with its service")
		}
		if w.Time != "" {
			if _, err := time.Parse(time.RFC3339Nano, w.Time); err != nil {
				fail("time: %v", err)
			}
		}
		if w.Function != "" && !strings.Contains(first, " ["+w.Function+"]") && !strings.HasPrefix(first, "["+w.Function+"]") {
			fail("function %q is not a token", w.Function)
		}
		if (w.ContactID == "") != (w.Channel == "") {
			fail("contactID %q without channel %q, or the reverse", w.ContactID, w.Channel)
		}
		if w.ContactID != "" {
			if w.Tenant == "" || !strings.HasPrefix(w.ContactID, w.Channel+"_"+w.Tenant+"_") || w.Channel == "USER" {
				fail("contactID %q does not start with channel_tenant_ (%q, %q)", w.ContactID, w.Channel, w.Tenant)
			}
			if id := strings.TrimPrefix(w.ContactID, w.Channel+"_"+w.Tenant+"_"); !reUUID.MatchString(id) {
				fail("contactID %q does not end with a UUID", w.ContactID)
			}
		}
		if w.UserID != "" {
			if !strings.HasPrefix(w.UserID, "USER_") || strings.HasSuffix(w.UserID, ".") {
				fail("userID %q", w.UserID)
			}
			if m := reCust.FindString(w.UserID); m != "" && w.ContactID == "" && !strings.HasPrefix(w.UserID, "USER_"+w.Tenant+"_") {
				fail("customer %q outside tenant %q", w.UserID, w.Tenant)
			}
		}
		for _, id := range []string{w.SessionID, w.MessageID} {
			if id != "" && !reUUID.MatchString(id) {
				fail("%q is not a UUID", id)
			}
		}
		if w.SessionID != "" && w.SessionID == w.MessageID {
			fail("sessionID is also the messageID")
		}
		if !events[w.Event] {
			fail("event %q", w.Event)
		}
		if w.Level != "info" && w.Level != "warn" && w.Level != "error" {
			fail("level %q", w.Level)
		}
		exc := w.Event == "exception"
		if exc != (r.Case == CaseException) || exc && w.Level != "error" {
			fail("event %q, case %q, level %q", w.Event, r.Case, w.Level)
		}
		if !exc && (w.ErrorType != "" || !w.Checked(FieldErrorType) || w.StackFrames > 0 || multi) {
			fail("exception fields on a non-exception")
		}
		if exc && w.Checked(FieldErrorType) && w.ErrorType == "" {
			fail("an exception without type")
		}
		if w.StackFrames > 0 != multi {
			fail("%d frames, multi-line %v", w.StackFrames, multi)
		}
		if w.Unchecked&^FieldErrorType != 0 {
			fail("unchecked %s: only the error type is ever open", w.Unchecked)
		}
	}
}

func TestTimestampsIncrease(t *testing.T) {
	var last time.Time
	for i, r := range Generate(4, 10000) {
		if r.Want.Time == "" {
			continue
		}
		ts, _ := time.Parse(time.RFC3339Nano, r.Want.Time)
		if !ts.After(last) {
			t.Fatalf("record %d at %s is not after %s", i, r.Want.Time, last.Format(time.RFC3339Nano))
		}
		last = ts
	}
}

// A contact created in the corpus and ended in it has the whole life
// cycle, in order, under one contact ID: searching for that ID finds it.
func TestContactsHangTogether(t *testing.T) {
	rs := Generate(1, 10000)
	type life struct {
		first   map[Case]int
		channel string
	}
	lives := map[string]*life{}
	for i, r := range rs {
		id := r.Want.ContactID
		if id == "" || r.Case == CaseException {
			continue
		}
		l := lives[id]
		if l == nil {
			l = &life{first: map[Case]int{}, channel: r.Want.Channel}
			lives[id] = l
		}
		if _, ok := l.first[r.Case]; !ok {
			l.first[r.Case] = i
		}
		if r.Want.Channel != l.channel {
			t.Fatalf("contact %s changes channel", id)
		}
	}
	complete := 0
	for id, l := range lives {
		n, created := l.first[CaseNewContact]
		e, ended := l.first[CaseEndContact]
		if !created || !ended {
			continue
		}
		j, joined := l.first[CaseJoinContact]
		m, talked := l.first[CaseMessage]
		s, saved := l.first[CaseSaveTranscript]
		if !joined || !talked || !saved || !(n < j && n < m && j < e && m < e && e < s) {
			t.Errorf("contact %s: life cycle out of order: %v", id, l.first)
		}
		complete++
	}
	if complete < 50 {
		t.Errorf("%d contacts have their whole life cycle in 10,000 records, want at least 50", complete)
	}
	if len(lives) < 150 {
		t.Errorf("%d contacts in 10,000 records, want at least 150", len(lives))
	}
}

func TestCorpusHoldsTheGuidesLines(t *testing.T) {
	rs := Generate(1, 1000)
	texts := map[string]bool{}
	format, endContact := false, 0
	for _, r := range rs {
		texts[r.Line] = true
		format = format || strings.HasSuffix(r.Line, " "+realFormatLine)
		if r.Want.ContactID == "CHAT_AGM_"+realEndContactUUID {
			endContact++
		}
	}
	for _, l := range append(append([]realLine{}, realNewContact...), realEndContact...) {
		if !texts[l.text] {
			t.Errorf("missing %q", l.text)
		}
	}
	if !format {
		t.Errorf("no line ends with the Format section's body %q", realFormatLine)
	}
	if endContact < 10 {
		t.Errorf("the End Contact example's contact has %d lines, want its messages, end and transcript", endContact)
	}
	found := false
	for _, r := range Generate(1, 10000) {
		if r.Want.ContactID == "CHAT_AGM_"+realMissingUUID && r.Want.Event == "exception" {
			found = true
		}
	}
	if !found {
		t.Error("no exception for the Exceptions section's contact")
	}
}

// The corpus keeps holding the cases the contract singles out.
func TestCorpusCoversEdgeCases(t *testing.T) {
	cases := map[string]func(Record) bool{
		"ANSI colours":             func(r Record) bool { return strings.Contains(r.Line, "\x1b[") },
		"body only":                func(r Record) bool { return r.Want.Service == "" && r.Want.Time == "" },
		"timestamp, no prefix":     func(r Record) bool { return r.Want.Service == "" && r.Want.Time != "" },
		"offset timestamp":         func(r Record) bool { return r.Want.Time != "" && !strings.HasSuffix(r.Want.Time, "Z") },
		"replica service":          func(r Record) bool { return r.Want.Service == "ctlive-1" },
		"compose v1 service":       func(r Record) bool { return r.Want.Service == "ctlive_ctlive_1" },
		"guide's one-space prefix": func(r Record) bool { return strings.HasPrefix(r.Line, "ctlive | ") },
		"tenant with _":            func(r Record) bool { return strings.HasPrefix(r.Want.ContactID, r.Want.Channel+"_ACME_EU_") },
		"agent ID before a dot":    func(r Record) bool { return strings.Contains(r.Line, r.Want.UserID+".") && r.Want.UserID != "" },
		"failed inside a payload":  func(r Record) bool { return strings.Contains(r.Line, `"Message failed`) && r.Want.Level == "info" },
		"open error type":          func(r Record) bool { return !r.Want.Checked(FieldErrorType) },
		"tenant from a customer": func(r Record) bool {
			return r.Want.ContactID == "" && strings.HasPrefix(r.Want.UserID, "USER_"+r.Want.Tenant+"_")
		},
		"tenant in path only":     func(r Record) bool { return strings.Contains(r.Line, "/config ") && r.Want.Tenant == "" },
		"ctlivetoken":             func(r Record) bool { return strings.Contains(r.Line, "ctlivetoken=") && r.Want.SessionID != "" },
		"session ID and id":       func(r Record) bool { return strings.Contains(r.Line, "Session ID [") && r.Want.MessageID == "" },
		"JWT":                     func(r Record) bool { return strings.Contains(r.Line, "[eyJ") },
		"opaque message ID":       func(r Record) bool { return strings.Contains(r.Line, "message id [wamid.") && r.Want.MessageID == "" },
		"no function":             func(r Record) bool { return r.Want.Function == "" && r.Want.HasPayload },
		"warn":                    func(r Record) bool { return r.Want.Level == "warn" },
		"error without exception": func(r Record) bool { return r.Want.Level == "error" && r.Want.Event != "exception" },
		"exception, no frames":    func(r Record) bool { return r.Want.Event == "exception" && r.Want.StackFrames == 0 },
		"frames and properties":   func(r Record) bool { return strings.Contains(r.Line, "\n  code: 11000,") },
		"Error":                   func(r Record) bool { return r.Want.ErrorType == "Error" },
		"TypeError, no token":     func(r Record) bool { return r.Want.ErrorType == "TypeError" && r.Want.Function == "" },
		"MongoServerError":        func(r Record) bool { return r.Want.ErrorType == "MongoServerError" },
		"JsonWebTokenError":       func(r Record) bool { return r.Want.ErrorType == "JsonWebTokenError" },
		"TokenExpiredError":       func(r Record) bool { return r.Want.ErrorType == "TokenExpiredError" },
		"UnhandledPromiseRejection": func(r Record) bool {
			return strings.Contains(r.Line, "UnhandledPromiseRejectionWarning: MongoNetworkError")
		},
	}
	rs := Generate(1, 10000)
	for name, is := range cases {
		n := 0
		for _, r := range rs {
			if is(r) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no record of the case %q", name)
		}
	}
	for _, tn := range newTenants() {
		for _, ch := range tn.channels {
			found := false
			for _, r := range rs {
				if strings.HasPrefix(r.Want.ContactID, ch+"_"+tn.name+"_") {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("no %s contact of %s", ch, tn.name)
			}
		}
	}
}

func TestOpaqueIDsAvoidKeywords(t *testing.T) {
	for s, want := range map[string]bool{
		"wamid.HBgLMzQ2MTIzNDU2NzgVAg": false,
		"abc+save/xyz":                 true,
		"abc+Saved":                    true,
		"m_AbC-login_x":                true,
		"xLOGINx":                      false,
		"ab/UnhandledX":                true,
		"abc+TypeError":                true,
		"q-id-r":                       true,
		"-USER_ab":                     true,
		"idle+void":                    false,
	} {
		if got := hasKeywordWord(s); got != want {
			t.Errorf("hasKeywordWord(%q) = %v, want %v", s, got, want)
		}
	}
	r := newRNG(1, 1)
	for i := 0; i < 2000; i++ {
		for _, ch := range []string{"WHATSAPP", "MESSENGER", "INSTAGRAM"} {
			if id := (&sim{r: r}).socialID(ch); hasKeywordWord(id) {
				t.Fatalf("%s ID %q holds a keyword", ch, id)
			}
		}
	}
}

func TestGenerateIsFast(t *testing.T) {
	start := time.Now()
	Generate(1, 10000)
	// About 50 ms here; the bound only catches a pathological slowdown.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("10,000 records took %v", d)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(1, 10000)
	}
}

func BenchmarkLines(b *testing.B) {
	for b.Loop() {
		Lines(1, 10000)
	}
}
