package loki

import (
	"github.com/klauspost/compress/s2"
	"google.golang.org/protobuf/encoding/protowire"
)

// Loki's push request, written by hand on protowire rather than with
// grafana/loki's generated code (AGPL module; pkg/push drags gogo and
// gRPC). Field numbers from pkg/push/push.proto:
//
//	PushRequest      { repeated StreamAdapter streams = 1; }
//	StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; }
//	EntryAdapter     { google.protobuf.Timestamp timestamp = 1; string line = 2;
//	                   repeated LabelPairAdapter structuredMetadata = 3; }
//	LabelPairAdapter { string name = 1; string value = 2; }
//	Timestamp        { int64 seconds = 1; int32 nanos = 2; }
//
// The output matches gogo's: fields in number order, zero scalars and empty
// strings left out, the timestamp always present (it is non-nullable).
const (
	fieldStreams = 1 // PushRequest
	fieldLabels  = 1 // StreamAdapter
	fieldEntries = 2
	fieldTime    = 1 // EntryAdapter
	fieldLine    = 2
	fieldMeta    = 3
	fieldName    = 1 // LabelPairAdapter
	fieldValue   = 2
	fieldSeconds = 1 // Timestamp
	fieldNanos   = 2
)

// lenReserve is room for a message's length before its size is known: a
// varint of up to 2^35-1, far beyond any request.
const lenReserve = 5

// beginMessage starts a length-delimited field whose size is not known yet.
func beginMessage(dst []byte, field protowire.Number) []byte {
	dst = protowire.AppendTag(dst, field, protowire.BytesType)
	return append(dst, make([]byte, lenReserve)...)
}

// endMessage writes the length of the message begun at start and closes
// the gap left by the reserve: one memmove per stream, cheaper than sizing
// every stream before writing it.
func endMessage(dst []byte, start int) []byte {
	content := start + 1 + lenReserve // the tags used here are one byte
	n := len(dst) - content
	v := protowire.AppendVarint(dst[:start+1], uint64(n)) // writes into the reserve
	copy(dst[len(v):], dst[content:])
	return dst[:len(v)+n]
}

func appendProtoString(dst []byte, field protowire.Number, s []byte) []byte {
	if len(s) == 0 {
		return dst // proto3 leaves empty strings out
	}
	dst = protowire.AppendTag(dst, field, protowire.BytesType)
	return protowire.AppendBytes(dst, s)
}

// appendMetaPair encodes one structuredMetadata pair; name is its
// pre-encoded name field.
func appendMetaPair(dst, name, value []byte) []byte {
	n := len(name) + 1 + protowire.SizeBytes(len(value))
	dst = protowire.AppendTag(dst, fieldMeta, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(n))
	dst = append(dst, name...)
	dst = protowire.AppendTag(dst, fieldValue, protowire.BytesType)
	return protowire.AppendBytes(dst, value)
}

// appendEntry encodes one EntryAdapter (as StreamAdapter field 2); meta is
// its already encoded structuredMetadata fields.
func appendEntry(dst []byte, sec int64, nsec int32, line, meta []byte) []byte {
	ts := 0
	if sec != 0 {
		ts += 1 + protowire.SizeVarint(uint64(sec))
	}
	if nsec != 0 {
		ts += 1 + protowire.SizeVarint(uint64(nsec))
	}
	size := 1 + protowire.SizeBytes(ts) + len(meta)
	if len(line) > 0 {
		size += 1 + protowire.SizeBytes(len(line))
	}
	dst = protowire.AppendTag(dst, fieldEntries, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(size))
	dst = protowire.AppendTag(dst, fieldTime, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(ts))
	if sec != 0 {
		dst = protowire.AppendTag(dst, fieldSeconds, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(sec)) // int64: two's complement, as protobuf does
	}
	if nsec != 0 {
		dst = protowire.AppendTag(dst, fieldNanos, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(nsec))
	}
	dst = appendProtoString(dst, fieldLine, line)
	return append(dst, meta...)
}

// snappyEncode compresses src as a snappy block (not the framed format),
// which is what Loki expects of a protobuf body, reusing dst's memory.
func snappyEncode(dst, src []byte) []byte {
	n := s2.MaxEncodedLen(len(src))
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	return s2.EncodeSnappy(dst[:n], src)
}
