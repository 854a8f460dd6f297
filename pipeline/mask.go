package pipeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/ctlive/ctlive-fluent-bit/record"
)

// masker replaces chosen fields with a keyed hash: the same user or session
// still correlates across logs, but the value itself (an agent's e-mail
// login, a session token) does not leave the agent. Off unless the user
// lists fields in `mask`.
type masker struct {
	fields uint32
	key    []byte
	pool   sync.Pool
}

func newMasker(fields []string, key string) (record.Masker, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	if key == "" {
		return nil, errors.New("mask needs mask_key, the secret of the keyed hash (set it from the environment: mask_key ${CTLIVE_MASK_KEY})")
	}
	m := &masker{key: []byte(key)}
	for _, f := range fields {
		i := -1
		for k, name := range record.FieldNames {
			if name == f {
				i = k
			}
		}
		switch i {
		case -1:
			return nil, fmt.Errorf("%q is not a field", f)
		case record.FieldScopes, record.FieldPayload, record.FieldStack:
			return nil, fmt.Errorf("%q is not a single value and cannot be masked", f)
		}
		m.fields |= 1 << i
	}
	m.pool.New = func() any { return hmac.New(sha256.New, m.key) }
	return m, nil
}

func (m *masker) Fields() uint32 { return m.fields }

// Append writes "masked:" and 16 hex digits of HMAC-SHA256(key, v).
func (m *masker) Append(dst, v []byte) []byte {
	h := m.pool.Get().(interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
		Reset()
	})
	h.Reset()
	h.Write(v)
	var sum [sha256.Size]byte
	out := h.Sum(sum[:0])
	m.pool.Put(h)
	dst = append(dst, "masked:"...)
	return hex.AppendEncode(dst, out[:8])
}
