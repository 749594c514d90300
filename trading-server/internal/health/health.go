// Package health serves the Kubernetes probes, /healthz (liveness) and
// /readyz (readiness), and runs the service's HTTP server, which also
// serves /metrics.
package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// CheckTimeout bounds one readiness check.
const CheckTimeout = 2 * time.Second

// Check returns nil when the service can do its work.
type Check func(ctx context.Context) error

// Handler returns a handler for GET and HEAD requests to /healthz, which
// responds 200 while the process serves HTTP, and /readyz, which responds
// 200 when ready returns nil within CheckTimeout and 503 with the error
// otherwise.
func Handler(ready Check, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), CheckTimeout)
		defer cancel()
		if err := ready(ctx); err != nil {
			logger.Debug("readiness check failed", slog.Any("error", err))
			writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
		writeText(w, http.StatusOK, "ready")
	})
	return mux
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, body)
}

// Server is the service's HTTP server.
type Server struct {
	srv    *http.Server
	ln     net.Listener
	logger *slog.Logger
	done   chan struct{}
	// started is set by Start. Only the goroutine that owns the Server
	// calls Start and Shutdown, so it needs no lock.
	started bool
}

// Listen binds addr, such as ":8090" or "127.0.0.1:0", and returns a
// Server that is not yet serving.
func Listen(addr string, handler http.Handler, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return &Server{
		srv: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       60 * time.Second,
		},
		ln:     ln,
		logger: logger,
		done:   make(chan struct{}),
	}, nil
}

// Addr returns the address the server listens on, with the port chosen by
// the system when addr ended in ":0".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Start serves requests in a goroutine until Shutdown.
func (s *Server) Start() {
	s.started = true
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("http server failed", slog.Any("error", err), slog.String("addr", s.Addr()))
		}
	}()
}

// Shutdown stops accepting requests, waits for those in progress until ctx
// ends, and waits for the serving goroutine to exit.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.started {
		return s.ln.Close()
	}
	err := s.srv.Shutdown(ctx)
	<-s.done
	if err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
