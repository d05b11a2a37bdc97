package prom

import (
	"context"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/files"
	"github.com/canary-gate/canary/internal/redact"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// ErrUnavailable means Prometheus could not be reached or kept failing after
// retries: the server-side check could not run.
var ErrUnavailable = errors.New("prometheus unavailable")

// Options say how to reach a Prometheus server. Secrets are read from files
// and never printed.
type Options struct {
	URL             string
	BearerTokenFile string            // file holding a bearer token
	BasicAuthFile   string            // file holding "user:password"
	Headers         map[string]string // extra request headers
	CAFile          string            // CA bundle for https
	Insecure        bool              // skip TLS verification
	Timeout         time.Duration     // per request; default 10s
	Retries         int               // tries after the first on failure; default 3
	// RoundTripper, when set, sends the requests instead of one built
	// from the options above: the API server's service proxy needs the
	// kubeconfig's credentials (client-go's transport).
	RoundTripper http.RoundTripper
}

// Validate checks the options without touching the network or the files'
// contents, naming the flag at fault.
func (o Options) Validate() error {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--prometheus %q: want an http or https URL such as http://prometheus:9090", o.URL)
	}
	if o.BearerTokenFile != "" && o.BasicAuthFile != "" {
		return errors.New("--prom-bearer-token-file and --prom-basic-auth-file: give one, not both")
	}
	for k := range o.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			return fmt.Errorf("--prom-header %q: want NAME=VALUE with a valid header name", k)
		}
	}
	return nil
}

// querier is the part of the Prometheus API this package uses; it keeps a
// client_golang upgrade (whose Query grew a return value twice) to one file.
type querier interface {
	Query(ctx context.Context, q string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error)
	Targets(ctx context.Context) (v1.TargetsResult, error)
}

// Client queries one Prometheus server.
type Client struct {
	api     querier
	url     string
	timeout time.Duration
	retries int
	backoff time.Duration
}

// New builds a client; it does not contact the server.
func New(o Options) (*Client, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	hc, err := httpConfig(o)
	if err != nil {
		return nil, err
	}
	rt, err := config.NewRoundTripperFromConfig(hc, "canary")
	if err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	if o.RoundTripper != nil {
		rt = o.RoundTripper
	}
	ac, err := api.NewClient(api.Config{Address: o.URL, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("--prometheus %q: %w", o.URL, err)
	}
	c := &Client{api: v1.NewAPI(ac), url: o.URL, timeout: o.Timeout, retries: o.Retries, backoff: 500 * time.Millisecond}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if c.retries <= 0 {
		c.retries = 3
	}
	return c, nil
}

func httpConfig(o Options) (config.HTTPClientConfig, error) {
	hc := config.DefaultHTTPClientConfig
	hc.BearerTokenFile = o.BearerTokenFile
	if o.BearerTokenFile != "" {
		// The client reads the file at every request; read it once here
		// too, bounded, so that a bad file is an error at the start and its
		// token is never printed, not even echoed in a server's error.
		data, err := files.Read(o.BearerTokenFile, files.MaxSecret)
		if err != nil {
			return hc, fmt.Errorf("--prom-bearer-token-file: %w", err)
		}
		redact.Add(string(data))
	}
	hc.TLSConfig = config.TLSConfig{CAFile: o.CAFile, InsecureSkipVerify: o.Insecure}
	if o.BasicAuthFile != "" {
		data, err := files.Read(o.BasicAuthFile, files.MaxSecret)
		if err != nil {
			return hc, fmt.Errorf("--prom-basic-auth-file: %w", err)
		}
		user, pass, ok := strings.Cut(strings.TrimSpace(string(data)), ":")
		if !ok || user == "" {
			return hc, fmt.Errorf("--prom-basic-auth-file %s: want one line user:password", o.BasicAuthFile)
		}
		redact.Add(pass, user+":"+pass)
		hc.BasicAuth = &config.BasicAuth{Username: user, Password: config.Secret(pass)}
	}
	if len(o.Headers) > 0 {
		hc.HTTPHeaders = &config.Headers{Headers: map[string]config.Header{}}
		for k, v := range o.Headers {
			redact.Add(v)
			// Secrets, not Values: header values are often tokens.
			hc.HTTPHeaders.Headers[k] = config.Header{Secrets: []config.Secret{config.Secret(v)}}
		}
	}
	if err := hc.Validate(); err != nil {
		return hc, fmt.Errorf("prometheus client options: %w", err)
	}
	return hc, nil
}

// URL is the server's address, for reports.
func (c *Client) URL() string { return c.url }

// retry runs f until it succeeds, fails for a reason retrying cannot fix
// (a bad query), ctx ends, or the tries run out; then the error wraps
// ErrUnavailable so the caller can say the server-side check did not run.
func (c *Client) retry(ctx context.Context, what string, f func(ctx context.Context) error) error {
	wait := c.backoff
	var err error
	for try := 0; try <= c.retries; try++ {
		tctx, cancel := context.WithTimeout(ctx, c.timeout)
		err = f(tctx)
		cancel()
		if err == nil {
			return nil
		}
		var ae *v1.Error
		if errors.As(err, &ae) && ae.Type == v1.ErrBadData {
			return fmt.Errorf("%s: %w", what, err)
		}
		if try == c.retries {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
	return fmt.Errorf("%s at %s after %d tries: %w: %w", what, c.url, c.retries+1, ErrUnavailable, err)
}

// Ping checks that the server answers a query, so that a gate whose
// Prometheus is unreachable fails at the start (exit 4) instead of running
// its whole load for a server check that cannot happen.
func (c *Client) Ping(ctx context.Context) error {
	return c.retry(ctx, "query vector(1)", func(ctx context.Context) error {
		_, _, _, err := c.api.Query(ctx, "vector(1)", time.Now())
		return err
	})
}
