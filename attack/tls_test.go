package attack

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/internal/devcert"
)

// pki is a CA, a server certificate it signed for bookinfo.example and
// 127.0.0.1, and a client certificate; the CA and the client's files are
// in a temporary directory.
type pki struct {
	ca                    *devcert.CA
	caFile                string
	server                tls.Certificate
	clientCert, clientKey string
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	ca, err := devcert.NewCA(name + " CA")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Issue("bookinfo.example", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Issue(name + "-client")
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{ca: ca, caFile: filepath.Join(t.TempDir(), name+"-ca.pem")}
	if p.server, err = srv.TLS(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if p.clientCert, p.clientKey, err = client.WriteFiles(filepath.Dir(p.caFile), name+"-client"); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsServer serves "page v2" over TLS with p's server certificate, HTTP/2
// by ALPN if h2; edit, if not nil, adjusts the server's TLS config.
func tlsServer(t *testing.T, p *pki, h2 bool, edit func(*tls.Config)) *testServer {
	t.Helper()
	return startTestServer(t, page("v2"), func(s *httptest.Server) {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}}
		if edit != nil {
			edit(s.TLS)
		}
		s.EnableHTTP2 = h2
		s.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused on purpose
		s.StartTLS()
	})
}

// requireClientCert makes a server ask for a client certificate signed by
// ca and refuse the handshake without one, in at most TLS version max.
func requireClientCert(ca *devcert.CA, max uint16) func(*tls.Config) {
	return func(c *tls.Config) {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = x509.NewCertPool()
		c.ClientCAs.AppendCertsFromPEM(ca.PEM)
		c.MaxVersion = max
	}
}

// all returns every request the server received.
func (ts *testServer) all() []*http.Request {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]*http.Request(nil), ts.requests...)
}

// wantRefused checks that Run failed before sending anything, with an
// error that wraps sentinel and reads "target ORIGIN: " + msg; msg may
// end in "..." to match a prefix.
func wantRefused(t *testing.T, ts *testServer, s *Summary, err, sentinel error, msg string) {
	t.Helper()
	want := fmt.Sprintf("target %s: %s", ts.URL, msg)
	got := ""
	if err != nil {
		got = err.Error()
	}
	if prefix, ok := strings.CutSuffix(want, "..."); ok && strings.HasPrefix(got, prefix) {
		want = got
	}
	switch {
	case !errors.Is(err, sentinel):
		t.Errorf("Run() error = %v; want one wrapping %v", err, sentinel)
	case got != want:
		t.Errorf("Run() error:\n got %s\nwant %s", got, want)
	case strings.Contains(got, "\n"):
		t.Errorf("Run() error = %q; want one line", got)
	}
	sent := 0
	for _, r := range ts.all() {
		if r.Method != "PRI" { // Go's server hands the h2c preface to the handler
			sent++
		}
	}
	if s != nil || sent != 0 {
		t.Errorf("Run() summary %v after %d requests; want none sent", s, sent)
	}
}

// TestTLSVerification checks which certificates and names the attack
// trusts, that one it cannot verify stops it before any request with
// ErrTLS, and the name it sends as SNI.
func TestTLSVerification(t *testing.T) {
	t.Parallel()
	p, other := newPKI(t, "canary"), newPKI(t, "other")
	unknownCA := func(err error) bool { return errors.As(err, new(x509.UnknownAuthorityError)) }
	wrongName := func(err error) bool { return errors.As(err, new(x509.HostnameError)) }
	tests := []struct {
		name  string
		o     Options
		sni   string           // the server name the server must see
		cause func(error) bool // finds the x509 error; nil: the attack must succeed
		msg   string           // Run's error after "target ORIGIN: "
	}{
		{name: "ca-file, ip target sends no sni", o: Options{CAFile: p.caFile}},
		{name: "insecure", o: Options{Insecure: true, ServerName: "wrong.example"}, sni: "wrong.example"},
		{name: "host header names sni", o: Options{CAFile: p.caFile, Headers: http.Header{"Host": {"bookinfo.example:8443"}}},
			sni: "bookinfo.example"},
		{name: "server-name over host header", sni: "bookinfo.example",
			o: Options{CAFile: p.caFile, ServerName: "bookinfo.example", Headers: http.Header{"Host": {"reviews.example"}}}},
		{name: "system roots", o: Options{}, cause: unknownCA,
			msg: "tls: x509: certificate signed by unknown authority (give --ca-file FILE, or --insecure to skip verification)"},
		{name: "another ca", o: Options{CAFile: other.caFile}, cause: unknownCA,
			msg: "tls: x509: certificate signed by unknown authority (give --ca-file FILE, or --insecure to skip verification)"},
		{name: "wrong server-name", o: Options{CAFile: p.caFile, ServerName: "wrong.example"}, cause: wrongName,
			msg: "tls: x509: certificate is valid for bookinfo.example, not wrong.example (give --sni NAME with a name the certificate holds, or --insecure to skip verification)"},
		{name: "wrong host header", o: Options{CAFile: p.caFile, Headers: http.Header{"Host": {"reviews.example"}}},
			cause: wrongName, msg: "tls: x509: certificate is valid for bookinfo.example, not reviews.example (give --sni..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bothClients(t, func(t *testing.T, via func(Options) Options) {
				ts := tlsServer(t, p, false, nil)
				o := tc.o
				o.Target, o.Requests, o.Workers = ts.URL+"/productpage", 10, 2
				s, err := runErr(t, via(o))
				if tc.cause != nil {
					wantRefused(t, ts, s, err, ErrTLS, tc.msg)
					if !tc.cause(err) {
						t.Errorf("Run() error = %v; want errors.As to find its x509 error", err)
					}
					return
				}
				if err != nil || s.Count(classify.OK) != 10 {
					t.Fatalf("Run() = %v, error %v; want 10 pages", s, err)
				}
				for _, r := range ts.all() {
					if r.TLS.ServerName != tc.sni || r.ProtoMajor != 1 {
						t.Fatalf("request over %s with SNI %q; want HTTP/1.1 with %q", r.Proto, r.TLS.ServerName, tc.sni)
					}
				}
			})
		})
	}
}

// TestMTLS checks an ingress that requires a client certificate, in TLS
// 1.2 (refused in the handshake) and 1.3 (refused after it).
func TestMTLS(t *testing.T) {
	t.Parallel()
	p, other := newPKI(t, "canary"), newPKI(t, "other")
	tests := []struct {
		name string
		o    Options
		msg  string // Run's error after "target ORIGIN: "; "" for success
	}{
		{"client certificate", Options{CertFile: p.clientCert, KeyFile: p.clientKey}, ""},
		{"none", Options{}, "tls: remote error: tls: ..."},
		{"from another ca", Options{CertFile: other.clientCert, KeyFile: other.clientKey}, "tls: remote error: tls: ..."},
	}
	hints := map[string]string{
		"none":            "(the server wants a client certificate: give --cert FILE and --key FILE)",
		"from another ca": "(the server refused the client certificate of --cert)",
	}
	for _, version := range []struct {
		name string
		max  uint16
	}{{"tls1.2", tls.VersionTLS12}, {"tls1.3", tls.VersionTLS13}} {
		for _, tc := range tests {
			t.Run(version.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				bothClients(t, func(t *testing.T, via func(Options) Options) {
					ts := tlsServer(t, p, false, requireClientCert(p.ca, version.max))
					o := tc.o
					o.Target, o.CAFile, o.Requests, o.Workers = ts.URL, p.caFile, 10, 2
					s, err := runErr(t, via(o))
					if tc.msg != "" {
						wantRefused(t, ts, s, err, ErrTLS, tc.msg)
						if !strings.HasSuffix(fmt.Sprint(err), hints[tc.name]) {
							t.Errorf("Run() error = %v; want it to end in %s", err, hints[tc.name])
						}
						return
					}
					if err != nil || s.Count(classify.OK) != 10 {
						t.Fatalf("Run() = %v, error %v; want 10 pages", s, err)
					}
					if cn := ts.all()[0].TLS.PeerCertificates[0].Subject.CommonName; cn != "canary-client" {
						t.Errorf("server saw client certificate %q; want canary-client", cn)
					}
				})
			})
		}
	}
}

// h2cServer serves "page v2" over plain http, HTTP/1.1 and HTTP/2 with
// prior knowledge.
func h2cServer(t *testing.T) *testServer {
	t.Helper()
	return startTestServer(t, page("v2"), func(s *httptest.Server) {
		s.Config.Protocols = new(http.Protocols)
		s.Config.Protocols.SetHTTP1(true)
		s.Config.Protocols.SetUnencryptedHTTP2(true)
		s.Start()
	})
}

// TestHTTP2 checks that HTTP2 sends over HTTP/2 by ALPN and by prior
// knowledge, that a server without HTTP/2 stops the attack before any
// request with ErrNoHTTP2, and that without HTTP2 an HTTP/2 server is
// still spoken to in HTTP/1.1.
func TestHTTP2(t *testing.T) {
	t.Parallel()
	p := newPKI(t, "canary")
	tests := []struct {
		name   string
		server func(*testing.T) *testServer
		http2  bool
		proto  int    // the ProtoMajor requests must arrive with
		msg    string // Run's error after "target ORIGIN: "; "" for success
	}{
		{"h2 by alpn", func(t *testing.T) *testServer { return tlsServer(t, p, true, nil) }, true, 2, ""},
		{"h2c", h2cServer, true, 2, ""},
		{"http/1.1 to an h2 server", func(t *testing.T) *testServer { return tlsServer(t, p, true, nil) }, false, 1, ""},
		{"http/1.1 to an h2c server", h2cServer, false, 1, ""},
		{"tls server without h2", func(t *testing.T) *testServer { return tlsServer(t, p, false, nil) }, true, 0,
			"--http2: the server did not negotiate HTTP/2 (ALPN offered h2, got http/1.1)"},
		{"plain server without h2c", func(t *testing.T) *testServer { return newTestServer(t, page("v2")) }, true, 0,
			`--http2: the server did not negotiate HTTP/2 (sent the h2c preface, got "HTTP/1.1 200 OK")`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bothClients(t, func(t *testing.T, via func(Options) Options) {
				ts := tc.server(t)
				o := via(Options{Target: ts.URL, CAFile: p.caFile, HTTP2: tc.http2, Requests: 20, Workers: 4})
				if strings.HasPrefix(ts.URL, "http:") {
					o.CAFile = ""
				}
				s, err := runErr(t, o)
				if tc.msg != "" {
					wantRefused(t, ts, s, err, ErrNoHTTP2, tc.msg)
					return
				}
				if err != nil || s.Count(classify.OK) != 20 {
					t.Fatalf("Run() = %v, error %v; want 20 pages", s, err)
				}
				for _, r := range ts.all() {
					if r.ProtoMajor != tc.proto {
						t.Fatalf("request arrived over %s; want HTTP/%d", r.Proto, tc.proto)
					}
				}
			})
		})
	}
}

// TestOneTLSConfig checks that both clients use the same TLS config.
func TestOneTLSConfig(t *testing.T) {
	t.Parallel()
	p := newPKI(t, "canary")
	a, err := New(Options{Target: "https://127.0.0.1:9443/", CAFile: p.caFile})
	if err != nil {
		t.Fatal(err)
	}
	if a.fast == nil {
		t.Fatal("New() made no fasthttp client; want one for a target without a proxy")
	}
	if a.fast.TLSConfig != a.transport.TLSClientConfig || a.tls.RootCAs == nil {
		t.Errorf("fasthttp's TLS config %p, the Transport's %p; want the same one, with the CA", a.fast.TLSConfig, a.transport.TLSClientConfig)
	}
}
