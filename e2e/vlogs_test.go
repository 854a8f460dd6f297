package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
	"github.com/ctlive/ctlive-fluent-bit/internal/flbhost"
	"github.com/ctlive/ctlive-fluent-bit/internal/vlogs"
)

// esURL is the bulk endpoint of a VictoriaLogs server, told which fields
// hold the message and the time, and which are stream fields.
func esURL(base string) string {
	return base + "/insert/elasticsearch?_msg_field=message,log&_time_field=@timestamp&_stream_fields=tenant,service"
}

// corpusChunks splits generated records into chunks of size records.
func corpusChunks(recs []corpus.Record, size int) [][]byte {
	var out [][]byte
	for i := 0; i < len(recs); i += size {
		var ls []string
		for _, r := range recs[i:min(i+size, len(recs))] {
			ls = append(ls, r.Line)
		}
		out = append(out, chunk(ls...))
	}
	return out
}

// TestElasticsearchTenantRoutingIntoVictoriaLogs: two ctlive instances in
// one Fluent Bit, each with its own tenant list and its own server. Every
// record lands exactly once, in its tenant's server only, with the
// contract's fields and the line's own time.
func TestElasticsearchTenantRoutingIntoVictoriaLogs(t *testing.T) {
	agm, others := vlogs.Start(t), vlogs.Start(t)
	h := start(t)
	a := h.New("match", "raw.*", "sink", "elasticsearch", "url", esURL(agm.URL()), "tenants", "AGM", "workers", "2")
	b := h.New("match", "raw.*", "sink", "elasticsearch", "url", esURL(others.URL()), "exclude_tenants", "AGM",
		"default_tenant", "NONE", "compress", "none")
	if a.Init() != flbhost.FLBOK || b.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	// The generated corpus holds the source document's lines in place.
	recs := corpus.Generate(11, 3000)
	chunks := corpusChunks(recs, 500)
	for _, in := range []*flbhost.Instance{a, b} {
		for i, ret := range in.FlushConcurrent("raw.ctlive", chunks, 2) {
			if ret != flbhost.FLBOK {
				t.Fatalf("%s flush %d = %d\n%s", in.Name(), i, ret, h.Stderr())
			}
		}
	}
	wantAGM := 0
	for _, r := range recs {
		if r.Want.Tenant == "AGM" {
			wantAGM++
		}
	}
	agm.WaitCount(t, `*`, wantAGM, 20*time.Second) // exactly: duplicates fail too
	others.WaitCount(t, `*`, len(recs)-wantAGM, 20*time.Second)
	if n := agm.Count(t, `tenant:!="AGM"`); n != 0 {
		t.Errorf("%d records of other tenants reached AGM's server", n)
	}
	if n := others.Count(t, `tenant:="AGM"`); n != 0 {
		t.Errorf("%d AGM records reached the other server", n)
	}

	// Search one contact across all its logs: the document's end contact.
	rows := agm.Query(t, `contactID:="CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024" event:="endContact" | sort by (_time)`)
	var doc map[string]string
	for _, r := range rows {
		if r["_time"] == "2025-02-27T14:25:35.87403643Z" {
			doc = r
		}
	}
	if doc == nil || doc["function"] != "socketIO" || doc["channel"] != "CHAT" || doc["stream"] != "stdout" ||
		doc["scopes"] != `["socketIO","endContact"]` || doc["_msg"] != "from client with room [CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024]" {
		t.Errorf("the document's endContact line, by its own nanosecond time: %v (of %d rows)", doc, len(rows))
	}
	if rows := agm.Query(t, `messageID:="5c637aa3-2499-428b-9eb8-192114cb890f"`); len(rows) != 1 || rows[0]["tenant"] != "AGM" {
		t.Errorf("messageID search: %v", rows)
	}
	exc := others.Query(t, `event:="exception"`)
	exc = append(exc, agm.Query(t, `event:="exception"`)...)
	wantExc := 0
	for _, r := range recs {
		if r.Want.Event == "exception" {
			wantExc++
		}
	}
	if len(exc) != wantExc {
		t.Errorf("%d exceptions stored, corpus has %d", len(exc), wantExc)
	}
	for _, r := range exc {
		if r["level"] != "error" || r["stack"] == "" && r["errorType"] == "" {
			t.Errorf("exception without its details: %v", r)
		}
	}
	if n := others.Count(t, `tenant:="NONE"`); n == 0 {
		t.Error("records without a tenant did not get default_tenant")
	}
	for _, s := range []*vlogs.Server{agm, others} {
		if d := s.DroppedRows(t); d != 0 {
			t.Errorf("%d rows dropped by the server", d)
		}
	}
}

// TestElasticsearchOutageAndRecovery: the server goes away mid-stream. The
// flush answers FLB_RETRY within the plugin's timeout, and once the server
// is back the kept chunks are delivered: nothing lost, nothing doubled.
func TestElasticsearchOutageAndRecovery(t *testing.T) {
	vl := vlogs.Start(t)
	h := start(t)
	in := h.New("match", "*", "sink", "elasticsearch", "url", esURL(vl.URL()), "timeout", "3s")
	if in.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	recs := corpus.Generate(21, 2000)
	chunks := corpusChunks(recs, 250)
	for _, c := range chunks[:3] {
		if got := in.Flush("raw.ctlive", c); got != flbhost.FLBOK {
			t.Fatalf("flush = %d", got)
		}
	}
	vl.Stop()
	began := time.Now()
	for _, c := range chunks[3:5] {
		if got := in.Flush("raw.ctlive", c); got != flbhost.FLBRetry {
			t.Fatalf("flush with the server down = %d, want FLB_RETRY", got)
		}
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("two flushes against a stopped server took %v", took)
	}
	vl.Restart()
	for _, c := range chunks[3:] {
		if got := in.Flush("raw.ctlive", c); got != flbhost.FLBOK {
			t.Fatalf("flush after restart = %d\n%s", got, h.Stderr())
		}
	}
	vl.WaitCount(t, `*`, len(recs), 20*time.Second) // fails on duplicates too
}

// TestElasticsearchOverTLS: https with a CA and certificate made here. The
// plugin verifies by default: an unknown CA is refused (and retried), the
// right ca_file gets the records through.
func TestElasticsearchOverTLS(t *testing.T) {
	vl := vlogs.Start(t)
	caFile, srv := tlsProxy(t, vl.URL())
	h := start(t)
	trusting := h.New("match", "*", "sink", "elasticsearch", "url", esURL(srv.URL), "ca_file", caFile)
	untrusting := h.New("match", "*", "sink", "elasticsearch", "url", esURL(srv.URL), "timeout", "2s")
	if trusting.Init() != flbhost.FLBOK || untrusting.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	data := chunk(corpus.RealLineTexts()...)
	if got := untrusting.Flush("raw.ctlive", data); got != flbhost.FLBRetry {
		t.Errorf("unknown CA: flush = %d, want FLB_RETRY", got)
	}
	if got := trusting.Flush("raw.ctlive", data); got != flbhost.FLBOK {
		t.Fatalf("with ca_file: flush = %d\n%s", got, h.Stderr())
	}
	vl.WaitCount(t, `*`, len(corpus.RealLineTexts()), 20*time.Second)
}

// tlsProxy serves https on 127.0.0.1 with a throwaway CA and passes
// requests to target; it returns the CA's PEM file.
func tlsProxy(t *testing.T, target string) (string, *httptest.Server) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ctlive test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(target)
	srv := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(u))
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return caFile, srv
}

// TestLokiIntoVictoriaLogs: the .so pushes protobuf to VictoriaLogs' Loki
// API. Labels become the stream, IDs stay out of it as structured
// metadata, the line is kept, tenants are separated by X-Scope-OrgID, and an
// outage is retried without loss or duplicates.
func TestLokiIntoVictoriaLogs(t *testing.T) {
	vl := vlogs.Start(t)
	h := start(t)
	// VictoriaLogs takes numeric tenants only: AGM -> account 7, others -> 8.
	in := h.New("match", "*", "sink", "loki", "url", vl.URL()+"/insert?disable_message_parsing=1",
		"tenants", "AGM", "tenant_id", "7", "timeout", "3s", "workers", "2")
	rest := h.New("match", "*", "sink", "loki", "url", vl.URL()+"/insert?disable_message_parsing=1",
		"exclude_tenants", "AGM", "tenant_id", "8", "line_format", "json")
	if in.Init() != flbhost.FLBOK || rest.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	recs := corpus.Generate(31, 2000)
	chunks := corpusChunks(recs, 250)
	for _, c := range chunks[:4] {
		if in.Flush("raw.ctlive", c) != flbhost.FLBOK || rest.Flush("raw.ctlive", c) != flbhost.FLBOK {
			t.Fatal(h.Stderr())
		}
	}
	vl.Stop()
	if got := in.Flush("raw.ctlive", chunks[4]); got != flbhost.FLBRetry {
		t.Fatalf("flush with the server down = %d, want FLB_RETRY", got)
	}
	vl.Restart()
	for _, c := range chunks[4:] {
		if in.Flush("raw.ctlive", c) != flbhost.FLBOK || rest.Flush("raw.ctlive", c) != flbhost.FLBOK {
			t.Fatal(h.Stderr())
		}
	}
	agm := 0
	for _, r := range recs {
		if r.Want.Tenant == "AGM" {
			agm++
		}
	}
	seven, eight := vlogs.Tenant{AccountID: 7}, vlogs.Tenant{AccountID: 8}
	vl.WaitCount(t, `*`, agm, 20*time.Second, seven)
	vl.WaitCount(t, `*`, len(recs)-agm, 20*time.Second, eight)
	if n := vl.Count(t, `*`); n != 0 {
		t.Errorf("%d records in the default tenant", n)
	}
	if n := vl.Count(t, `tenant:!="AGM"`, seven); n != 0 {
		t.Errorf("%d records of other tenants under AGM's tenant id", n)
	}
	rows := vl.Query(t, `contactID:="CHAT_AGM_2b24cc95-2d1b-4efe-a5a4-441d1e2ce024" | sort by (_time)`, seven)
	if len(rows) == 0 {
		t.Fatal("the document's contact is not searchable by contactID")
	}
	for _, r := range rows {
		if !strings.HasPrefix(r["_stream"], `{channel="CHAT",`) || strings.Contains(r["_stream"], "contactID") {
			t.Errorf("stream %s: labels only, no IDs", r["_stream"])
		}
		if !strings.Contains(r["_msg"], "CHAT_AGM_2b24cc95") {
			t.Errorf("line not kept: %q", r["_msg"])
		}
	}
	if rows := vl.Query(t, `_time:="2025-02-27T14:25:35.87403643Z"`, seven); len(rows) != 1 || rows[0]["event"] != "endContact" {
		t.Errorf("the line's nanosecond time: %v", rows)
	}
	if rows := vl.Query(t, `event:="exception" | limit 1`, eight); len(rows) == 1 && !strings.HasPrefix(rows[0]["_msg"], "{") {
		t.Errorf("line_format json sends the record: %q", rows[0]["_msg"])
	}
	if d := vl.DroppedRows(t); d != 0 {
		t.Errorf("%d rows dropped", d)
	}
}

// The README's VictoriaLogs URL must give every record a _msg: lines that
// are only bracketed tokens, and lines that are not CTLive-shaped, have no
// message field (a field case from users, testdata/field-cases).
func TestReadmeVictoriaLogsURLGivesEveryRecordAMessage(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("VictoriaLogs works too: `url http://127\\.0\\.0\\.1:9428(/insert/elasticsearch\\?[^`]+)`").FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README names no VictoriaLogs URL")
	}
	data, err := os.ReadFile("../testdata/field-cases/victorialogs-missing-msg.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	vl := vlogs.Start(t)
	h := start(t)
	in := h.New("match", "*", "workers", "1", "sink", "elasticsearch", "url", vl.URL()+string(m[1]))
	if in.Init() != flbhost.FLBOK {
		t.Fatal(h.Stderr())
	}
	if got := in.Flush("raw.ctlive", chunk(lines...)); got != flbhost.FLBOK {
		t.Fatalf("flush = %d\n%s", got, h.Stderr())
	}
	vl.WaitCount(t, `*`, len(lines), 20*time.Second)
	for _, r := range vl.Query(t, `*`) {
		if r["_msg"] == "" || strings.Contains(r["_msg"], "missing _msg field") {
			t.Errorf("record without a message: %v", r)
		}
	}
	in.Exit()
	h.Close()
}
