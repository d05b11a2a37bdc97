// Command benchserver serves one static Bookinfo product page as fast as
// net/http allows and records when each request arrived, so that load
// generators can be compared on the pacing the server actually saw.
//
// The page is the local mesh's reviews-v3 product page in the 1.22 markup,
// rendered by package bookinfo/app (-page FILE serves a file instead). Plain
// http takes HTTP/1.1 and HTTP/2 with prior knowledge (h2c); -tls serves
// https instead, HTTP/1.1 and h2 by ALPN, with a certificate for 127.0.0.1
// and localhost from a CA made at start (written to -ca-out FILE if given),
// so that HTTP/2 and TLS can be measured against the same server.
//
// Arrivals go into 10 ms and 1 s buckets (fixed arrays, atomic adds) counted
// from the first arrival after a reset. GET /__reset clears them; GET
// /__stats?rate=R&duration=D returns the JSON summary (average rate, worst
// 1 s deviation, worst 10 ms bucket against the expected count). The same
// summary is printed on SIGTERM or SIGINT.
//
//	benchserver -addr 127.0.0.1:18080
//	benchserver -addr 127.0.0.1:18443 -tls -ca-out ca.pem
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/canary-gate/canary/internal/devcert"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchserver", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:18080", "listen address")
	pagePath := fs.String("page", "", "product page `FILE` to serve instead of the rendered reviews-v3 page")
	useTLS := fs.Bool("tls", false, "serve https with a certificate made at start")
	caOut := fs.String("ca-out", "", "with -tls, write the CA certificate to `FILE`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	page, name, err := loadPage(*pagePath)
	if err != nil {
		return err
	}
	rec := newRecorder(time.Now())
	srv, err := newServer(newHandler(rec, page), *useTLS, *caOut)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(stdout, "listening on %s, %s, page %s (%d bytes)\n", l.Addr(), srv.scheme(), name, len(page))
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return json.NewEncoder(stdout).Encode(rec.stats(0, 0))
}

// server is the page server and whether it serves https.
type server struct {
	*http.Server
	tls bool
}

// newServer returns the server for h: HTTP/1.1 and HTTP/2, over https
// with a certificate made now if useTLS, else over plain http (h2c).
func newServer(h http.Handler, useTLS bool, caOut string) (server, error) {
	srv := server{&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, Protocols: new(http.Protocols)}, useTLS}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)            // over TLS, by ALPN
	srv.Protocols.SetUnencryptedHTTP2(true) // over plain http, by prior knowledge
	if !useTLS {
		return srv, nil
	}
	var err error
	srv.TLSConfig, err = selfSigned(caOut)
	return srv, err
}

func (s server) scheme() string {
	if s.tls {
		return "https"
	}
	return "http"
}

// serve serves on l until the server is closed.
func (s server) serve(l net.Listener) error {
	if s.tls {
		return s.ServeTLS(l, "", "") // the certificate is in TLSConfig
	}
	return s.Serve(l)
}

// selfSigned makes a CA and a server certificate for 127.0.0.1 and
// localhost, writing the CA's certificate to caOut unless it is empty.
func selfSigned(caOut string) (*tls.Config, error) {
	ca, err := devcert.NewCA("benchserver CA")
	if err != nil {
		return nil, err
	}
	pair, err := ca.Issue("127.0.0.1", "localhost")
	if err != nil {
		return nil, err
	}
	cert, err := pair.TLS()
	if err != nil {
		return nil, err
	}
	if caOut != "" {
		if err := os.WriteFile(caOut, ca.PEM, 0o644); err != nil {
			return nil, fmt.Errorf("ca-out: %w", err)
		}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

func newHandler(rec *recorder, page []byte) http.Handler {
	// Shared, read-only header values: the hot path allocates no strings.
	contentType := []string{"text/html; charset=utf-8"}
	contentLength := []string{strconv.Itoa(len(page))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__reset", func(w http.ResponseWriter, _ *http.Request) {
		rec.reset()
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /__stats", func(w http.ResponseWriter, r *http.Request) {
		rate, _ := strconv.ParseFloat(r.FormValue("rate"), 64)
		d, _ := time.ParseDuration(r.FormValue("duration"))
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rec.stats(rate, d))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		rec.arrive(time.Now())
		h := w.Header()
		h["Content-Type"] = contentType
		h["Content-Length"] = contentLength
		_, _ = w.Write(page)
	})
	return mux
}
