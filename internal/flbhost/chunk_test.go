package flbhost

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestEncodersWriteFluentBitBytes(t *testing.T) {
	ts := time.Unix(0x65000000, 1)
	tests := []struct {
		name string
		got  []byte
		want string // hex, spaces for reading only
	}{
		{
			"v2 entry with empty metadata",
			Entry(ts, Map{{"log", "hi"}}),
			"92 92 d7 00 65000000 00000001 80 81 a3 6c6f67 a2 6869",
		},
		{
			"v2 entry with metadata",
			AppendV2(nil, EventTime(ts), map[string]any{"m": true}, nil),
			"92 92 d7 00 65000000 00000001 81 a1 6d c3 80",
		},
		{
			"v1 entry",
			AppendV1(nil, EventTime(ts), Map{{"a", 1}}),
			"92 d7 00 65000000 00000001 81 a1 61 01",
		},
		{"integer seconds", AppendV1(nil, IntTime(300), nil), "92 cd 012c 80"},
		{"negative integer seconds", AppendV1(nil, IntTime(-1), nil), "92 ff 80"},
		{"float seconds", AppendV1(nil, FloatTime(1.5), nil), "92 cb 3ff8000000000000 80"},
		{
			"group start",
			AppendGroupStart(nil, Map{{"schema", "otlp"}}, Map{{"resource", Map{}}}),
			"92 92 d7 00 ffffffff 00000000 81 a6 736368656d61 a4 6f746c70 81 a8 7265736f75726365 80",
		},
		{"group end", AppendGroupEnd(nil), "92 92 d7 00 fffffffe 00000000 80 80"},
		{"plain maps have sorted keys", appendValue(nil, map[string]any{"b": 1, "a": 2}), "82 a1 61 02 a1 62 01"},
		{"Map keeps order and duplicates", appendValue(nil, Map{{"b", 1}, {"a", 2}, {"b", 3}}), "83 a1 62 01 a1 61 02 a1 62 03"},
		{"non-negative ints are unsigned", appendValue(nil, []any{200, int64(70000), uint8(7)}), "93 cc c8 ce 00011170 07"},
		{"negative ints are signed", appendValue(nil, []any{-5, -200}), "92 fb d1 ff38"},
		{"32-byte string is str8", appendValue(nil, strings.Repeat("x", 32)), "d9 20" + strings.Repeat("78", 32)},
		{"bytes are bin", appendValue(nil, []byte{1, 2}), "c4 02 0102"},
		{"nil, bool, float", appendValue(nil, []any{nil, false, 0.5}), "93 c0 c2 cb 3fe0000000000000"},
		{"Raw is copied", appendValue(nil, Raw{0xc1}), "c1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := strings.ReplaceAll(tc.want, " ", "")
			if got := hex.EncodeToString(tc.got); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestEventTimeKeepsNanosecondsAndCutsSecondsTo32Bits(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1700000000, 999999999), "d7 00 6553f100 3b9ac9ff"},
		{time.Unix(1<<32+5, 0), "d7 00 00000005 00000000"},
	}
	for _, tc := range tests {
		if got := hex.EncodeToString(EventTime(tc.t).encoded); got != strings.ReplaceAll(tc.want, " ", "") {
			t.Errorf("EventTime(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
}

func TestUnsupportedValuesPanic(t *testing.T) {
	tests := []struct {
		name  string
		value any
	}{
		{"non-string map key", map[int]string{1: "x"}},
		{"channel", make(chan int)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("appendValue(%T) did not panic", tc.value)
				}
			}()
			appendValue(nil, tc.value)
		})
	}
}

// What fluent-bit-go's own decoder (output.GetRecord at the served
// version) makes of each form Fluent Bit can hand over. Plugins that decode
// with it inherit these behaviours.
func TestFluentBitGoDecoderOnEachForm(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	body := Map{{"log", "x"}}
	tests := []struct {
		name  string
		chunk []byte
		want  []string // record times fluent-bit-go reports, in order
	}{
		{"v2 EventTime", AppendV2(nil, EventTime(t0), Map{{"m", 1}}, body), []string{"1700000000.123456789"}},
		{"v1 EventTime", AppendV1(nil, EventTime(t0), body), []string{"1700000000.123456789"}},
		{"v1 integer seconds", AppendV1(nil, IntTime(1700000000), body), []string{"1700000000"}},
		{
			"group markers come out as records dated 2106",
			AppendGroupEnd(AppendV2(AppendGroupStart(nil, nil, nil), EventTime(t0), nil, body)),
			[]string{"4294967295.000000000", "1700000000.123456789", "4294967294.000000000"},
		},
		{
			"float seconds end decoding",
			AppendV2(AppendV1(nil, FloatTime(1.5), body), EventTime(t0), nil, body),
			nil,
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprint("case", i)
			in := h.New("id", id, "print_records", "on")
			in.Init()
			in.Flush("t", tc.chunk)
			var got []string
			for _, line := range linesWith(h.Stdout(), "record id="+id+" ") {
				_, rest, _ := strings.Cut(line, " time=")
				at, _, _ := strings.Cut(rest, " ")
				got = append(got, at)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("record times = %q, want %q", got, tc.want)
			}
		})
	}
}
