package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
)

func TestTokenDigestIsSHA256Prefix(t *testing.T) {
	const session = "ab4e7aff-8627-434a-a2ef-7e200363197e" // the source document's session
	sum := sha256.Sum256([]byte(session))
	want := "sha256:" + hex.EncodeToString(sum[:8])
	if got := NewDigester(nil).Token(session); got != want {
		t.Fatalf("Token(%q) = %q, want %q", session, got, want)
	}
}

func TestKeyedDigestIsHMAC(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	m := hmac.New(sha256.New, key)
	m.Write([]byte("USER_jdoe@acd.example.com"))
	want := "hmac:" + hex.EncodeToString(m.Sum(nil)[:8])
	d := NewDigester(key)
	if got := d.Token("USER_jdoe@acd.example.com"); got != want {
		t.Fatalf("keyed Token = %q, want %q", got, want)
	}
	if !d.Keyed() || d.Len() != len(want) {
		t.Fatalf("Keyed() = %v, Len() = %d, want true, %d", d.Keyed(), d.Len(), len(want))
	}
}

func TestDigestsAreStableAndDistinct(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"same token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", true},
		{"UUID in capitals correlates", "ab4e7aff-8627-434a-a2ef-7e200363197e", "AB4E7AFF-8627-434A-A2EF-7E200363197E", true},
		{"other text keeps its case", "Token123", "token123", false},
		{"different sessions", "ab4e7aff-8627-434a-a2ef-7e200363197e", "ab4e7aff-8627-434a-a2ef-7e200363197f", false},
	}
	d := NewDigester(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := d.Token(tt.a) == d.Token(tt.b); got != tt.same {
				t.Fatalf("Token(%q) == Token(%q) is %v, want %v", tt.a, tt.b, got, tt.same)
			}
		})
	}
}

func TestDigestHasFixedLength(t *testing.T) {
	for _, key := range [][]byte{nil, []byte("k3y-k3y-k3y-k3y-k3y")} {
		d := NewDigester(key)
		for _, v := range []string{"", "a", strings.Repeat("x", 10000)} {
			if got := len(d.Token(v)); got != d.Len() {
				t.Fatalf("len(Token(%d bytes)) = %d, want %d", len(v), got, d.Len())
			}
		}
	}
}

func TestKeyedDigesterIsSafeForConcurrentUse(t *testing.T) {
	d := NewDigester([]byte("another-secret-key"))
	want := d.Token("ab4e7aff-8627-434a-a2ef-7e200363197e")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if got := d.Token("ab4e7aff-8627-434a-a2ef-7e200363197e"); got != want {
					t.Errorf("concurrent Token = %q, want %q", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
