package loki

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ctlive/ctlive-fluent-bit/sink"
)

// A redirect is never followed and never counts as delivered: the push
// fails for good (the url must be fixed), and the redirect's target
// receives nothing.
func TestRedirectIsPermanentAndNothingIsDelivered(t *testing.T) {
	target := startFake(t, nil)
	for _, code := range []int{301, 302, 307, 308} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, target.url()+PushPath+"?token=abc", code)
		}))
		s, _ := newSink(t, map[string]string{"url": srv.URL, "bearer_token": "t0ken-for-loki"})
		b := makeBatch(t, "t", lines(lineNewContact, lineURL))
		err := deliver(t, s, b)
		srv.Close()
		if !sink.IsPermanent(err) || !strings.Contains(err.Error(), "redirect to") {
			t.Errorf("%d: err = %v, want a permanent error naming the redirect", code, err)
		}
		if err != nil && (strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), "t0ken")) {
			t.Errorf("%d: err = %v shows a credential", code, err)
		}
		if len(undone(b)) != 2 {
			t.Errorf("%d: %d undone; want nothing delivered", code, len(undone(b)))
		}
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("the redirect's target received %d requests", n)
	}
}

// An error answer is read within bounds, and what of it reaches the error
// and the log has its credentials removed: a proxy that echoes the request
// headers must not put the token in the agent's log.
func TestErrorAnswersAreBoundedAndScrubbed(t *testing.T) {
	echo := "upstream error; request was:\r\nPOST /loki/api/v1/push\r\nAuthorization: Bearer t0ken-for-loki\r\n" + strings.Repeat("x", 10<<20)
	for _, status := range []int{500, 400, 401} {
		f := startFake(t, func(*pushReq) (int, string) { return status, echo })
		s, logs := newSink(t, map[string]string{"url": f.url(), "bearer_token": "t0ken-for-loki"})
		b := makeBatch(t, "t", lines(lineNewContact))
		err := deliver(t, s, b)
		out := logs.String()
		if err != nil {
			out += err.Error()
		}
		if strings.Contains(out, "t0ken") {
			t.Errorf("%d: the token is shown:\n%s", status, out)
		}
		if len(out) > 4<<10 {
			t.Errorf("%d: %d bytes of log and error for one answer", status, len(out))
		}
	}
}
