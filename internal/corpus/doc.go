// Package corpus generates realistic CTLive log records, with the fields
// the contract (docs/contract.md) says the parser must find in each, for the
// project's tests and benchmarks, and the bundled testdata/sample.log.
//
// CTLive's log format is described only by the support engineers' guide
// "CTLive: log inspection"; its real lines are kept verbatim (RealLines,
// testdata/inspection-lines.txt) and appear in every corpus of 200 records
// or more. The other lines are written in the same style: the function in
// brackets, then the tenant, then the message.
//
// # How a corpus is made
//
// A small discrete-event simulation of one CTLive hub with four tenants
// (AGM, TENANT1, DEFAULT and ACME_EU, whose name holds an underscore) and
// four channels (CHAT for web chat, WHATSAPP, MESSENGER, INSTAGRAM): new
// contacts arrive, the CTI accepts them, agents log in (JWT, session ID),
// join them and exchange messages with the customers, with delivery and
// seen reports; contacts end, and their transcripts are saved. Routine
// traffic, warnings, errors and exceptions arrive on their own clocks. One
// contact's lines share its contact ID from "Generate UUID" to the
// transcript, so a search for one contact finds its whole life.
//
// The corpus is two windows of that hub, half of n records each: one from
// 2025-02-27T14:25:33Z, holding the guide's End Contact example in place
// (its contact is open when the window starts), and one from 17:19:19Z,
// holding the guide's New Contact example (the agent of the guide's Agent
// Login section then logs in with the guide's session ID and joins it)
// and, 40 s later, the guide's exception for contact
// CHAT_AGM_eb8c3ff1-a80a-4efa-a167-f9358ef65c9b. The first window ends
// before the second begins, so timestamps always increase. Each window
// starts on a running hub: some agents are logged in and some contacts are
// open, their earlier lines outside the window.
//
// # The mix
//
// Share of records per use case (Record.Case), averaged over seeds 1–5,
// for n = 10,000 (~5 minutes of a busy hub) and n = 100,000 (the first
// window is then ~30 minutes, and fewer contacts were open before it):
//
//	use case        10k     100k   lines
//	message         56.0%   48.5%  messages routed, delivery and seen reports
//	newContact       7.3%    8.9%  Generate UUID, REDIS set, CT7PROTOCOL url, response/accepted payloads
//	endContact       9.1%    9.4%  endContact, retrieveContactByChatID, not yet ended, service message, CTI url
//	saveTranscript   7.3%    7.7%  messages, delivery and seen reports from Redis, saved in MongoDB
//	joinContact      4.5%    5.1%  agent with session joins room, contact assigned
//	agentLogin       3.0%    3.5%  POST login, JWT validated, session ID returned, socket connected
//	routine          8.5%   11.1%  keepalives, queue sizes, HTTP requests, connections, logouts
//	warning          2.9%    3.8%  slow CTI or MongoDB, missed keepalives, expired sessions, ...
//	error            0.4%    0.6%  "failed"/"failure" lines that are not exceptions
//	exception        1.0%    1.3%  Node errors, most with stack frames
//
// About 5.5% of records carry a JSON payload; about 95% are level info,
// 3% warn, 1.5% error.
//
// Lines: 93% carry the docker compose v2 prefix `ctlive  | `, 3% a
// replica's (`ctlive-1  | `), 1% compose v1's (`ctlive_ctlive_1  | `), 1%
// a colored prefix as compose prints it on a terminal (ANSI escapes), 1% a
// timestamp only (`docker logs -t`), 1% the body only (Fluent Bit's docker
// parser); the guide's lines keep its `ctlive | `. Timestamps have nine
// fractional digits; 2% are written with an offset (+01:00, -03:00,
// +05:30) rather than Z.
//
// Exceptions: a TypeError printed by Node itself (no token); a TypeError in
// a socket.io handler; Error from getTranscriptByChatID (the guide's case)
// and from the CTI call (axios 503); MongoServerError on a transcript saved
// twice (frames, then the error's properties in braces); JsonWebTokenError
// and TokenExpiredError; ioredis' "Unhandled error event: Error: ..."; and
// old Node's "(node:1) UnhandledPromiseRejectionWarning: MongoNetworkError:
// ..." followed by Node's advice as a second record without frames.
//
// # What Want covers
//
// Expect holds service, time, function, tenant, contactID, channel,
// userID, sessionID, messageID, event, level, errorType, url, the number of
// stack frames and whether a payload parses: all exact, an empty value
// meaning the field must be absent. Unchecked marks what the contract
// leaves open; only errorType ever is, on three Node forms where several
// words stand before a colon ("(node:1) UnhandledPromiseRejectionWarning:
// MongoNetworkError:", "Unhandled error event: Error:"). Scopes, message,
// the payloads' values, error and the frames' text are not covered.
//
// Readings of the contract that Want relies on (the generator avoids lines
// whose fields would depend on a closer reading):
//   - the tenant token is looked for among the leading tokens after the
//     function only ([getIMChannelServiceMessage] [DOMAIN] [AGM] gives AGM;
//     [HTTP] GET /livechat/AGM/config gives none);
//   - the user-ID fallback for the tenant uses the line's userID;
//   - a social channel's message ID is not a UUID: no messageID;
//   - "session ID [uuid]" gives the sessionID, and no messageID although
//     the word ID precedes the UUID;
//   - "failed" inside a payload's JSON string leaves the level info;
//   - an agent ID ending a sentence ("for agent USER_x@y.example.") stops
//     before the dot;
//   - the error type is the first word before a colon in the first line;
//   - a frame is a following line starting with "at " once indented, so
//     "at fn (file:1:2) {" is a frame and "  code: 11000," is not.
//
// The package's tests check every record's Want against an independent
// regular-expression reading of the contract (oracle_test.go).
//
// # Contacts' lives
//
// Lifecycles(records) gives every contact's true lifecycle as
// ctlive-inspect defines it (first and last line, lines, ended, transcript
// saved, the sessions that joined it and their agents, exceptions,
// errors), from the typed arguments each line was written with: the truth
// the tool's tests compare with. It holds for any prefix of a corpus, such
// as a log cut while a contact is still open.
//
// # Determinism
//
// The generator uses its own splitmix64 source and integer arithmetic only,
// so a seed gives the same bytes on every Go release and architecture:
// testdata/sample.log depends on it (regenerate with go generate
// ./internal/corpus; a test fails when the file is stale). Generation takes
// about 3 µs per record.
package corpus
