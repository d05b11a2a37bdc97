package serve

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzFlaggerPayload: whatever a caller POSTs, the service answers with
// one of the statuses it documents, and never panics.
func FuzzFlaggerPayload(f *testing.F) {
	for _, seed := range []string{payload("pass"), payload("fail"), "{", "", "null", `{"name":"a","namespace":"b","metadata":{"x":1}}`,
		`{"name":"a","namespace":"b","metadata":null}`, strings.Repeat("[", 10000)} {
		f.Add("confirm-promotion", seed)
		f.Add("rollback", seed)
	}
	s, err := New(Options{Gate: fakeGate, MaxBody: 4096})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	// 301/307/308: net/http's mux redirects unclean paths ("/flagger/.").
	allowed := map[int]bool{301: true, 307: true, 308: true, 200: true, 400: true, 403: true, 404: true, 405: true, 409: true, 412: true, 500: true, 503: true}
	f.Fuzz(func(t *testing.T, hook, body string) {
		req, err := http.NewRequest(http.MethodPost, "http://canary/flagger/"+url.PathEscape(hook), strings.NewReader(body))
		if err != nil || hook == "" {
			return // not a request a client could send
		}
		req.RemoteAddr = "192.0.2.1:1234"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Errorf("POST /flagger/%s %q: status %d", hook, body, rec.Code)
		}
	})
}
