package enrich

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/redact"
)

// masking replaces personal data by a keyed HMAC, only when the user asks
// (contract, "Credentials and personal data"): the values of the listed
// fields, wherever they appear in the record, and with `mask userID` an
// agent's login and every e-mail address too. The key is required: an
// e-mail address is guessable from an unkeyed digest.
type masking struct {
	fields uint32 // bit i: record field i is masked
	hmac   *redact.Digester
}

// maskable are the fields `mask` accepts: identifiers of people and
// conversations. The tenant routes the record and stays; the other fields
// are not personal data, and credentials are redacted by default anyway.
var maskable = map[string]int{
	"userID":    record.FieldUserID,
	"sessionID": record.FieldSessionID,
	"contactID": record.FieldContactID,
	"messageID": record.FieldMessageID,
}

// MinMaskKey is the shortest mask_key accepted: an HMAC key that can be
// guessed protects nothing.
const MinMaskKey = 16

// checkMaskKey refuses a key that can be guessed.
func checkMaskKey(key string) error {
	if key != "" && (len(key) < MinMaskKey || strings.TrimSpace(key) == "") {
		return fmt.Errorf("must be at least %d bytes and not only spaces (an HMAC key that can be guessed protects nothing)", MinMaskKey)
	}
	return nil
}

func newMasking(fields []string, key string) (masking, error) {
	if len(fields) == 0 {
		return masking{}, nil
	}
	if key == "" {
		return masking{}, errors.New("needs mask_key, the secret of the keyed hash (set it from the environment: mask_key ${CTLIVE_MASK_KEY})")
	}
	m := masking{hmac: redact.NewDigester([]byte(key))}
	for _, f := range fields {
		i, ok := maskable[f]
		if !ok {
			return masking{}, fmt.Errorf("%q cannot be masked (one of userID, sessionID, contactID, messageID)", f)
		}
		m.fields |= 1 << i
	}
	return m, nil
}

func (m *masking) on() bool       { return m.fields != 0 }
func (m *masking) has(i int) bool { return m.fields&(1<<i) != 0 }

// users reports whether agents' logins and e-mail addresses are masked.
func (m *masking) users() bool { return m.has(record.FieldUserID) }

func (m *masking) describe() string {
	var names []string
	for _, name := range []string{"userID", "sessionID", "contactID", "messageID"} {
		if m.has(maskable[name]) {
			names = append(names, name)
		}
	}
	return strings.Join(names, ",")
}
