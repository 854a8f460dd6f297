package lnav_test

import (
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
)

// The raw format rule by rule (docs/contract.md, "Fields added"): what lnav must
// read from each record, written out by hand, and the same comparison with
// the parser as in TestRawFormatAgreesWithTheParser.
func TestRawFormatFollowsTheContract(t *testing.T) {
	const (
		contact  = "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
		session  = "ab4e7aff-8627-434a-a2ef-7e200363197e"
		message  = "5c637aa3-2499-428b-9eb8-192114cb890f"
		customer = "USER_DEFAULT_9a0a411c-f9c7-4af7-9754-024bf157a3ef"
	)
	tests := []struct {
		name string
		line string            // one record: its physical lines joined by "\n"
		want map[string]string // lnav's columns; an absent one must be empty (body: only when given)
	}{
		{"the guide's format line, with its prefix and timestamp",
			"ctlive | 2025-02-27T17:19:20.130843858Z [CT7PROTOCOL] [AGM] newContact url:https://server1/ctLiveService/contact",
			map[string]string{"service": "ctlive", "function": "CT7PROTOCOL", "tenant": "AGM", "level": "info",
				"body": "newContact url:https://server1/ctLiveService/contact"}},
		{"components before the tenant are skipped",
			"ctlive | 2025-02-27T14:25:35.874066650Z [getIMChannelServiceMessage] [DOMAIN] [AGM] [chatClosedSuccess]",
			map[string]string{"service": "ctlive", "function": "getIMChannelServiceMessage", "tenant": "AGM", "level": "info", "body": ""}},
		{"a message type is no tenant",
			"ctlive  | 2025-02-27T17:19:23.371839891Z [socketIO] [MENU_RESPONSE] [ACME_EU] option 3 chosen",
			map[string]string{"service": "ctlive", "function": "socketIO", "tenant": "ACME_EU", "level": "info"}},
		{"a level word is no tenant, and sets the level",
			"ctlive  | 2025-02-27T17:19:23.371839892Z [REDIS] [WARN] [DEFAULT] slow reply: 1200 ms",
			map[string]string{"service": "ctlive", "function": "REDIS", "tenant": "DEFAULT", "level": "warn"}},
		{"a token with a lower-case letter is no tenant: the contactID's tenant is",
			"ctlive  | 2025-02-27T17:19:25.237182472Z [retrieveContactByChatID] [Redis] Get contact for chat [" + contact + "]",
			map[string]string{"service": "ctlive", "function": "retrieveContactByChatID", "tenant": "AGM",
				"contactID": contact, "channel": "CHAT", "level": "info"}},
		{"a tenant may hold an underscore; the first contactID counts",
			"ctlive  | 2025-02-27T14:24:46.013687127Z [REDIS] Push message id [b5274b74-20b5-471a-9be4-7ac969e7c313] to room [INSTAGRAM_ACME_EU_0a765eae-b0e0-4aa0-b944-8a35a42a9647], was [" + contact + "]",
			map[string]string{"service": "ctlive", "function": "REDIS", "tenant": "ACME_EU", "level": "info",
				"contactID": "INSTAGRAM_ACME_EU_0a765eae-b0e0-4aa0-b944-8a35a42a9647", "channel": "INSTAGRAM",
				"messageID": "b5274b74-20b5-471a-9be4-7ac969e7c313"}},
		{"a customer's user ID gives the tenant, and is no contactID",
			"ctlive  | 2025-02-27T14:26:20.086096419Z [socketIO] [joinRoom] Customer [" + customer + "] connected",
			map[string]string{"service": "ctlive", "function": "socketIO", "tenant": "DEFAULT", "userID": customer, "level": "info"}},
		{"an agent's login ends before a trailing dot",
			"ctlive  | 2025-02-27T17:19:25.237696763Z [socketIO] [joinContact] Contact [" + contact + "] assigned to agent USER_jdoe@acd.example.com.",
			map[string]string{"service": "ctlive", "function": "socketIO", "tenant": "AGM", "contactID": contact,
				"channel": "CHAT", "userID": "USER_jdoe@acd.example.com", "level": "info"}},
		{"an agent's login may hold the contract's ._%+-@, '_' too",
			"ctlive  | 2025-02-27T17:19:23.481576390Z [API] [AGM] POST /livechat/AGM/login from agent [USER_first_last+ops@agm.example]",
			map[string]string{"service": "ctlive", "function": "API", "tenant": "AGM", "userID": "USER_first_last+ops@agm.example", "level": "info"}},
		{"session ID: the UUID is the session's, not a message's",
			"ctlive  | 2025-02-27T17:19:23.481739188Z [agentLogin] [AGM] Session ID [" + session + "] returned to agent [USER_jdoe@acd.example.com]",
			map[string]string{"service": "ctlive", "function": "agentLogin", "tenant": "AGM", "sessionID": session,
				"userID": "USER_jdoe@acd.example.com", "level": "info"}},
		{"ctlivetoken in a query string is the session",
			"ctlive  | 2025-02-27T17:19:22.064990838Z [HTTP] GET /livechat/AGM/contacts?ctlivetoken=" + session + " 200 36 ms",
			map[string]string{"service": "ctlive", "function": "HTTP", "sessionID": session, "level": "info"}},
		{"a message ID is a UUID after id that is not the session",
			"ctlive  | 2025-02-27T14:25:35.894892767Z [socketIO] [evaluateSendEndSuccessMessage] session [" + session + "] id [" + session + "] then id [" + message + "]",
			map[string]string{"service": "ctlive", "function": "socketIO", "sessionID": session, "messageID": message, "level": "info"}},
		{"a UUID glued to more is not standing alone",
			"ctlive  | 2025-02-27T14:25:35.894892768Z [socketIO] session [" + session + "_old] id [" + message + "-2]",
			map[string]string{"service": "ctlive", "function": "socketIO", "level": "info"}},
		{"IDs and level words inside a payload are data",
			"ctlive  | 2025-02-27T17:19:23.371839893Z [whatsappWebhook] [TENANT1] Incoming message:{\"text\":\"failed again, see " + contact + "\",\"session\":\"" + session + "\",\"from\":\"" + customer + "\"}",
			map[string]string{"service": "ctlive", "function": "whatsappWebhook", "tenant": "TENANT1", "level": "info"}},
		{"a word ending in Error before a colon is an exception",
			"ctlive  | 2025-02-27T17:19:42.085435614Z [getTranscriptByChatID] [AGM] Error: contact [CHAT_AGM_eb8c3ff1-a80a-4efa-a167-f9358ef65c9b] not found in database\n" +
				"ctlive  | 2025-02-27T17:19:42.085437114Z     at getTranscriptByChatID (/app/src/mongo/transcripts.js:57:13)",
			map[string]string{"service": "ctlive", "function": "getTranscriptByChatID", "tenant": "AGM",
				"contactID": "CHAT_AGM_eb8c3ff1-a80a-4efa-a167-f9358ef65c9b", "channel": "CHAT", "errorType": "Error", "level": "error"}},
		{"the first error type wins; Unhandled is an exception too",
			"ctlive  | 2025-02-27T17:20:00.857257938Z (node:1) UnhandledPromiseRejectionWarning: MongoNetworkError: connection 2 to 172.18.0.4:27017 closed",
			map[string]string{"service": "ctlive", "errorType": "MongoNetworkError", "level": "error"}},
		{"the word exception is an exception",
			"ctlive  | 2025-02-27T14:25:36.000000001Z [getTranscriptByChatID] [AGM] Exception while reading transcript for CHAT_AGM_eb8c3ff1-a80a-4efa-a167-f9358ef65c9b",
			map[string]string{"service": "ctlive", "function": "getTranscriptByChatID", "tenant": "AGM",
				"contactID": "CHAT_AGM_eb8c3ff1-a80a-4efa-a167-f9358ef65c9b", "channel": "CHAT", "level": "error"}},
		{"an error word beats an earlier warn",
			"ctlive  | 2025-02-27T14:26:13.440186564Z [REDIS] warn: connection to redis:6379 failed, reconnecting in 2000 ms",
			map[string]string{"service": "ctlive", "function": "REDIS", "level": "error"}},
		{"an error's properties and closing brace join the stack",
			"ctlive  | 2025-02-27T14:25:36.092598855Z [saveTranscript] [AGM] MongoServerError: E11000 duplicate key error\n" +
				"ctlive  | 2025-02-27T14:25:36.092600355Z     at InsertOneOperation.execute (/app/node_modules/mongodb/lib/operations/insert.js:51:19) {\n" +
				"ctlive  | 2025-02-27T14:25:36.092607855Z   keyValue: { _id: 'CHAT_DEFAULT_1d4231a3-ab5c-424c-8b66-b1c2f9c43c0c' },\n" +
				"ctlive  | 2025-02-27T14:25:36.092615355Z }",
			map[string]string{"service": "ctlive", "function": "saveTranscript", "tenant": "AGM", "errorType": "MongoServerError", "level": "error"}},
		{"an exception known by its stack alone keeps its first line's level",
			"ctlive  | 2025-02-27T14:25:37.000000001Z [socketIO] [AGM] handler aborted\n" +
				"ctlive  | 2025-02-27T14:25:37.000000002Z     at Socket.<anonymous> (/app/src/socket/contact.js:88:11)",
			map[string]string{"service": "ctlive", "function": "socketIO", "tenant": "AGM", "level": "info"}},
		{"compose's colours around the prefix",
			"\x1b[36mctlive  |\x1b[0m 2025-02-27T14:25:38.000000001Z [socketIO] [endContact] from client with room [" + contact + "]",
			map[string]string{"service": "ctlive", "function": "socketIO", "tenant": "AGM", "contactID": contact, "channel": "CHAT", "level": "info"}},
		{"a replica's prefix",
			"ctlive-1  | 2025-02-27T14:25:38.000000002Z [CTI] [DEFAULT] Agents available: 2, contacts in queue: 0",
			map[string]string{"service": "ctlive-1", "function": "CTI", "tenant": "DEFAULT", "level": "info"}},
		{"compose v1's prefix",
			"ctlive_ctlive_1  | 2025-02-27T14:25:38.000000003Z [CTI] [TENANT1] Agents available: 1, contacts in queue: 3",
			map[string]string{"service": "ctlive_ctlive_1", "function": "CTI", "tenant": "TENANT1", "level": "info"}},
		{"docker logs -t: a timestamp without prefix",
			"2025-02-27T14:25:38.000000004Z [CTI] [AGM] Agents available: 0, contacts in queue: 1",
			map[string]string{"function": "CTI", "tenant": "AGM", "level": "info"}},
	}
	lines := make([]string, len(tests))
	records := make([]corpus.Record, len(tests))
	for i, tc := range tests {
		lines[i] = tc.line
		records[i] = corpus.Record{Line: tc.line}
	}
	l := installed(t)
	rows := l.query(t, rawQuery, writeLines(t, "contract.log", lines))
	byFirst := map[string]map[string]any{}
	for _, row := range rows {
		first, _, _ := strings.Cut(str(row, "log_raw_text"), "\n")
		byFirst[first] = row
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, _, _ := strings.Cut(tc.line, "\n")
			row, ok := byFirst[first]
			if !ok {
				t.Fatalf("no lnav message for %q", first)
			}
			if got := str(row, "log_raw_text"); got != tc.line {
				t.Errorf("lnav's message is\n%q, want the whole record\n%q", got, tc.line)
			}
			for _, f := range fields {
				if f.name == "time" || f.name == "exception" {
					continue
				}
				if got := f.lnav(row); got != tc.want[f.name] {
					t.Errorf("%s = %q, want %q", f.name, got, tc.want[f.name])
				}
			}
			if want, ok := tc.want["body"]; ok {
				if got, _, _ := strings.Cut(str(row, "log_body"), "\n"); got != want {
					t.Errorf("body = %q, want %q", got, want)
				}
			}
		})
	}
	t.Run("the parser agrees", func(t *testing.T) {
		compareWithOracle(t, rows, records)
	})
}
