package parser

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// want lists every field a line yields; a field left empty must be absent.
type want struct {
	Service, Time, Function, Tenant, ContactID, Channel, UserID string
	SessionID, MessageID, Event, Message, URL, Level            string
	Error, ErrorType                                            string
	Scopes, Stack                                               []string
	Payloads                                                    []string // "label=json"
	UnixNano                                                    int64    // checked when Time is set
}

func got(r *Result) want {
	w := want{
		Service: string(r.Service), Time: string(r.TimeText), Function: string(r.Function),
		Tenant: string(r.Tenant), ContactID: string(r.ContactID), Channel: string(r.Channel),
		UserID: string(r.UserID), SessionID: string(r.SessionID), MessageID: string(r.MessageID),
		Event: r.Event.String(), Message: string(r.Message), URL: string(r.URL), Level: r.Level.String(),
		Error: string(r.Error), ErrorType: string(r.ErrorType),
	}
	for _, s := range r.Scopes {
		w.Scopes = append(w.Scopes, string(s))
	}
	for _, s := range r.Stack {
		w.Stack = append(w.Stack, string(s))
	}
	for _, p := range r.Payloads {
		w.Payloads = append(w.Payloads, string(p.Label)+"="+string(p.JSON))
	}
	if r.TimeText != nil {
		w.UnixNano = r.Time.UnixNano()
	}
	return w
}

func nano(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

const (
	cidA    = "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
	cidB    = "CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024"
	session = "ab4e7aff-8627-434a-a2ef-7e200363197e"
	msgID   = "5c637aa3-2499-428b-9eb8-192114cb890f"
	caps    = `{"chat":true,"cbn":true,"video":true,"cbl":true,"call":true}`
)

// The source document's real lines, every field they carry.
var documentLines = []struct {
	name string
	line string
	want want
}{
	{"format example: function then tenant", "[CT7PROTOCOL] [TENANT1] newContact url:https://server1/ctLiveService/contact", want{
		Function: "CT7PROTOCOL", Scopes: []string{"CT7PROTOCOL", "TENANT1"}, Tenant: "TENANT1", Event: "newContact",
		Message: "newContact url:https://server1/ctLiveService/contact", URL: "https://server1/ctLiveService/contact", Level: "info"}},
	{"new contact: generated contactID", "ctlive | 2025-02-27T17:19:20.129613061Z [socketIO] newContact. Generate UUID [" + cidA + "]", want{
		Service: "ctlive", Time: "2025-02-27T17:19:20.129613061Z", UnixNano: nano("2025-02-27T17:19:20.129613061Z"),
		Function: "socketIO", Scopes: []string{"socketIO"}, Tenant: "AGM", ContactID: cidA, Channel: "CHAT",
		Event: "newContact", Message: "newContact. Generate UUID [" + cidA + "]", Level: "info"}},
	{"new contact: stored in redis", "ctlive | 2025-02-27T17:19:20.130344604Z [REDIS] Set contact [" + cidA + "] in redis db: ,OK,,1", want{
		Service: "ctlive", Time: "2025-02-27T17:19:20.130344604Z", UnixNano: nano("2025-02-27T17:19:20.130344604Z"),
		Function: "REDIS", Scopes: []string{"REDIS"}, Tenant: "AGM", ContactID: cidA, Channel: "CHAT",
		Message: "Set contact [" + cidA + "] in redis db: ,OK,,1", Level: "info"}},
	{"new contact: CTI webhook url", "ctlive | 2025-02-27T17:19:20.130843858Z [CT7PROTOCOL] [AGM] newContact url:https://server1/ctLiveService/contact", want{
		Service: "ctlive", Time: "2025-02-27T17:19:20.130843858Z", UnixNano: nano("2025-02-27T17:19:20.130843858Z"),
		Function: "CT7PROTOCOL", Scopes: []string{"CT7PROTOCOL", "AGM"}, Tenant: "AGM", Event: "newContact",
		Message: "newContact url:https://server1/ctLiveService/contact", URL: "https://server1/ctLiveService/contact", Level: "info"}},
	{"new contact: webhook response payload", "ctlive | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] newContact response:" + caps, want{
		Service: "ctlive", Time: "2025-02-27T17:19:22.156214484Z", UnixNano: nano("2025-02-27T17:19:22.156214484Z"),
		Function: "CT7PROTOCOL", Scopes: []string{"CT7PROTOCOL"}, Event: "newContact",
		Message: "newContact response:" + caps, Payloads: []string{"response=" + caps}, Level: "info"}},
	{"new contact: accepted, no leading token", "ctlive | 2025-02-27T17:19:22.156318681Z newContact accepted:" + caps, want{
		Service: "ctlive", Time: "2025-02-27T17:19:22.156318681Z", UnixNano: nano("2025-02-27T17:19:22.156318681Z"),
		Event: "newContact", Message: "newContact accepted:" + caps, Payloads: []string{"accepted=" + caps}, Level: "info"}},
	{"end contact: request from client", "ctlive | 2025-02-27T14:25:35.874036430Z [socketIO] [endContact] from client with room [" + cidB + "]", want{
		Service: "ctlive", Time: "2025-02-27T14:25:35.874036430Z", UnixNano: nano("2025-02-27T14:25:35.874036430Z"),
		Function: "socketIO", Scopes: []string{"socketIO", "endContact"}, Tenant: "AGM", ContactID: cidB, Channel: "CHAT",
		Event: "endContact", Message: "from client with room [" + cidB + "]", Level: "info"}},
	{"end contact: redis lookup, component is not the tenant", "ctlive | 2025-02-27T14:25:35.874053466Z [retrieveContactByChatID] [REDIS] Get contact for chat [" + cidB + "]", want{
		Service: "ctlive", Time: "2025-02-27T14:25:35.874053466Z", UnixNano: nano("2025-02-27T14:25:35.874053466Z"),
		Function: "retrieveContactByChatID", Scopes: []string{"retrieveContactByChatID", "REDIS"}, Tenant: "AGM",
		ContactID: cidB, Channel: "CHAT", Message: "Get contact for chat [" + cidB + "]", Level: "info"}},
	{"end contact: not yet ended is not an error", "ctlive | 2025-02-27T14:25:35.874064518Z [socketIO] [endContact] Contact [" + cidB + "] not yet ended", want{
		Service: "ctlive", Time: "2025-02-27T14:25:35.874064518Z", UnixNano: nano("2025-02-27T14:25:35.874064518Z"),
		Function: "socketIO", Scopes: []string{"socketIO", "endContact"}, Tenant: "AGM", ContactID: cidB, Channel: "CHAT",
		Event: "endContact", Message: "Contact [" + cidB + "] not yet ended", Level: "info"}},
	{"end contact: DOMAIN then the tenant, tokens only", "ctlive | 2025-02-27T14:25:35.874066650Z [getIMChannelServiceMessage] [DOMAIN] [AGM] [chatClosedSuccess]", want{
		Service: "ctlive", Time: "2025-02-27T14:25:35.874066650Z", UnixNano: nano("2025-02-27T14:25:35.874066650Z"),
		Function: "getIMChannelServiceMessage", Scopes: []string{"getIMChannelServiceMessage", "DOMAIN", "AGM", "chatClosedSuccess"},
		Tenant: "AGM", Level: "info"}},
	{"end contact: service message with id", "ctlive | 2025-02-27T14:25:35.894892767Z [socketIO] [evaluateSendEndSuccessMessage] Service message from room [" + cidB + "] with id [" + msgID + "] type [chatClosedSuccess]", want{
		Service: "ctlive", Time: "2025-02-27T14:25:35.894892767Z", UnixNano: nano("2025-02-27T14:25:35.894892767Z"),
		Function: "socketIO", Scopes: []string{"socketIO", "evaluateSendEndSuccessMessage"}, Tenant: "AGM",
		ContactID: cidB, Channel: "CHAT", MessageID: msgID,
		Message: "Service message from room [" + cidB + "] with id [" + msgID + "] type [chatClosedSuccess]", Level: "info"}},
}

func TestParseDocumentLines(t *testing.T) {
	p := New(Options{})
	for _, tc := range documentLines {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			p.Parse([]byte(tc.line), &r)
			if g := got(&r); !reflect.DeepEqual(g, tc.want) {
				t.Errorf("line %q\n got %+v\nwant %+v", tc.line, g, tc.want)
			}
		})
	}
}

// One case per contract rule, positive and negative. Only the fields named
// in check are compared, so each case states the rule it is about.
var rules = []struct {
	name  string
	opts  Options
	line  string
	check map[string]string // field -> value ("" = must be absent)
}{
	// prefix, ANSI, timestamp
	{"compose prefix with a replica number", Options{}, "ctlive-1  | [socketIO] x", map[string]string{"service": "ctlive-1", "function": "socketIO"}},
	{"compose prefix with underscores", Options{}, "ctlive_ctlive_1 | [socketIO] x", map[string]string{"service": "ctlive_ctlive_1"}},
	{"compose colours never enter a field", Options{}, "\x1b[36mctlive  |\x1b[0m 2025-02-27T17:19:20.129613061Z [socketIO] \x1b[1mnewContact\x1b[0m", map[string]string{"service": "ctlive", "time": "2025-02-27T17:19:20.129613061Z", "message": "newContact", "event": "newContact"}},
	{"a bar without a service is not a prefix", Options{}, " | [socketIO] x", map[string]string{"service": "", "function": ""}},
	{"timestamp without fraction", Options{}, "2025-02-27T17:19:20Z [socketIO] x", map[string]string{"time": "2025-02-27T17:19:20Z", "function": "socketIO"}},
	{"timestamp with an offset is kept as written", Options{}, "ctlive | 2025-02-27T18:19:20.5+01:00 [socketIO] x", map[string]string{"time": "2025-02-27T18:19:20.5+01:00", "unix": "1740676760500000000"}},
	{"ten fractional digits are not a timestamp", Options{}, "2025-02-27T17:19:20.1234567891Z [socketIO] x", map[string]string{"time": "", "function": ""}},
	{"an impossible date is not a timestamp", Options{}, "2025-02-30T17:19:20Z [socketIO] x", map[string]string{"time": "", "function": ""}},
	{"timestamp must be followed by a space", Options{}, "2025-02-27T17:19:20Z[socketIO] x", map[string]string{"time": ""}},

	// leading tokens, function, scopes, tenant
	{"first token is the function, never the tenant", Options{}, "[AGM] [TENANT1] x", map[string]string{"function": "AGM", "tenant": "TENANT1"}},
	{"a lone capital token is only the function", Options{}, "[AGM] x", map[string]string{"function": "AGM", "tenant": ""}},
	{"component names are not tenants", Options{}, "[fn] [REDIS] [MONGODB] [MONGO] [DOMAIN] [CT7PROTOCOL] [HTTP] [CTI] [JWT] [API] [SOCKETIO] x", map[string]string{"tenant": ""}},
	{"user-added components are not tenants", Options{Components: []string{"kafka"}}, "[fn] [KAFKA] [ACME] x", map[string]string{"tenant": "ACME"}},
	{"DEFAULT is a real tenant", Options{}, "[fn] [DEFAULT] x", map[string]string{"tenant": "DEFAULT"}},
	{"a tenant may hold digits and underscores", Options{}, "[fn] [ACME_EU2] x", map[string]string{"tenant": "ACME_EU2"}},
	{"lower case tokens are not tenants", Options{}, "[fn] [endContact] [Agm] x", map[string]string{"tenant": ""}},
	{"digits alone are not a tenant", Options{}, "[fn] [2025] x", map[string]string{"tenant": ""}},
	{"allow-list: unknown capital token is not a tenant", Options{KnownTenants: []string{"AGM"}}, "[fn] [OK] [AGM] x", map[string]string{"tenant": "AGM"}},
	{"allow-list compares exactly: agm is not AGM", Options{KnownTenants: []string{"agm"}}, "[fn] [AGM] x", map[string]string{"tenant": ""}},
	{"level words are not tenants", Options{}, "[socketIO] [ERROR] [AGM] send failed", map[string]string{"function": "socketIO", "tenant": "AGM"}},
	{"every level word is excluded", Options{}, "[fn] [ERROR] [WARN] [WARNING] [INFO] [DEBUG] [TRACE] [FATAL] x", map[string]string{"tenant": ""}},
	{"message types are not tenants", Options{}, "[sendMessage] [TEXT] to room [" + cidA + "]", map[string]string{"tenant": "AGM", "contactID": cidA}},
	{"every message type is excluded", Options{}, "[fn] [TEXT] [IMAGE] [LINK] [MENU] [MENU_RESPONSE] [DOCUMENT] [AUDIO] [VIDEO] [LOCATION] [QUICK_REPLY] x", map[string]string{"tenant": ""}},
	{"allow-list does not veto a contactID's tenant", Options{KnownTenants: []string{"AGM"}}, "[fn] x " + "CHAT_ZED_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", map[string]string{"tenant": "ZED"}},
	{"token tenant wins over the contactID's", Options{}, "[fn] [TENANT1] room [" + cidA + "]", map[string]string{"tenant": "TENANT1", "contactID": cidA}},
	{"tokens are separated by single spaces", Options{}, "[fn]  [AGM] x", map[string]string{"function": "fn", "scopes": "fn", "tenant": "", "message": "[AGM] x"}},
	{"a token with a space is not a token", Options{}, "[not a token] x", map[string]string{"function": ""}},
	{"empty and nested brackets are not tokens", Options{}, "[] [ ] [[x]]", map[string]string{"function": "", "message": ""}},
	{"unbalanced bracket", Options{}, "[socketIO newContact", map[string]string{"function": "", "event": "newContact", "message": "[socketIO newContact"}},

	// contactID, channel, userID
	{"contactID of a social channel", Options{}, "[fn] WHATSAPP_TENANT1_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", map[string]string{"contactID": "WHATSAPP_TENANT1_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", "channel": "WHATSAPP", "tenant": "TENANT1"}},
	{"a contactID tenant may hold underscores", Options{}, "x CHAT_ACME_EU_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", map[string]string{"contactID": "CHAT_ACME_EU_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", "tenant": "ACME_EU", "channel": "CHAT"}},
	{"the first contactID wins", Options{}, "x CHAT_AAA_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c CHAT_BBB_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024", map[string]string{"contactID": "CHAT_AAA_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", "tenant": "AAA"}},
	{"a contactID glued to a word is not one", Options{}, "x roomCHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", map[string]string{"contactID": "", "tenant": ""}},
	{"a contactID after an underscore is not one", Options{}, "x key_CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", map[string]string{"contactID": ""}},
	{"a lower-case channel is not a contactID", Options{}, "x chat_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", map[string]string{"contactID": ""}},
	{"a contactID needs a whole UUID", Options{}, "x CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32", map[string]string{"contactID": "", "event": ""}},
	{"upper-case hex is still a UUID", Options{}, "x CHAT_AGM_ABBBA71E-67B2-4F9C-AB68-DCF3F95BD32C", map[string]string{"contactID": "CHAT_AGM_ABBBA71E-67B2-4F9C-AB68-DCF3F95BD32C"}},
	{"customer userID", Options{}, "x from USER_DEFAULT_9a0a411c-f9c7-4af7-9754-024bf157a3ef", map[string]string{"userID": "USER_DEFAULT_9a0a411c-f9c7-4af7-9754-024bf157a3ef", "contactID": "", "channel": "", "tenant": "DEFAULT"}},
	{"agent userID is a login", Options{}, "x agent USER_jdoe@example.com joined", map[string]string{"userID": "USER_jdoe@example.com", "tenant": ""}},
	{"agent login drops a trailing dot", Options{}, "x by USER_jdoe@acd.example.com.", map[string]string{"userID": "USER_jdoe@acd.example.com"}},
	{"an agent login may hold underscores", Options{}, "x by USER_first_last@acd.example.com", map[string]string{"userID": "USER_first_last@acd.example.com", "tenant": ""}},
	{"whatever follows a contactID's UUID, the contactID is the first", Options{}, "[socketIO] saveTranscript saved CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c-transcript.pdf, customer wrote: hello CHAT_B_9a0a411c-f9c7-4af7-9754-024bf157a3ef", map[string]string{"contactID": cidA, "tenant": "AGM", "channel": "CHAT"}},
	{"a contactID glued to a word", Options{}, "x CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32cx", map[string]string{"contactID": cidA}},
	{"a customer userID before a dash is still a customer's", Options{}, "x from USER_AGM_9a0a411c-f9c7-4af7-9754-024bf157a3ef-1", map[string]string{"userID": "USER_AGM_9a0a411c-f9c7-4af7-9754-024bf157a3ef", "tenant": "AGM"}},
	{"a user ID is never a contactID", Options{}, "x USER_AGM_9a0a411c-f9c7-4af7-9754-024bf157a3ef CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", map[string]string{"userID": "USER_AGM_9a0a411c-f9c7-4af7-9754-024bf157a3ef", "contactID": cidA}},
	{"contactID tenant wins over the userID's", Options{}, "x USER_ZED_9a0a411c-f9c7-4af7-9754-024bf157a3ef CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", map[string]string{"tenant": "AGM"}},
	{"an agent userID gives no tenant, nor does a customer's user ID after it", Options{}, "x USER_jdoe@example.com USER_ZED_9a0a411c-f9c7-4af7-9754-024bf157a3ef", map[string]string{"userID": "USER_jdoe@example.com", "tenant": ""}},
	{"the audit's joinContact: the agent is the userID, the customer gives no tenant", Options{}, "ctlive | 2025-03-04T09:00:00.100Z [socketIO] [joinContact] agent USER_jdoe@acd.example.com joined customer USER_DEFAULT_9a0a411c-f9c7-4af7-9754-024bf157a3ef", map[string]string{"userID": "USER_jdoe@acd.example.com", "tenant": ""}},
	{"a customer userID first gives its tenant", Options{}, "x USER_ZED_9a0a411c-f9c7-4af7-9754-024bf157a3ef then USER_jdoe@example.com", map[string]string{"userID": "USER_ZED_9a0a411c-f9c7-4af7-9754-024bf157a3ef", "tenant": "ZED"}},

	// sessionID, messageID
	{"session ID returned at login", Options{}, "[socketIO] agentLogin ok, session ID " + session, map[string]string{"sessionID": session, "messageID": "", "event": "agentLogin"}},
	{"sessionId in a JSON payload is not the line's", Options{}, `[fn] joinContact body:{"sessionId":"` + session + `"}`, map[string]string{"sessionID": "", "event": "joinContact"}},
	{"sessionId in JSON that is not a payload", Options{}, `[fn] joinContact {"sessionId":"` + session + `"}`, map[string]string{"sessionID": session}},
	{"a session label's own payload", Options{}, `[fn] session:["` + session + `"]`, map[string]string{"sessionID": "", "payloads": `session=["` + session + `"]`}},
	{"sessionID= in a query", Options{}, "[fn] x sessionID=" + session, map[string]string{"sessionID": session}},
	{"ctlivetoken header", Options{}, "[fn] headers ctlivetoken: " + session, map[string]string{"sessionID": session}},
	{"ctlivetoken query parameter", Options{}, "[HTTP] GET /livechat/AGM/x?ctlivetoken=" + session, map[string]string{"sessionID": session}},
	{"a bare UUID is neither session nor message", Options{}, "[fn] x " + session, map[string]string{"sessionID": "", "messageID": ""}},
	{"a context word must be whole", Options{}, "[fn] mysession " + session + " uid " + msgID, map[string]string{"sessionID": "", "messageID": ""}},
	{"other separators break the context", Options{}, "[fn] session (" + session + ") id, " + msgID, map[string]string{"sessionID": "", "messageID": ""}},
	{"a UUID glued to a dash is not alone", Options{}, "[fn] session x-" + session, map[string]string{"sessionID": ""}},
	{"messageId word", Options{}, `[fn] x {"messageId":"` + msgID + `"}`, map[string]string{"messageID": msgID}},
	{"session_id is a session, not a message ID", Options{}, "[fn] GET /x?session_id=" + session, map[string]string{"sessionID": "", "messageID": ""}},
	{"x-session-id is a session, not a message ID", Options{}, "[fn] x-session-id: " + session, map[string]string{"sessionID": "", "messageID": ""}},
	{"req.session.id is a session, not a message ID", Options{}, "[fn] req.session.id=" + session + " id " + msgID, map[string]string{"sessionID": "", "messageID": msgID}},
	{"a UUID after ctlivetoken and a comma is a session, not a message ID", Options{}, "[fn] Sec-WebSocket-Protocol: ctlivetoken, " + session + " id " + session, map[string]string{"sessionID": "", "messageID": ""}},
	{"a session object's id is a session, not a message ID", Options{}, `[fn] data:{"session":{"id":"` + session + `"}} { session: { id: '` + session + `' } } message id ` + msgID, map[string]string{"sessionID": "", "messageID": msgID}},
	{"sessions before the message ID do not hide it", Options{}, "[fn] old session_id=" + session + " new session_id=11111111-2222-3333-4444-555555555555 for message id " + msgID, map[string]string{"messageID": msgID}},
	{"message ID is never the session ID", Options{}, "[fn] session id " + session + " id " + session + " id " + msgID, map[string]string{"sessionID": session, "messageID": msgID}},
	{"the session however many times it comes first", Options{}, "[fn] id " + session + " id " + session + " id " + session + " id " + session + " session " + session + " id " + msgID, map[string]string{"sessionID": session, "messageID": msgID}},
	{"the session in capitals is still the session", Options{}, "[fn] session " + session + " id " + strings.ToUpper(session) + " id " + msgID, map[string]string{"sessionID": session, "messageID": msgID}},
	{"the first message ID that is not the session", Options{}, "[fn] id " + msgID + " session " + session + " id " + session, map[string]string{"sessionID": session, "messageID": msgID}},
	{"a contactID's UUID is not a message ID", Options{}, "[fn] id CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", map[string]string{"messageID": "", "contactID": cidA}},
	{"a messageId inside a payload is not the line's", Options{}, `[fn] m:{"messageId":"` + msgID + `"}`, map[string]string{"messageID": ""}},

	// IDs inside payloads never count (contract: where IDs and the tenant may come from)
	{"a contactID typed into a chat does not move the record", Options{}, `[socketIO] data:{"text":"CHAT_TENANT1_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"} room [` + cidB + `]`, map[string]string{"contactID": cidB, "tenant": "AGM", "channel": "CHAT"}},
	{"a contactID only inside a payload gives no tenant", Options{}, `[socketIO] data:{"text":"CHAT_TENANT1_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"}`, map[string]string{"contactID": "", "tenant": "", "channel": ""}},
	{"a userID inside a payload gives no tenant", Options{}, `[fn] p:["USER_ZED_9a0a411c-f9c7-4af7-9754-024bf157a3ef"]`, map[string]string{"userID": "", "tenant": ""}},
	{"an agent login inside a payload is not the userID", Options{}, `[fn] p:{"u":"USER_jdoe@example.com"} by USER_ann@example.com`, map[string]string{"userID": "USER_ann@example.com"}},
	{"an unparsable payload is text: its IDs count", Options{}, `[fn] data:{"text":"CHAT_TENANT1_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"`, map[string]string{"contactID": "CHAT_TENANT1_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"}},
	// helper-62: read as data, a value cut at the line's end let client
	// text outside any payload hide the server's contactID after it.
	{"client text that opens JSON in a URL hides nothing", Options{}, `[HTTP] GET /ctLiveService/search?q=USER_EVIL_9a0a411c-f9c7-4af7-9754-024bf157a3ef%20a:[[[[&contactID=` + cidB, map[string]string{"contactID": cidB, "tenant": "AGM"}},
	{"a server's list left open hides nothing", Options{}, `[fn] joined session:[8fcd8dd9-80ce-4078-9343-7d1d5b73d25e, ` + cidB, map[string]string{"contactID": cidB, "tenant": "AGM"}},
	// helper-61: a value that closes but is not JSON is text, its IDs the
	// server's; hiding them let a typed ID after them name the tenant.
	{"a bracket list of IDs is text", Options{}, `[socketIO] rooms:[` + cidB + `, x] text: hello CHAT_EVIL_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c`, map[string]string{"contactID": cidB, "tenant": "AGM"}},
	{"a JavaScript literal is text", Options{}, `[MONGODB] findOne filter:{ _id: '` + cidB + `' } failed`, map[string]string{"contactID": cidB, "tenant": "AGM", "level": "error"}},
	{"a bracket left open that does not start JSON is text", Options{}, `[HTTP] GET /ctLiveService/contact?q=a:[ failed for ` + cidB, map[string]string{"contactID": cidB, "level": "error"}},
	{"an apostrophe in a value that is not JSON", Options{}, `[socketIO] note:[it's] for ` + cidB, map[string]string{"contactID": cidB}},
	{"the IDs after a value that is not JSON count", Options{}, `[socketIO] opts:{ retry: 'no' } for [` + cidB + `]`, map[string]string{"contactID": cidB, "tenant": "AGM"}},
	{"an ID in brackets after a label counts", Options{}, `[socketIO] contact:[` + cidA + `] closed`, map[string]string{"contactID": cidA, "tenant": "AGM", "payloads": ""}},
	{"IDs inside the tenth payload of a line still don't count", Options{}, `[fn] ` + strings.Repeat(`p:{"a":1} `, 9) + `q:{"c":"CHAT_ZED_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"}`, map[string]string{"contactID": "", "tenant": ""}},

	// events
	{"event keyword in any case", Options{}, "[fn] NEWCONTACT", map[string]string{"event": "newContact"}},
	{"login is an agent login", Options{}, "[fn] agent Login ok", map[string]string{"event": "agentLogin"}},
	{"keywords are whole words", Options{}, "[fn] loginSuccess newContacts", map[string]string{"event": ""}},
	{"transcript with save is saveTranscript", Options{}, "[MONGODB] Transcript saved for " + cidA, map[string]string{"event": "saveTranscript"}},
	{"transcript alone is no event", Options{}, "[REDIS] Get transcript messages", map[string]string{"event": ""}},
	{"the first keyword wins", Options{}, "[fn] endContact after newContact", map[string]string{"event": "endContact"}},
	{"exception wins over the others", Options{}, "[fn] newContact TypeError: x is undefined", map[string]string{"event": "exception", "errorType": "TypeError", "error": "x is undefined", "level": "error"}},
	{"Unhandled word is an exception", Options{}, "UnhandledPromiseRejection: This error originated", map[string]string{"event": "exception", "errorType": "UnhandledPromiseRejection", "error": "This error originated"}},
	{"the word exception is the event's own name", Options{}, "ctlive  | 2025-02-27T14:25:36.000000001Z [getTranscriptByChatID] [AGM] Exception while reading transcript for CHAT_AGM_eb8c3ff1-a80a-4efa-a167-f9358ef65c9b",
		map[string]string{"event": "exception", "errorType": "", "error": "", "level": "error", "tenant": "AGM"}},
	{"the word exception wins over the others", Options{}, "[joinContact] EXCEPTION raised", map[string]string{"event": "exception", "level": "error"}},
	{"exception is a whole word", Options{}, "[fn] exceptions noexception exceptional", map[string]string{"event": "", "level": "info"}},
	{"an Error word needs its colon", Options{}, "[fn] MongoServerError happened", map[string]string{"event": "", "errorType": "", "level": "info"}},
	{"Exception suffix", Options{}, "[fn] CustomException: boom", map[string]string{"event": "exception", "errorType": "CustomException", "error": "boom"}},
	{"no keyword, no event", Options{}, "[socketIO] hello", map[string]string{"event": ""}},
	{"a backslash ends a word: the keyword after it counts", Options{}, `[socketIO] [AGM] file C:\newContact\log.txt`, map[string]string{"event": "newContact"}},
	{"transcript and saved after backslashes", Options{}, `[socketIO] [AGM] dir\transcript saved`, map[string]string{"event": "saveTranscript"}},
	{"the word of an escape is the whole run of letters", Options{}, `[socketIO] [AGM] see \bwarn and \nerror here`, map[string]string{"level": "info"}},

	// url, payload, level
	{"url stops at whitespace", Options{}, "[fn] url:http://a/b?c=d next", map[string]string{"url": "http://a/b?c=d"}},
	{"empty url is left out", Options{}, "[fn] url: http://a", map[string]string{"url": ""}},
	{"no ID or tenant from a value JSON's grammar refuses", Options{}, `[socketIO] text:{"n":-+1,"c":"` + cidB + `"} data:[-.5,"id ` + msgID + `"]`, map[string]string{"tenant": "", "contactID": "", "messageID": "", "payloads": ""}},
	{"a session object under any name ending in session", Options{}, "[fn] { jsession: { id: '" + session + "' } } { lastSession: { id: '" + session + "' } } id " + msgID, map[string]string{"sessionID": "", "messageID": msgID}},
	{"a minus before a point or a plus is not JSON", Options{}, `[fn] 0:[-.0] y:{"b":-.5} w:{"a":-+1} z:[1,-0.5,"-.5","a-.b","-+"]`, map[string]string{"payloads": `z=[1,-0.5,"-.5","a-.b","-+"]`}},
	{"a negative number with a leading zero is not JSON", Options{}, `[fn] data:[-00] y:{"b":-01.5} z:[1,-0.5,"-01"]`, map[string]string{"payloads": `z=[1,-0.5,"-01"]`}},
	{"truncated JSON is left out and the rest parses", Options{}, `[fn] response:{"chat":true,"cb ` + cidA, map[string]string{"payloads": "", "contactID": cidA}},
	{"a session in brackets after its word is the sessionID", Options{}, `[fn] session:[` + session + `]`, map[string]string{"sessionID": session, "payloads": ""}},
	{"a payload left out for a number out of range still holds no IDs", Options{}, `[socketIO] text:{"n":1e999,"c":"CHAT_EVIL_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"} p:[1` + strings.Repeat("0", 400) + `,"USER_EVIL_9a0a411c-f9c7-4af7-9754-024bf157a3ef"]`, map[string]string{"payloads": "", "tenant": "", "contactID": "", "channel": "", "userID": ""}},
	{"a payload nested past 10,000 levels still holds no IDs", Options{}, `[socketIO] x:` + strings.Repeat("[", 10001) + `"CHAT_EVIL_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"` + strings.Repeat("]", 10001), map[string]string{"payloads": "", "tenant": "", "contactID": ""}},
	{"a session after its word in such a payload is still no sessionID", Options{}, `[fn] session:["` + session + `",-1E+999]`, map[string]string{"sessionID": "", "payloads": ""}},
	{"a number out of float64's range does not parse, written out or not", Options{}, `[fn] a:[1e400] b:[18` + strings.Repeat("0", 307) + `] c:[17` + strings.Repeat("0", 307) + `]`, map[string]string{"payloads": `c=[17` + strings.Repeat("0", 307) + `]`}},
	{"a long run of digits in a string parses", Options{}, `[fn] a:["` + strings.Repeat("9", 400) + `"]`, map[string]string{"payloads": `a=["` + strings.Repeat("9", 400) + `"]`}},
	{"array payload", Options{}, `[fn] ids:["a","b"] tail`, map[string]string{"payloads": `ids=["a","b"]`}},
	{"label may hold underscores", Options{}, `[fn] delivery_report:{"ok":1}`, map[string]string{"payloads": `delivery_report={"ok":1}`}},
	{"two payloads", Options{}, `[fn] a:{"x":1} b:[2]`, map[string]string{"payloads": `a={"x":1}|b=[2]`}},
	{"a label's first value wins", Options{}, `[fn] a:{"x":1} a:{"x":2}`, map[string]string{"payloads": `a={"x":1}`}},
	{"a label's first value wins among many", Options{}, `[fn] ` + manyLabels(20) + manyLabels(20), map[string]string{"payloads": strings.ReplaceAll(strings.TrimSpace(strings.ReplaceAll(manyLabels(20), ":", "=")), " ", "|")}},
	{"no payload inside a payload", Options{}, `[fn] a:{"s":"b:{\"y\":1}"}`, map[string]string{"payloads": `a={"s":"b:{\"y\":1}"}`}},
	{"error words inside a payload don't set the level", Options{}, `[fn] r:{"error":"failed"}`, map[string]string{"level": "info"}},
	{"error word outside a payload", Options{}, "[REDIS] connection error", map[string]string{"level": "error", "event": ""}},
	{"failed is an error", Options{}, "[fn] send Failed", map[string]string{"level": "error"}},
	{"warning is warn", Options{}, "[fn] WARNING slow redis", map[string]string{"level": "warn"}},
	{"failed after a backslash is an error", Options{}, `[socketIO] [AGM] upload\failed for x`, map[string]string{"level": "error"}},
	{"error beats warn", Options{}, "[fn] warn then failure", map[string]string{"level": "error"}},

	// multi-line records
	{"stack frames from a joined record", Options{}, "ctlive | 2025-02-27T14:25:36.0Z [getTranscriptByChatID] TypeError: Cannot read properties of null (reading 'room')\n    at getTranscriptByChatID (/app/src/transcript.js:42:17)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
		map[string]string{"event": "exception", "errorType": "TypeError", "error": "Cannot read properties of null (reading 'room')", "stack": "at getTranscriptByChatID (/app/src/transcript.js:42:17)|at process.processTicksAndRejections (node:internal/process/task_queues:95:5)", "level": "error"}},
	{"an error inside a payload's string ends with the string", Options{}, `[fn] resp:{"error":"MongoServerError: E11000 dup \"key\""} ok`, map[string]string{"event": "exception", "errorType": "MongoServerError", "error": `E11000 dup \"key\"`}},
	{"an error outside a payload runs to the line's end", Options{}, `[fn] resp: {"error":"MongoServerError: E11000 dup"} ok`, map[string]string{"errorType": "MongoServerError", "error": `E11000 dup"} ok`}},
	{"a stack alone makes an exception", Options{}, "[fn] contact not found\n  at f (a.js:1:1)", map[string]string{"event": "exception", "errorType": "", "level": "error", "stack": "at f (a.js:1:1)"}},
	{"continuation lines carrying compose prefix and time", Options{}, "ctlive | 2025-02-27T14:25:36Z Error: boom\nctlive | 2025-02-27T14:25:36Z     at f (a.js:1:1)\r\n", map[string]string{"stack": "at f (a.js:1:1)", "errorType": "Error", "error": "boom"}},
	{"only the first line gives fields", Options{}, "[fn] hello\nnewContact " + cidA, map[string]string{"event": "", "contactID": "", "message": "hello"}},
	{"a frame with nothing after at is still a frame", Options{}, "Error: x\n    at \n\tat h (c.js:3:3)\n    atx\n    at", map[string]string{"stack": "at|at h (c.js:3:3)"}},
	{"lines that are not frames are skipped", Options{}, "Error: x\n    more text\n    at g (b.js:2:2)", map[string]string{"stack": "at g (b.js:2:2)"}},

	// not CTLive-shaped
	{"plain text is not CTLive-shaped", Options{}, "hello world", map[string]string{"level": "", "message": ""}},
	{"a url alone is not CTLive-shaped", Options{}, "see url:http://x", map[string]string{"url": "", "level": ""}},
}

// manyLabels is `l0:[0] l1:[1] ... ` for n labels.
func manyLabels(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "l%d:[%d] ", i, i)
	}
	return b.String()
}

func field(r *Result, name string) string {
	switch name {
	case "service":
		return string(r.Service)
	case "time":
		return string(r.TimeText)
	case "unix":
		if r.TimeText == nil {
			return ""
		}
		return strconv.FormatInt(r.Time.UnixNano(), 10)
	case "function":
		return string(r.Function)
	case "scopes":
		return joinBytes(r.Scopes)
	case "tenant":
		return string(r.Tenant)
	case "contactID":
		return string(r.ContactID)
	case "channel":
		return string(r.Channel)
	case "userID":
		return string(r.UserID)
	case "sessionID":
		return string(r.SessionID)
	case "messageID":
		return string(r.MessageID)
	case "event":
		return r.Event.String()
	case "message":
		return string(r.Message)
	case "url":
		return string(r.URL)
	case "level":
		return r.Level.String()
	case "error":
		return string(r.Error)
	case "errorType":
		return string(r.ErrorType)
	case "stack":
		return joinBytes(r.Stack)
	case "payloads":
		var s []string
		for _, p := range r.Payloads {
			s = append(s, string(p.Label)+"="+string(p.JSON))
		}
		return strings.Join(s, "|")
	}
	panic("unknown field " + name)
}

func joinBytes(b [][]byte) string {
	s := make([]string, len(b))
	for i := range b {
		s[i] = string(b[i])
	}
	return strings.Join(s, "|")
}

func TestParseRules(t *testing.T) {
	for _, tc := range rules {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			New(tc.opts).Parse([]byte(tc.line), &r)
			for name, w := range tc.check {
				if g := field(&r, name); g != w {
					t.Errorf("%s = %q, want %q (line %q)", name, g, w, tc.line)
				}
			}
		})
	}
}

func TestParseReusesResultWithoutLeaks(t *testing.T) {
	p := New(Options{})
	var r Result
	p.Parse([]byte("ctlive | 2025-02-27T17:19:20Z [CT7PROTOCOL] [AGM] newContact a:{\"x\":1} session "+session+"\n at f (x)"), &r)
	p.Parse([]byte("hello"), &r)
	if r.Shaped() || r.Payloads != nil || r.Scopes != nil || r.Stack != nil || r.SessionID != nil || r.Level != LevelNone {
		t.Fatalf("fields of the previous line survived: %+v", got(&r))
	}
}

func TestPayloadValueDecodes(t *testing.T) {
	var r Result
	New(Options{}).Parse([]byte("[CT7PROTOCOL] newContact response:"+caps), &r)
	v, err := r.Payloads[0].Value()
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := v.(map[string]interface{}); !ok || m["video"] != true || len(m) != 5 {
		t.Fatalf("decoded %#v", v)
	}
}

// A line is arbitrary bytes: none of these may panic, and what they carry
// is still found.
func TestArbitraryBytes(t *testing.T) {
	big := bytes.Repeat([]byte("x CHAT_AGM_ "), 100000) // ~1 MB of near-misses
	tests := []struct {
		name  string
		line  []byte
		check map[string]string
	}{
		{"NUL bytes", []byte("[socket\x00IO] [AGM] newContact\x00 " + cidA), map[string]string{"function": "socket\x00IO", "contactID": cidA, "event": "newContact"}},
		{"invalid UTF-8", []byte("[fn] [AGM] \xff\xfe newContact " + cidA), map[string]string{"tenant": "AGM", "contactID": cidA}},
		{"1 MB line", append(append([]byte("[fn] [AGM] endContact "), big...), cidA...), map[string]string{"event": "endContact", "contactID": cidA}},
		{"only brackets", []byte("[[[[]]]] ]["), map[string]string{"function": "", "level": ""}},
		{"lone ESC", []byte("\x1b\x1b[ [fn] x"), map[string]string{"function": ""}},
		{"unterminated ANSI", []byte("\x1b[31"), map[string]string{"service": ""}},
		{"empty", nil, map[string]string{"level": ""}},
	}
	p := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			p.Parse(tc.line, &r)
			for name, w := range tc.check {
				if g := field(&r, name); g != w {
					t.Errorf("%s = %q, want %q", name, g, w)
				}
			}
		})
	}
}

// The compose prefix and the timestamp's minute are remembered from the
// line before (headerMemo): a line that differs from it anywhere in those
// bytes must read as it reads alone.
func TestHeaderReadsTheSameAfterAnyLine(t *testing.T) {
	tests := []struct{ name, before, line string }{
		{"next minute", "ctlive  | 2025-02-27T14:24:59.9Z [fn] x", "ctlive  | 2025-02-27T14:25:00.1Z [fn] x"},
		{"next day", "2025-02-28T23:59:59Z [fn] x", "2025-03-01T00:00:00Z [fn] x"},
		{"leap day after a valid day", "2024-02-28T10:00:00Z [fn] x", "2023-02-29T10:00:00Z [fn] x"},
		{"same minute, leap second", "2025-02-27T14:24:10Z [fn] x", "2025-02-27T14:24:60Z [fn] x"},
		{"same minute, second 61", "2025-02-27T14:24:10Z [fn] x", "2025-02-27T14:24:61Z [fn] x"},
		{"same minute, no colon", "2025-02-27T14:24:10Z [fn] x", "2025-02-27T14:24.10Z [fn] x"},
		{"same minute, other zone", "2025-02-27T14:24:10Z [fn] x", "2025-02-27T14:24:10+05:30 [fn] x"},
		{"lower-case t", "2025-02-27T14:24:10Z [fn] x", "2025-02-27t14:24:10Z [fn] x"},
		{"space instead of T", "2025-02-27T14:24:10Z [fn] x", "2025-02-27 14:24:10Z [fn] x"},
		{"minute 60", "2025-02-27T14:24:10Z [fn] x", "2025-02-27T14:60:10Z [fn] x"},
		{"other service", "ctlive  | [fn] x", "ctlive2 | [fn] x"},
		{"longer service", "ctlive | [fn] x", "ctlive-1 | [fn] x"},
		{"service name continues", "ctlive | [fn] x", "ctlive |x [fn] x"},
		{"one space fewer", "ctlive  | [fn] x", "ctlive | [fn] x"},
		{"empty line after the bar", "ctlive  | [fn] x", "ctlive  |"},
		{"the empty line first", "ctlive  |", "ctlive  | [fn] x"},
		{"prefix cut short", "ctlive  | [fn] x", "ctlive  "},
		{"prefix in a stack frame", "ctlive  | 2025-02-27T14:24:10Z [fn] x", "ctlive  | 2025-02-27T14:24:11Z [fn] TypeError: x\nworker  | 2025-02-27T14:25:11Z     at f (a.js:1)"},
	}
	p := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var alone, after Result
			p.Parse([]byte(tc.line), &alone)
			p.Parse([]byte(tc.before), &after)
			p.Parse([]byte(tc.line), &after)
			if a, b := fmt.Sprintf("%+v %d", got(&alone), alone.Time.UnixNano()), fmt.Sprintf("%+v %d", got(&after), after.Time.UnixNano()); a != b {
				t.Fatalf("after %q:\n got %s\nwant %s", tc.before, b, a)
			}
		})
	}
}
