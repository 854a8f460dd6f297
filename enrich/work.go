package enrich

import (
	"hash/maphash"

	"github.com/ctlive/ctlive-fluent-bit/parser"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/redact"
)

// Work is the memory one flush enriches in: the redacted lines and records
// its events point into, and scratch space. One per concurrent flush;
// reused across flushes.
type Work struct {
	arena   []byte // redacted lines and rewritten records: events point here
	texts   []byte // replacement texts, by offset
	reps    []rep
	echoes  []echo
	shift   []int // shift[k]: length change of the text up to the end of reps[k]
	out     []byte
	secrets []parser.Secret
	json    []byte
	scratch []byte
	digests digestCache

	// views (views.go)
	vtext, utext []byte
	vpos, upos   []int32
	etext        []byte  // a view without the escapes its JSON escapes decode to (addViewSecrets)
	epos         []int32 // where each of its bytes stands in the text viewed
	lineViewed   bool    // vtext and vpos hold the record's line (lineView)
	vsecrets     []parser.Secret
	ftext        []byte  // the line with its escapes' final bytes (finalsSecrets); echoes point here
	fpos         []int32 // where each of its bytes stands in the line
	fsecrets     []parser.Secret
	spans        [][2]int
	saved        []rep
	memo         shapeMemo
	keys         record.KeyMemo // the last record's shape around its line (Event.Reset)

	kept       []parser.Secret // withoutNestedTokens' result
	lineEchoes int             // echoes[:lineEchoes] are the line's
	lineIndex  echoIndex       // the line's echoes, when there are many
	textIndex  echoIndex       // a text's own echoes, when there are many
	indexed    [2]bool         // lineIndex is built for this record, textIndex for this text

	// Redacted counts the values replaced since the Work was made (one per
	// place: a session on two lines counts two).
	Redacted int64
}

// Reset forgets what the events of the last window point into: call it
// when they are delivered.
func (w *Work) Reset() {
	w.arena, w.texts = w.arena[:0], w.texts[:0]
	if cap(w.arena) > maxKeptArena {
		w.arena = nil // one huge record: do not keep its memory forever
	}
}

// maxKeptArena bounds the arena kept between windows.
const maxKeptArena = 4 << 20

// text appends a literal replacement and returns where it is.
func (w *Work) text(t []byte) (off, n int) {
	off = len(w.texts)
	w.texts = append(w.texts, t...)
	return off, len(t)
}

// token appends the digest of a token.
func (w *Work) token(d *redact.Digester, v []byte) (off, n int) {
	off = len(w.texts)
	w.texts = w.digests.append(w.texts, d, v)
	return off, len(w.texts) - off
}

// personal appends the keyed digest of personal data.
func (w *Work) personal(d *redact.Digester, v []byte) (off, n int) {
	return w.token(d, v)
}

// digestCache remembers recent digests: one session ID stands on many lines
// of a flush (its login, its joins, its messages), and a digest costs a
// SHA-256. 256 slots hold the tokens of a busy hub's chunk (~25 KB).
type digestCache struct {
	seed  maphash.Seed
	ready bool
	slots [256]struct {
		d      *redact.Digester
		key    [64]byte
		keyLen int
		digest [32]byte
		n      int
	}
}

func (c *digestCache) append(dst []byte, d *redact.Digester, v []byte) []byte {
	if len(v) > 64 {
		return d.AppendToken(dst, v)
	}
	if !c.ready {
		c.seed, c.ready = maphash.MakeSeed(), true
	}
	slot := &c.slots[maphash.Bytes(c.seed, v)%uint64(len(c.slots))]
	if slot.d == d && slot.keyLen == len(v) && string(slot.key[:len(v)]) == string(v) {
		return append(dst, slot.digest[:slot.n]...)
	}
	start := len(dst)
	dst = d.AppendToken(dst, v)
	if n := len(dst) - start; n <= len(slot.digest) {
		slot.d, slot.keyLen, slot.n = d, len(v), n
		copy(slot.key[:], v)
		copy(slot.digest[:], dst[start:])
	}
	return dst
}
