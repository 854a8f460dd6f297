package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/vlogs"
)

// Credentials of every kind the contract names, planted where CTLive and
// the records around it write them.
const (
	plantedSession = "9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
	plantedJWT     = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqZG9lIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	plantedBearer  = "tok_0a1b2c3d4e5f6a7b8c9d"
	plantedCT7     = "c7t-5e6f7a8b9c0d1e2f"
	plantedBasic   = "dXNlcjpodW50ZXIy"
	plantedPasswd  = "hunter2-Pa55"
)

var plantedLines = []string{
	"ctlive | 2025-02-27T17:19:20.000000001Z [socketIO] [AGM] agentLogin ok, session ID " + plantedSession,
	"ctlive | 2025-02-27T17:19:20.000000002Z [HTTP] [AGM] GET /livechat/AGM/x?ctlivetoken=" + plantedSession + " Authorization: Bearer " + plantedBearer,
	`ctlive | 2025-02-27T17:19:20.000000003Z [CT7PROTOCOL] [AGM] newContact headers:{"authorization":"Basic ` + plantedBasic + `","ct7Token":"` + plantedCT7 + `"}`,
	"ctlive | 2025-02-27T17:19:20.000000004Z [JWT] [AGM] TypeError: invalid token " + plantedJWT + " password=" + plantedPasswd + "\n    at validate (/app/jwt.js:1:1)",
	"ctlive | 2025-02-27T17:19:20.000000005Z [socketIO] [AGM] joinContact room [CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c] session " + plantedSession,
}

// clearCredentials are the values that must be stored nowhere: the planted
// ones, and every session ID and JWT of the generated corpus.
func clearCredentials(recs []corpus.Record) []string {
	out := []string{plantedSession, plantedJWT, plantedBearer, plantedCT7, plantedBasic, plantedPasswd}
	jwt := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	seen := map[string]bool{}
	for _, r := range recs {
		found := jwt.FindAllString(r.Line, -1)
		if r.Want.SessionID != "" {
			found = append(found, r.Want.SessionID)
		}
		for _, v := range found {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// TestNoClearCredentialIsStored: the corpus and the planted lines go
// through the real .so into a real VictoriaLogs, over the Elasticsearch
// bulk API and the Loki push API (raw and JSON lines); every stored field
// of every row is read back, and none holds a credential in clear.
func TestNoClearCredentialIsStored(t *testing.T) {
	vl := vlogs.Start(t)
	h := start(t)
	es := h.New("match", "*", "sink", "elasticsearch", "url", esURL(vl.URL()), "workers", "1")
	lokiRaw := h.New("match", "*", "sink", "loki", "url", vl.URL()+"/insert?disable_message_parsing=1", "tenant_id", "7", "workers", "1")
	lokiJSON := h.New("match", "*", "sink", "loki", "url", vl.URL()+"/insert?disable_message_parsing=1", "tenant_id", "8",
		"line_format", "json", "encoding", "json", "workers", "1")
	for _, in := range []*flbhost.Instance{es, lokiRaw, lokiJSON} {
		if in.Init() != flbhost.FLBOK {
			t.Fatal(h.Stderr())
		}
	}
	recs := corpus.Generate(41, 1500)
	chunks := append(corpusChunks(recs, 500), chunk(plantedLines...))
	for _, in := range []*flbhost.Instance{es, lokiRaw, lokiJSON} {
		for _, c := range chunks {
			if got := in.Flush("raw.ctlive", c); got != flbhost.FLBOK {
				t.Fatalf("%s flush = %d\n%s", in.Name(), got, h.Stderr())
			}
		}
	}
	n := len(recs) + len(plantedLines)
	tenants := []vlogs.Tenant{{}, {AccountID: 7}, {AccountID: 8}}
	for _, tn := range tenants {
		vl.WaitCount(t, "*", n, 20*time.Second, tn)
	}
	secrets := clearCredentials(recs)
	checked := 0
	for _, tn := range tenants {
		for _, row := range vl.Query(t, "*", tn) {
			for field, v := range row {
				for _, s := range secrets {
					if strings.Contains(v, s) {
						t.Errorf("tenant %v: field %s holds %.20s… in clear: %.200q", tn, field, s, v)
					}
				}
				checked++
			}
		}
	}
	if checked < 3*n*5 {
		t.Fatalf("only %d stored values read back for %d records", checked, 3*n)
	}
	// The session still correlates: the login and the join carry one digest.
	rows := vl.Query(t, `event:in("agentLogin","joinContact") AND function:="socketIO" AND tenant:="AGM" AND _time:[2025-02-27T17:19:20Z, 2025-02-27T17:19:21Z)`)
	if len(rows) != 2 || rows[0]["sessionID"] == "" || rows[0]["sessionID"] != rows[1]["sessionID"] || !strings.HasPrefix(rows[0]["sessionID"], "sha256:") {
		t.Errorf("the planted login and join: %v", rows)
	}
}
