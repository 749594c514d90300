package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/redisproc"
	"github.com/redis/go-redis/v9"
)

// binaries are the programs one benchmark run starts.
type binaries struct {
	stack.Binaries
	Baseline string
}

// env is one private redis-server and one emulator, with the consumers a
// scenario starts. Every scenario gets a fresh env, so no state leaks
// between measurements.
type env struct {
	dir          string
	bin          binaries
	redis        *redisproc.Server
	rdb          *redis.Client
	emulator     *stack.Process
	emulatorURL  string
	emulatorPort int
	key          string
	consumers    []*stack.Process
	logs         []*os.File
}

const queueKey = "bench:queue"
const channelName = "trades"

// startEnv starts redis-server and the emulator with the given
// per-channel rate.
func startEnv(ctx context.Context, dir string, bin binaries, channelRate int) (*env, error) {
	if err := os.MkdirAll(filepath.Join(dir, "redis"), 0o755); err != nil {
		return nil, err
	}
	e := &env{dir: dir, bin: bin}
	var err error
	// Append-only as in the Kubernetes manifests, so that the publisher
	// pays the same write cost as in production.
	if e.redis, err = redisproc.Start(redisproc.Options{Dir: filepath.Join(dir, "redis"), AppendOnly: true}); err != nil {
		return nil, err
	}
	opts, err := redis.ParseURL(e.redis.URL())
	if err != nil {
		e.stop()
		return nil, err
	}
	opts.PoolSize = 32
	e.rdb = redis.NewClient(opts)
	if e.key, err = stack.NewKey(); err != nil {
		e.stop()
		return nil, err
	}
	addr, err := stack.FreeAddr()
	if err != nil {
		e.stop()
		return nil, err
	}
	u, _ := url.Parse("http://" + addr)
	e.emulatorPort, _ = strconv.Atoi(u.Port())
	e.emulatorURL = "http://" + addr
	emulatorEnv := map[string]string{
		"EMULATOR_ADDR":         addr,
		"EMULATOR_KEYS":         e.key,
		"EMULATOR_CHANNEL_RATE": strconv.Itoa(channelRate),
		"EMULATOR_RECORD_LIMIT": "1000000",
	}
	if e.emulator, err = e.start("ably-emulator", bin.Emulator, nil, emulatorEnv); err != nil {
		e.stop()
		return nil, err
	}
	if err := waitOK(ctx, e.emulatorURL+"/healthz"); err != nil {
		e.stop()
		return nil, fmt.Errorf("emulator: %w", err)
	}
	return e, nil
}

func (e *env) start(name, bin string, args []string, extra map[string]string) (*stack.Process, error) {
	log, err := os.Create(filepath.Join(e.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	e.logs = append(e.logs, log)
	return stack.StartProcess(name, bin, args, extra, log)
}

// startPublishers starts n publisher replicas with the given settings over
// the defaults below and waits until each is ready.
func (e *env) startPublishers(ctx context.Context, n int, settings map[string]string) error {
	for i := range n {
		addr, err := stack.FreeAddr()
		if err != nil {
			return err
		}
		id := fmt.Sprintf("publisher-%d", i+1)
		publisherEnv := map[string]string{
			"REDIS_URL":     e.redis.URL(),
			"QUEUE_KEY":     queueKey,
			"CHANNEL_NAME":  channelName,
			"ABLY_KEY":      e.key,
			"ABLY_ENDPOINT": e.emulatorURL,
			"HTTP_ADDR":     addr,
			"REPLICA_ID":    id,
			"LOG_LEVEL":     "warn",
		}
		for k, v := range settings {
			publisherEnv[k] = v
		}
		p, err := e.start(id, e.bin.Publisher, nil, publisherEnv)
		if err != nil {
			return err
		}
		e.consumers = append(e.consumers, p)
		if err := waitOK(ctx, "http://"+addr+"/readyz"); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
	}
	return nil
}

// startBaseline starts n baseline consumers with the given rate limit.
func (e *env) startBaseline(n, rateLimit int) error {
	for i := range n {
		args := []string{
			"-redis-url", e.redis.URL(),
			"-queue-key", queueKey,
			"-rate-limit", strconv.Itoa(rateLimit),
			"-ably-key", e.key,
			"-ably-port", strconv.Itoa(e.emulatorPort),
			"-channel", channelName,
		}
		p, err := e.start(fmt.Sprintf("baseline-%d", i+1), e.bin.Baseline, args, nil)
		if err != nil {
			return err
		}
		e.consumers = append(e.consumers, p)
	}
	return nil
}

// stop ends every process of the env: consumers first, so that none of
// them logs errors about a Redis or emulator that went away.
func (e *env) stop() {
	for _, p := range e.consumers {
		_ = p.Stop(5 * time.Second)
	}
	if e.emulator != nil {
		_ = e.emulator.Stop(5 * time.Second)
	}
	if e.rdb != nil {
		_ = e.rdb.Close()
	}
	if e.redis != nil {
		e.redis.Stop()
	}
	for _, f := range e.logs {
		_ = f.Close()
	}
}

// channelStats is the part of the emulator's /_emulator/stats that the
// benchmarks read.
type channelStats struct {
	Accepted       int64          `json:"accepted"`
	Rejected       map[string]int `json:"rejected"`
	Duplicates     int64          `json:"duplicates"`
	MaxInAnySecond int64          `json:"maxInAnySecond"`
}

func (e *env) stats(ctx context.Context) (map[string]channelStats, error) {
	var out struct {
		Channels map[string]channelStats `json:"channels"`
	}
	if err := getJSON(ctx, e.emulatorURL+"/_emulator/stats", &out); err != nil {
		return nil, err
	}
	return out.Channels, nil
}

// received is one accepted message as the emulator recorded it.
type received struct {
	ID         string          `json:"id"`
	Data       json.RawMessage `json:"data"`
	ReceivedAt time.Time       `json:"receivedAt"`
}

func (e *env) messages(ctx context.Context, channel string) ([]received, error) {
	var out []received
	err := getJSON(ctx, e.emulatorURL+"/_emulator/channels/"+url.PathEscape(channel)+"/messages", &out)
	return out, err
}

// waitAccepted polls the emulator until channel accepted want messages or
// the timeout passes, and returns the time it saw the count.
func (e *env) waitAccepted(ctx context.Context, want int64, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		stats, err := e.stats(ctx)
		if err == nil && stats[channelName].Accepted >= want {
			return time.Now(), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	stats, _ := e.stats(ctx)
	return time.Time{}, fmt.Errorf("emulator accepted %d of %d messages within %s", stats[channelName].Accepted, want, timeout)
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func getJSON(ctx context.Context, target string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", target, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// waitOK polls target until it returns 200, for at most 30 seconds.
func waitOK(ctx context.Context, target string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		resp, err := httpClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within 30s", target)
}
