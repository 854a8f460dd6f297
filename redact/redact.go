// Package redact gives credentials and personal data the forms in which
// they may leave the plugin (contract, "Credentials and personal data"):
//
//   - a token (session ID, JWT, Bearer or ct7Token value) becomes a stable
//     digest, "sha256:" and the first 16 hex digits of SHA-256 over the
//     token, or with a key "hmac:" and the first 16 hex digits of
//     HMAC-SHA256(key, token). The same token gives the same digest in
//     every line, field and sink, so one session still correlates;
//   - a secret with little entropy (a password, a Basic credential) becomes
//     the fixed text Redacted: a digest of a password can be guessed;
//   - personal data (an agent's login, an e-mail address) becomes the keyed
//     form only: an unkeyed digest of an e-mail address is guessable.
//
// A UUID is lower-cased before it is digested, so a session written in
// capitals once still correlates. It is pure Go: no cgo, no I/O.
package redact

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// Redacted replaces a secret with little entropy.
const Redacted = "[redacted]"

// Prefixes of the two digest forms.
const (
	PrefixSHA256 = "sha256:"
	PrefixHMAC   = "hmac:"
)

// digestHexLen is how many hex digits of the hash a digest keeps: 64 bits
// are enough to correlate (a collision among a billion sessions has a
// chance of ~3%), and short enough to read.
const digestHexLen = 16

// Digester writes digests. It is safe for concurrent use.
type Digester struct {
	key  []byte
	macs sync.Pool // hash.Hash: HMAC-SHA256 with key, when keyed
}

// NewDigester returns a Digester; an empty key gives the unkeyed form.
func NewDigester(key []byte) *Digester {
	d := &Digester{}
	if len(key) > 0 {
		d.key = append([]byte(nil), key...)
		d.macs.New = func() any { return hmac.New(sha256.New, d.key) }
	}
	return d
}

// Keyed reports whether digests are keyed HMACs.
func (d *Digester) Keyed() bool { return d.key != nil }

// Len is the length of every digest this Digester writes.
func (d *Digester) Len() int {
	if d.Keyed() {
		return len(PrefixHMAC) + digestHexLen
	}
	return len(PrefixSHA256) + digestHexLen
}

// AppendToken appends the digest of token v.
func (d *Digester) AppendToken(dst, v []byte) []byte {
	if IsUUID(v) && hasUpper(v) {
		v = bytes.ToLower(v) // rare: CTLive writes UUIDs in lower case
	}
	if d.Keyed() {
		return d.appendHMAC(dst, v)
	}
	sum := sha256.Sum256(v)
	dst = append(dst, PrefixSHA256...)
	return hex.AppendEncode(dst, sum[:digestHexLen/2])
}

// appendHMAC is apart from AppendToken so that the unkeyed path's sum stays
// on the stack (handing a buffer to hash.Hash.Sum moves it to the heap).
func (d *Digester) appendHMAC(dst, v []byte) []byte {
	h := d.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(v)
	start := len(dst)
	dst = h.Sum(dst) // the full MAC at dst's end, then shortened and hex-encoded
	var mac [digestHexLen / 2]byte
	copy(mac[:], dst[start:])
	d.macs.Put(h)
	dst = append(dst[:start], PrefixHMAC...)
	return hex.AppendEncode(dst, mac[:])
}

// Token returns the digest of v as a string (tools, tests).
func (d *Digester) Token(v string) string { return string(d.AppendToken(nil, []byte(v))) }

func hasUpper(v []byte) bool {
	for _, c := range v {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// IsUUID reports whether v is exactly 8-4-4-4-12 hex digits, in any case:
// a session ID, whose digest is taken lower-cased.
func IsUUID(v []byte) bool {
	if len(v) != 36 {
		return false
	}
	for i, c := range v {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
