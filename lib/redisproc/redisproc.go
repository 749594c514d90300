// Package redisproc runs a private redis-server process on a loopback port
// with its own data folder, for tests and for the local development stack.
package redisproc

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
	"time"

	"github.com/redis/go-redis/v9"
)

// InstallHint is the command that installs the server on Debian.
const InstallHint = "apt-get install -y redis-server (or run make deps)"

// ErrNotInstalled means redis-server is not in PATH.
var ErrNotInstalled = errors.New("redis-server not found in PATH; install it: " + InstallHint)

// Options change how the server runs.
type Options struct {
	// Dir holds the server's data and log. Required.
	Dir string
	// AppendOnly turns on the append-only file, as the Kubernetes manifests
	// do, so that a restart keeps the data.
	AppendOnly bool
}

// Server is one redis-server process.
type Server struct {
	opts Options
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// Installed reports whether redis-server is in PATH.
func Installed() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// Start runs redis-server on a free loopback port and waits until it
// replies to PING. It tries a few ports, because a port found free can be
// taken before the server binds it.
func Start(opts Options) (*Server, error) {
	if !Installed() {
		return nil, ErrNotInstalled
	}
	if opts.Dir == "" {
		return nil, errors.New("redisproc: Options.Dir is empty")
	}
	s := &Server{opts: opts}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		s.port = port
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("start redis-server: %w", lastErr)
}

// Addr returns host:port of the server.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the server's port.
func (s *Server) Port() int { return s.port }

// URL returns a redis:// URL for the server.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Pid returns the process id, or 0 when the server is not running.
func (s *Server) Pid() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Kill stops the server with SIGKILL, as a crash would.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

// Stop shuts the server down with SIGTERM and waits for it.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Restart stops the server and starts it again on the same port with the
// same data folder. With AppendOnly the data survives.
func (s *Server) Restart() error {
	s.Stop()
	return s.start()
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
	logPath := filepath.Join(s.opts.Dir, "redis.log")
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.opts.Dir,
		"--save", "",
		"--appendonly", appendOnly,
		"--appendfsync", "always",
		"--logfile", logPath,
		"--daemonize", "no",
	)
	// Its own process group keeps a Ctrl-C in the terminal from reaching
	// it, so that the stack can stop the services before Redis.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	if err := waitReady(s.Addr(), done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		log, _ := os.ReadFile(logPath)
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
	return fmt.Errorf("redis-server on %s did not reply to PING within 10s", addr)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
