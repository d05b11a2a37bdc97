package mesh

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// newServer returns an HTTP server whose Shutdown does not wait for
// connections that never carried a request. Clients' transports open such
// connections speculatively, and net/http's Shutdown waits up to five
// seconds for them, which would make every SIGTERM and scale-to-0 slow.
func newServer(h http.Handler) *http.Server {
	fresh := &freshConns{conns: make(map[net.Conn]struct{})}
	s := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ConnState: fresh.track}
	s.RegisterOnShutdown(fresh.closeAll) // runs once the listeners are closed
	return s
}

type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (f *freshConns) track(c net.Conn, st http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st == http.StateNew {
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
}

func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		_ = c.Close()
	}
}

// shutdown lets requests in flight finish until ctx ends, then cuts the
// rest, as a pod's termination grace period does.
func shutdown(ctx context.Context, s *http.Server) error {
	err := s.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return s.Close()
	}
	return err
}
