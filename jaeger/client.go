// Package jaeger reads traces back from Jaeger's query service, and tells
// from Istio's spans which version of a service handled a request: the
// third witness of a gate, beside the page and Prometheus.
//
// It speaks the query API v3 (/api/v3/traces/{id}, OTLP JSON) and falls
// back to v1 (/api/traces/{id}, the UI's JSON) when a Jaeger does not serve
// v3; v1's search endpoints are being removed after Jaeger v1.75, fetching
// one trace by id is all this package needs.
package jaeger

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// ErrNotFound means Jaeger has no trace with that id (yet: spans arrive in
// batches, seconds after the request).
var ErrNotFound = errors.New("trace not found")

// ErrUnavailable means Jaeger could not be reached or answered with a
// server error.
var ErrUnavailable = errors.New("jaeger unavailable")

// maxBody bounds a trace read: a Bookinfo page's trace is a few KB, and a
// runaway trace must not take the gate's memory.
const maxBody = 8 << 20

// Client reads traces from one Jaeger query service.
type Client struct {
	base *url.URL
	http *http.Client
	v1   atomic.Bool // v3 was not served: use v1
}

// New makes a client for a Jaeger query base URL such as
// http://jaeger-query:16686 (a path prefix, as behind a proxy, is kept). rt
// may be nil for the default transport.
func New(rawURL string, rt http.RoundTripper) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("--jaeger %q: want the query service's http or https URL, such as http://jaeger-query:16686", rawURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &Client{base: u, http: &http.Client{Transport: rt, Timeout: 10 * time.Second}}, nil
}

// URL is the query service's base URL.
func (c *Client) URL() string { return c.base.String() }

// Link is the Jaeger UI's page of a trace.
func (c *Client) Link(traceID string) string { return c.base.String() + "/trace/" + traceID }

// Trace fetches one trace by its 32-hex-digit id.
func (c *Client) Trace(ctx context.Context, id string) (*Trace, error) {
	if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
		return nil, fmt.Errorf("trace id %q: want 32 hex digits", id)
	}
	if !c.v1.Load() {
		t, err := c.get(ctx, "/api/v3/traces/"+id, parseV3)
		if !errors.Is(err, errNoAPI) {
			return t, err
		}
		c.v1.Store(true)
	}
	return c.get(ctx, "/api/traces/"+id, parseV1)
}

// errNoAPI is an answer that is not the API's: a Jaeger without v3.
var errNoAPI = errors.New("no such API")

func (c *Client) get(ctx context.Context, path string, parse func([]byte) (*Trace, error)) (*Trace, error) {
	u := *c.base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %v", ErrUnavailable, path, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("GET %s: the trace is over %d MB", path, maxBody>>20)
	}
	// Jaeger answers its JSON as text/plain (v1.75's 404s do), so the body
	// tells an API's answer from the UI's HTML page or a router's 404.
	isJSON := bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) && json.Valid(body)
	switch {
	case resp.StatusCode == http.StatusOK && isJSON:
		t, err := parse(body)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
		if len(t.Spans) == 0 {
			return nil, ErrNotFound
		}
		return t, nil
	case resp.StatusCode == http.StatusNotFound && isJSON:
		return nil, ErrNotFound
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusMethodNotAllowed, resp.StatusCode == http.StatusOK:
		return nil, errNoAPI // an HTML page or a router's 404: not this API
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: GET %s: %s", ErrUnavailable, path, resp.Status)
	}
	return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, firstLine(body))
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
