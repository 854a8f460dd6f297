package elasticsearch

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

// msgpackOf converts a JSON object to a msgpack map, keys in their order.
func msgpackOf(t *testing.T, js []byte) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(js))
	d.UseNumber()
	var value func(dst []byte) []byte
	value = func(dst []byte) []byte {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch v := tok.(type) {
		case json.Delim:
			var items [][]byte
			for d.More() {
				if v == '{' {
					k, _ := d.Token()
					items = append(items, msgp.AppendString(nil, k.(string)))
				}
				items = append(items, value(nil))
			}
			d.Token() // the closing delimiter
			if v == '{' {
				dst = msgp.AppendMapHeader(dst, uint32(len(items)/2))
			} else {
				dst = msgp.AppendArrayHeader(dst, uint32(len(items)))
			}
			return append(dst, bytes.Join(items, nil)...)
		case string:
			return msgp.AppendString(dst, v)
		case json.Number:
			n, _ := v.Int64()
			return msgp.AppendInt64(dst, n)
		case bool:
			return msgp.AppendBool(dst, v)
		}
		return msgp.AppendNil(dst)
	}
	return value(nil)
}

// mappingConflict reports the first key that Elasticsearch's object
// mapping cannot take: it reads a dotted key as a path of objects
// (`app.kubernetes.io/name` is app → kubernetes → io/name), so `app` cannot
// also be a value in the same object (mapper_parsing_exception).
func mappingConflict(doc map[string]any) string {
	type node map[string]node // nil: a leaf value
	var walk func(m map[string]any, into node, prefix string) string
	walk = func(m map[string]any, into node, prefix string) string {
		for k, v := range m {
			parts := strings.Split(k, ".")
			n := into
			for i, p := range parts {
				child, seen := n[p]
				last := i == len(parts)-1
				obj, isObj := v.(map[string]any)
				switch {
				case !last || isObj:
					if seen && child == nil {
						return prefix + k
					}
					if !seen {
						child = node{}
						n[p] = child
					}
					if last {
						if c := walk(obj, child, prefix+k+"."); c != "" {
							return c
						}
					}
					n = child
				default:
					if seen {
						return prefix + k
					}
					n[p] = nil
				}
			}
		}
		return ""
	}
	return walk(doc, node{}, "")
}

// Issue #10: Kubernetes' standard labels (`app` with `app.kubernetes.io/name`)
// made Elasticsearch refuse every record of such a pod. replace_dots, as in
// Fluent Bit's es output, writes '.' in keys at every depth as '_'; values
// keep theirs. Off (the default) keeps the document as it was.
func TestReplaceDotsMakesKubernetesLabelsMappable(t *testing.T) {
	field, err := os.ReadFile("testdata/es-k8s-dotted-labels.json")
	if err != nil {
		t.Fatal(err)
	}
	body := msgpackOf(t, field)
	encode := func(props map[string]string) bulkDoc {
		evs := decodeChunk(t, "kube.x", append(append([]byte{0x92, 0x92}, appendEventTime(nil, t0)...), append([]byte{0x80}, body...)...))
		s := newSink(t, props)
		f := s.getFlush("kube.x")
		defer s.putFlush(f)
		docs := parseNDJSON(t, s.appendRecord(nil, evs[0], f))
		return docs[0]
	}
	off := encode(nil)
	if c := mappingConflict(off.Doc); !strings.HasPrefix(c, "kubernetes.labels.app") {
		t.Errorf("without replace_dots the conflict is %q: the field case conflicts on app", c)
	}
	on := encode(map[string]string{"replace_dots": "on"})
	if c := mappingConflict(on.Doc); c != "" {
		t.Errorf("with replace_dots Elasticsearch still cannot map %q:\n%s", c, on.Raw)
	}
	labels := on.Doc["kubernetes"].(map[string]any)["labels"].(map[string]any)
	want := map[string]any{"app": "ctlive", "app_kubernetes_io/name": "ctlive", "app_kubernetes_io/instance": "ctlive-prod"}
	if len(labels) != len(want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("labels[%q] = %v, want %v", k, labels[k], v)
		}
	}
	if on.Doc["url"] != "https://server1/ctLiveService/contact" || on.Doc["function"] != "CT7PROTOCOL" {
		t.Errorf("values or fields changed: %s", on.Raw)
	}
	if strings.ReplaceAll(off.Raw, "app.kubernetes.io", "app_kubernetes_io") != on.Raw {
		t.Errorf("only the dotted keys may change:\n off %s\n  on %s", off.Raw, on.Raw)
	}
}

// Keys at every depth: in maps inside arrays, a payload's own keys, a key
// that is not a string; never a value, and not the plugin's time key.
func TestReplaceDotsAtEveryDepth(t *testing.T) {
	line := `[fn] [AGM] newContact resp:{"a.b":{"c.d":["e.f",{"g.h":"i.j"}]}}`
	body := kv{"log", line, "list", []any{map[string]any{"x.y": "v.w"}}}
	s := newSink(t, map[string]string{"replace_dots": "on", "time_key": "@time.stamp"})
	d := encodeOne(t, s, "t", t0, body)
	for _, want := range []string{`{"@time.stamp":"`, `"list":[{"x_y":"v.w"}]`, `"payload":{"resp":{"a_b":{"c_d":["e.f",{"g_h":"i.j"}]}}}`, `"log":"` + strings.ReplaceAll(line, `"`, `\"`) + `"`} {
		if !strings.Contains(d.Raw, want) {
			t.Errorf("document lacks %s:\n%s", want, d.Raw)
		}
	}
	// A key that is not a string is written as its text: its dots too.
	evs := decodeChunk(t, "t", append(append([]byte{0x92, 0x92}, appendEventTime(nil, t0)...), 0x80, 0x81, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xa1, 'v'))
	f := s.getFlush("t")
	defer s.putFlush(f)
	if out := s.appendRecord(nil, evs[0], f); !bytes.Contains(out, []byte(`"1_5":"v"`)) {
		t.Errorf("the key 1.5: %s", out)
	}
}
