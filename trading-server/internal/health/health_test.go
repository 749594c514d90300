package health

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHandler_Probes(t *testing.T) {
	var failure atomic.Pointer[error]
	ready := func(context.Context) error {
		if p := failure.Load(); p != nil {
			return *p
		}
		return nil
	}
	srv, err := Listen("127.0.0.1:0", Handler(ready, slog.New(slog.DiscardHandler)), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	base := "http://" + srv.Addr()
	redisDown := errors.New("dial tcp 127.0.0.1:1: connection refused")

	cases := []struct {
		name       string
		method     string
		path       string
		failure    error
		wantStatus int
		wantBody   string
	}{
		{"liveness", http.MethodGet, "/healthz", nil, http.StatusOK, "ok"},
		{"liveness while not ready", http.MethodGet, "/healthz", redisDown, http.StatusOK, "ok"},
		{"liveness head", http.MethodHead, "/healthz", nil, http.StatusOK, ""},
		{"ready", http.MethodGet, "/readyz", nil, http.StatusOK, "ready"},
		{"not ready", http.MethodGet, "/readyz", redisDown, http.StatusServiceUnavailable, "not ready: dial tcp"},
		{"post rejected", http.MethodPost, "/readyz", nil, http.StatusMethodNotAllowed, ""},
		{"unknown path", http.MethodGet, "/metrics", nil, http.StatusNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.failure != nil {
				failure.Store(&tc.failure)
			} else {
				failure.Store(nil)
			}
			req, err := http.NewRequestWithContext(t.Context(), tc.method, base+tc.path, nil)
			if err != nil {
				t.Fatalf("new request: %v", err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.method, tc.path, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if !strings.HasPrefix(string(body), tc.wantBody) {
				t.Errorf("body = %q, want it to start with %q", body, tc.wantBody)
			}
		})
	}
}

func TestServer_ShutdownWithoutStart(t *testing.T) {
	srv, err := Listen("127.0.0.1:0", http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
