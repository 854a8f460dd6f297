package corpus

import (
	"sync"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
	"github.com/ctlive/ctlive-fluent-bit/redact"
	"github.com/tinylib/msgp/msgp"
)

// AsSent returns line as an instance with default settings sends it: its
// credentials replaced (contract, "Credentials and personal data"). Tests
// that follow records through a downstream compare with it.
func AsSent(line string) string {
	b := msgp.AppendArrayHeader(nil, 2)
	b = msgp.AppendInt64(b, 0)
	b = msgp.AppendMapHeader(b, 1)
	b = msgp.AppendString(b, "log")
	b = msgp.AppendString(b, line)
	evs, err := defaultStage().DecodeChunk(b, "t")
	if err != nil || len(evs) != 1 || evs[0].Line == nil {
		panic("corpus: cannot enrich its own line")
	}
	return string(evs[0].Line)
}

// Digest is how a token (a session ID) leaves an instance with default
// settings.
func Digest(token string) string {
	if token == "" {
		return ""
	}
	return redact.NewDigester(nil).Token(token)
}

var defaultStage = sync.OnceValue(func() *enrich.Stage { return enrich.MustNew(enrich.Defaults()) })
