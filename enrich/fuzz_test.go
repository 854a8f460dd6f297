package enrich

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/record"
)

// foreign is a tenant name that only the fuzz target writes, inside
// payloads; the fuzzer's own bytes are checked not to hold it.
const foreign = "QXFOREIGNQX"

// FuzzTenantNeverFromAPayload: whatever the text around it, a contact ID,
// a user ID or a tenant token typed into a payload never becomes the
// record's contactID, userID or tenant (contract, "Where IDs and the tenant
// may come from"), and no session ID written in it leaves in clear.
func FuzzTenantNeverFromAPayload(f *testing.F) {
	f.Add("[socketIO]", "message from customer", "room [CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024]", uint8(0))
	f.Add("[CT7PROTOCOL] [TENANT1]", "newContact", "", uint8(1))
	f.Add("", "a:[", "x", uint8(2))
	f.Add("[fn]", "text with [brackets] and url:http://x?y=z", "session ID 11111111-2222-3333-4444-555555555555", uint8(3))
	s := MustNew(Defaults())
	f.Fuzz(func(t *testing.T, tokens, before, after string, shape uint8) {
		if bytes.Contains([]byte(tokens+before+after), []byte(foreign)) {
			t.Skip()
		}
		const uuid = "abbba71e-67b2-4f9c-ab68-dcf3f95bd32c"
		const session = "ab4e7aff-8627-434a-a2ef-7e200363197e"
		typed := []string{
			"CHAT_" + foreign + "_" + uuid,
			"USER_" + foreign + "_" + uuid,
			"[" + foreign + "] " + "CHAT_" + foreign + "_" + uuid,
			"sessionId: " + session,
		}[shape%4]
		value, _ := json.Marshal(map[string]string{"text": typed}) // the customer's text, as JSON carries it
		if shape&4 != 0 {
			value, _ = json.Marshal([]string{typed})
		}
		line := tokens + " " + before + " data:" + string(value) + " " + after
		evs, err := s.DecodeChunk(v1(kv{"log", line}), "t")
		if err != nil || len(evs) != 1 {
			t.Fatalf("decode: %v", err)
		}
		ev := evs[0]
		r := &ev.Fields
		for name, v := range map[string][]byte{"tenant": ev.Tenant, "contactID": r.ContactID, "userID": r.UserID, "channel": r.Channel} {
			if bytes.Contains(v, []byte(foreign)) {
				t.Fatalf("%s %q comes from the payload of %q", name, v, line)
			}
		}
		js, _ := record.AppendJSONMembers([]byte{'{'}, ev, "")
		if out := record.AppendMsgpack(nil, ev); bytes.Contains(out, []byte(session)) || bytes.Contains(js, []byte(session)) {
			t.Fatalf("the session of %q left in clear", line)
		}
	})
}
