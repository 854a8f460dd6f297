package inspect

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
)

// TestTenantsMatchTheCorpus: per tenant, the lines, levels and exceptions
// by the lines' tenant, the agents that logged in, and the contacts, their
// ends, transcripts and durations by the contacts' tenant.
func TestTenantsMatchTheCorpus(t *testing.T) {
	recs := cutAfterEnd(corpus.Generate(89, 10000))
	type counts struct {
		lines, contacts, ended, saved, exceptions, errors, warns int
		agents                                                   map[string]bool
		durations                                                []time.Duration
	}
	want := map[string]*counts{}
	get := func(tn string) *counts {
		if want[tn] == nil {
			want[tn] = &counts{agents: map[string]bool{}}
		}
		return want[tn]
	}
	for _, r := range recs {
		c := get(r.Want.Tenant)
		c.lines++
		switch {
		case r.Want.Event == "exception":
			c.exceptions++
		case r.Want.Level == "error":
			c.errors++
		case r.Want.Level == "warn":
			c.warns++
		}
		if r.Want.Event == "agentLogin" && r.Want.SessionID != "" && r.Want.UserID != "" {
			c.agents[r.Want.UserID] = true
		}
	}
	for _, l := range corpus.Lifecycles(recs) {
		c := get(l.Tenant)
		c.contacts++
		if l.Ended {
			c.ended++
			c.durations = append(c.durations, l.End.Sub(l.Start))
		}
		if l.TranscriptSaved {
			c.saved++
		}
	}
	got := ndjson(t, mustRun(t, "tenants", "--json", writeFile(t, "ctlive.log", rawLog(recs))))
	if len(got) != len(want) {
		t.Errorf("%d tenants, want %d", len(got), len(want))
	}
	for _, g := range got {
		tn, _ := g["tenant"].(string)
		w := want[tn]
		if w == nil {
			t.Errorf("unknown tenant %v", g)
			continue
		}
		exp := map[string]any{"lines": w.lines, "contacts": w.contacts, "contactsEnded": w.ended, "transcriptsSaved": w.saved,
			"agents": len(w.agents), "exceptions": w.exceptions, "errors": w.errors, "warns": w.warns}
		if len(w.durations) > 0 {
			slices.Sort(w.durations)
			// nearest rank: the smallest duration with p% at or below it
			rank := func(p int) string {
				for _, d := range w.durations {
					below := 0
					for _, e := range w.durations {
						if e <= d {
							below++
						}
					}
					if below*100 >= p*len(w.durations) {
						return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.9f", d.Seconds()), "0"), ".")
					}
				}
				return ""
			}
			exp["medianDurationSeconds"], exp["p95DurationSeconds"] = rank(50), rank(95)
		}
		for k, v := range exp {
			if fmt.Sprint(g[k]) != fmt.Sprint(v) {
				t.Errorf("tenant %q: %s = %v, want %v", tn, k, g[k], v)
			}
		}
	}
}

// TestExceptionsMatchTheCorpus: every exception record is in one group of
// its tenant; a group's example is a contact of that tenant with an
// exception; the guide's exception is a group of its own.
func TestExceptionsMatchTheCorpus(t *testing.T) {
	recs := corpus.Generate(97, 10000)
	perTenant := map[string]int{}
	for _, r := range recs {
		if r.Want.Event == "exception" {
			perTenant[r.Want.Tenant]++
		}
	}
	withExc := map[string]bool{}
	for _, l := range corpus.Lifecycles(recs) {
		if l.Exceptions > 0 {
			withExc[l.ContactID] = true
		}
	}
	got := ndjson(t, mustRun(t, "exceptions", "--json", writeFile(t, "ctlive.log", rawLog(recs))))
	sum := map[string]int{}
	guide := false
	for _, g := range got {
		tn, _ := g["tenant"].(string)
		n, _ := g["count"].(json.Number).Int64()
		sum[tn] += int(n)
		if ex, _ := g["exampleContactID"].(string); ex != "" {
			if _, exTenant := splitContactID(ex); !withExc[ex] || (tn != "" && exTenant != tn) {
				t.Errorf("example %s is not a contact of %q with an exception", ex, tn)
			}
		}
		if g["errorType"] == "Error" && g["topFrame"] == "at getTranscriptByChatID (/app/src/mongo/transcripts.js:57:13)" && tn != "" {
			guide = true
		}
		if first, last := fmt.Sprint(g["first"]), fmt.Sprint(g["last"]); first > last {
			t.Errorf("first after last: %v", g)
		}
	}
	if fmt.Sprint(sum) != fmt.Sprint(perTenant) {
		t.Errorf("exceptions per tenant %v, want %v", sum, perTenant)
	}
	if !guide {
		t.Error("no group for the guide's getTranscriptByChatID exception")
	}
}

// TestTenantAndExceptionFilters: --tenant keeps the rows of the tenants
// named, exactly (case matters, as in the plugin's routing).
func TestTenantAndExceptionFilters(t *testing.T) {
	log := writeFile(t, "ctlive.log", rawLog(corpus.Generate(101, 6000)))
	cases := []struct {
		cmd     string
		tenants []string
		want    []string
	}{
		{"tenants", []string{"--tenant", "AGM"}, []string{"AGM"}},
		{"tenants", []string{"--tenant", "ACME_EU", "--tenant", "DEFAULT"}, []string{"ACME_EU", "DEFAULT"}},
		{"tenants", []string{"--tenant", "agm"}, nil},
		{"exceptions", []string{"--tenant", "TENANT1"}, []string{"TENANT1"}},
		{"exceptions", []string{"--tenant", "AGM,DEFAULT"}, []string{"AGM", "DEFAULT"}},
	}
	for _, c := range cases {
		t.Run(c.cmd+" "+strings.Join(c.tenants, " "), func(t *testing.T) {
			rows := ndjson(t, mustRun(t, append(append([]string{c.cmd, "--json"}, c.tenants...), log)...))
			seen := map[string]bool{}
			for _, r := range rows {
				tn, _ := r["tenant"].(string)
				if !slices.Contains(c.want, tn) {
					t.Errorf("row of tenant %q", tn)
				}
				seen[tn] = true
			}
			if len(seen) != len(c.want) {
				t.Errorf("tenants %v, want %v", seen, c.want)
			}
		})
	}
}
