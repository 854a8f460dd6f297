package template

import "testing"

func BenchmarkAppend(b *testing.B) {
	benches := []struct {
		name string
		tmpl string
		opts Options
	}{
		{"default_tag", "ctlive.$tenant.$event", Options{}},
		{"default_index", "ctlive-$tenant-%Y.%m.%d", Options{Strftime: true}},
		{"tenant_id", "$tenant", Options{}},
		{"nested_path", "ctlive.$payload['response']['chat'].$items[1]['id']", Options{}},
		{"missing", "ctlive.$tenant.$nope", Options{}},
		{"tag_parts", "$TAG[0].$TAG[2]", Options{}},
		{"static", "ctlive", Options{}},
	}
	src := &mapSource{rec: testRecord(), tag: "ctlive.in.agm", t: recTime}
	for _, bb := range benches {
		tmpl := MustParse(bb.tmpl, bb.opts)
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 256)
			for b.Loop() {
				buf = tmpl.Append(buf[:0], src)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("ctlive-$tenant-$payload['response']['chat']-%Y.%m.%d", Options{Strftime: true}); err != nil {
			b.Fatal(err)
		}
	}
}
