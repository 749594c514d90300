// Package redistest starts a private redis-server for a test, on a free
// loopback port with its own data folder, and stops it when the test ends.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// InstallHint is the command that installs the server on Debian.
const InstallHint = "apt-get install -y redis-server (or run make deps)"

// Options change how the server runs.
type Options struct {
	// AppendOnly turns on the append-only file, as the Kubernetes manifests
	// do, so that a restart keeps the data.
	AppendOnly bool
}

// Server is a redis-server process owned by one test.
type Server struct {
	tb   testing.TB
	opts Options
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs a redis-server for tb and registers its shutdown with
// tb.Cleanup. It fails the test with the install command when
// redis-server is missing.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatalf("redis-server not found in PATH; install it: %s", InstallHint)
	}
	s := &Server{tb: tb, opts: opts, dir: tb.TempDir()}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("find a free port: %v", err)
		}
		s.port = port
		if lastErr = s.start(); lastErr == nil {
			tb.Cleanup(s.Stop)
			return s
		}
	}
	tb.Fatalf("start redis-server: %v", lastErr)
	return nil
}

// Addr returns host:port of the server.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the server's port.
func (s *Server) Port() int { return s.port }

// URL returns a redis:// URL for the server.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Client returns a go-redis client for the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Kill stops the server with SIGKILL, as a crash would.
func (s *Server) Kill() {
	s.tb.Helper()
	s.signal(syscall.SIGKILL)
}

// Stop shuts the server down with SIGTERM and waits for it.
func (s *Server) Stop() {
	s.signal(syscall.SIGTERM)
}

// Restart stops the server and starts it again on the same port with the
// same data folder. With AppendOnly the data survives.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.tb.Fatalf("restart redis-server: %v", err)
	}
}

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

func (s *Server) start() error {
	appendOnly := "no"
	if s.opts.AppendOnly {
		appendOnly = "yes"
	}
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", appendOnly,
		"--appendfsync", "always",
		"--logfile", filepath.Join(s.dir, "redis.log"),
		"--daemonize", "no",
	)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	if err := waitReady(s.Addr(), done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
		return fmt.Errorf("%w; server log:\n%s", err, log)
	}
	s.cmd, s.done = cmd, done
	return nil
}

func waitReady(addr string, exited <-chan struct{}) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("redis-server exited at start")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s did not answer PING within 10s", addr)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
