// Command benchserver serves one static Bookinfo product page as fast as
// net/http allows and records when each request arrived, so that load
// generators can be compared on the pacing the server actually saw.
//
// Arrivals go into 10 ms and 1 s buckets (fixed arrays, atomic adds) counted
// from the first arrival after a reset. GET /__reset clears them; GET
// /__stats?rate=R&duration=D returns the JSON summary (average rate, worst
// 1 s deviation, worst 10 ms bucket against the expected count). The same
// summary is printed on SIGTERM or SIGINT.
//
//	benchserver -addr 127.0.0.1:18080 -page reviews-v3.html
package main

import (
	"context"
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
	pagePath := fs.String("page", "/work/shared/fixtures/bookinfo-1.22/reviews-v3.html", "product page `FILE` to serve")
	if err := fs.Parse(args); err != nil {
		return err
	}
	page, err := os.ReadFile(*pagePath)
	if err != nil {
		return fmt.Errorf("read page: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(stdout, "listening on %s, page %s (%d bytes)\n", l.Addr(), *pagePath, len(page))
	rec := newRecorder(time.Now())
	srv := &http.Server{Handler: newHandler(rec, page), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return json.NewEncoder(stdout).Encode(rec.stats(0, 0))
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
