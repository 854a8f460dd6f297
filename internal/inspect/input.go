package inspect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// Bounds on what one input may make the tool hold.
const (
	// MaxLine is the longest physical line read; a longer one is counted as
	// malformed and skipped.
	MaxLine = 1 << 20
	// blockSize is how much of an input one worker parses at a time.
	blockSize = 4 << 20
	// maxRecord bounds a record joined from continuation lines: a longer
	// run of continuations is cut (and counted) rather than buffered.
	maxRecord = 2 * MaxLine
	// sniffSize is how much of an input's start decides its format.
	sniffSize = 64 << 10
)

// Format is how an input's lines are written.
type Format uint8

const (
	// FormatRaw: CTLive lines as docker (compose) logs writes them; stack
	// frames on continuation lines.
	FormatRaw Format = iota
	// FormatJSON: one JSON object per line with the CTLive line under
	// "log" (the plugin's stdout sink, Fluent Bit's file output "plain").
	FormatJSON
	// FormatTagged: Fluent Bit's file output default, `tag: [time, {...}]`.
	FormatTagged
)

func (f Format) String() string {
	return [...]string{"raw", "json", "tagged"}[f]
}

// Input is one file (plain or gzip) or standard input ("-").
type Input struct {
	Name   string
	Index  int // position on the command line; orders equal times
	Format Format
	Size   int64 // bytes on disk, -1 when unknown (stdin)
	Path   string
	base   int64 // offset of the first byte read (a reopened input)

	f  *os.File
	gz *gzip.Reader
	r  *bufio.Reader
	// mapped is the whole plain file, memory-mapped, when it could be;
	// owner is false for a reopened view that must not unmap it.
	mapped []byte
	owner  bool
}

// ErrNotCTLive is returned by Open for a file with no CTLive line at its start.
var ErrNotCTLive = errors.New("not a CTLive log")

// Open opens path ("-" for stdin), recognises gzip by its magic bytes and
// the line format from the first lines. It fails on a missing file, and on
// one whose first 64 KiB hold no CTLive line (ErrNotCTLive).
func Open(path string, index int) (*Input, error) {
	return open(path, index, os.Stdin)
}

func open(path string, index int, stdin io.Reader) (*Input, error) {
	in := &Input{Name: path, Path: path, Index: index, Size: -1}
	var src io.Reader = stdin
	if path == "-" {
		in.Name = "stdin"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		in.f = f
		if fi, err := f.Stat(); err == nil {
			if fi.IsDir() {
				f.Close()
				return nil, fmt.Errorf("%s: is a directory", path)
			}
			in.Size = fi.Size()
		}
		src = f
	}
	in.r = bufio.NewReaderSize(src, sniffSize)
	if magic, _ := in.r.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(in.r)
		if err != nil {
			in.Close()
			return nil, fmt.Errorf("%s: %w", in.Name, err)
		}
		in.gz = gz
		in.r = bufio.NewReaderSize(gz, sniffSize)
	}
	head, err := in.r.Peek(sniffSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		in.Close()
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	if len(head) == 0 {
		return in, nil // an empty log has no contact: not an error
	}
	var ok bool
	in.Format, ok = sniff(head)
	if !ok {
		in.Close()
		return nil, fmt.Errorf("%s: %w (no CTLive line in its first %d KiB)", in.Name, ErrNotCTLive, sniffSize>>10)
	}
	if in.gz == nil && in.f != nil {
		in.mapped, in.owner = mapFile(in.f, in.Size), true
	}
	return in, nil
}

// Close releases the input (standard input is left open).
func (in *Input) Close() error {
	if in.mapped != nil && in.owner {
		unmapFile(in.mapped)
	}
	in.mapped = nil
	if in.gz != nil {
		in.gz.Close()
	}
	if in.f != nil {
		return in.f.Close()
	}
	return nil
}

// sniff decides the format from the first lines and whether they look like
// CTLive's: some line must have a leading token, an ID or an event (a
// timestamp alone is any log's).
func sniff(head []byte) (Format, bool) {
	format, decided := FormatRaw, false
	d := newDecoder(nil)
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil // the last, maybe partial, line
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if !decided {
			decided = true
			switch {
			case line[0] == '{':
				format = FormatJSON
			case taggedStart(line) > 0:
				format = FormatTagged
			}
			d.format = format
		}
		var r rec
		if d.decode(line, &r) == decodeOK && (r.function != nil || r.contactID != nil || r.userID != nil ||
			r.sessionID != nil || r.event != 0) {
			return format, true
		}
	}
	return format, false
}

// taggedStart returns where the JSON of a `tag: [time, {...}]` line starts,
// or 0.
func taggedStart(line []byte) int {
	i := bytes.Index(line, []byte(": ["))
	if i <= 0 || bytes.IndexByte(line[:i], ' ') >= 0 {
		return 0
	}
	j := i + 3
	for j < len(line) && (line[j] >= '0' && line[j] <= '9' || line[j] == '.') {
		j++
	}
	if j == i+3 || j+1 >= len(line) || line[j] != ',' {
		return 0
	}
	j++
	for j < len(line) && line[j] == ' ' {
		j++
	}
	if j >= len(line) || line[j] != '{' {
		return 0
	}
	return j
}

// isContinuation reports whether a raw physical line continues the record
// before it, by the rule of parsers.conf's ctlive-node multiline parser
// (TestContinuationIsParsersConfsRule): after optional ANSI colours, a
// compose prefix (colours before or after its space) and a timestamp, the
// text is indented (`    at fn (file:1:2)`) or is a closing `}` or `]`.
func isContinuation(line []byte) bool {
	i := skipANSI(line, 0)
	// compose prefix: [\w.-]+ +\|(ANSI)* and one space
	j := i
	for j < len(line) && isNameByte(line[j]) {
		j++
	}
	if j > i && j < len(line) && line[j] == ' ' {
		k := j
		for k < len(line) && line[k] == ' ' {
			k++
		}
		if k < len(line) && line[k] == '|' {
			k = skipANSI(line, k+1)
			if k < len(line) && line[k] == ' ' {
				i = skipANSI(line, k+1) // Compose v2 resets the colour after the space
			}
		}
	}
	// timestamp: \d{4}-\d\d-\d\d[Tt]\S+ and one space
	if len(line)-i > 11 && isDigits(line[i:i+4]) && line[i+4] == '-' && isDigits(line[i+5:i+7]) &&
		line[i+7] == '-' && isDigits(line[i+8:i+10]) && (line[i+10] == 'T' || line[i+10] == 't') {
		k := i + 11
		for k < len(line) && !isSpace(line[k]) {
			k++
		}
		if k > i+11 && k < len(line) && line[k] == ' ' {
			i = k + 1
		}
	}
	if i >= len(line) {
		return false
	}
	switch c := line[i]; {
	case isSpace(c):
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		return i < len(line)
	case c == '}' || c == ']':
		for i++; i < len(line); i++ {
			if !isSpace(line[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func skipANSI(b []byte, i int) int {
	for i+1 < len(b) && b[i] == 0x1b && b[i+1] == '[' {
		j := i + 2
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ';') {
			j++
		}
		if j >= len(b) || b[j] != 'm' {
			return i
		}
		i = j + 1
	}
	return i
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

// block is a piece of one input that ends at a record boundary.
type block struct {
	in     *Input
	offset int64 // of data in the input's (decompressed) bytes
	data   []byte
	buf    *[]byte // returned to the pool when done; nil for a mapped file's block
	// prevTime is the time of the last timed line before the block, for
	// ordering lines without a timestamp (timelines only); filled in order.
}

// blocks reads in and sends pieces of about blockSize that end at a record
// boundary; malformed counts lines longer than MaxLine, which are dropped.
// It stops early when stop is closed.
func (in *Input) blocks(pool *bufPool, out chan<- block, stop <-chan struct{}, malformed *int64) error {
	if in.mapped != nil {
		return in.mappedBlocks(out, stop, malformed)
	}
	var carry []byte // the start of a record the previous block could not end
	offset := in.base
	for {
		bp := pool.get()
		buf := append((*bp)[:0], carry...)
		n, err := io.ReadFull(in.r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			pool.put(bp)
			return fmt.Errorf("%s: %w", in.Name, err)
		}
		var cut int
		if eof {
			cut = len(buf)
		} else {
			cut = in.cut(buf)
			if cut == 0 {
				// One line fills the whole buffer: drop it up to its end.
				*malformed++
				pool.put(bp)
				carry = carry[:0]
				if err := in.skipLine(); err != nil {
					return nil
				}
				continue
			}
		}
		carry = append(carry[:0], buf[cut:]...)
		*bp = buf
		select {
		case out <- block{in: in, offset: offset, data: buf[:cut], buf: bp}:
		case <-stop:
			pool.put(bp)
			return nil
		}
		offset += int64(cut)
		if eof {
			return nil
		}
	}
}

// mappedBlocks cuts the mapped file into blocks without copying.
func (in *Input) mappedBlocks(out chan<- block, stop <-chan struct{}, malformed *int64) error {
	data := in.mapped
	for off := in.base; off < int64(len(data)); {
		end := min(off+blockSize+MaxLine, int64(len(data)))
		cut := int64(len(data)) - off
		if end < int64(len(data)) {
			cut = int64(in.cut(data[off:end]))
		}
		if cut == 0 {
			// One line fills the whole window: drop it up to its end.
			*malformed++
			nl := bytes.IndexByte(data[end:], '\n')
			if nl < 0 {
				return nil
			}
			off = end + int64(nl) + 1
			continue
		}
		select {
		case out <- block{in: in, offset: off, data: data[off : off+cut]}:
		case <-stop:
			return nil
		}
		off += cut
	}
	return nil
}

// cut returns where buf can end: after the last complete line, moved back
// to the start of the record that line belongs to (raw lines), or 0 when
// buf holds no complete line.
func (in *Input) cut(buf []byte) int {
	end := bytes.LastIndexByte(buf, '\n') + 1
	if end == 0 || in.Format != FormatRaw {
		return end
	}
	// Walk back over complete lines while they continue a record.
	limit := max(0, end-maxRecord)
	for p := end; p > limit; {
		start := bytes.LastIndexByte(buf[:p-1], '\n') + 1
		if !isContinuation(buf[start : p-1]) {
			if start == 0 {
				return end // one record fills the buffer: cut it at a line
			}
			return start
		}
		p = start
	}
	return end
}

// skipLine drops input up to and including the next newline.
func (in *Input) skipLine() error {
	for {
		_, err := in.r.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

// bufPool recycles block buffers: a bounded number of them are in flight.
type bufPool struct{ free chan *[]byte }

// newBufPool bounds the buffers in flight to n; they are made on first
// use, so a scan of mapped files makes none.
func newBufPool(n int) *bufPool {
	p := &bufPool{free: make(chan *[]byte, n)}
	for i := 0; i < n; i++ {
		p.free <- nil
	}
	return p
}

func (p *bufPool) get() *[]byte {
	b := <-p.free
	if b == nil {
		buf := make([]byte, 0, blockSize+MaxLine)
		b = &buf
	}
	return b
}
func (p *bufPool) put(b *[]byte) {
	if b != nil { // blocks of a mapped file have no buffer
		p.free <- b
	}
}
