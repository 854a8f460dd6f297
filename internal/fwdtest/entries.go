package fwdtest

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// Helpers to build entry streams in tests. They panic on values msgp cannot
// encode, which is a bug in the test.

// AppendEventTime appends t as an EventTime: fixext8 of type 0 holding
// big-endian uint32 seconds and nanoseconds.
func AppendEventTime(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if sec < 0 || sec > math.MaxUint32-2 {
		panic(fmt.Sprintf("fwdtest: %v does not fit an EventTime", t))
	}
	b = append(b, 0xd7, 0x00)
	b = binary.BigEndian.AppendUint32(b, uint32(sec))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// AppendEntry appends [EventTime, record], or the Fluent Bit v2 form
// [[EventTime, metadata], record] when metadata is not nil.
func AppendEntry(b []byte, t time.Time, metadata, record map[string]any) []byte {
	b = msgp.AppendArrayHeader(b, 2)
	if metadata != nil {
		b = msgp.AppendArrayHeader(b, 2)
		b = AppendEventTime(b, t)
		b = mustMap(b, metadata)
	} else {
		b = AppendEventTime(b, t)
	}
	return mustMap(b, record)
}

// AppendEntryIntTime appends [sec, record] with an integer time, the
// Forward protocol v0 form.
func AppendEntryIntTime(b []byte, sec int64, record map[string]any) []byte {
	b = msgp.AppendArrayHeader(b, 2)
	b = msgp.AppendInt64(b, sec)
	return mustMap(b, record)
}

func mustMap(b []byte, m map[string]any) []byte {
	b, err := msgp.AppendMapStrIntf(b, m)
	if err != nil {
		panic("fwdtest: " + err.Error())
	}
	return b
}
