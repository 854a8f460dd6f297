package parser

import jsoniter "github.com/json-iterator/go"

// The JSON seam: json-iterator is the project's JSON library, but its last
// release is from 2021, so every use of it stays in this file and can be
// swapped without touching the grammar.

var jsonAPI = jsoniter.ConfigCompatibleWithStandardLibrary

// skipJSON parses the JSON value at the start of b and returns its length,
// or 0 when it does not parse (truncated, malformed). scratch is reused
// between calls so that finding the value's extent does not allocate.
func skipJSON(b []byte, scratch *[]byte) (n int) {
	it := jsonAPI.BorrowIterator(b)
	defer func() {
		jsonAPI.ReturnIterator(it)
		if recover() != nil { // a library bug must cost one payload, never the agent
			n = 0
		}
	}()
	if *scratch == nil {
		*scratch = make([]byte, 0, 256) // a nil buffer means "not capturing" to json-iterator
	}
	out := it.SkipAndAppendBytes((*scratch)[:0])
	*scratch = out[:0]
	if it.Error != nil {
		return 0
	}
	return len(out)
}

// ValidJSON reports whether b is exactly one JSON value (surrounding
// whitespace allowed). scratch is reused between calls.
func ValidJSON(b []byte, scratch *[]byte) bool {
	n := skipJSON(b, scratch)
	return n > 0 && len(trimSpace(b[n:])) == 0
}

func decodeJSON(b []byte) (interface{}, error) {
	var v interface{}
	err := jsonAPI.Unmarshal(b, &v)
	return v, err
}
