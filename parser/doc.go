// Package parser is the CTLive line grammar: from one log record's bytes
// to the fields of docs/contract.md ("Fields added"), with no cgo, no I/O
// and no state between lines.
//
// A record is what docker compose writes for one CTLive log call, with the
// multiline parser's continuation lines joined by '\n':
//
//	ctlive  | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] [AGM] newContact response:{"chat":true}
//	^prefix   ^time (RFC 3339, optional)   ^function  ^leading tokens  ^message
//
// Parse fills a caller-owned, reused Result with slices of the line (of an
// ANSI-free copy when the line holds colours), never copies of fields:
// service, time, function, scopes, tenant, contactID and channel,
// userID, sessionID, messageID, event, level, errorType and stack frames,
// the JSON payloads after a label ("response:{…}") and every credential
// found (Result.Secrets, contract "Credentials and personal data").
// Leading tokens in capitals are the tenant unless they are a component,
// a level word or a message type (DefaultComponents, Options); IDs are
// taken only outside payloads (contract "Where IDs and the tenant may
// come from"), so a customer's chat text cannot choose a record's tenant.
//
// Cost is linear in the line: every byte is looked at a bounded number of
// times, with no regular expression and no allocation outside payload
// decoding (BenchmarkParse, BenchmarkParseShapes with internal/hostile's
// lines). With GOEXPERIMENT=simd on an AVX2 CPU the scans look at 32
// bytes per instruction (classify_simd.go); the portable code
// (classify_swar.go) gives the same results, which the fuzz tests check.
package parser
