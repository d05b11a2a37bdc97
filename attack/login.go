package attack

import (
	"context"
	"fmt"
	"github.com/canary-gate/canary/internal/redact"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/canary-gate/canary/classify"
)

// login posts the user's form to /login and keeps the session cookie, so
// that Istio's end-user routing applies to every later request. A failed
// login is a sample like any other and is retried on the next tick.
func (w *worker) login(id, tp string) (classify.Result, int, bool) {
	user, pass, ok := strings.Cut(w.a.o.Login, ":")
	if !ok {
		pass = DefaultPassword
	}
	form := url.Values{"username": {user}, "passwd": {pass}}.Encode()
	ctx, cancel := context.WithTimeout(w.a.base, w.a.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.a.loginURL.String(), strings.NewReader(form))
	if err != nil {
		return classify.Transport(err), 0, false
	}
	req.Header = w.a.o.Headers.Clone()
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	req.Host = w.a.host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Request-Id", id)
	req.Header.Set("Traceparent", tp)
	resp, err := w.a.transport.RoundTrip(req)
	if err != nil {
		return classify.Transport(err), 0, false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "session" && c.Value != "" {
			redact.Add(c.Value) // a session is a credential: never printed
			w.cookie = "session=" + c.Value
			w.req.Load().cancel()
			w.req.Store(w.newReqState())
			if w.fast != nil {
				w.fast.req.Header.Set("Cookie", w.cookie)
			}
			w.a.logins.Add(1)
			return classify.Result{}, resp.StatusCode, true
		}
	}
	w.note = fmt.Sprintf("login as %q: no session cookie in the %d response", user, resp.StatusCode)
	return classify.Result{Outcome: classify.HTTPError}, resp.StatusCode, false
}
