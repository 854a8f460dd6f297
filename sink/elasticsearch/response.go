package elasticsearch

import (
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	jsoniter "github.com/json-iterator/go"
)

// This file is the one place that reads JSON (json-iterator, the project's
// JSON library), so the library can be swapped here alone.

// bulkItem is one entry of a bulk answer's "items", in request order:
// {"create":{"_index":"…","_id":"…","status":201}} or, on failure,
// {"create":{…,"status":400,"error":{"type":"…","reason":"…"}}}.
type bulkItem struct {
	status  int
	errType string
	reason  string
}

// bulkAnswer is what parseBulk found.
type bulkAnswer struct {
	count int        // entries in "items"
	allOK bool       // "errors":false came before "items": items was only counted
	items []bulkItem // per-entry results, unless allOK
}

var jsonAPI = jsoniter.ConfigCompatibleWithStandardLibrary

var errNoItems = errors.New(`bulk answer has no "items"`)

// parseBulk reads a bulk API answer. Elasticsearch writes "errors" before
// "items"; when it is false every item succeeded and the items are only
// counted (the fast path: no per-item decoding). items is reused for the
// per-item results.
func parseBulk(data []byte, items []bulkItem) (bulkAnswer, error) {
	it := jsonAPI.BorrowIterator(data)
	defer jsonAPI.ReturnIterator(it)
	a := bulkAnswer{items: items[:0]}
	if it.WhatIsNext() != jsoniter.ObjectValue {
		return a, errors.New("bulk answer is not a JSON object")
	}
	errorsFalse, sawItems := false, false
	for field := it.ReadObject(); field != ""; field = it.ReadObject() {
		switch field {
		case "errors":
			if it.WhatIsNext() == jsoniter.BoolValue {
				errorsFalse = !it.ReadBool()
			} else {
				it.Skip()
			}
		case "items":
			sawItems = true
			a.allOK = errorsFalse
			for it.ReadArray() {
				a.count++
				if a.allOK {
					it.Skip()
				} else {
					a.items = append(a.items, readItem(it))
				}
			}
		default:
			it.Skip()
		}
		if it.Error != nil {
			break
		}
	}
	if it.Error != nil && it.Error != io.EOF {
		return a, errors.New("bulk answer is not valid JSON")
	}
	if !sawItems {
		return a, errNoItems
	}
	return a, nil
}

// readItem reads {"<op>": {"status": N, "error": {...}}}. An item without
// a status keeps 0, which the caller treats as "unknown, retry".
func readItem(it *jsoniter.Iterator) bulkItem {
	var item bulkItem
	if it.WhatIsNext() != jsoniter.ObjectValue {
		it.Skip()
		return item
	}
	for op := it.ReadObject(); op != ""; op = it.ReadObject() {
		if it.WhatIsNext() != jsoniter.ObjectValue {
			it.Skip()
			continue
		}
		for field := it.ReadObject(); field != ""; field = it.ReadObject() {
			switch field {
			case "status":
				if it.WhatIsNext() == jsoniter.NumberValue {
					item.status = it.ReadInt()
				} else {
					it.Skip()
				}
			case "error":
				item.errType, item.reason = readError(it)
			default:
				it.Skip()
			}
		}
	}
	return item
}

// readError reads an item's error: an object with type, reason and
// caused_by (Elasticsearch 5+, OpenSearch), or a plain string (older).
func readError(it *jsoniter.Iterator) (typ, reason string) {
	switch it.WhatIsNext() {
	case jsoniter.StringValue:
		return "", it.ReadString()
	case jsoniter.ObjectValue:
	default:
		it.Skip()
		return "", ""
	}
	var causeType, causeReason string
	for field := it.ReadObject(); field != ""; field = it.ReadObject() {
		switch field {
		case "type":
			typ = readString(it)
		case "reason":
			reason = scrubReason(readString(it))
		case "caused_by":
			causeType, causeReason = readError(it)
		default:
			it.Skip()
		}
	}
	if causeType != "" || causeReason != "" {
		reason = strings.TrimSpace(reason + " (caused by " + strings.TrimSpace(causeType+": "+causeReason) + ")")
	}
	return typ, reason
}

func readString(it *jsoniter.Iterator) string {
	if it.WhatIsNext() != jsoniter.StringValue {
		it.Skip()
		return ""
	}
	return it.ReadString()
}

// scrubReason keeps record contents out of logs: Elasticsearch quotes the
// start of the offending value in mapping errors ("… in document with id
// 'x'. Preview of field's value: 'secret'").
func scrubReason(r string) string {
	if i := strings.Index(r, "Preview of field's value"); i >= 0 {
		r = strings.TrimRight(r[:i], ". ")
	}
	if n := 200; len(r) > n {
		for n > 0 && !utf8.RuneStart(r[n]) {
			n--
		}
		r = r[:n] + "..."
	}
	return r
}
