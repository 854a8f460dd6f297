package parser

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

// FuzzParse: no input panics, and what the parser reports is always
// consistent with the line it came from.
func FuzzParse(f *testing.F) {
	for _, tc := range documentLines {
		f.Add([]byte(tc.line))
	}
	for _, tc := range rules {
		f.Add([]byte(tc.line))
	}
	f.Add([]byte("\x00\xff[\x1b[31m"))
	f.Add(bytes.Repeat([]byte("[a] "), 40))
	p := New(Options{Components: []string{"KAFKA"}})
	var r Result
	f.Fuzz(func(t *testing.T, line []byte) {
		p.Parse(line, &r)
		checkInvariants(t, line, &r)
	})
}

func checkInvariants(t *testing.T, line []byte, r *Result) {
	t.Helper()
	clean := stripANSI(nil, line)
	first := clean
	if i := bytes.IndexByte(clean, '\n'); i >= 0 {
		first = clean[:i]
	}
	fields := map[string][]byte{
		"service": r.Service, "time": r.TimeText, "function": r.Function, "tenant": r.Tenant,
		"contactID": r.ContactID, "channel": r.Channel, "userID": r.UserID, "sessionID": r.SessionID,
		"messageID": r.MessageID, "message": r.Message, "url": r.URL, "error": r.Error, "errorType": r.ErrorType,
	}
	for i, s := range r.Scopes {
		fields["scope"+string(rune('0'+i%10))] = s
	}
	for name, v := range fields {
		if v == nil {
			continue
		}
		if len(v) == 0 {
			t.Fatalf("%s is an empty string", name)
		}
		if bytes.IndexByte(v, 0x1b) >= 0 && bytes.Contains(v, []byte("\x1b[")) && ansiTerminated(v) {
			t.Fatalf("%s holds an ANSI escape: %q", name, v)
		}
		if !bytes.Contains(first, v) {
			t.Fatalf("%s = %q is not in the first line %q", name, v, first)
		}
	}
	for _, sec := range r.Secrets {
		if len(sec.Text) == 0 || !bytes.Contains(clean, sec.Text) || sec.Kind == SecretNone {
			t.Fatalf("secret %q (kind %d) is not in the line", sec.Text, sec.Kind)
		}
	}
	for _, p := range r.Payloads {
		for name, id := range map[string][]byte{"contactID": r.ContactID, "userID": r.UserID, "sessionID": r.SessionID, "messageID": r.MessageID} {
			if within(id, p.JSON) {
				t.Fatalf("%s %q was taken from inside payload %s", name, id, p.Label)
			}
		}
	}
	for _, s := range r.Stack {
		frame := string(s) == "at" || len(s) >= 4 && bytes.HasPrefix(s, []byte("at ")) // `at ` trimmed, or more
		if !frame || bytes.IndexByte(s, '\n') >= 0 || len(trimSpace(s)) != len(s) {
			t.Fatalf("bad stack frame %q", s)
		}
	}
	if !r.Shaped() {
		if r.Level != LevelNone || r.Message != nil || r.Payloads != nil || r.URL != nil || r.Scopes != nil || r.Tenant != nil || r.Stack != nil {
			t.Fatalf("a line that is not CTLive-shaped got fields: %+v", got(r))
		}
		return
	}
	if r.Level == LevelNone {
		t.Fatal("a CTLive-shaped line has no level")
	}
	if r.Event == EventException && r.Level != LevelError {
		t.Fatal("an exception must be at level error")
	}
	if (r.Error != nil || r.ErrorType != nil) && r.Event != EventException {
		t.Fatal("error fields outside an exception")
	}
	if r.ContactID != nil {
		cid := string(r.ContactID)
		if r.Channel == nil || !strings.HasPrefix(cid, string(r.Channel)+"_") || string(r.Channel) == "USER" {
			t.Fatalf("channel %q does not start contactID %q", r.Channel, cid)
		}
		if len(cid) < len(r.Channel)+39 || cid[len(cid)-37] != '_' || uuidAt(r.ContactID, len(cid)-36) == 0 {
			t.Fatalf("contactID %q does not end in _UUID", cid)
		}
		tenant := cid[len(r.Channel)+1 : len(cid)-37]
		if len(r.Scopes) < 2 {
			if string(r.Tenant) != tenant {
				t.Fatalf("without tenant tokens, tenant %q must come from contactID %q", r.Tenant, cid)
			}
		}
	} else if r.Channel != nil {
		t.Fatal("channel without contactID")
	}
	if r.UserID != nil && !bytes.HasPrefix(r.UserID, []byte("USER_")) {
		t.Fatalf("userID %q", r.UserID)
	}
	for _, id := range [][]byte{r.SessionID, r.MessageID} {
		if id != nil && (len(id) != 36 || uuidAt(id, 0) != 36) {
			t.Fatalf("session/message ID %q is not a UUID", id)
		}
	}
	if r.SessionID != nil && bytes.Equal(r.SessionID, r.MessageID) {
		t.Fatal("messageID equals sessionID")
	}
	for _, p := range r.Payloads {
		if _, err := p.Value(); err != nil {
			t.Fatalf("payload %s=%q does not decode: %v", p.Label, p.JSON, err)
		}
		if !bytes.Contains(first, p.JSON) {
			t.Fatalf("payload %q is not in the first line", p.JSON)
		}
	}
	if r.TimeText != nil {
		s := string(r.TimeText)
		if strings.ContainsAny(s, "tz") || strings.Contains(s, ":60") {
			return // forms Go's own parser refuses but RFC 3339 allows
		}
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !want.Equal(r.Time) {
			t.Fatalf("time %q parsed as %v, Go says %v (%v)", s, r.Time, want, err)
		}
	}
}

// within reports whether v is a part of outer's memory.
func within(v, outer []byte) bool {
	if len(v) == 0 || len(outer) == 0 {
		return false
	}
	p, o := uintptr(unsafe.Pointer(unsafe.SliceData(v))), uintptr(unsafe.Pointer(unsafe.SliceData(outer)))
	return p >= o && p < o+uintptr(len(outer))
}

// ansiTerminated reports whether v holds a complete ESC [ ... letter
// sequence, the only form the contract strips.
func ansiTerminated(v []byte) bool {
	for i := bytes.Index(v, []byte("\x1b[")); i >= 0 && i < len(v); {
		j := i + 2
		for j < len(v) && v[j] >= 0x20 && v[j] <= 0x3f {
			j++
		}
		if j < len(v) && (v[j]|0x20) >= 'a' && (v[j]|0x20) <= 'z' {
			return true
		}
		k := bytes.Index(v[i+1:], []byte("\x1b["))
		if k < 0 {
			return false
		}
		i += 1 + k
	}
	return false
}

// FuzzWordEnd: the eight-bytes-at-a-time word and identifier scanners agree
// with plain byte loops on every input.
func FuzzWordEnd(f *testing.F) {
	f.Add([]byte("newContact. Generate"), 0)
	f.Add([]byte("ab\xc3\xa9cd0123456789xyz"), 1)
	f.Add([]byte("CHAT_AGM_abbba71e-67b2"), 4)
	f.Fuzz(func(t *testing.T, b []byte, j int) {
		if j < 0 || j > len(b) {
			return
		}
		want := j
		for want < len(b) && alnum[b[want]] {
			want++
		}
		if got := wordEnd(b, j); got != want {
			t.Fatalf("wordEnd(%q, %d) = %d, want %d", b, j, got, want)
		}
		want = j
		for want < len(b) && (alnum[b[want]] || b[want] == '_') {
			want++
		}
		if got := identEnd(b, j); got != want {
			t.Fatalf("identEnd(%q, %d) = %d, want %d", b, j, got, want)
		}
	})
}

// FuzzByteIs: the exact eight-byte comparison agrees with a plain loop.
func FuzzByteIs(f *testing.F) {
	f.Add(uint64(0x3a2d5f003a2d5f00), byte(':'))
	f.Fuzz(func(t *testing.T, x uint64, c byte) {
		var want uint64
		for k := 0; k < 8; k++ {
			if byte(x>>(8*k)) == c {
				want |= 0x80 << (8 * k)
			}
		}
		if got := byteIs(x, c); got != want {
			t.Fatalf("byteIs(%#x, %#x) = %#x, want %#x", x, c, got, want)
		}
	})
}

// FuzzUUIDAt: the eight-bytes-at-a-time UUID test agrees with a plain one.
func FuzzUUIDAt(f *testing.F) {
	f.Add([]byte("x abbba71e-67b2-4f9c-ab68-dcf3f95bd32c y"), 2)
	f.Add([]byte("ABBBA71E-67B2-4F9C-AB68-DCF3F95BD32G"), 0)
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		want := 0
		if i >= 0 && len(b)-i >= 36 {
			want = i + 36
			for k, c := range b[i : i+36] {
				dash := k == 8 || k == 13 || k == 18 || k == 23
				if dash != (c == '-') || !dash && !strings.ContainsRune("0123456789abcdefABCDEF", rune(c)) {
					want = 0
				}
			}
		}
		if got := uuidAt(b, i); got != want {
			t.Fatalf("uuidAt(%q, %d) = %d, want %d", b, i, got, want)
		}
		if got := uuidAtSWAR(b, i); got != want {
			t.Fatalf("uuidAtSWAR(%q, %d) = %d, want %d", b, i, got, want)
		}
	})
}

// FuzzClassify64: the block classifier in use (SIMD where available) and the
// eight-bytes-at-a-time one agree with a plain byte loop.
func FuzzClassify64(f *testing.F) {
	f.Add([]byte("[socketIO] [AGM] newContact CHAT_AGM_abbba71e-67b2 url:https://x {\"a\":1} \xc3\xa9\x00\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var block [blockSize]byte
		copy(block[:], b)
		var wantLetters, wantAlnum, wantTrig, wantBackslash uint64
		for k, c := range block {
			if c == '\\' {
				wantBackslash |= 1 << k
			}
			if c|0x20 >= 'a' && c|0x20 <= 'z' {
				wantLetters |= 1 << k
			}
			if alnum[c] {
				wantAlnum |= 1 << k
			}
			if c == ':' || c == '_' || c == '=' || c == '%' {
				wantTrig |= 1 << k
			}
		}
		var padded [blockSize + 1]byte
		copy(padded[:], block[:])
		inUse := func(p *[blockSize]byte) (uint64, uint64, uint64, uint64) {
			l, a, tr, bs, _ := classifyBlock(&padded)
			return l, a, tr, bs
		}
		for name, classify := range map[string]func(*[blockSize]byte) (uint64, uint64, uint64, uint64){
			"in use": inUse, "swar": classify64SWAR,
		} {
			l, a, tr, bs := classify(&block)
			if l != wantLetters || a != wantAlnum || tr != wantTrig || bs != wantBackslash {
				t.Fatalf("%s classifyBlock(%q) = %#x %#x %#x %#x, want %#x %#x %#x %#x", name, block, l, a, tr, bs,
					wantLetters, wantAlnum, wantTrig, wantBackslash)
			}
		}
	})
}

// FuzzWordPairs: the vector test of a block's word starts (classifyBlock's
// pairs) agrees with the byte-by-byte one, the byte after the block
// included.
func FuzzWordPairs(f *testing.F) {
	f.Add([]byte("[socketIO] [AGM] newContact session ID eyJ SAVE \xe5\xc1\x60\x7b Bearer ct7token id\x00\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var block [blockSize + 1]byte
		copy(block[:], b)
		var want uint64
		for k := range blockSize {
			if wordPair(block[k], block[k+1]) {
				want |= 1 << k
			}
		}
		if _, _, _, _, got := classifyBlock(&block); got != want && (hasAVX2 || got != ^uint64(0)) { // all ones: no SIMD
			t.Fatalf("classifyBlock(%q) pairs = %#x, want %#x", block, got, want)
		}
	})
}

// Every word the body pass acts on passes the pair filter, in any case:
// a word start the filter drops is a keyword, an ID's context or a
// credential's label never looked at.
func TestWordPairsAdmitEveryWordStart(t *testing.T) {
	for _, w := range wordStarts {
		for _, pair := range []string{w[:2], strings.ToUpper(w[:2]), strings.ToUpper(w[:1]) + w[1:2], w[:1] + strings.ToUpper(w[1:2])} {
			if !wordPair(pair[0], pair[1]) {
				t.Errorf("wordPair(%q) = false: %q is never looked at", pair, w)
			}
		}
	}
	// And most other starts are dropped before the trigram test.
	for _, pair := range []string{"th", "co", "ms", "at", "re", "st", "us", "ch", "wi"} {
		if wordPair(pair[0], pair[1]) {
			t.Errorf("wordPair(%q) = true: a common start reaches the trigram test", pair)
		}
	}
}

// FuzzStripANSI: StripANSI gives the same text as the parser's own
// stripping, and each position points at that byte of the line, in order.
func FuzzStripANSI(f *testing.F) {
	f.Add([]byte("\x1b[36mctlive  |\x1b[0m x \x1b[1msession\x1b[0m \x1b \x1b[ x \x1b[31"))
	f.Fuzz(func(t *testing.T, line []byte) {
		text, pos := StripANSI(nil, nil, line)
		if want := stripANSI(nil, line); !bytes.Equal(text, want) {
			t.Fatalf("StripANSI(%q) = %q, want %q", line, text, want)
		}
		for k := range text {
			if line[pos[k]] != text[k] || k > 0 && pos[k] <= pos[k-1] {
				t.Fatalf("pos[%d] = %d does not point at %q in %q", k, pos[k], text[k], line)
			}
		}
	})
}

func TestUnescapeReadsJavaScriptsHexEscapes(t *testing.T) {
	tests := []struct{ raw, text string }{
		{`'session \x1B[33mab\x1B[39m'`, "'session \x1b[33mab\x1b[39m'"},
		{`\x41\x7a`, "Az"},
		{`\xe9`, "\u00e9"}, // a code point, as in JavaScript
		{`\x4`, `\x4`},     // too short: left as it is
		{`\xZZ`, `\xZZ`},
		{`\x`, `\x`},
	}
	for _, tc := range tests {
		text, pos := Unescape(nil, nil, []byte(tc.raw))
		if string(text) != tc.text || len(pos) != len(text) {
			t.Errorf("Unescape(%q) = %q (%d positions), want %q", tc.raw, text, len(pos), tc.text)
		}
	}
}

// FuzzUnescape: what Unescape reads in a JSON string is what encoding/json
// decodes, and each position points at the escape or byte it came from.
func FuzzUnescape(f *testing.F) {
	f.Add([]byte(`a\u0073ession \n\t\"x\\ \ud83d\ude00 \u00e9 \uZZ \`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		text, pos := Unescape(nil, nil, raw)
		if len(pos) != len(text) {
			t.Fatalf("%d positions for %d bytes", len(pos), len(text))
		}
		for k := range pos {
			if pos[k] < 0 || int(pos[k]) >= len(raw) || k > 0 && pos[k] < pos[k-1] {
				t.Fatalf("pos[%d] = %d out of order or range in %q", k, pos[k], raw)
			}
		}
		quoted := append(append([]byte{'"'}, raw...), '"')
		var want string
		if utf8.Valid(raw) && json.Unmarshal(quoted, &want) == nil && !bytes.Contains(raw, []byte(`\u`)) {
			if string(text) != want {
				t.Fatalf("Unescape(%q) = %q, encoding/json says %q", raw, text, want)
			}
		}
	})
}

// FuzzGrammarExtent: the grammar-only reader finds the object or array at
// the start of its input exactly where encoding/json's decoder does, and
// nothing where it refuses; only numbers are not converted (1e999 is JSON).
func FuzzGrammarExtent(f *testing.F) {
	for _, s := range []string{`{"n":1e999,"v":{"text":"CHAT"}} y`, `[1,-0.5e+3,"a\u00e9\n",true,false,null,{},[]]`,
		`{"a":01}`, `[1.]`, `["\x"]`, `{"a" 1}`, `[1,]`, `{,}`, "[\"\x01\"]", `[[[[]]]]]`, `{"a":[}`, `[-]`, `[1e]`, `[1E+5]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		got := grammarExtent(b)
		want := 0
		if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
			var raw json.RawMessage
			err := json.NewDecoder(bytes.NewReader(b)).Decode(&raw)
			if err != nil && strings.Contains(err.Error(), "exceeded max depth") {
				t.Skip() // encoding/json stops at 10,000 levels; grammarExtent does not (TestGrammarExtentHasNoDepthLimit)
			}
			if err == nil {
				want = len(raw)
			}
		}
		if got != want {
			t.Fatalf("grammarExtent(%q) = %d, encoding/json reads %d", s, got, want)
		}
		if want > 0 && !opensJSON(b) {
			t.Fatalf("opensJSON(%q) refuses what encoding/json reads", s)
		}
	})
}

// Nesting deeper than json-iterator and encoding/json follow (10,000) is
// still JSON, and still one payload's value.
func TestGrammarExtentHasNoDepthLimit(t *testing.T) {
	for _, depth := range []int{10000, 10001, 100000} {
		v := strings.Repeat("[", depth) + `"CHAT_EVIL_x"` + strings.Repeat("]", depth)
		if got := grammarExtent([]byte(v + " tail")); got != len(v) {
			t.Errorf("depth %d: extent %d, want %d", depth, got, len(v))
		}
		if got := grammarExtent([]byte(v[:len(v)-1])); got != 0 {
			t.Errorf("depth %d, one bracket short: extent %d, want 0", depth, got)
		}
	}
}

// FuzzHeaderMemo: a line parses the same after any other line as alone
// (the compose prefix and the timestamp's minute are remembered).
func FuzzHeaderMemo(f *testing.F) {
	f.Add([]byte("ctlive  | 2025-02-27T14:24:59.9Z [fn] x"), []byte("ctlive  | 2025-02-27T14:25:00.1Z [fn] x"))
	f.Add([]byte("ctlive  | 2024-02-29T14:24:59Z [fn] x"), []byte("ctlive  |2024-02-29T14:24:60+01:00 [fn] x"))
	f.Add([]byte("a | 2025-12-31T23:59:59Z"), []byte("a | 2025-12-31T23:59:59Z\nb | 2026-01-01T00:00:00Z at x"))
	f.Add([]byte("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMTIz | x"), []byte("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMTIz | y"))
	p := New(Options{})
	f.Fuzz(func(t *testing.T, before, line []byte) {
		var alone, after Result
		p.Parse(line, &alone)
		p.Parse(before, &after)
		p.Parse(line, &after)
		a, b := got(&alone), got(&after)
		if len(alone.Secrets) != len(after.Secrets) {
			t.Fatalf("after %q, %q holds %d credentials, alone %d", before, line, len(after.Secrets), len(alone.Secrets))
		}
		if !reflect.DeepEqual(a, b) || !alone.Time.Equal(after.Time) {
			t.Fatalf("after %q, %q reads\n%+v %v\nalone\n%+v %v", before, line, b, after.Time, a, alone.Time)
		}
	})
}

// FuzzStripANSIKeepingFinals: each byte of the reading stands at its
// position in the line, positions increase, and without the escapes'
// final bytes it is StripANSI's reading.
func FuzzStripANSIKeepingFinals(f *testing.F) {
	f.Add([]byte("session \x1b[=ab4e7aff-8627 \x1b[1;31mred\x1b[0m \x1b \x1b["))
	f.Fuzz(func(t *testing.T, line []byte) {
		text, pos := StripANSIKeepingFinals(nil, nil, line)
		plain, _ := StripANSI(nil, nil, line)
		if len(text) != len(pos) {
			t.Fatalf("%d bytes, %d positions", len(text), len(pos))
		}
		var without []byte
		for k := range text {
			if text[k] != line[pos[k]] || k > 0 && pos[k] <= pos[k-1] {
				t.Fatalf("byte %d: %q at %d", k, text[k], pos[k])
			}
			if p := int(pos[k]); p == 0 || bytes.LastIndexByte(line[:p], 0x1b) < 0 || ANSIEscapeEnd(line, bytes.LastIndexByte(line[:p], 0x1b)) != p+1 {
				without = append(without, text[k])
			}
		}
		if !bytes.Equal(without, plain) {
			t.Fatalf("without finals %q, StripANSI %q", without, plain)
		}
	})
}

// wordPair reports whether a and b begin a word as wordPairGroups admit
// it, byte by byte: the reference wordPairs32 (classifyBlock's pairs) is
// tested against.
func wordPair(a, b byte) bool {
	group := func(c byte, k int) uint8 {
		c |= 0x20
		if c>>4 != 6 && c>>4 != 7 {
			return 0
		}
		return pairTables[2*k+int(c>>4)-6][c&15]
	}
	return group(a, 0)&group(b, 1) != 0
}
