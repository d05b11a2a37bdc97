package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// forwardHeaders are the headers productpage and reviews pass on to the
// services they call (tracing, identity and the session cookie), as the
// upstream apps do since Istio 1.15.
var forwardHeaders = []string{
	"x-request-id", "x-ot-span-context", "x-datadog-trace-id", "x-datadog-parent-id",
	"x-datadog-sampling-priority", "traceparent", "tracestate", "x-cloud-trace-context",
	"grpc-trace-bin", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled",
	"x-b3-flags", "sw8", "user-agent", "cookie", "authorization", "jwt", "end-user",
}

// upstream's per-call timeouts
const (
	productpageTimeout  = 3 * time.Second
	ratingsTimeoutBlack = 10 * time.Second
	ratingsTimeoutOther = 2500 * time.Millisecond
)

func ratingsTimeout(color string) time.Duration {
	if color == "black" {
		return ratingsTimeoutBlack
	}
	return ratingsTimeoutOther
}

type productPage struct {
	markup Markup
	key    sessionKey
	client *http.Client
	bufs   sync.Pool
}

func newProductPage(markup Markup, key sessionKey, client *http.Client) http.Handler {
	pp := &productPage{markup: markup, key: key, client: client}
	pp.bufs.New = func() any { return new(bytes.Buffer) }
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", pp.index)
	mux.HandleFunc("GET /index.html", pp.index)
	mux.HandleFunc("GET /productpage", pp.productPage)
	mux.HandleFunc("POST /login", pp.login)
	mux.HandleFunc("GET /logout", pp.logout)
	mux.HandleFunc("GET /health", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"status": "Product page is healthy"}`))
	})
	mux.HandleFunc("GET /static/", staticFile)
	mux.HandleFunc("GET /api/v1/products", pp.apiProducts)
	mux.HandleFunc("GET /api/v1/products/{id}", pp.apiProduct)
	mux.HandleFunc("GET /api/v1/products/{id}/reviews", pp.apiReviews)
	mux.HandleFunc("GET /api/v1/products/{id}/ratings", pp.apiRatings)
	return mux
}

func (pp *productPage) index(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = RenderIndex(rw, pp.markup)
}

func (pp *productPage) productPage(rw http.ResponseWriter, r *http.Request) {
	user := pp.key.sessionUser(r)
	hdr := outgoingHeaders(r, user)
	var d PageData
	d.User = user
	d.Details, d.DetailsError = pp.details(r.Context(), hdr)
	rev, err := pp.reviews(r.Context(), hdr)
	if err != nil {
		d.ReviewsError = true
	} else {
		d.Reviews, d.PodName, d.ClusterName = rev.pageReviews(), rev.Podname, rev.Clustername
	}
	buf := pp.bufs.Get().(*bytes.Buffer)
	defer pp.bufs.Put(buf)
	buf.Reset()
	if err := RenderProductPage(buf, pp.markup, d); err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = rw.Write(buf.Bytes())
}

// outgoingHeaders copies the propagated headers and adds end-user for a
// signed-in user, which is what header-based routing matches on.
func outgoingHeaders(r *http.Request, user string) http.Header {
	h := make(http.Header, 8)
	for _, k := range forwardHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			h[http.CanonicalHeaderKey(k)] = v
		}
	}
	if user != "" {
		h.Set("end-user", user)
	}
	return h
}

// get calls another service through the sidecar with a timeout and reads the
// whole answer; a non-200 status is an error, as productpage treats it.
func get(ctx context.Context, c *http.Client, url string, hdr http.Header, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header = hdr
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return body, nil
}

func (pp *productPage) details(ctx context.Context, hdr http.Header) (*Details, bool) {
	body, err := get(ctx, pp.client, "http://details:9080/details/0", hdr, productpageTimeout)
	if err != nil {
		return nil, true
	}
	var d struct {
		Author    string `json:"author"`
		Year      int    `json:"year"`
		Type      string `json:"type"`
		Pages     int    `json:"pages"`
		Publisher string `json:"publisher"`
		Language  string `json:"language"`
		ISBN10    string `json:"ISBN-10"`
		ISBN13    string `json:"ISBN-13"`
	}
	if json.Unmarshal(body, &d) != nil {
		return nil, true
	}
	det := Details(d)
	return &det, false
}

type reviewsAnswer struct {
	Podname     string `json:"podname"`
	Clustername string `json:"clustername"`
	Reviews     []struct {
		Reviewer string `json:"reviewer"`
		Text     string `json:"text"`
		Rating   *struct {
			Stars int    `json:"stars"`
			Color string `json:"color"`
			Error string `json:"error"`
		} `json:"rating"`
	} `json:"reviews"`
}

func (a *reviewsAnswer) pageReviews() []Review {
	out := make([]Review, len(a.Reviews))
	for i, r := range a.Reviews {
		out[i] = Review{Reviewer: r.Reviewer, Text: r.Text}
		if r.Rating != nil {
			out[i].Rating = &Rating{Stars: r.Rating.Stars, Color: r.Rating.Color, Error: r.Rating.Error}
		}
	}
	return out
}

// reviews calls reviews up to twice: upstream retries once on any failure
// (a deliberate bug "for illustration in the fault injection task"), so one
// page can cost two reviews requests in the telemetry.
func (pp *productPage) reviews(ctx context.Context, hdr http.Header) (*reviewsAnswer, error) {
	var err error
	for range 2 {
		var body []byte
		if body, err = get(ctx, pp.client, "http://reviews:9080/reviews/0", hdr, productpageTimeout); err != nil {
			continue
		}
		var a reviewsAnswer
		if err = json.Unmarshal(body, &a); err != nil {
			return nil, err
		}
		return &a, nil
	}
	return nil, err
}

// fetchRatings is reviews' call to ratings; the stars for Reviewer1 and 2.
func fetchRatings(r *http.Request, c *http.Client, timeout time.Duration) ([2]int, error) {
	hdr := make(http.Header, 8)
	for _, k := range forwardHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			hdr[http.CanonicalHeaderKey(k)] = v
		}
	}
	body, err := get(r.Context(), c, "http://ratings:9080/ratings/0", hdr, timeout)
	if err != nil {
		return [2]int{}, err
	}
	var a struct {
		Ratings map[string]int `json:"ratings"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return [2]int{}, err
	}
	stars := [2]int{-1, -1} // a missing key gives the error object, as upstream
	for i, who := range []string{"Reviewer1", "Reviewer2"} {
		if n, ok := a.Ratings[who]; ok {
			stars[i] = n
		}
	}
	return stars, nil
}

func (pp *productPage) login(rw http.ResponseWriter, r *http.Request) {
	user := strings.TrimSpace(r.PostFormValue("username"))
	if user != "" {
		http.SetCookie(rw, &http.Cookie{Name: "session", Value: pp.key.signSession(user), Path: "/", HttpOnly: true})
	}
	http.Redirect(rw, r, referrer(r), http.StatusFound)
}

func (pp *productPage) logout(rw http.ResponseWriter, r *http.Request) {
	http.SetCookie(rw, &http.Cookie{Name: "session", Value: "", Path: "/", MaxAge: -1})
	http.Redirect(rw, r, referrer(r), http.StatusFound)
}

// referrer is where login and logout send the browser back to. Upstream
// redirects to the Referer; without one it fails, so go to the product page.
func referrer(r *http.Request) string {
	if ref := r.Referer(); ref != "" {
		return ref
	}
	return "/productpage"
}
