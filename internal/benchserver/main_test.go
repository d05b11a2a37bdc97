package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestServerProtocols checks that the same page comes over HTTP/1.1 and
// HTTP/2, on plain http (h2c) and with -tls (h2 by ALPN, verified with
// the CA written to -ca-out).
func TestServerProtocols(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		tls   bool
		proto int // HTTP major version
	}{
		{"http/1.1", false, 1},
		{"h2c", false, 2},
		{"https http/1.1", true, 1},
		{"https h2", true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			caFile := filepath.Join(t.TempDir(), "ca.pem")
			rec := newRecorder(time.Now())
			srv, err := newServer(newHandler(rec, []byte("page v3")), tc.tls, caFile)
			if err != nil {
				t.Fatal(err)
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = srv.serve(l) }()
			t.Cleanup(func() { srv.Close() })
			tr := &http.Transport{TLSClientConfig: &tls.Config{}, Protocols: new(http.Protocols)}
			if tc.tls {
				tr.TLSClientConfig.RootCAs = pool(t, caFile)
			}
			tr.Protocols.SetHTTP1(tc.proto == 1)
			tr.Protocols.SetHTTP2(tc.proto == 2)
			tr.Protocols.SetUnencryptedHTTP2(tc.proto == 2)
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(srv.scheme() + "://" + l.Addr().String() + "/productpage")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "page v3" || resp.ProtoMajor != tc.proto || rec.count.Load() != 1 {
				t.Errorf("GET = %q over %s, %d arrivals; want the page over HTTP/%d, 1 arrival", body, resp.Proto, rec.count.Load(), tc.proto)
			}
		})
	}
}

func pool(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	return p
}
