// Package stack runs the whole pipeline on one machine: Redis, the Ably
// emulator (or real Ably), the trading server, publisher replicas and a web
// server for the browser client. make run and the end-to-end tests use it.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ably-fanout/lib/trade"
)

// Options configure a stack. Zero values take the defaults noted.
type Options struct {
	// RepoRoot is the folder that holds go.work and client/. Required.
	RepoRoot string
	// Bin locates the compiled programs. Required.
	Bin Binaries
	// RunDir receives one log file per process and Redis's data. Required.
	RunDir string
	// RedisURL selects an existing Redis server. Default: start one.
	RedisURL string
	// AblyKey selects real Ably instead of the emulator. Default: emulator.
	AblyKey string
	// Replicas is the number of publisher replicas. Default 3.
	Replicas int
	// QueueKey is the Redis list of trades. Default myJobQueue.
	QueueKey string
	// Channel is the Ably channel. Default trades.
	Channel string
	// RateLimit is the publishers' global limit per second. Default 50.
	RateLimit int
	// WebAddr is the listen address of the browser client's web server.
	// Default: a free port.
	WebAddr string
	// NoTradingServer leaves the trading server out, for tests that push
	// trades themselves.
	NoTradingServer bool
	// TradingEnv, PublisherEnv and EmulatorEnv add settings to those
	// processes, over the stack's own.
	TradingEnv, PublisherEnv, EmulatorEnv map[string]string
}

func (o *Options) setDefaults() {
	if o.Replicas == 0 {
		o.Replicas = 3
	}
	if o.QueueKey == "" {
		o.QueueKey = "myJobQueue"
	}
	if o.Channel == "" {
		o.Channel = "trades"
	}
	if o.RateLimit == 0 {
		o.RateLimit = 50
	}
}

// Stack is a running pipeline.
type Stack struct {
	opts Options

	Redis       *Redis
	Emulator    *Process
	EmulatorURL string
	key         string
	Publishers  []*Publisher
	Trading     *Process
	// TradingURL is the base URL of the trading server's /healthz and
	// /readyz, empty until it starts.
	TradingURL string
	web        *http.Server
	WebURL     string
}

// Publisher is one publisher replica.
type Publisher struct {
	*Process
	ID string
	// URL is the base URL of its HTTP server (token, health).
	URL string
}

// Start starts every part of the pipeline and waits until each is ready.
// On error it stops what it started.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	opts.setDefaults()
	if err := os.MkdirAll(opts.RunDir, 0o755); err != nil {
		return nil, err
	}
	// Each start writes new log files; the processes of one stack append
	// to them, as a restarted replica does.
	oldLogs, err := filepath.Glob(filepath.Join(opts.RunDir, "*.log"))
	if err != nil {
		return nil, err
	}
	for _, path := range oldLogs {
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove the log of an earlier run: %w", err)
		}
	}
	s := &Stack{opts: opts}
	if err := s.start(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context) error {
	redisDir := filepath.Join(s.opts.RunDir, "redis")
	if err := os.MkdirAll(redisDir, 0o755); err != nil {
		return err
	}
	var err error
	if s.Redis, err = StartRedis(s.opts.RedisURL, redisDir); err != nil {
		return err
	}
	if s.opts.AblyKey != "" {
		s.key = s.opts.AblyKey
	} else if err := s.startEmulator(ctx); err != nil {
		return err
	}
	for i := range s.opts.Replicas {
		if _, err := s.StartPublisher(ctx, fmt.Sprintf("publisher-%d", i+1)); err != nil {
			return err
		}
	}
	if err := s.startWeb(); err != nil {
		return err
	}
	if !s.opts.NoTradingServer {
		return s.StartTradingServer(nil)
	}
	return nil
}

func (s *Stack) startEmulator(ctx context.Context) error {
	key, err := NewKey()
	if err != nil {
		return err
	}
	addr, err := FreeAddr()
	if err != nil {
		return err
	}
	env := map[string]string{
		"EMULATOR_ADDR": addr,
		"EMULATOR_KEYS": key,
	}
	maps.Copy(env, s.opts.EmulatorEnv)
	p, err := s.startProcess("ably-emulator", s.opts.Bin.Emulator, env)
	if err != nil {
		return err
	}
	s.Emulator, s.key, s.EmulatorURL = p, key, "http://"+addr
	return waitHTTP(ctx, p, s.EmulatorURL+"/healthz", s.logPath(p.Name))
}

// StartPublisher starts one more publisher replica with the given id and
// waits until it is ready. Tests use it to replace a killed replica.
func (s *Stack) StartPublisher(ctx context.Context, id string) (*Publisher, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	env := s.serviceEnv()
	env["HTTP_ADDR"] = addr
	env["REPLICA_ID"] = id
	env["ABLY_KEY"] = s.key
	env["RATE_LIMIT"] = strconv.Itoa(s.opts.RateLimit)
	env["ABLY_ENDPOINT"] = s.EmulatorURL
	if os.Getenv("SYMBOLS") == "" {
		// /config lists one channel per symbol when CHANNEL_NAME routes
		// by {symbol}, so the publishers get the trading server's symbols.
		env["SYMBOLS"] = strings.Join(trade.DefaultSymbols, ",")
		if symbols := s.opts.TradingEnv["SYMBOLS"]; symbols != "" {
			env["SYMBOLS"] = symbols
		}
	}
	maps.Copy(env, s.opts.PublisherEnv)
	p, err := s.startProcess(id, s.opts.Bin.Publisher, env)
	if err != nil {
		return nil, err
	}
	pub := &Publisher{Process: p, ID: id, URL: "http://" + addr}
	s.Publishers = append(s.Publishers, pub)
	if err := waitHTTP(ctx, p, pub.URL+"/readyz", s.logPath(id)); err != nil {
		return nil, err
	}
	return pub, nil
}

// StartTradingServer starts the trading server with extra settings over
// Options.TradingEnv.
func (s *Stack) StartTradingServer(extra map[string]string) error {
	addr, err := FreeAddr()
	if err != nil {
		return err
	}
	env := s.serviceEnv()
	env["HTTP_ADDR"] = addr
	maps.Copy(env, s.opts.TradingEnv)
	maps.Copy(env, extra)
	p, err := s.startProcess("trading-server", s.opts.Bin.TradingServer, env)
	if err != nil {
		return err
	}
	s.Trading, s.TradingURL = p, "http://"+env["HTTP_ADDR"]
	return nil
}

func (s *Stack) startWeb() error {
	addr := s.opts.WebAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	srv, bound, err := serveWeb(addr, WebHandler(s.opts.RepoRoot))
	if err != nil {
		return fmt.Errorf("serve the client on %s: %w", addr, err)
	}
	s.web, s.WebURL = srv, "http://"+bound
	return nil
}

// ClientURL returns the address of the browser client, pointed at the first
// publisher's token endpoint.
func (s *Stack) ClientURL() string {
	if len(s.Publishers) == 0 {
		return s.WebURL + "/client.html"
	}
	return s.WebURL + "/client.html?tokenUrl=" + url.QueryEscape(s.Publishers[0].URL+"/token")
}

// Key returns the Ably key the publishers use. With the emulator it is a
// random key made for this run.
func (s *Stack) Key() string { return s.key }

// Options returns the options the stack runs with, defaults filled in.
func (s *Stack) Options() Options { return s.opts }

// Stop shuts the stack down in the order that loses nothing: the trading
// server first so no new trades arrive, then the publishers (each finishes
// or hands back its in-flight trade), then the emulator, the web server and
// Redis. It returns the processes' shutdown errors joined.
func (s *Stack) Stop() error {
	const grace = 30 * time.Second
	var errs []error
	if s.Trading != nil {
		errs = append(errs, s.Trading.Stop(grace))
	}
	for _, p := range s.Publishers {
		if p.Running() {
			errs = append(errs, p.Stop(grace))
		}
	}
	if s.Emulator != nil {
		errs = append(errs, s.Emulator.Stop(grace))
	}
	if s.web != nil {
		_ = s.web.Close()
	}
	if s.Redis != nil {
		s.Redis.Stop()
	}
	return errors.Join(errs...)
}

func (s *Stack) serviceEnv() map[string]string {
	return map[string]string{
		"REDIS_URL":    s.Redis.URL,
		"QUEUE_KEY":    s.opts.QueueKey,
		"CHANNEL_NAME": s.opts.Channel,
	}
}

// LogPath returns the log file of the process called name, such as a
// publisher's id or "trading-server".
func (s *Stack) LogPath(name string) string { return s.logPath(name) }

func (s *Stack) logPath(name string) string {
	return filepath.Join(s.opts.RunDir, name+".log")
}

func (s *Stack) startProcess(name, bin string, env map[string]string) (*Process, error) {
	log, err := os.OpenFile(s.logPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p, err := StartProcess(name, bin, nil, env, log)
	if err != nil {
		_ = log.Close()
		return nil, err
	}
	go func() { <-p.Done(); _ = log.Close() }()
	return p, nil
}

// waitHTTP polls url until it returns status 200, the process exits or ctx ends.
func waitHTTP(ctx context.Context, p *Process, url, logPath string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.Done():
			exitErr := p.ExitErr()
			if exitErr == nil {
				exitErr = errors.New("exit status 0")
			}
			return fmt.Errorf("%s exited at start (%w); log %s:\n%s", p.Name, exitErr, logPath, tail(logPath))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w; log %s:\n%s", p.Name, url, ctx.Err(), logPath, tail(logPath))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	const maxShown = 4000
	if len(data) > maxShown {
		data = data[len(data)-maxShown:]
	}
	return string(data)
}
