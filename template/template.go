// Package template renders Fluent Bit record accessor templates such as
// "ctlive.$tenant.$event" or "ctlive-$tenant-%Y.%m.%d" against one record.
//
// Templates are parsed once at plugin start; Append then runs once per record
// on the hot path and does not allocate beyond growing the caller's buffer.
//
// Syntax:
//
//	text            copied as is
//	$TAG            the whole tag
//	$TAG[n]         part n (0-based) of the tag split on '.'
//	$key            top-level field: [A-Za-z_][A-Za-z0-9_]*
//	$key['sub']...  map subscripts ('' inside the quotes is one quote)
//	$key[n]...      array index
//	%Y %m %d ...    strftime directives, only with Options.Strftime
//
// A reference that is missing, out of range or renders empty is replaced by
// Options.Missing, because every use (tag, index, tenant) needs non-empty parts.
package template

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultMissing is what a missing or empty reference renders as when
// Options.Missing is empty.
const DefaultMissing = "unknown"

// maxIndex bounds subscripts and $TAG[n]; Fluent Bit stores them in a C int.
const maxIndex = 1<<31 - 1

// PathElem is one subscript after a key: ['Key'] or [Index].
type PathElem struct {
	Key     string
	Index   int
	IsIndex bool
}

// Source is what a template reads from; the plugin's record type implements it.
type Source interface {
	// AppendValue appends the rendered value found at key + path (path may
	// be empty) and reports whether it exists. Strings render raw,
	// numbers/bools as text; the Source decides how maps render.
	// path belongs to the template and must not be modified. Appending
	// nothing, or returning false, renders Options.Missing.
	AppendValue(dst []byte, key string, path []PathElem) ([]byte, bool)
	Tag() string
	Time() time.Time
}

// Options controls parsing and rendering.
type Options struct {
	// Strftime enables %-directives rendered from Source.Time in UTC.
	// When false, '%' is literal text.
	Strftime bool
	// Missing replaces a reference that is absent or renders empty.
	// Empty means DefaultMissing.
	Missing string
}

type partKind uint8

const (
	partLiteral partKind = iota
	partKey
	partTag
	partTagPart
	partTime
)

type part struct {
	kind partKind
	text string     // literal text or key name
	path []PathElem // subscripts of a key
	n    int        // $TAG[n] index
	verb byte       // strftime directive
}

// Template is a parsed template. It is immutable and safe for concurrent use.
type Template struct {
	src     string
	parts   []part
	missing string
	keys    []string
	hasTime bool
	static  bool
}

// SyntaxError describes why Parse rejected a template.
type SyntaxError struct {
	Template string // the whole template
	Offset   int    // byte offset of the offending text
	Text     string // the offending text
	Msg      string
}

func (e *SyntaxError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("template %q: %s", e.Template, e.Msg)
	}
	return fmt.Sprintf("template %q: offset %d (%q): %s", e.Template, e.Offset, e.Text, e.Msg)
}

// Parse parses s. Errors are *SyntaxError.
func Parse(s string, o Options) (*Template, error) {
	if s == "" {
		return nil, &SyntaxError{Template: s, Msg: "template is empty"}
	}
	p := parser{s: s, o: o}
	if err := p.parse(); err != nil {
		return nil, err
	}
	t := &Template{src: s, parts: p.parts, missing: o.Missing, static: true}
	if t.missing == "" {
		t.missing = DefaultMissing
	}
	for _, pt := range t.parts {
		switch pt.kind {
		case partLiteral:
			continue
		case partKey:
			if !slices.Contains(t.keys, pt.text) {
				t.keys = append(t.keys, pt.text)
			}
		case partTime:
			t.hasTime = true
		}
		t.static = false
	}
	return t, nil
}

// MustParse is Parse that panics on error, for tests and built-in defaults.
func MustParse(s string, o Options) *Template {
	t, err := Parse(s, o)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the source text of the template.
func (t *Template) String() string { return t.src }

// Static reports whether the template has no $ and no % parts, so it renders
// the same for every record (and Append may be given a nil Source).
func (t *Template) Static() bool { return t.static }

// Keys returns the distinct top-level record keys referenced, in order of
// first use. $TAG is not a key.
func (t *Template) Keys() []string { return slices.Clone(t.keys) }

// Append renders the template for src onto dst. It does not allocate unless
// dst must grow (or src allocates).
func (t *Template) Append(dst []byte, src Source) []byte {
	var c clock
	if t.hasTime {
		c = newClock(src.Time())
	}
	for i := range t.parts {
		p := &t.parts[i]
		start := len(dst)
		switch p.kind {
		case partLiteral:
			dst = append(dst, p.text...)
			continue
		case partTime:
			dst = c.append(dst, p.verb)
			continue
		case partKey:
			var ok bool
			dst, ok = src.AppendValue(dst, p.text, p.path)
			if !ok {
				// Drop anything a Source appended before it gave up.
				dst = dst[:start]
			}
		case partTag:
			dst = append(dst, src.Tag()...)
		case partTagPart:
			dst = append(dst, TagPart(src.Tag(), p.n)...)
		}
		if len(dst) == start {
			dst = append(dst, t.missing...)
		}
	}
	return dst
}

// TagPart returns part n (from 0) of tag split on '.', or "" when out of
// range: what $TAG[n] renders.
func TagPart(tag string, n int) string {
	for ; n > 0; n-- {
		i := strings.IndexByte(tag, '.')
		if i < 0 {
			return ""
		}
		tag = tag[i+1:]
	}
	if i := strings.IndexByte(tag, '.'); i >= 0 {
		return tag[:i]
	}
	return tag
}

type parser struct {
	s     string
	o     Options
	i     int
	lit   strings.Builder
	parts []part
}

func (p *parser) errorf(off, end int, format string, args ...any) error {
	end = min(max(end, off+1), len(p.s))
	// Keep the quoted text valid UTF-8 when the offending byte starts a rune.
	for end < len(p.s) && !utf8.RuneStart(p.s[end]) {
		end++
	}
	return &SyntaxError{Template: p.s, Offset: off, Text: p.s[off:end], Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) flush() {
	if p.lit.Len() > 0 {
		p.parts = append(p.parts, part{kind: partLiteral, text: p.lit.String()})
		p.lit.Reset()
	}
}

func (p *parser) parse() error {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '$':
			p.flush()
			if err := p.ref(); err != nil {
				return err
			}
		case c == '%' && p.o.Strftime:
			if err := p.directive(); err != nil {
				return err
			}
		default:
			// '$' and '%' are ASCII, so scanning bytes never splits a UTF-8 rune.
			p.lit.WriteByte(c)
			p.i++
		}
	}
	p.flush()
	return nil
}

func (p *parser) directive() error {
	at := p.i
	if at+1 >= len(p.s) {
		return p.errorf(at, at+1, "'%%' at end of template: write %%%% for a literal '%%'")
	}
	v := p.s[at+1]
	p.i += 2
	if v == '%' {
		p.lit.WriteByte('%')
		return nil
	}
	if !strings.ContainsRune(directives, rune(v)) {
		return p.errorf(at, at+2, "unknown strftime directive (supported: %s; write %%%% for a literal '%%')", directiveList())
	}
	p.flush()
	p.parts = append(p.parts, part{kind: partTime, verb: v})
	return nil
}

func isKeyStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isKeyByte(c byte) bool { return isKeyStart(c) || '0' <= c && c <= '9' }

func (p *parser) ref() error {
	at := p.i
	p.i++ // '$'
	if p.i >= len(p.s) {
		return p.errorf(at, at+1, "'$' at end of template: expected a record key or TAG after '$'")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		end := strings.IndexByte(p.s[at:], '}')
		if end < 0 {
			end = len(p.s) - at - 1
		}
		return p.errorf(at, at+end+1, "${VAR} is Fluent Bit's environment variable syntax: Fluent Bit substitutes it "+
			"from the environment before the plugin sees the value, so it cannot refer to a "+
			"record field; to use a record field write $field (e.g. $tenant)")
	case c >= '0' && c <= '9':
		return p.errorf(at, at+2, "'$' followed by a digit: regex capture references ($0..$9) are not "+
			"supported here; a record key starts with a letter or '_'")
	case !isKeyStart(c):
		return p.errorf(at, at+2, "'$' must be followed by a record key (letter or '_', then letters, digits, '_') or TAG")
	}
	// Fluent Bit's lexer also allows '-', '.' and '/' in a key; we end the key
	// at any byte outside [A-Za-z0-9_] so that "ctlive-$tenant-%Y" and
	// "ctlive.$tenant.$event" split into key and literal text. Keys with other
	// characters can still be reached as subscripts of a parent map.
	start := p.i
	for p.i < len(p.s) && isKeyByte(p.s[p.i]) {
		p.i++
	}
	key := p.s[start:p.i]
	if key == "TAG" {
		return p.tag(at)
	}
	var path []PathElem
	for p.i < len(p.s) && p.s[p.i] == '[' {
		e, err := p.subscript(true)
		if err != nil {
			return err
		}
		path = append(path, e)
	}
	p.parts = append(p.parts, part{kind: partKey, text: key, path: path})
	return nil
}

func (p *parser) tag(at int) error {
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		p.parts = append(p.parts, part{kind: partTag})
		return nil
	}
	e, err := p.subscript(false)
	if err != nil {
		return err
	}
	if p.i < len(p.s) && p.s[p.i] == '[' {
		return p.errorf(p.i, p.i+1, "$TAG[n] takes a single index")
	}
	p.parts = append(p.parts, part{kind: partTagPart, n: e.Index})
	return nil
}

// subscript parses ['key'] or [N] at p.i (which is '[').
func (p *parser) subscript(allowKey bool) (PathElem, error) {
	open := p.i
	p.i++
	if p.i >= len(p.s) {
		return PathElem{}, p.errorf(open, open+1, "unterminated '['")
	}
	var e PathElem
	switch c := p.s[p.i]; {
	case c == '\'':
		if !allowKey {
			return PathElem{}, p.errorf(open, p.closeOf(open), "$TAG takes an integer part index like $TAG[1], not a quoted key")
		}
		key, err := p.quoted()
		if err != nil {
			return PathElem{}, err
		}
		e.Key = key
	case c >= '0' && c <= '9':
		ds := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		digits := p.s[ds:p.i]
		if len(digits) > 1 && digits[0] == '0' {
			return PathElem{}, p.errorf(open, p.closeOf(open), "bad index: leading zeros are not allowed")
		}
		n := 0
		for _, d := range []byte(digits) {
			n = n*10 + int(d-'0')
			if n > maxIndex {
				return PathElem{}, p.errorf(open, p.closeOf(open), "bad index: larger than %d", maxIndex)
			}
		}
		e.Index, e.IsIndex = n, true
	default:
		if allowKey {
			return PathElem{}, p.errorf(open, p.closeOf(open), "bad index: expected a non-negative integer or a 'quoted key' inside [ ]")
		}
		return PathElem{}, p.errorf(open, p.closeOf(open), "bad index: expected a non-negative integer inside [ ]")
	}
	if p.i >= len(p.s) {
		return PathElem{}, p.errorf(open, len(p.s), "unterminated '[': expected ']'")
	}
	if p.s[p.i] != ']' {
		return PathElem{}, p.errorf(open, p.closeOf(open), "bad index: expected ']' after the subscript")
	}
	p.i++
	return e, nil
}

// quoted parses 'text' at p.i, where a doubled quote stands for one, as in Fluent
// Bit's lexer.
func (p *parser) quoted() (string, error) {
	open := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		if c != '\'' {
			b.WriteByte(c)
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '\'' {
			b.WriteByte('\'')
			p.i++
			continue
		}
		return b.String(), nil
	}
	return "", p.errorf(open, len(p.s), "unterminated quote in subscript")
}

// closeOf returns the end of the bracket text starting at open, for messages.
func (p *parser) closeOf(open int) int {
	if i := strings.IndexByte(p.s[open:], ']'); i >= 0 {
		return open + i + 1
	}
	return len(p.s)
}
