package template

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// format rebuilds template text from parsed parts. Reparsing it must give the
// same parts, which checks quoting, escaping and where keys end.
func format(t *Template, strftime bool) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.kind {
		case partLiteral:
			if strftime {
				b.WriteString(strings.ReplaceAll(p.text, "%", "%%"))
			} else {
				b.WriteString(p.text)
			}
		case partKey:
			b.WriteString("$" + p.text)
			for _, e := range p.path {
				if e.IsIndex {
					b.WriteString("[" + strconv.Itoa(e.Index) + "]")
				} else {
					b.WriteString("['" + strings.ReplaceAll(e.Key, "'", "''") + "']")
				}
			}
		case partTag:
			b.WriteString("$TAG")
		case partTagPart:
			b.WriteString("$TAG[" + strconv.Itoa(p.n) + "]")
		case partTime:
			b.WriteString("%" + string(p.verb))
		}
	}
	return b.String()
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ctlive.$tenant.$event", "ctlive-$tenant-%Y.%m.%d", "$tenant",
		"$payload['response']['chat']", "$kubernetes['labels']['app']", "$items[0]['id']",
		"$TAG", "$TAG[1]", "$TAG.$request['verb'].onSrv.$Hostname", "$a$b", "日志-$uni-ü",
		"$labels['it''s']", "$a['x]y'][3]", "100%%", "%Y%j%F%T", "${VAR}", "$", "$a[", "$a['x",
		"$a[01]", "$a[99999999999999999999]", "$TAG[1][2]", "%Q", "%", "$1",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, strftime bool) {
		opts := Options{Strftime: strftime}
		tmpl, err := Parse(s, opts)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not *SyntaxError", err)
			}
			if se.Offset < 0 || se.Offset+len(se.Text) > len(s) || s[se.Offset:se.Offset+len(se.Text)] != se.Text {
				t.Fatalf("error position %d %q is not in %q", se.Offset, se.Text, s)
			}
			return
		}
		if tmpl.String() != s {
			t.Fatalf("String() = %q, want %q", tmpl.String(), s)
		}
		src := &mapSource{
			rec: map[string]any{"a": "A", "b": []any{"x", map[string]any{"": "e", "'": "q"}}, "e": ""},
			tag: "t0.t1",
			t:   time.Unix(1700000000, 0),
		}
		out := tmpl.Append(nil, src)
		if len(out) == 0 {
			t.Fatalf("%q rendered empty", s)
		}
		if tmpl.Static() && !strings.Contains(s, "%") && string(out) != s {
			t.Fatalf("static %q rendered %q", s, out)
		}

		canon := format(tmpl, strftime)
		again, err := Parse(canon, opts)
		if err != nil {
			t.Fatalf("reparsing %q (from %q): %v", canon, s, err)
		}
		if !reflect.DeepEqual(again.parts, tmpl.parts) {
			t.Fatalf("reparsing %q (from %q) gave %+v, want %+v", canon, s, again.parts, tmpl.parts)
		}
		if out2 := again.Append(nil, src); string(out2) != string(out) {
			t.Fatalf("%q renders %q, its reparse %q renders %q", s, out, canon, out2)
		}
	})
}
