package enrich

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/redact"
)

// A line with more values to echo than are looked for one by one (issue
// #7: a 64 KB line of `session <uuid>` took seconds, each UUID looked for
// in every text) has them found in one pass: every one is still replaced,
// in the line and in the record's other keys, by the digest it has where
// a rule found it.
func TestManyEchoesAreStillReplacedEverywhere(t *testing.T) {
	var line strings.Builder
	line.WriteString("[socketIO] [AGM] reconnect")
	uuids := make([]string, 3*maxScannedEchoes)
	for i := range uuids {
		uuids[i] = fmt.Sprintf("%08x-4e5f-4a6b-8c7d-0e1f2a3b4c5d", i)
		fmt.Fprintf(&line, " session %s", uuids[i])
	}
	for _, u := range uuids {
		fmt.Fprintf(&line, " again %s", u) // after no context word
	}
	ev := enrichOne(t, v2(kv{}, kv{"log", line.String(), "sid", uuids[7], "note", "saw " + uuids[40] + " twice"}), config())
	digests := redact.NewDigester(nil)
	for form, out := range outputs(ev) {
		for _, u := range uuids {
			if bytes.Contains(out, []byte(u)) {
				t.Fatalf("%s output holds %s in clear", form, u)
			}
		}
		if form == "line" {
			continue
		}
		for _, u := range []string{uuids[7], uuids[40]} {
			if n := bytes.Count(out, []byte(digests.Token(u))); n < 3 {
				t.Errorf("%s output holds %s's digest %d times, want it in the line twice and in its key", form, u, n)
			}
		}
	}
}

// Past maxScannedEchoes, the one-pass lookup still finds a session written
// in another case (its digest lower-cases it), in the line and elsewhere.
func TestManyEchoesInAnotherCase(t *testing.T) {
	var line strings.Builder
	line.WriteString("[socketIO] [AGM] reconnect")
	uuids := make([]string, 2*maxScannedEchoes)
	for i := range uuids {
		uuids[i] = fmt.Sprintf("%08x-4e5f-4a6b-8c7d-0e1f2a3b4c5d", 0xabcdef00+i)
		fmt.Fprintf(&line, " session %s", uuids[i])
	}
	mixed := func(u string) string { return strings.ToUpper(u[:4]) + u[4:20] + strings.ToUpper(u[20:]) }
	for _, u := range uuids {
		fmt.Fprintf(&line, " again %s", mixed(u))
	}
	// A token that starts with the same eight bytes as a session written in
	// capitals: both are looked up (attacker re-check).
	fmt.Fprintf(&line, " ct7Token=%szzzzzzzz", strings.ToUpper(uuids[7][:8]))
	ev := enrichOne(t, v2(kv{}, kv{"log", line.String(), "sid", strings.ToUpper(uuids[7])}), config())
	for form, out := range outputs(ev) {
		for _, tail := range []string{"8c7d-0e1f2a3b4c5d", "8C7D-0E1F2A3B4C5D"} { // every UUID's: none may leave in part
			if bytes.Contains(out, []byte(tail)) {
				t.Fatalf("%s output holds %s in clear", form, tail)
			}
		}
		for _, u := range uuids {
			for _, v := range []string{u, mixed(u), strings.ToUpper(u)} {
				if bytes.Contains(out, []byte(v)) {
					t.Fatalf("%s output holds %s in clear", form, v)
				}
			}
		}
	}
}

// A token inside another token of the same text (`ct7token=` repeated,
// each value holding the next label) is covered by the outer one: one
// digest for the run, and no digest or echo of each suffix (issue #7:
// quadratic). A secret of little entropy inside a token still makes it
// "[redacted]".
func TestTokensInsideTokensAreCoveredByTheOuter(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
	}{
		{"a run of token labels", "ct7token=ct7token=ct7token=abcdefgh12345678", "ct7token=" + redact.NewDigester(nil).Token("ct7token=ct7token=abcdefgh12345678")},
		{"a password inside a token", "ct7token=pwd=hunter2-Pa55", "ct7token=" + redact.Redacted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := enrichOne(t, v2(kv{}, kv{"log", "[HTTP] [AGM] call " + tc.value + " done"}), config())
			if want := "[HTTP] [AGM] call " + tc.want + " done"; string(ev.Line) != want {
				t.Errorf("line %q\nwant %q", ev.Line, want)
			}
		})
	}
}

// Past maxScannedEchoes, echoes shorter than eight bytes (short passwords
// and tokens of a coloured line, echoed into the record's other values)
// are looked up by their whole text: the one-pass lookup read eight bytes
// of each and the record's chunk was dropped (a recovered panic, attacker
// review with the escape-broken-passwords shape).
func TestManyShortEchoesAreStillReplacedEverywhere(t *testing.T) {
	var line strings.Builder
	line.WriteString("\x1b[1m[socketIO] [AGM] login")
	pw := make([]string, 2*maxScannedEchoes)
	for i := range pw {
		pw[i] = fmt.Sprintf("pw%03d", i) // five bytes
		fmt.Fprintf(&line, " password=%s", pw[i])
	}
	line.WriteString(" ct7Token=tok9a7\x1b[0m") // a six-byte token
	ev := enrichOne(t, v2(kv{}, kv{"log", line.String(), "a", pw[3], "b", "again " + pw[30] + ".", "c", "tok9a7"}), config())
	for form, out := range outputs(ev) {
		for _, v := range append(pw, "tok9a7") {
			if bytes.Contains(out, []byte(v)) {
				t.Fatalf("%s output holds %s in clear: %.300q", form, v, out)
			}
		}
	}
}

// Values that overlap (`password:[` repeated, each running to the text's
// end) are not copied each: a text behind escapes copied every one of
// them, and 4,000 of them before 256 KB of text allocated gigabytes, an
// out-of-memory abort no recover catches (attacker review). Memory stays
// a small multiple of the record's size.
func TestOverlappingValuesBehindEscapesCostLinearMemory(t *testing.T) {
	line := "[HTTP] [AGM] x " + strings.Repeat("password:[\x1b[0m", 4000) + strings.Repeat("x", 256<<10)
	entry := v1(kv{"log", line, "copy", line})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ev := enrichOne(t, entry, config())
	runtime.ReadMemStats(&after)
	// 16-70 times here (the race detector's share included); quadratic
	// was 10,900 times.
	if got := after.TotalAlloc - before.TotalAlloc; got > 256*uint64(len(entry)) {
		t.Errorf("enriching a record of %d bytes allocated %d bytes (%d times its size)", len(entry), got, got/uint64(len(entry)))
	}
	if bytes.Contains(ev.Line, []byte("password:[\x1b[0m")) {
		t.Errorf("a password left in clear")
	}
}
