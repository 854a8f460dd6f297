package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/sink/httpc"
)

func TestReadBulk(t *testing.T) {
	const causes = `{"type":"a","reason":"r1","caused_by":{"type":"b","reason":"r2","caused_by":{"type":"c","reason":"r3",` +
		`"caused_by":{"type":"d","reason":"r4","caused_by":{"type":"e","reason":"r5"}}}}}`
	tests := []struct {
		name     string
		answer   string
		n        int
		count    int
		allOK    bool
		statuses []int
		reasons  []string // of the first items, when given
		err      error
	}{
		{name: "all created, only counted", n: 2, count: 2, allOK: true,
			answer: `{"took":3,"errors":false,"items":[{"create":{"_index":"i","_id":"a","status":201,"_shards":{"total":2}}},{"create":{"status":201}}]}`},
		{name: "per item", n: 4, count: 4, statuses: []int{201, 409, 429, 400},
			answer: `{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception"}}},` +
				`{"create":{"status":429}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse"}}}]}`},
		{name: "errors after items: every item read", n: 1, count: 1, statuses: []int{201},
			answer: `{"items":[{"index":{"status":201}}],"errors":false}`},
		{name: "fewer items than documents", n: 3, count: 1, statuses: []int{201}, answer: `{"errors":true,"items":[{"create":{"status":201}}]}`},
		{name: "white space and escapes", n: 1, count: 1, statuses: []int{400}, reasons: []string{`HTTP 400 mapper_parsing_exception: a "q" é`},
			answer: " {\n\t\"it\\u0065ms\" : [ { \"create\" : { \"error\" : { \"type\" : \"mapper_parsing_exception\", \"reason\" : \"a \\\"q\\\" \\u00e9\" } , \"status\" : 400 } } ] , \"errors\" : true }\r\n"},
		{name: "causes are kept three deep", n: 1, count: 1, statuses: []int{400},
			reasons: []string{"HTTP 400 a: r1 (caused by b: r2 (caused by c: r3 (caused by d: r4)))"},
			answer:  `{"errors":true,"items":[{"create":{"status":400,"error":` + causes + `}}]}`},
		{name: "an old string error", n: 1, count: 1, statuses: []int{400}, reasons: []string{"HTTP 400: MapperParsingException[bad]"},
			answer: `{"errors":true,"items":[{"index":{"status":400,"error":"MapperParsingException[bad]"}}]}`},
		{name: "a status that is not one", n: 5, count: 5, statuses: []int{0, 0, 0, 0, 0},
			answer: `{"errors":true,"items":[{"create":{"status":"201"}},{"create":{"status":201.0}},{"create":{"status":2e2}},{"create":{"status":-201}},{"create":{"status":9999999999}}]}`},
		{name: "an item that is not an object", n: 2, count: 2, statuses: []int{0, 201},
			answer: `{"errors":true,"items":[[1,{"create":{"status":500}}],{"create":{"status":201}}]}`},

		{name: "more items than documents stops at the first extra", n: 1, err: errTooManyItem,
			answer: `{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}, this is never read`},
		{name: "nesting past the bound", n: 1, err: errTooDeep,
			answer: `{"errors":true,"items":[{"create":{"status":400,"error":` + strings.Repeat(`{"caused_by":`, 100) + `null` + strings.Repeat(`}`, 100) + `}}]}`},
		{name: "no items", n: 1, err: errNoItems, answer: `{"errors":false}`},
		{name: "items not an array", n: 1, err: errNotJSON, answer: `{"items":{}}`},
		{name: "two items", n: 2, err: errNotJSON, answer: `{"items":[],"items":[]}`},
		{name: "not an object", n: 1, err: errNotJSON, answer: `[{"items":[]}]`},
		{name: "html from a proxy", n: 1, err: errNotJSON, answer: `<html>502 Bad Gateway</html>`},
		{name: "empty", n: 1, err: errNotJSON, answer: ``},
		{name: "truncated", n: 1, err: errTruncated, answer: `{"errors":false,"items":[{"create":{"status":201}`},
		{name: "truncated in a string", n: 1, err: errTruncated, answer: `{"errors":false,"items":[{"create":{"_index":"ctl`},
		{name: "data after the answer", n: 1, err: errNotJSON, answer: `{"items":[]} {}`},
		{name: "a control byte in a string", n: 1, err: errNotJSON, answer: "{\"items\":[],\"x\":\"a\nb\"}"},
		{name: "a bad escape", n: 1, err: errNotJSON, answer: `{"items":[],"x":"\q"}`},
		{name: "a leading zero", n: 1, err: errNotJSON, answer: `{"items":[{"create":{"status":0201}}]}`},
		{name: "a bare minus", n: 1, err: errNotJSON, answer: `{"items":[],"x":-}`},
		{name: "a misspelt literal", n: 1, err: errNotJSON, answer: `{"errors":fals,"items":[]}`},
		{name: "a missing colon", n: 1, err: errNotJSON, answer: `{"items" []}`},
		{name: "a trailing comma", n: 1, err: errNotJSON, answer: `{"items":[],}`},
		{name: "a mismatched bracket", n: 1, err: errNotJSON, answer: `{"items":[],"x":[1}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.answer), iotest.OneByteReader(strings.NewReader(tc.answer))} {
				a, err := readBulk(r, tc.n, nil)
				if tc.err != nil {
					if !errors.Is(err, tc.err) {
						t.Fatalf("err = %v, want %v", err, tc.err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if a.count != tc.count || a.allOK != tc.allOK || len(a.items) != len(tc.statuses) {
					t.Fatalf("count %d allOK %v items %d; want %d %v %d", a.count, a.allOK, len(a.items), tc.count, tc.allOK, len(tc.statuses))
				}
				for i, st := range tc.statuses {
					if a.items[i].status != st {
						t.Errorf("item %d status %d, want %d", i, a.items[i].status, st)
					}
				}
				for i, want := range tc.reasons {
					if got := itemReason(a.items[i]); got != want {
						t.Errorf("item %d reason %q, want %q", i, got, want)
					}
				}
			}
		})
	}
}

func TestReadBulkErrorsQuoteTheAnswerWithoutCredentials(t *testing.T) {
	_, err := readBulk(strings.NewReader("<html>Authorization: Bearer s3cret-token</html>"), 1, nil)
	if err == nil || !strings.Contains(err.Error(), "<html>") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v: want the answer's start, without the token", err)
	}
}

// hostile is a 200 answer written as it streams, never held whole.
type hostile struct {
	name  string
	parts func(w io.Writer) // writes the body; stops when the client goes
	err   error             // what the reader reports
}

func repeat(w io.Writer, unit string, n int) bool {
	chunk := []byte(strings.Repeat(unit, max(1, (64<<10)/len(unit))))
	per := len(chunk) / len(unit)
	for n > 0 {
		k := min(n, per)
		if _, err := w.Write(chunk[:k*len(unit)]); err != nil {
			return false
		}
		n -= k
	}
	return true
}

// The answers of issue #7: each costs a bounded read, one retryable error,
// and neither the stack nor the heap grows with what the server sends.
func TestHostileAnswersAreBoundedAndRetried(t *testing.T) {
	tests := []hostile{
		{"caused_by nested 6 million levels (78 MB)", func(w io.Writer) {
			io.WriteString(w, `{"errors":true,"items":[{"create":{"status":400,"error":`)
			if repeat(w, `{"caused_by":`, 6_000_000) {
				repeat(w, `}`, 6_000_000)
				io.WriteString(w, `}}]}`)
			}
		}, errTooDeep},
		{"30 million items for one document", func(w io.Writer) {
			io.WriteString(w, `{"errors":false,"items":[{"create":{"status":201}}`)
			if repeat(w, `,{"create":{"status":201}}`, 30_000_000) {
				io.WriteString(w, `]}`)
			}
		}, errTooManyItem},
		{"one item with a 100 MB reason", func(w io.Writer) {
			io.WriteString(w, `{"errors":true,"items":[{"create":{"status":400,"error":{"type":"x","reason":"`)
			if repeat(w, "a", 100<<20) {
				io.WriteString(w, `"}}}]}`)
			}
		}, httpc.ErrAnswerTooLarge},
		{"a valid answer followed by 100 MB of spaces", func(w io.Writer) {
			io.WriteString(w, `{"errors":false,"items":[{"create":{"status":201}}]}`)
			repeat(w, " ", 100<<20)
		}, httpc.ErrAnswerTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				tc.parts(w)
			}))
			defer srv.Close()
			s := newSink(t, map[string]string{"url": srv.URL})
			b := newBatch("t", lineEvents(t, "t", numbered(1)))

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := s.Deliver(context.Background(), b)
			runtime.ReadMemStats(&after)

			if !isRetryable(err) || !errors.Is(err, tc.err) {
				t.Fatalf("Deliver = %v; want a retryable error wrapping %v", err, tc.err)
			}
			if b.IsDone(0) {
				t.Errorf("the document counts as delivered")
			}
			// The server streams from one reused chunk; what the client
			// allocates is bounded by answerLimit (68 KB here), not by
			// the answer. 16 MB leaves room for the HTTP machinery.
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
				t.Errorf("%d MB allocated while reading the answer", grown>>20)
			}
		})
	}
}

// FuzzBulkResponse: readBulk never panics, stays within its bounds, reads
// the same through any buffer boundaries, and agrees with encoding/json
// read by the same rules (refBulk) on every answer: what it accepts, the
// count, and every item's status.
func FuzzBulkResponse(f *testing.F) {
	for _, s := range []string{
		`{"took":3,"errors":false,"items":[{"create":{"_index":"i","_id":"a","status":201}}]}`,
		`{"errors":true,"items":[{"create":{"status":400,"error":{"type":"t","reason":"r","caused_by":{"type":"c","reason":"d"}}}},{"index":{"status":429}}]}`,
		`{"items":[{"create":{"status":201}}],"errors":false}`,
		`{"errors":true,"items":[{"index":{"status":400,"error":"MapperParsingException[x]"}}]}`,
		`{"items":[[{"a":[1,2.5e3,-0,true,null,"\u00e9\"\\"]}]]}`,
		`{"it\u0065ms":[{"x":{"status":0201}}]}`,
		`<html></html>`,
	} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, docs uint8) {
		n := int(docs%8) + 1
		a, err := readBulk(bytes.NewReader(data), n, nil)
		b, err1 := readBulk(iotest.OneByteReader(bytes.NewReader(data)), n, nil)
		if (err == nil) != (err1 == nil) || a.count != b.count || len(a.items) != len(b.items) {
			t.Fatalf("byte by byte: %v %+v; whole: %v %+v", err1, b, err, a)
		}
		if a.count > n+1 || len(a.items) > n {
			t.Fatalf("%d items kept, count %d, for %d documents", len(a.items), a.count, n)
		}
		for _, it := range a.items {
			if len(it.errType) > maxType || len(it.reason) > 1500 {
				t.Fatalf("item keeps %d + %d bytes", len(it.errType), len(it.reason))
			}
		}
		ref, refErr := refBulk(data, n)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("readBulk: %v; encoding/json: %v", err, refErr)
		}
		if err != nil {
			return
		}
		if a.count != ref.count || a.allOK != ref.allOK || len(a.items) != len(ref.items) {
			t.Fatalf("readBulk %+v; encoding/json %+v", a, ref)
		}
		for i := range a.items {
			if a.items[i].status != ref.items[i].status {
				t.Fatalf("item %d: status %d; encoding/json %d", i, a.items[i].status, ref.items[i].status)
			}
		}
	})
}

// refBulk reads an answer with encoding/json's tokenizer by readBulk's
// rules: the plain path the scanner is compared with.
func refBulk(data []byte, n int) (bulkAnswer, error) {
	r := &refReader{dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	r.dec.UseNumber()
	var a bulkAnswer
	if d, ok := r.tok().(json.Delim); !ok || d != '{' {
		return a, r.or(errNotJSON)
	}
	errorsFalse, sawItems := false, false
	for r.more() {
		switch r.key() {
		case "errors":
			switch v := r.tok().(type) {
			case bool:
				errorsFalse = !v
			case json.Delim:
				r.skipOpened()
			}
		case "items":
			if sawItems {
				return a, errNotJSON
			}
			sawItems, a.allOK = true, errorsFalse
			if d, ok := r.tok().(json.Delim); !ok || d != '[' {
				return a, r.or(errNotJSON)
			}
			for r.more() {
				if a.count++; a.count > n {
					return a, errTooManyItem
				}
				if a.allOK {
					r.skipRest()
				} else {
					a.items = append(a.items, r.item())
				}
			}
			r.tok() // ']'
		default:
			r.skipRest()
		}
	}
	r.tok() // '}'
	if _, err := r.dec.Token(); r.err == nil && err != io.EOF {
		return a, errNotJSON // data after the answer
	}
	switch {
	case r.err != nil:
		return a, r.err
	case r.maxDepth > maxDepth:
		return a, errTooDeep
	case !sawItems:
		return a, errNoItems
	}
	return a, nil
}

type refReader struct {
	dec             *json.Decoder
	data            []byte
	depth, maxDepth int
	err             error
}

func (r *refReader) or(err error) error {
	if r.err != nil {
		return r.err
	}
	return err
}

func (r *refReader) tok() json.Token {
	if r.err != nil {
		return nil
	}
	t, err := r.dec.Token()
	if err != nil {
		r.err = err
		return nil
	}
	if d, ok := t.(json.Delim); ok {
		if d == '{' || d == '[' {
			r.depth++
			r.maxDepth = max(r.maxDepth, r.depth)
		} else {
			r.depth--
		}
	}
	return t
}

func (r *refReader) more() bool { return r.err == nil && r.dec.More() }

func (r *refReader) key() string {
	s, _ := r.tok().(string)
	return s
}

// skipRest reads a value whose first token has not been read yet.
func (r *refReader) skipRest() {
	start := r.depth
	r.tok()
	for r.err == nil && r.depth > start {
		r.tok()
	}
}

var plainStatus = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})$`)

func (r *refReader) item() bulkItem {
	var it bulkItem
	if d, ok := r.peekDelim(); !ok || d != '{' {
		r.skipRest()
		return it
	}
	r.tok()
	for r.more() {
		r.key()
		if d, ok := r.peekDelim(); !ok || d != '{' {
			r.skipRest()
			continue
		}
		r.tok()
		for r.more() {
			switch r.key() {
			case "status":
				switch v := r.tok().(type) {
				case json.Number:
					it.status = 0
					if plainStatus.MatchString(string(v)) {
						if st, _ := strconv.Atoi(string(v)); st >= 100 && st <= 599 {
							it.status = st
						}
					}
				case json.Delim:
					r.skipOpened()
				}
			default:
				r.skipRest() // the error is checked by readBulk's own tests
			}
		}
		r.tok() // '}'
	}
	r.tok() // '}'
	return it
}

// skipOpened finishes a container whose opening token was read.
func (r *refReader) skipOpened() {
	start := r.depth - 1
	for r.err == nil && r.depth > start {
		r.tok()
	}
}

// peekDelim reports whether the next token opens a container, without
// consuming it: it starts where the last one ended, past separators.
func (r *refReader) peekDelim() (json.Delim, bool) {
	rest := strings.TrimLeft(string(r.data[r.dec.InputOffset():]), " \t\r\n,:")
	if rest == "" || rest[0] != '{' && rest[0] != '[' {
		return 0, false
	}
	return json.Delim(rest[0]), true
}

// A redirect is never followed and never counts as delivered: the flush
// fails for good (the url must be fixed), and its target receives nothing.
func TestRedirectIsPermanentAndNothingIsDelivered(t *testing.T) {
	target := startFakeES(t, allCreated)
	for _, code := range []int{301, 302, 307, 308} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, target.URL+"/_bulk?token=abc", code)
		}))
		s := newSink(t, map[string]string{"url": srv.URL, "api_key": "k3y-for-es"})
		b := newBatch("t", lineEvents(t, "t", numbered(2)))
		err := s.Deliver(context.Background(), b)
		srv.Close()
		if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "redirect to") {
			t.Errorf("%d: err = %v, want a permanent error naming the redirect", code, err)
		}
		if err != nil && (strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), "k3y")) {
			t.Errorf("%d: err = %v shows a credential", code, err)
		}
		if len(undone(b)) != 2 {
			t.Errorf("%d: %d of 2 undone; want nothing delivered", code, len(undone(b)))
		}
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("the redirect's target received %d requests", n)
	}
}
