// Package onwire says what an instance with default settings sends for a
// given input, for the tests that follow records through a downstream:
// the line with its credentials replaced (contract, "Credentials and
// personal data"). It is the plugin's own Enrich stage, not an oracle:
// the Enrich stage's tests are the specification of redaction.
package onwire

import (
	"sync"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/redact"
	"github.com/tinylib/msgp/msgp"
)

// Line returns line as an instance with default settings sends it: its
// credentials replaced (contract, "Credentials and personal data"). Tests
// that follow records through a downstream compare with it.
func Line(line string) string {
	b := msgp.AppendArrayHeader(nil, 2)
	b = msgp.AppendInt64(b, 0)
	b = msgp.AppendMapHeader(b, 1)
	b = msgp.AppendString(b, "log")
	b = msgp.AppendString(b, line)
	evs, err := defaultStage().DecodeChunk(b, "t")
	if err != nil || len(evs) != 1 || evs[0].Line == nil {
		panic("onwire: cannot enrich a line")
	}
	return string(evs[0].Line)
}

// Token is how a token (a session ID) leaves an instance with default
// settings.
func Token(token string) string {
	if token == "" {
		return ""
	}
	return redact.NewDigester(nil).Token(token)
}

var defaultStage = sync.OnceValue(func() *enrich.Stage { return enrich.MustNew(enrich.Defaults()) })
