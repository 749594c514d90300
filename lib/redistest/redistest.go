// Package redistest starts a private redis-server for a test, on a free
// loopback port with its own data folder, and stops it when the test ends.
package redistest

import (
	"testing"

	"github.com/ably-fanout/lib/redisproc"
	"github.com/redis/go-redis/v9"
)

// Options change how the server runs.
type Options struct {
	// AppendOnly turns on the append-only file, as the Kubernetes manifests
	// do, so that a restart keeps the data.
	AppendOnly bool
}

// Server is a redis-server process owned by one test.
type Server struct {
	*redisproc.Server
	tb testing.TB
}

// Start runs a redis-server for tb and registers its shutdown with
// tb.Cleanup. It fails the test with the install command when
// redis-server is missing.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	proc, err := redisproc.Start(redisproc.Options{Dir: tb.TempDir(), AppendOnly: opts.AppendOnly})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(proc.Stop)
	return &Server{Server: proc, tb: tb}
}

// Client returns a go-redis client for the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Restart stops the server and starts it again on the same port with the
// same data folder, failing the test if it does not come back.
func (s *Server) Restart() {
	s.tb.Helper()
	if err := s.Server.Restart(); err != nil {
		s.tb.Fatalf("restart redis-server: %v", err)
	}
}
