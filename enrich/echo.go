package enrich

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/ctlive/ctlive-fluent-bit/parser"
)

// Finding echoes, and the secrets they come from, in time linear in the
// record. A CTLive line holds one or two credentials, each looked for on
// its own wherever it may echo (bytes.Index). A hostile line can hold
// tens of thousands (`session <uuid>` a thousand times, `ct7token=`
// repeated, JWTs overlapping), and looking for each of them in every text
// of the record was quadratic: a 64 KB line took seconds. Past
// maxScannedEchoes, the echoes are found in one pass by their first eight
// bytes (echoIndex), and a token inside another token of its text is
// dropped before it costs a digest or an echo (withoutNestedTokens).

// maxScannedEchoes is how many echoes are each looked for on their own.
const maxScannedEchoes = 16

// echoIndex finds many echoes in one pass over a text. Each echo is keyed
// by its first eight bytes, or all of it when shorter (a short password or
// token echoed from a coloured line, a short masked login): each place one
// stands starts with its key. Where a key stands, the index replaces as
// many bytes as the longest echo of that key: possibly more than the echo
// itself (the place merely shares its first bytes), never less.
type echoIndex struct {
	from, to int      // the echoes it indexes: w.echoes[from:to]
	filter   []uint64 // a bit per hash of a key, to skip most places without a map lookup
	shift    uint     // 64 - log2(bits in filter)
	groups   map[echoKey]echoGroup
	lengths  uint16 // bit n: some echo's key is n bytes long (1 to 8)
}

// echoKey is the first n bytes of an echo, the first in the low byte.
type echoKey struct {
	k uint64
	n uint8
}

// echoGroup is what the echoes that share a key need.
type echoGroup struct {
	longest int
	low     bool // one of them has little entropy: the place becomes "[redacted]"
}

func (x *echoIndex) build(echoes []echo, from, to int) {
	x.from, x.to = from, to
	size := max(1<<16, 1<<bits.Len(uint(8*(to-from)))) // bits: a sparse filter whatever the count
	x.filter = slices.Grow(x.filter[:0], size/64)[:size/64]
	clear(x.filter)
	x.shift = uint(64 - bits.TrailingZeros(uint(size)))
	if x.groups == nil {
		x.groups = make(map[echoKey]echoGroup)
	}
	clear(x.groups)
	x.lengths = 0
	for _, e := range echoes[from:to] {
		if len(e.orig) == 0 {
			continue
		}
		key := keyAt(e.orig, 0, min(len(e.orig), 8))
		if e.fold {
			key.k = lower8(key.k) // find looks a place up in its own case and lower-cased
		}
		x.lengths |= 1 << key.n
		h := x.hash(key)
		x.filter[h/64] |= 1 << (h % 64)
		g := x.groups[key]
		g.longest = max(g.longest, len(e.orig))
		g.low = g.low || e.low
		x.groups[key] = g
	}
}

// keyAt reads the n bytes (1 to 8) at b[p:] as a key.
func keyAt(b []byte, p, n int) echoKey {
	if p+8 <= len(b) {
		k := binary.LittleEndian.Uint64(b[p:])
		if n < 8 {
			k &= 1<<(8*n) - 1
		}
		return echoKey{k, uint8(n)}
	}
	var k uint64
	for i := n - 1; i >= 0; i-- {
		k = k<<8 | uint64(b[p+i])
	}
	return echoKey{k, uint8(n)}
}

func (x *echoIndex) hash(key echoKey) uint64 {
	return ((key.k ^ uint64(key.n)<<59) * 0x9e3779b97f4a7c15) >> x.shift
}

func (x *echoIndex) lookup(key echoKey) (echoGroup, bool) {
	if h := x.hash(key); x.filter[h/64]&(1<<(h%64)) == 0 {
		return echoGroup{}, false
	}
	g, ok := x.groups[key]
	return g, ok
}

// lower8 lower-cases the ASCII capitals among the eight bytes of k at once.
func lower8(k uint64) uint64 {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	low7 := k &^ high
	atLeastA := low7 + (0x80-'A')*ones        // high bit: the byte's low seven bits are >= 'A'
	pastZ := low7 + (0x80-'Z'-1)*ones         // high bit: > 'Z'
	capitals := atLeastA &^ pastZ &^ k & high // and the byte itself is ASCII
	return k | capitals>>2                    // 0x80 >> 2 is the case bit 0x20
}

// find calls fn with the span each indexed echo may occupy in b: at each
// place, the longest of the groups whose key stands there.
func (x *echoIndex) find(b []byte, fn func(start, end int, low bool) bool) {
	for p := range b {
		var g echoGroup
		ok := false
		for ls := x.lengths; ls != 0; ls &= ls - 1 {
			n := bits.TrailingZeros16(ls)
			if p+n > len(b) {
				break // the lengths go up
			}
			key := keyAt(b, p, n)
			if kg, kok := x.lookup(key); kok {
				g, ok = merged(g, ok, kg), true
			}
			if lk := lower8(key.k); lk != key.k {
				// A session's echo in another case: both may be indexed
				// (`AB4E7AFFzz`, a token, and `ab4e7aff-…`, a session).
				if lg, lok := x.lookup(echoKey{lk, key.n}); lok {
					g, ok = merged(g, ok, lg), true
				}
			}
		}
		if ok && !fn(p, min(p+g.longest, len(b)), g.low) {
			return
		}
	}
}

// merged is the group of a place where both a and b (when aOK) stand.
func merged(a echoGroup, aOK bool, b echoGroup) echoGroup {
	if !aOK {
		return b
	}
	return echoGroup{longest: max(a.longest, b.longest), low: a.low || b.low}
}

// indexFor returns an index of w.echoes[from:to]: the line's echoes are
// indexed once per record, a text's own once per text.
func (w *Work) indexFor(from, to int) *echoIndex {
	x, slot := &w.textIndex, 1
	if from == 0 && to == w.lineEchoes {
		x, slot = &w.lineIndex, 0
	}
	if !w.indexed[slot] || x.from != from || x.to != to {
		x.build(w.echoes, from, to)
		w.indexed[slot] = true
	}
	return x
}

// echoesIn adds a replacement for every place of b where one of
// w.echoes[from:to] stands.
func (w *Work) echoesIn(b []byte, from, to int) {
	if to-from <= maxScannedEchoes {
		for _, e := range w.echoes[from:to] {
			w.addOccurrences(b, e)
		}
		return
	}
	w.indexFor(from, to).find(b, func(start, end int, low bool) bool {
		x := rep{start: start, end: end, low: low, pending: !low}
		if low {
			x.off, x.n = w.text(redacted)
		}
		w.reps = append(w.reps, x)
		return true
	})
}

// anyEchoIn reports whether one of w.echoes[from:to] stands in b.
func (w *Work) anyEchoIn(b []byte, from, to int) bool {
	if to-from <= maxScannedEchoes {
		for _, e := range w.echoes[from:to] {
			if e.fold && foldIndex(b, e.orig) >= 0 || bytes.Contains(b, e.orig) {
				return true
			}
		}
		return false
	}
	found := false
	w.indexFor(from, to).find(b, func(int, int, bool) bool {
		found = true
		return false
	})
	return found
}

// withoutNestedTokens returns secrets, the credentials of src, without the
// tokens but sessions that lie inside another token (`ct7token=ct7token=x`
// holds x):
// the outer token's replacement covers them, and the same token found by
// two rules (a Bearer token that is a JWT) is one. Secrets with little
// entropy stay: inside a token they turn its replacement into "[redacted]"
// (merge). The result is in w.kept, or secrets itself when nothing is
// nested (the common case, checked without sorting).
func (w *Work) withoutNestedTokens(src []byte, secrets []parser.Secret) []parser.Secret {
	if len(secrets) < 2 {
		return secrets
	}
	ordered, end := true, -1
	for _, s := range secrets {
		at := offset(src, s.Text)
		if at < end || at < 0 {
			ordered = false
			break
		}
		end = at + len(s.Text)
	}
	if ordered {
		return secrets // in order and apart
	}
	w.kept = append(w.kept[:0], secrets...)
	slices.SortFunc(w.kept, func(a, b parser.Secret) int {
		sa, sb := offset(src, a.Text), offset(src, b.Text)
		if sa != sb {
			return sa - sb
		}
		return len(b.Text) - len(a.Text) // the larger first
	})
	kept, tokenEnd := w.kept[:0], -1
	for _, s := range w.kept {
		at := offset(src, s.Text)
		if at < 0 {
			continue
		}
		if s.Kind.IsToken() {
			if at+len(s.Text) <= tokenEnd && s.Kind != parser.SecretSession {
				continue // inside a token that starts no later and ends no sooner
			}
			// A session inside a token (`ctlivetoken=<uuid>/`) stays: its
			// replacement merges into the token's, but its bare copies
			// elsewhere are its echoes, not the token's.
			tokenEnd = max(tokenEnd, at+len(s.Text))
		}
		kept = append(kept, s)
	}
	return kept
}

// foldIndex is bytes.Index ignoring ASCII case. It looks for v's first
// byte that has no case (a digit or '-' of a UUID, which a session always
// has) and compares around each place it stands: time linear in b for an
// echo of bounded length. A v of letters alone is compared at every place.
func foldIndex(b, v []byte) int {
	j := 0
	for j < len(v) && isASCIILetter(v[j]) {
		j++
	}
	if j == len(v) {
		for at := 0; at+len(v) <= len(b); at++ {
			if equalFoldASCII(b[at:at+len(v)], v) {
				return at
			}
		}
		return -1
	}
	for i := j; i+len(v)-j <= len(b); {
		k := bytes.IndexByte(b[i:len(b)-(len(v)-j-1)], v[j])
		if k < 0 {
			return -1
		}
		at := i + k - j
		if equalFoldASCII(b[at:at+len(v)], v) {
			return at
		}
		i += k + 1
	}
	return -1
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// equalFoldASCII reports whether a and b (of one length) differ at most in
// the case of ASCII letters.
func equalFoldASCII(a, b []byte) bool {
	for i := range a {
		if x, y := a[i], b[i]; x != y && !(x|0x20 == y|0x20 && isASCIILetter(x)) {
			return false
		}
	}
	return true
}
