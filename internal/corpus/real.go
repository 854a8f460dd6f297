package corpus

import "strings"

// The real log lines of the support engineers' guide ("CTLive: log
// inspection"), kept verbatim: the guide runs each use case's lines together
// on one line, separated by " ctlive | "; they are split back here.

// realFormatLine is the example body of the guide's "Format" section.
const realFormatLine = "[CT7PROTOCOL] [TENANT1] newContact url:https://server1/ctLiveService/contact"

// realNewContact is the guide's "New Contact" example.
var realNewContact = []realLine{
	{`ctlive | 2025-02-27T17:19:20.129613061Z [socketIO] newContact. Generate UUID [CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c]`,
		Expect{Function: "socketIO", Tenant: "AGM", ContactID: "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", Channel: "CHAT", Event: "newContact", Level: "info"}},
	{`ctlive | 2025-02-27T17:19:20.130344604Z [REDIS] Set contact [CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c] in redis db: ,OK,,1`,
		Expect{Function: "REDIS", Tenant: "AGM", ContactID: "CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c", Channel: "CHAT", Level: "info"}},
	{`ctlive | 2025-02-27T17:19:20.130843858Z [CT7PROTOCOL] [AGM] newContact url:https://server1/ctLiveService/contact`,
		Expect{Function: "CT7PROTOCOL", Tenant: "AGM", Event: "newContact", Level: "info", URL: "https://server1/ctLiveService/contact"}},
	{`ctlive | 2025-02-27T17:19:22.156214484Z [CT7PROTOCOL] newContact response:{"chat":true,"cbn":true,"video":true,"cbl":true,"call":true}`,
		Expect{Function: "CT7PROTOCOL", Event: "newContact", Level: "info", HasPayload: true}},
	{`ctlive | 2025-02-27T17:19:22.156318681Z newContact accepted:{"chat":true,"cbn":true,"video":true,"cbl":true,"call":true}`,
		Expect{Event: "newContact", Level: "info", HasPayload: true}},
}

// realEndContact is the guide's "End Contact" example.
var realEndContact = []realLine{
	{`ctlive | 2025-02-27T14:25:35.874036430Z [socketIO] [endContact] from client with room [CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024]`,
		Expect{Function: "socketIO", Tenant: "AGM", ContactID: "CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024", Channel: "CHAT", Event: "endContact", Level: "info"}},
	{`ctlive | 2025-02-27T14:25:35.874053466Z [retrieveContactByChatID] [REDIS] Get contact for chat [CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024]`,
		Expect{Function: "retrieveContactByChatID", Tenant: "AGM", ContactID: "CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024", Channel: "CHAT", Level: "info"}},
	{`ctlive | 2025-02-27T14:25:35.874064518Z [socketIO] [endContact] Contact [CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024] not yet ended`,
		Expect{Function: "socketIO", Tenant: "AGM", ContactID: "CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024", Channel: "CHAT", Event: "endContact", Level: "info"}},
	{`ctlive | 2025-02-27T14:25:35.874066650Z [getIMChannelServiceMessage] [DOMAIN] [AGM] [chatClosedSuccess]`,
		Expect{Function: "getIMChannelServiceMessage", Tenant: "AGM", Level: "info"}},
	{`ctlive | 2025-02-27T14:25:35.894892767Z [socketIO] [evaluateSendEndSuccessMessage] Service message from room [CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024] with id [5c637aa3-2499-428b-9eb8-192114cb890f] type [chatClosedSuccess]`,
		Expect{Function: "socketIO", Tenant: "AGM", ContactID: "CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024", Channel: "CHAT", MessageID: "5c637aa3-2499-428b-9eb8-192114cb890f", Level: "info"}},
}

// IDs the guide and the domain notes name, reused so that the corpus holds
// them in context.
const (
	realNewContactUUID = "abbba71e-67b2-4f9c-ab68-dcf3f95bd32c" // created in the New Contact example
	realEndContactUUID = "2b24cc95-2d1b-4efe-a5a4-441d1e2ce024" // ended in the End Contact example
	realSessionID      = "ab4e7aff-8627-434a-a2ef-7e200363197e" // returned in the Agent Login section
	realMissingUUID    = "eb8c3ff1-a80a-4efa-a167-f9358ef65c9b" // not found, in the Exceptions section
	realAgentLogin     = "jdoe@acd.example.com"                 // the domain notes' agent
	realDefaultContact = "5416bcd3-d78d-4dc8-be0e-7b9ac1f51b25" // the domain notes' chat ID
	realDefaultUser    = "9a0a411c-f9c7-4af7-9754-024bf157a3ef" // the domain notes' customer
)

// realLine is one of the guide's lines, whole, with what it holds (Service
// and Time are filled from the text).
type realLine struct {
	text string
	want Expect
}

const realPrefix = "ctlive | "

// timeText returns the line's timestamp; body returns what follows it.
func (l realLine) timeText() string {
	ts, _, _ := strings.Cut(strings.TrimPrefix(l.text, realPrefix), " ")
	return ts
}

func (l realLine) body() string {
	_, b, _ := strings.Cut(strings.TrimPrefix(l.text, realPrefix), " ")
	return b
}

// RealLines returns the guide's real log lines as records, in the guide's
// order: the Format section's example body (no prefix or timestamp), then
// the New Contact and End Contact examples.
func RealLines() []Record {
	out := []Record{{Line: realFormatLine, Case: CaseNewContact, Want: Expect{Function: "CT7PROTOCOL", Tenant: "TENANT1",
		Event: "newContact", Level: "info", URL: "https://server1/ctLiveService/contact"}}}
	for _, l := range realNewContact {
		out = append(out, l.record(realPrefix, CaseNewContact))
	}
	for _, l := range realEndContact {
		out = append(out, l.record(realPrefix, CaseEndContact))
	}
	return out
}

// record renders the line with the given compose prefix.
func (l realLine) record(prefix string, c Case) Record {
	w := l.want
	w.Service, w.Time = "ctlive", l.timeText()
	return Record{Line: prefix + w.Time + " " + l.body(), Want: w, Case: c}
}

// RealLineTexts is the text of RealLines, one line each.
func RealLineTexts() []string {
	var lines []string
	for _, r := range RealLines() {
		lines = append(lines, r.Line)
	}
	return lines
}

// InspectionLines returns the text of testdata/inspection-lines.txt.
func InspectionLines() []byte {
	var b strings.Builder
	b.WriteString("# The real CTLive log lines of the support engineers' guide \"CTLive: log inspection\",\n")
	b.WriteString("# one per line, in the guide's order (it runs each example's lines together, separated\n")
	b.WriteString("# by \" ctlive | \"; they are split back here). Generated by internal/corpus (go generate).\n")
	b.WriteString("# Format section: the example body, without compose prefix or timestamp\n")
	b.WriteString(realFormatLine + "\n")
	b.WriteString("# New Contact\n")
	for _, l := range realNewContact {
		b.WriteString(l.text + "\n")
	}
	b.WriteString("# End Contact\n")
	for _, l := range realEndContact {
		b.WriteString(l.text + "\n")
	}
	return []byte(b.String())
}
