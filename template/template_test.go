package template

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testRecord mixes our CTLive fields with the records from Fluent Bit's
// record accessor docs and tests/internal/record_accessor.c.
func testRecord() map[string]any {
	return map[string]any{
		// CTLive
		"tenant":    "AGM",
		"event":     "ChatAccepted",
		"function":  "routing",
		"contactID": "c-42",
		"empty":     "",
		"payload":   map[string]any{"response": map[string]any{"chat": "ok"}},
		"items":     []any{map[string]any{"id": "i0"}, map[string]any{"id": "i1"}},
		"uni":       "ünï",
		"tag":       "field-tag",
		"n":         42,
		"f":         0.5,
		"b":         true,
		"nil":       nil,
		"kubernetes": map[string]any{
			"labels":      map[string]any{"app": "ctlive", "app.kubernetes.io/name": "chat", "it's": "quoted"},
			"annotations": map[string]any{"fluentbit.io/tag": "thetag"},
		},
		// Fluent Bit docs: record accessor page
		"log":    "some message",
		"stream": "stdout",
		"labels": map[string]any{
			"color":   "blue",
			"unset":   nil,
			"project": map[string]any{"env": "production"},
		},
		// Fluent Bit docs: rewrite_tag example
		"request":  map[string]any{"verb": "GET"},
		"Hostname": "Watts",
		// Fluent Bit tests: cb_issue_4917, cb_translate, cb_array_id
		"tool": "fluent",
		"sub":  map[string]any{"s1": map[string]any{"s2": "bit"}},
		"k1":   "string",
		"k2":   true,
		"k5":   123456789,
		"k6":   map[string]any{"s1": map[string]any{"s2": "nested"}},
		"pods": []any{"a", "b", map[string]any{"annotations": map[string]any{"fluentbit.io/tag": "thetag"}}},
	}
}

// recTime is 2024-03-05 21:30 UTC, already the 6th in the record's own zone,
// so a date rendered in local time instead of UTC shows up.
var recTime = time.Date(2024, 3, 6, 1, 30, 0, 0, time.FixedZone("EET", 2*3600))

func TestAppendRendersTemplates(t *testing.T) {
	strf := Options{Strftime: true}
	tests := []struct {
		name string
		tmpl string
		opts Options
		tag  string
		want string
	}{
		// Our defaults.
		{name: "default tag", tmpl: "ctlive.$tenant.$event", want: "ctlive.AGM.ChatAccepted"},
		{name: "default index uses UTC date", tmpl: "ctlive-$tenant-%Y.%m.%d", opts: strf, want: "ctlive-AGM-2024.03.05"},
		{name: "tenant id", tmpl: "$tenant", want: "AGM"},
		{name: "missing reference renders missing", tmpl: "ctlive.$tenant.$nope", want: "ctlive.AGM.unknown"},
		{name: "empty value renders missing", tmpl: "ctlive.$tenant.$empty", want: "ctlive.AGM.unknown"},
		{name: "custom missing", tmpl: "ctlive.$nope.$empty", opts: Options{Missing: "none"}, want: "ctlive.none.none"},

		// Fluent Bit documentation (record accessor and rewrite_tag pages).
		{name: "doc top-level key", tmpl: "$log", want: "some message"},
		{name: "doc subkey", tmpl: "$labels['color']", want: "blue"},
		{name: "doc nested subkeys", tmpl: "$labels['project']['env']", want: "production"},
		{name: "doc null value", tmpl: "$labels['unset']", want: "null"},
		{name: "doc undefined subkey renders missing", tmpl: "$labels['undefined']", want: "unknown"},
		{name: "doc rewrite_tag rule", tmpl: "$TAG.$request['verb'].onSrv.$Hostname", tag: "Apps", want: "Apps.GET.onSrv.Watts"},

		// Fluent Bit tests/internal/record_accessor.c.
		{name: "fb issue 4917 keys between dots", tmpl: "from.new.$tool.$sub['s1']['s2'].out", want: "from.new.fluent.bit.out"},
		{name: "fb subkey with dot and slash", tmpl: "$kubernetes['annotations']['fluentbit.io/tag']", want: "thetag"},
		{name: "fb array id then subkeys", tmpl: "$pods[2]['annotations']['fluentbit.io/tag']", want: "thetag"},
		{
			name: "fb translate mixed types",
			tmpl: `START k1 => "$k1", k2 => $k2 (bool), k5 => $k5 (int),k6 => $k6['s1']['s2'] (nested), k8 => $k8 (nothing) END`,
			want: `START k1 => "string", k2 => true (bool), k5 => 123456789 (int),k6 => nested (nested), k8 => unknown (nothing) END`,
		},
		{name: "fb full tag", tmpl: "$TAG", tag: "testapp", want: "testapp"},

		// Keys, subscripts and values.
		{name: "brief payload path", tmpl: "$payload['response']['chat']", want: "ok"},
		{name: "brief kubernetes label", tmpl: "$kubernetes['labels']['app']", want: "ctlive"},
		{name: "index then key", tmpl: "$items[1]['id']", want: "i1"},
		{name: "index out of range renders missing", tmpl: "$items[2]['id']", want: "unknown"},
		{name: "big index renders missing", tmpl: "$items[2147483647]", want: "unknown"},
		{name: "index on a map renders missing", tmpl: "$payload[0]", want: "unknown"},
		{name: "doubled quote is one quote", tmpl: "$kubernetes['labels']['it''s']", want: "quoted"},
		{name: "subkey with dots", tmpl: "$kubernetes['labels']['app.kubernetes.io/name']", want: "chat"},
		{name: "map renders as the source decides", tmpl: "$payload['response']", want: `{"chat":"ok"}`},
		{name: "int bool float null", tmpl: "$n/$b/$f/$nil", want: "42/true/0.5/null"},
		{name: "key at the very end", tmpl: "x.$tenant", want: "x.AGM"},
		{name: "adjacent references", tmpl: "$tenant$event", want: "AGMChatAccepted"},
		{name: "adjacent missing references each render missing", tmpl: "$nope$nada", want: "unknownunknown"},
		{name: "key ends at dash", tmpl: "ctlive-$tenant-x", want: "ctlive-AGM-x"},
		{name: "key ends at non-ASCII", tmpl: "$tenantü", want: "AGMü"},
		{name: "unicode literals and value", tmpl: "日志-$uni-ü", want: "日志-ünï-ü"},
		{name: "lower-case tag is a record key", tmpl: "$tag", tag: "t.a.g", want: "field-tag"},
		{name: "TAG prefix of a longer key is that key", tmpl: "$TAG_x", tag: "t", want: "unknown"},
		{name: "literal only", tmpl: "ctlive", want: "ctlive"},

		// $TAG and $TAG[n].
		{name: "tag parts", tmpl: "$TAG[2]-$TAG[1]-$TAG[0]", tag: "ctlive.in.agm", want: "agm-in-ctlive"},
		{name: "tag part out of range", tmpl: "$TAG[3]", tag: "ctlive.in.agm", want: "unknown"},
		{name: "tag part 1 of a tag without dots", tmpl: "$TAG[1]", tag: "single", want: "unknown"},
		{name: "tag part 0 of a tag without dots", tmpl: "$TAG[0]", tag: "single", want: "single"},
		{name: "tag part big index", tmpl: "$TAG[2147483647]", tag: "a.b", want: "unknown"},
		{name: "empty tag part", tmpl: "$TAG[1]", tag: "a..b", want: "unknown"},
		{name: "last tag part after trailing dot", tmpl: "$TAG[1]", tag: "a.", want: "unknown"},
		{name: "empty tag", tmpl: "$TAG", tag: "", want: "unknown"},
		{name: "tag followed by literal", tmpl: "$TAG.x", tag: "a.b", want: "a.b.x"},

		// Strftime.
		{name: "percent literal without strftime", tmpl: "%Y-$tenant-%%", want: "%Y-AGM-%%"},
		{name: "percent escape with strftime", tmpl: "100%%", opts: strf, want: "100%"},
		{name: "time of day in UTC", tmpl: "%H:%M:%S", opts: strf, want: "23:30:00"},
		{name: "short year and day of year", tmpl: "%y-%j", opts: strf, want: "24-065"},
		{name: "directives next to references", tmpl: "%Y$tenant%m", opts: strf, want: "2024AGM03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse(tt.tmpl, tt.opts)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.tmpl, err)
			}
			src := &mapSource{rec: testRecord(), tag: tt.tag, t: recTime}
			got := string(tmpl.Append([]byte("prefix:"), src))
			if want := "prefix:" + tt.want; got != want {
				t.Errorf("Append(%q) = %q, want %q", tt.tmpl, got, want)
			}
		})
	}
}

// Expected values come from GNU date -u with the same format.
func TestStrftimeDirectives(t *testing.T) {
	const format = "%Y|%C|%y|%G|%g|%V|%m|%b|%h|%B|%d|%j|%U|%W|%u|%w|%a|%A|%H|%I|%M|%S|%p|%s|%z|%Z|%F|%T"
	tests := []struct {
		name string
		at   string
		want string
	}{
		{"sunday in ISO week 1", "2024-01-07T15:04:05Z", "2024|20|24|2024|24|01|01|Jan|Jan|January|07|007|01|01|7|0|Sun|Sunday|15|03|04|05|PM|1704639845|+0000|UTC|2024-01-07|15:04:05"},
		{"new year in previous ISO year", "2021-01-01T00:00:00Z", "2021|20|21|2020|20|53|01|Jan|Jan|January|01|001|00|00|5|5|Fri|Friday|00|12|00|00|AM|1609459200|+0000|UTC|2021-01-01|00:00:00"},
		{"leap year last second", "2020-12-31T23:59:59Z", "2020|20|20|2020|20|53|12|Dec|Dec|December|31|366|52|52|4|4|Thu|Thursday|23|11|59|59|PM|1609459199|+0000|UTC|2020-12-31|23:59:59"},
		{"december in next ISO year", "2019-12-30T12:00:00Z", "2019|20|19|2020|20|01|12|Dec|Dec|December|30|364|52|52|1|1|Mon|Monday|12|12|00|00|PM|1577707200|+0000|UTC|2019-12-30|12:00:00"},
		{"two-digit year is zero padded", "0099-06-15T09:08:07Z", "0099|00|99|0099|99|25|06|Jun|Jun|June|15|166|24|24|1|1|Mon|Monday|09|09|08|07|AM|-59028706313|+0000|UTC|0099-06-15|09:08:07"},
	}
	tmpl := MustParse(format, Options{Strftime: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			// Render from another zone: directives must use UTC.
			src := &mapSource{t: at.In(time.FixedZone("X", -5*3600))}
			if got := string(tmpl.Append(nil, src)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	strf := Options{Strftime: true}
	tests := []struct {
		name    string
		tmpl    string
		opts    Options
		offset  int
		text    string
		msgPart string
	}{
		{name: "empty template", tmpl: "", offset: 0, text: "", msgPart: "empty"},
		{name: "lone dollar", tmpl: "$", offset: 0, text: "$", msgPart: "at end of template"},
		{name: "dollar at end", tmpl: "ctlive.$", offset: 7, text: "$", msgPart: "at end of template"},
		{name: "dollar before dot", tmpl: "a.$.b", offset: 2, text: "$.", msgPart: "must be followed by a record key"},
		{name: "dollar before dash", tmpl: "$-x", offset: 0, text: "$-", msgPart: "must be followed by a record key"},
		{name: "dollar dollar", tmpl: "$$a", offset: 0, text: "$$", msgPart: "must be followed by a record key"},
		{name: "dollar before non-ASCII", tmpl: "$ü", offset: 0, text: "$ü", msgPart: "must be followed by a record key"},
		{name: "regex capture id", tmpl: "x$1", offset: 1, text: "$1", msgPart: "regex capture"},
		{name: "environment variable", tmpl: "ctlive.${TENANT}.x", offset: 7, text: "${TENANT}", msgPart: "environment variable"},
		{name: "environment variable hint names record field syntax", tmpl: "${tenant}", offset: 0, text: "${tenant}", msgPart: "write $field"},
		{name: "unterminated environment variable", tmpl: "a${b", offset: 1, text: "${b", msgPart: "environment variable"},
		{name: "unterminated bracket", tmpl: "$a[", offset: 2, text: "[", msgPart: "unterminated '['"},
		{name: "unterminated bracket after index", tmpl: "$a[1", offset: 2, text: "[1", msgPart: "unterminated '['"},
		{name: "unterminated bracket after quote", tmpl: "$a['x'", offset: 2, text: "['x'", msgPart: "unterminated '['"},
		{name: "unterminated quote", tmpl: "$a['x]", offset: 3, text: "'x]", msgPart: "unterminated quote"},
		{name: "unterminated quote after doubled quote", tmpl: "$a['it''s]", offset: 3, text: "'it''s]", msgPart: "unterminated quote"},
		{name: "junk after quoted key", tmpl: "$a['x'y]", offset: 2, text: "['x'y]", msgPart: "expected ']'"},
		{name: "unquoted key", tmpl: "$a[x]", offset: 2, text: "[x]", msgPart: "bad index"},
		{name: "double-quoted key", tmpl: `$a["x"]`, offset: 2, text: `["x"]`, msgPart: "bad index"},
		{name: "empty brackets", tmpl: "$a[]", offset: 2, text: "[]", msgPart: "bad index"},
		{name: "negative index", tmpl: "$a[-1]", offset: 2, text: "[-1]", msgPart: "bad index"},
		{name: "leading zero index", tmpl: "$a[01]", offset: 2, text: "[01]", msgPart: "leading zeros"},
		{name: "index past int32", tmpl: "$a[2147483648]", offset: 2, text: "[2147483648]", msgPart: "larger than 2147483647"},
		{name: "index past int64", tmpl: "$a[99999999999999999999999]", offset: 2, text: "[99999999999999999999999]", msgPart: "larger than"},
		{name: "bad second subscript", tmpl: "$a['x'][y]", offset: 7, text: "[y]", msgPart: "bad index"},
		{name: "tag with quoted key", tmpl: "$TAG['x']", offset: 4, text: "['x']", msgPart: "integer part index"},
		{name: "tag with two indexes", tmpl: "$TAG[1][2]", offset: 7, text: "[", msgPart: "single index"},
		{name: "tag with bad index", tmpl: "$TAG[x]", offset: 4, text: "[x]", msgPart: "bad index"},
		{name: "tag unterminated", tmpl: "$TAG[", offset: 4, text: "[", msgPart: "unterminated '['"},
		{name: "tag index past int32", tmpl: "$TAG[4294967296]", offset: 4, text: "[4294967296]", msgPart: "larger than"},
		{name: "unknown directive", tmpl: "idx-%Q", opts: strf, offset: 4, text: "%Q", msgPart: "unknown strftime directive"},
		{name: "locale directive", tmpl: "%c", opts: strf, offset: 0, text: "%c", msgPart: "unknown strftime directive"},
		{name: "percent at end", tmpl: "idx-%", opts: strf, offset: 4, text: "%", msgPart: "at end of template"},
		{name: "percent before non-ASCII", tmpl: "%é", opts: strf, offset: 0, text: "%é", msgPart: "unknown strftime directive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse(tt.tmpl, tt.opts)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error", tt.tmpl, tmpl)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not *SyntaxError: %v", err, err)
			}
			if se.Offset != tt.offset || se.Text != tt.text {
				t.Errorf("offset, text = %d, %q; want %d, %q", se.Offset, se.Text, tt.offset, tt.text)
			}
			if !strings.Contains(se.Msg, tt.msgPart) {
				t.Errorf("message %q does not contain %q", se.Msg, tt.msgPart)
			}
			if !strings.Contains(err.Error(), strconv.Quote(tt.tmpl)) {
				t.Errorf("Error() %q does not name the template", err.Error())
			}
		})
	}
}

func TestMustParsePanicsOnError(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse did not panic")
		}
	}()
	MustParse("${X}", Options{})
}

func TestTemplateInfo(t *testing.T) {
	strf := Options{Strftime: true}
	tests := []struct {
		name   string
		tmpl   string
		opts   Options
		static bool
		keys   []string
	}{
		{name: "literal is static", tmpl: "ctlive", static: true},
		{name: "percent without strftime is static", tmpl: "100%Y", static: true},
		{name: "escaped percent is static", tmpl: "100%%", opts: strf, static: true},
		{name: "directive is not static", tmpl: "ctlive-%Y", opts: strf},
		{name: "tag is not static", tmpl: "$TAG"},
		{name: "tag part is not static", tmpl: "x.$TAG[1]"},
		{name: "keys in order without duplicates", tmpl: "ctlive.$tenant.$event.$tenant", keys: []string{"tenant", "event"}},
		{name: "keys exclude TAG and subscripts", tmpl: "$payload['x']$TAG$items[0]['id']", keys: []string{"payload", "items"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := MustParse(tt.tmpl, tt.opts)
			if tmpl.String() != tt.tmpl {
				t.Errorf("String() = %q, want %q", tmpl.String(), tt.tmpl)
			}
			if tmpl.Static() != tt.static {
				t.Errorf("Static() = %v, want %v", tmpl.Static(), tt.static)
			}
			if got := tmpl.Keys(); !slices.Equal(got, tt.keys) {
				t.Errorf("Keys() = %q, want %q", got, tt.keys)
			}
		})
	}
}

func TestStaticTemplateRendersWithoutSource(t *testing.T) {
	got := string(MustParse("ctlive-100%%", Options{Strftime: true}).Append(nil, nil))
	if got != "ctlive-100%" {
		t.Errorf("got %q", got)
	}
}

func TestKeysReturnsACopy(t *testing.T) {
	tmpl := MustParse("$a.$b", Options{})
	tmpl.Keys()[0] = "changed"
	if got := tmpl.Keys(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Keys() after mutating a result = %q", got)
	}
}

// partialSource appends bytes and then reports the value as missing.
type partialSource struct{ mapSource }

func (partialSource) AppendValue(dst []byte, _ string, _ []PathElem) ([]byte, bool) {
	return append(dst, "junk"...), false
}

func TestMissingDiscardsPartialOutput(t *testing.T) {
	got := string(MustParse("a.$x.b", Options{}).Append(nil, &partialSource{}))
	if got != "a.unknown.b" {
		t.Errorf("got %q, want %q", got, "a.unknown.b")
	}
}

func TestAppendDoesNotAllocate(t *testing.T) {
	templates := []struct {
		tmpl string
		opts Options
	}{
		{"ctlive.$tenant.$event", Options{}},
		{"ctlive-$tenant-%Y.%m.%d", Options{Strftime: true}},
		{"%Y|%C|%y|%G|%g|%V|%m|%b|%B|%d|%j|%U|%W|%u|%w|%a|%A|%H|%I|%M|%S|%p|%s|%z|%Z|%F|%T", Options{Strftime: true}},
		{"$payload['response']['chat'].$items[1]['id'].$nope", Options{}},
		{"$TAG.$TAG[1].$TAG[9]", Options{}},
		{"ctlive", Options{}},
	}
	src := &mapSource{rec: testRecord(), tag: "ctlive.in.agm", t: recTime}
	buf := make([]byte, 0, 512)
	for _, tt := range templates {
		tmpl := MustParse(tt.tmpl, tt.opts)
		if n := testing.AllocsPerRun(100, func() { buf = tmpl.Append(buf[:0], src) }); n != 0 {
			t.Errorf("Append(%q) allocates %v times per run", tt.tmpl, n)
		}
	}
}

// Run with -race: a Template is shared by all flush goroutines.
func TestAppendIsSafeForConcurrentUse(t *testing.T) {
	tmpl := MustParse("ctlive-$tenant-%Y.%m.%d-$TAG[1]", Options{Strftime: true})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			src := &mapSource{rec: testRecord(), tag: "a.b", t: recTime}
			for range 100 {
				if got := string(tmpl.Append(nil, src)); got != "ctlive-AGM-2024.03.05-b" {
					t.Errorf("got %q", got)
					return
				}
			}
		})
	}
	wg.Wait()
}
