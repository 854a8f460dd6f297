package corpus

import (
	"strings"
	"time"
)

//go:generate go run ./cmd/gensample -dir ../../testdata

// sampleSeed and sampleRecords fix testdata/sample.log.
const (
	sampleSeed    = 20250227
	sampleRecords = 460
)

// SampleRecords returns the records of testdata/sample.log: a few minutes
// of one CTLive container in two windows (around the guide's End Contact
// example at 14:25 and its New Contact example at 17:19, which the guide
// shows three hours apart), with the guide's lines in place and three
// exceptions with stack frames (the unhandled rejection is followed by
// Node's one-line advice, a fourth exception record). An exception's Line holds its frames as the multiline filter
// joins them (without the compose prefix and timestamp that sample.log
// gives each physical line).
func SampleRecords() []Record {
	var out []Record
	generate(sampleSeed, sampleRecords, sampleStyle, func(r Record) { out = append(out, r) })
	return out
}

// Sample returns the text of testdata/sample.log: SampleRecords as
// `docker compose logs -t ctlive` prints them, every physical line of a
// stack trace with its own prefix and timestamp.
func Sample() []byte {
	var b strings.Builder
	for _, r := range SampleRecords() {
		first, rest, _ := strings.Cut(r.Line, "\n")
		b.WriteString(first)
		b.WriteByte('\n')
		if rest == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, r.Want.Time)
		if err != nil {
			panic(err)
		}
		for i, l := range strings.Split(rest, "\n") {
			b.WriteString("ctlive  | ")
			b.WriteString(t.Add(time.Duration(i+1) * frameGap).UTC().Format(layout))
			b.WriteByte(' ')
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}
