package elasticsearch

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/ctlive/ctlive-fluent-bit/internal/scrub"
)

// This file reads bulk answers. An answer comes from the network, so what
// is read of it is bounded as it streams: its bytes (answerLimit, enforced
// by the HTTP client), its nesting (maxDepth, counted without recursion),
// its items (no more than the documents sent), and the strings kept from it
// (cut). A hand-written scanner rather than json-iterator, whose Skip
// recurses once per nesting level and whose ReadString keeps a string of
// any length: a 200 answer nesting caused_by millions of levels deep
// overflowed the stack (issue #7).

// bulkItem is one entry of a bulk answer's "items", in request order:
// {"create":{"_index":"…","_id":"…","status":201}} or, on failure,
// {"create":{…,"status":400,"error":{"type":"…","reason":"…"}}}.
type bulkItem struct {
	status  int // 100..599; 0 when missing or not such a number
	errType string
	reason  string
}

// bulkAnswer is what readBulk found.
type bulkAnswer struct {
	count int        // entries in "items"
	allOK bool       // "errors":false came before "items": items was only counted
	items []bulkItem // per-entry results, unless allOK
}

// Bounds of what is read of an answer.
const (
	// maxDepth: Elasticsearch's answers nest about eight levels (answer,
	// items, item, operation, error, caused_by, ...).
	maxDepth = 64
	// maxCauses: caused_by levels that go into a reason; deeper ones are
	// skipped.
	maxCauses = 3
	// Bytes kept of a key (ours are short: a longer one matches none), of
	// an error's type and of its reason (scrubReason cuts it further).
	maxKey    = 32
	maxType   = 128
	maxReason = 1024
	// An answer's bytes: a constant for the envelope plus a few KB per
	// document. A successful item is ~200 bytes (_index, _id, _version,
	// result, _shards, _seq_no, _primary_term, status), a failed one up to
	// ~1-2 KB with its error and causes.
	answerBase   = 64 << 10
	answerPerDoc = 4 << 10
)

// answerLimit is the most that is read of the answer to a bulk request of
// n documents: 5M requests of 1 KB documents allow ~20 MB, far below the
// 256 MB that used to be read whole.
func answerLimit(n int) int64 { return answerBase + int64(n)*answerPerDoc }

var (
	errNoItems     = errors.New(`bulk answer has no "items"`)
	errTooDeep     = fmt.Errorf("bulk answer nests deeper than %d levels", maxDepth)
	errNotJSON     = errors.New("bulk answer is not valid JSON")
	errTruncated   = errors.New("bulk answer ends early")
	errTooManyItem = errors.New("bulk answer lists more items than documents sent")
)

// readBulk reads a bulk API answer for n documents from r, stopping at the
// first item past n. Elasticsearch writes "errors" before "items"; when it
// is false every item succeeded and the items are only counted (the fast
// path: no per-item decoding). items is reused for the per-item results.
// The errors wrap errNotJSON, errTruncated, errTooDeep, errTooManyItem,
// errNoItems or r's own (httpc.ErrAnswerTooLarge), and quote the answer's
// start.
func readBulk(r io.Reader, n int, items []bulkItem) (bulkAnswer, error) {
	s := scanner{r: r}
	a := bulkAnswer{items: items[:0]}
	err := s.bulk(&a, n)
	if err == nil {
		err = s.err
	}
	if err != nil {
		return a, fmt.Errorf("%w (the answer starts: %s)", err, scrub.Answer(s.head, 200))
	}
	return a, nil
}

func (s *scanner) bulk(a *bulkAnswer, n int) error {
	if s.next() != '{' {
		s.fail(errNotJSON)
		return nil
	}
	s.open()
	errorsFalse, sawItems := false, false
	for first := true; s.more(&first); {
		switch s.key() {
		case "errors":
			if c := s.next(); c == 't' || c == 'f' {
				errorsFalse = !s.boolean()
			} else {
				s.skip()
			}
		case "items":
			if sawItems {
				return fmt.Errorf(`%w: two "items"`, errNotJSON)
			}
			sawItems = true
			a.allOK = errorsFalse
			if s.next() != '[' {
				return fmt.Errorf(`%w: "items" is not an array`, errNotJSON)
			}
			s.open()
			for first := true; s.more(&first); {
				if a.count++; a.count > n {
					return fmt.Errorf("%w: more than %d for %d documents", errTooManyItem, n, n)
				}
				if a.allOK {
					s.skip()
				} else {
					a.items = append(a.items, s.item())
				}
			}
		default:
			s.skip()
		}
	}
	s.atEnd()
	if s.err == nil && !sawItems {
		return errNoItems
	}
	return nil
}

// item reads {"<op>": {"status": N, "error": {...}, ...}}. An item without
// a status keeps 0, which the caller treats as "unknown, retry".
func (s *scanner) item() bulkItem {
	var item bulkItem
	if s.next() != '{' {
		s.skip()
		return item
	}
	s.open()
	for first := true; s.more(&first); {
		s.key() // the operation: create, index, ...
		if s.next() != '{' {
			s.skip()
			continue
		}
		s.open()
		for first := true; s.more(&first); {
			switch s.key() {
			case "status":
				if c := s.next(); c == '-' || isDigit(c) {
					item.status = s.status()
				} else {
					s.skip()
				}
			case "error":
				item.errType, item.reason = s.itemError(0)
			default:
				s.skip()
			}
		}
	}
	return item
}

// itemError reads an item's error: an object with type, reason and caused_by
// (Elasticsearch 5+, OpenSearch), or a plain string (older). It calls
// itself for caused_by at most maxCauses deep: a constant bound, whatever
// the answer's nesting.
func (s *scanner) itemError(level int) (typ, reason string) {
	switch s.next() {
	case '"':
		return "", scrubReason(string(s.str(maxReason)))
	case '{':
	default:
		s.skip()
		return "", ""
	}
	s.open()
	var causeType, causeReason string
	for first := true; s.more(&first); {
		switch s.key() {
		case "type":
			typ = s.text(maxType)
		case "reason":
			reason = scrubReason(s.text(maxReason))
		case "caused_by":
			if level < maxCauses {
				causeType, causeReason = s.itemError(level + 1)
			} else {
				s.skip()
			}
		default:
			s.skip()
		}
	}
	if causeType != "" || causeReason != "" {
		reason = strings.TrimSpace(reason + " (caused by " + strings.TrimSpace(causeType+": "+causeReason) + ")")
	}
	return typ, reason
}

// text reads a string value, or skips any other value and returns "".
func (s *scanner) text(max int) string {
	if s.next() != '"' {
		s.skip()
		return ""
	}
	return string(s.str(max))
}

// scrubReason keeps record contents and credentials out of logs:
// Elasticsearch quotes the start of the offending value in mapping errors
// ("… in document with id 'x'. Preview of field's value: 'secret'").
func scrubReason(r string) string {
	if i := strings.Index(r, "Preview of field's value"); i >= 0 {
		r = strings.TrimRight(r[:i], ". ")
	}
	return scrub.Answer([]byte(r), 200)
}

// scanner reads one JSON text from a stream, token by token, in constant
// memory apart from the strings it is asked to keep. Nesting is counted in
// depth, and the kind of each open level is one bit of objects, so
// skipping a value never recurses. The first error sticks (fail): the
// loops over members and values end at once, and readBulk reports it.
type scanner struct {
	r        io.Reader
	buf      [4096]byte
	pos, end int
	eof      bool
	err      error
	depth    int
	objects  uint64 // bit d-1: level d is an object (else an array)
	head     []byte // the answer's first bytes, for error messages
	kept     []byte // the string being read
}

func (s *scanner) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// fill reads more of the stream; false at its end or on an error.
func (s *scanner) fill() bool {
	if s.err != nil || s.eof {
		return false
	}
	n, err := io.ReadAtLeast(s.r, s.buf[:], 1)
	if n == 0 {
		if err == io.EOF {
			s.eof = true
		} else {
			s.fail(err)
		}
		return false
	}
	if len(s.head) < 300 {
		s.head = append(s.head, s.buf[:min(n, 300-len(s.head))]...)
	}
	s.pos, s.end = 0, n
	return true
}

// next skips white space and returns the next byte without consuming it;
// 0 at the end of the stream or after an error.
func (s *scanner) next() byte {
	for {
		if s.pos == s.end && !s.fill() {
			return 0
		}
		switch c := s.buf[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
}

// take consumes one byte, white space included; 0 and a sticky error at
// the end.
func (s *scanner) take() byte {
	if s.pos == s.end && !s.fill() {
		s.fail(errTruncated)
		return 0
	}
	c := s.buf[s.pos]
	s.pos++
	return c
}

// expect consumes the next non-space byte, which must be c.
func (s *scanner) expect(c byte) {
	switch got := s.next(); {
	case got == c:
		s.pos++
	case got == 0:
		s.fail(errTruncated)
	default:
		s.fail(errNotJSON)
	}
}

// open consumes the '{' or '[' that next returned and enters its level.
func (s *scanner) open() {
	c := s.take()
	if s.depth == maxDepth {
		s.fail(errTooDeep)
		return
	}
	s.depth++
	bit := uint64(1) << (s.depth - 1)
	if c == '{' {
		s.objects |= bit
	} else {
		s.objects &^= bit
	}
}

// closer is the byte that ends the open level.
func (s *scanner) closer() byte {
	if s.objects&(1<<(s.depth-1)) != 0 {
		return '}'
	}
	return ']'
}

// more reports whether the open level has another member or element,
// consuming the ',' before it; at the level's end it consumes the closing
// byte and leaves the level. first is true before the first member.
func (s *scanner) more(first *bool) bool {
	if s.err != nil || s.depth == 0 {
		return false
	}
	c := s.next()
	switch {
	case c == s.closer():
		s.pos++
		s.depth--
		return false
	case *first:
		*first = false
		if c == 0 {
			s.fail(errTruncated)
			return false
		}
		return true
	case c == ',':
		s.pos++
		return true
	case c == 0:
		s.fail(errTruncated)
	default:
		s.fail(errNotJSON)
	}
	return false
}

// key reads an object member's name and its ':'. Names longer than maxKey
// come back cut with a NUL, so they match no name the reader looks for.
func (s *scanner) key() string {
	if s.next() != '"' {
		s.fail(errNotJSON)
		return ""
	}
	k := s.str(maxKey + 1)
	s.expect(':')
	if len(k) > maxKey {
		return "\x00"
	}
	return string(k)
}

// str reads a string and returns at most max bytes of its content
// (escapes decoded; s.kept, valid until the next call). Every byte is
// still read and checked.
func (s *scanner) str(max int) []byte {
	s.kept = s.kept[:0]
	if s.take() != '"' {
		s.fail(errNotJSON)
		return nil
	}
	for s.err == nil {
		// The run up to a quote, a backslash or a control byte is kept as
		// it is, without a call per byte.
		if s.pos == s.end && !s.fill() {
			s.fail(errTruncated)
			break
		}
		i := s.pos
		for i < s.end && s.buf[i] != '"' && s.buf[i] != '\\' && s.buf[i] >= ' ' {
			i++
		}
		if room := max - len(s.kept); room > 0 {
			s.kept = append(s.kept, s.buf[s.pos:min(i, s.pos+room)]...)
		}
		s.pos = i
		if i == s.end {
			continue
		}
		switch c := s.take(); {
		case c == '"':
			return s.kept
		case c < ' ':
			s.fail(errNotJSON)
		default: // '\\'
			var r rune
			switch e := s.take(); e {
			case '"', '\\', '/':
				r = rune(e)
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				// Surrogate pairs are not joined: each half is U+FFFD. The
				// text only ever goes into a log line.
				r = s.hex4()
			default:
				s.fail(errNotJSON)
			}
			var enc [utf8.UTFMax]byte
			if n := utf8.EncodeRune(enc[:], r); len(s.kept)+n <= max {
				s.kept = append(s.kept, enc[:n]...)
			}
		}
	}
	return nil
}

func (s *scanner) hex4() rune {
	var r rune
	for range 4 {
		c := s.take()
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			s.fail(errNotJSON)
			return utf8.RuneError
		}
	}
	return r
}

// boolean reads true or false.
func (s *scanner) boolean() bool {
	if s.next() == 't' {
		s.literal("true")
		return true
	}
	s.literal("false")
	return false
}

func (s *scanner) literal(word string) {
	for i := 0; i < len(word); i++ {
		if s.take() != word[i] {
			s.fail(errNotJSON)
			return
		}
	}
}

// status reads a number: an HTTP status when it is an integer from 100 to
// 599, else 0.
func (s *scanner) status() int {
	v, integer := s.number()
	if !integer || v < 100 || v > 599 {
		return 0
	}
	return v
}

// number reads a JSON number (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?
// ([eE][+-]?[0-9]+)?); v is its value when integer says it has no sign,
// fraction or exponent and at most nine digits.
func (s *scanner) number() (v int, integer bool) {
	integer = true
	if s.peek() == '-' {
		s.pos++
		integer = false
	}
	digits := s.digits(&v)
	if digits == 0 {
		s.fail(errNotJSON)
		return 0, false
	}
	if digits > 9 {
		integer = false
	}
	if s.peek() == '.' {
		s.pos++
		integer = false
		if s.digits(nil) == 0 {
			s.fail(errNotJSON)
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.pos++
		integer = false
		if c := s.peek(); c == '+' || c == '-' {
			s.pos++
		}
		if s.digits(nil) == 0 {
			s.fail(errNotJSON)
		}
	}
	return v, integer && s.err == nil
}

// digits consumes a run of digits, the integer part's rule when v is not
// nil (a leading 0 stands alone), and returns how many.
func (s *scanner) digits(v *int) int {
	n := 0
	for {
		c := s.peek()
		if !isDigit(c) {
			return n
		}
		if v != nil && n == 1 && *v == 0 {
			return n // "01": the 1 is read next, where no digit may stand
		}
		s.pos++
		if v != nil && n < 10 {
			*v = *v*10 + int(c-'0')
		}
		n++
	}
}

// peek is the next byte, white space included, without consuming it; 0 at
// the end.
func (s *scanner) peek() byte {
	if s.pos == s.end && !s.fill() {
		return 0
	}
	return s.buf[s.pos]
}

// skip reads one value of any kind and depth without recursion: entering
// a container is one more level, and after each value the levels it
// completes are closed.
func (s *scanner) skip() {
	base := s.depth
	for s.err == nil {
		switch c := s.next(); {
		case c == '{' || c == '[':
			if s.open(); s.err != nil {
				return
			}
			if s.next() == s.closer() {
				s.pos++
				s.depth--
				break
			}
			if c == '{' {
				s.key()
			}
			continue // the first member's value
		case c == '"':
			s.str(0)
		case c == 't':
			s.literal("true")
		case c == 'f':
			s.literal("false")
		case c == 'n':
			s.literal("null")
		case c == '-' || isDigit(c):
			s.number()
		case c == 0:
			s.fail(errTruncated)
		default:
			s.fail(errNotJSON)
		}
		// After a value: close the levels it ends, or go on to the next
		// member of the innermost.
		for s.err == nil && s.depth > base {
			switch c := s.next(); {
			case c == ',':
				s.pos++
				if s.closer() == '}' {
					s.key()
				}
			case c == s.closer():
				s.pos++
				s.depth--
				continue
			case c == 0:
				s.fail(errTruncated)
			default:
				s.fail(errNotJSON)
			}
			break
		}
		if s.depth == base {
			return
		}
	}
}

// atEnd checks that only white space follows the answer. (next returns
// 0 for a NUL byte too: whether a byte is left tells them apart.)
func (s *scanner) atEnd() {
	if s.next(); s.pos < s.end && s.err == nil {
		s.fail(fmt.Errorf("%w: data after the answer", errNotJSON))
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
