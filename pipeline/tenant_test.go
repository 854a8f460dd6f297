package pipeline

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/fwdtest"
)

// tenantChunk holds records that carry a "tenant" key of their own, as a
// client can write one: a plain line and a CTLive line without a tenant
// (routing finds none) and a CTLive line of TENANT1 (routing finds that).
func tenantChunk() []byte {
	lines := []string{
		"plain text",
		"ctlive | 2025-02-27T17:19:22.156214484Z [socketIO] no tenant here",
		"ctlive | 2025-02-27T17:19:22.156214485Z [CT7PROTOCOL] [TENANT1] newContact",
	}
	var b []byte
	for i, l := range lines {
		b = flbhost.AppendV2(b, flbhost.EventTime(time.Unix(1764064800, int64(i))), flbhost.Map{},
			flbhost.Map{{Key: "log", Value: l}, {Key: "tenant", Value: "AGM"}})
	}
	return b
}

// headerServer stands for Elasticsearch (every document created; it keeps
// each document's index) and Loki (204; it keeps each push's
// X-Scope-OrgID).
type headerServer struct {
	mu      sync.Mutex
	orgIDs  []string
	indexes []string
}

func (h *headerServer) start(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Errorf("gzip: %v", err)
				return
			}
			body, _ = io.ReadAll(zr)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/_bulk") {
			sc := bufio.NewScanner(bytes.NewReader(body))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var action map[string]struct {
					Index string `json:"_index"`
				}
				if json.Unmarshal(sc.Bytes(), &action) == nil {
					if a, ok := action["create"]; ok && a.Index != "" {
						h.indexes = append(h.indexes, a.Index)
					}
				}
				sc.Scan() // the document
			}
			io.WriteString(rw, bulkCreated(body))
			return
		}
		h.orgIDs = append(h.orgIDs, r.Header.Get("X-Scope-OrgID"))
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// One record has one tenant, and every sink sees the one routing decided
// on: a record routing found no tenant in goes to an instance with
// exclude_tenants AGM, and its own "tenant":"AGM" key must not put it in
// AGM's forward tag, Elasticsearch index or Loki tenant (attacker review,
// item A).
func TestEverySinkSeesOnlyTheTenantRoutingDecidedOn(t *testing.T) {
	tests := []struct {
		name  string
		props []string
		got   func(t *testing.T, props map[string]string) (after func() []string)
		want  []string // the tags, indexes or X-Scope-OrgIDs used, sorted
	}{
		{"forward tag", nil, func(t *testing.T, props map[string]string) func() []string {
			srv := fwdtest.Start(t, fwdtest.Options{})
			props["sink"], props["url"] = "forward", srv.URL()
			return func() []string {
				var tags []string
				for _, e := range srv.Events() {
					tags = append(tags, e.Tag)
				}
				return tags
			}
		}, []string{"ctlive.TENANT1.newContact", "ctlive.unknown.unknown", "ctlive.unknown.unknown"}},
		{"elasticsearch index", nil, func(t *testing.T, props map[string]string) func() []string {
			h := &headerServer{}
			props["sink"], props["url"], props["index"] = "elasticsearch", h.start(t), "ctlive-$tenant"
			return func() []string { return h.indexes }
		}, []string{"ctlive-tenant1", "ctlive-unknown", "ctlive-unknown"}},
		{"loki tenant, no default_tenant", nil, func(t *testing.T, props map[string]string) func() []string {
			h := &headerServer{}
			props["sink"], props["url"], props["tenant_id"] = "loki", h.start(t), "$tenant"
			return func() []string { return h.orgIDs }
		}, []string{"TENANT1"}},
		{"loki tenant, default_tenant", []string{"default_tenant", "SHARED"}, func(t *testing.T, props map[string]string) func() []string {
			h := &headerServer{}
			props["sink"], props["url"], props["tenant_id"] = "loki", h.start(t), "$tenant"
			return func() []string { return h.orgIDs }
		}, []string{"SHARED", "TENANT1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]string{"plugin_log_level": "off", "exclude_tenants": "AGM"}
			for i := 0; i+1 < len(tc.props); i += 2 {
				props[tc.props[i]] = tc.props[i+1]
			}
			seen := tc.got(t, props)
			p, err := New("ctlive.0", config.MapGetter(props))
			if err != nil {
				t.Fatal(err)
			}
			p.Flush(tenantChunk(), "raw.ctlive")
			p.Close()
			got := slices.Clone(seen())
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
