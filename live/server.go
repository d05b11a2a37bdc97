package live

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

//go:embed page.html
var page []byte

// MaxWatchers bounds the event streams open at once, so that a tab left
// open by every member of a team costs the gate nothing it notices.
const MaxWatchers = 64

// Paths the server answers; everything else is 404.
const (
	PagePath   = "/"
	StatePath  = "/api/state"
	EventsPath = "/api/events"
)

// Handler serves the page, the state as JSON and a stream of states as
// server-sent events. It is read-only: any method but GET and HEAD is
// refused.
func (b *Board) Handler() http.Handler {
	var watchers atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PagePath+"{$}", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		// The page and its script are inline; nothing else may load.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("GET "+StatePath, func(w http.ResponseWriter, r *http.Request) {
		data, _ := b.snapshot()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(data)
	})
	mux.HandleFunc("GET "+EventsPath, func(w http.ResponseWriter, r *http.Request) {
		if watchers.Add(1) > MaxWatchers {
			watchers.Add(-1)
			http.Error(w, fmt.Sprintf("more than %d watchers; poll %s instead", MaxWatchers, StatePath), http.StatusServiceUnavailable)
			return
		}
		defer watchers.Add(-1)
		b.stream(w, r)
	})
	return mux
}

// stream sends the state now and after every update, and a comment every
// 15 s so that proxies keep an idle stream open. A slow reader only ever
// gets the newest state: updates between its writes are skipped.
func (b *Board) stream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		data, changed := b.snapshot()
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	wait:
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-keepAlive.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil || rc.Flush() != nil {
				return
			}
			goto wait
		}
	}
}

// ListenAddr is addr as the server binds it: a bare port or ":port" binds
// loopback only; a host (0.0.0.0, an interface's address) says otherwise.
func ListenAddr(addr string) (string, error) {
	if !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil {
		return "", fmt.Errorf("want HOST:PORT or PORT (a number up to 65535; 0 picks a free one), e.g. 127.0.0.1:8089; got %q", strings.TrimPrefix(addr, ":"))
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Serve listens on addr (see ListenAddr) and serves b until ctx ends.
// It returns the page's URL once listening.
func (b *Board) Serve(ctx context.Context, addr string) (string, error) {
	addr, err := ListenAddr(addr)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the gate goes on without its watchers
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/", nil
}
