package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/health"
	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/ably-publishing-server/internal/worker"
	"github.com/ably-fanout/lib/backoff"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/redisconn"
	"github.com/ably-fanout/lib/redistest"
	"github.com/ably-fanout/lib/trade"
	"github.com/redis/go-redis/v9"
)

const (
	queueKey    = "trades-queue"
	channelName = "trades"
)

// hangTimeout only stops a test that would otherwise hang.
const hangTimeout = 60 * time.Second

func newRedisClient(tb testing.TB, srv *redistest.Server) *redis.Client {
	tb.Helper()
	opts, err := redisconn.Config{URL: srv.URL(), QueueKey: queueKey}.Options()
	if err != nil {
		tb.Fatalf("redis options: %v", err)
	}
	client := redis.NewClient(opts)
	tb.Cleanup(func() { _ = client.Close() })
	return client
}

// replica is one worker with its own Redis and Ably clients, as one
// publisher process has.
type replica struct {
	id      string
	worker  *worker.Worker
	health  *health.State
	metrics *metrics.Publisher
	done    chan struct{}
	cancel  func()
}

type replicaOptions struct {
	limit  int
	window time.Duration
	key    string // default the emulator's key
	config worker.Config
	// wrapLimiter, when set, wraps the replica's limiter.
	wrapLimiter func(worker.Limiter) worker.Limiter
	// wrapQueue, when set, wraps the replica's queue.
	wrapQueue func(worker.Queue) worker.Queue
}

// fastRetries keeps retry delays short so tests finish quickly.
var fastRetries = worker.Config{
	PublishRetry:     backoff.Policy{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond},
	ConfigErrorRetry: backoff.Policy{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond},
	RedisRetry:       backoff.Policy{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond},
	PublishTimeout:   5 * time.Second,
}

func newReplica(tb testing.TB, srv *redistest.Server, emu *emulatortest.Instance, id string, opts replicaOptions) *replica {
	tb.Helper()
	if opts.limit == 0 {
		opts.limit = 50
	}
	if opts.window == 0 {
		opts.window = time.Second
	}
	if opts.key == "" {
		opts.key = emu.Key
	}
	if opts.config == (worker.Config{}) {
		opts.config = fastRetries
	}

	rdb := newRedisClient(tb, srv)
	m := metrics.NewPublisher(nil)
	lim, err := limiter.New(rdb, keys.RateLog(queueKey), opts.limit, opts.window,
		limiter.WithMargin(50*time.Millisecond), limiter.WithRequestPrefix(id), limiter.WithMetrics(m))
	if err != nil {
		tb.Fatalf("limiter.New: %v", err)
	}
	client, err := publish.NewClient(publish.ClientConfig{Key: opts.key, Endpoint: emu.URL, RequestTimeout: 5 * time.Second})
	if err != nil {
		tb.Fatalf("publish.NewClient: %v", err)
	}

	state := &health.State{}
	logger := slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})).With("replica", id)
	var workerLimiter worker.Limiter = lim
	if opts.wrapLimiter != nil {
		workerLimiter = opts.wrapLimiter(lim)
	}
	var workerQueue worker.Queue = queue.New(rdb, queueKey, id)
	if opts.wrapQueue != nil {
		workerQueue = opts.wrapQueue(workerQueue)
	}
	w := worker.New(opts.config, workerQueue, workerLimiter, publish.New(client, channelName), state, m, logger)
	return &replica{id: id, worker: w, health: state, metrics: m}
}

// start runs the worker until stop or the end of the test.
func (r *replica) start(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r.done, r.cancel = make(chan struct{}), cancel
	go func() {
		defer close(r.done)
		_ = r.worker.Run(ctx)
	}()
	tb.Cleanup(func() { r.stop(tb) })
}

// stop ends the worker as SIGTERM does and waits until Run returns.
func (r *replica) stop(tb testing.TB) {
	tb.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(hangTimeout):
		tb.Fatalf("replica %s did not stop after its context ended", r.id)
	}
}

func newTrade(id string, seq int64) trade.Trade {
	return trade.Trade{ID: id, Symbol: "AAPL", Price: "187.25", Size: 10, Side: trade.Buy, Seq: seq,
		Time: trade.FormatTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
}

func tradeJSON(tb testing.TB, t trade.Trade) string {
	tb.Helper()
	b, err := json.Marshal(t)
	if err != nil {
		tb.Fatalf("marshal trade: %v", err)
	}
	return string(b)
}

// pushTrades appends n valid trades with ids prefix-1..prefix-n to the
// queue and returns the ids.
func pushTrades(tb testing.TB, rdb *redis.Client, prefix string, n int) []string {
	tb.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i+1)
		push(tb, rdb, keys.Queue(queueKey), tradeJSON(tb, newTrade(ids[i], int64(i+1))))
	}
	return ids
}

func push(tb testing.TB, rdb *redis.Client, key string, payloads ...string) {
	tb.Helper()
	for _, p := range payloads {
		if err := rdb.RPush(tb.Context(), key, p).Err(); err != nil {
			tb.Fatalf("RPUSH %s: %v", key, err)
		}
	}
}

func listLen(tb testing.TB, rdb *redis.Client, key string) int64 {
	tb.Helper()
	n, err := rdb.LLen(tb.Context(), key).Result()
	if err != nil {
		tb.Fatalf("LLEN %s: %v", key, err)
	}
	return n
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(hangTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", hangTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func accepted(emu *emulatortest.Instance) int64 {
	return emu.Server.Stats().Channels[channelName].Accepted
}

// assertEachOnce checks that the emulator recorded every id in want exactly
// once and nothing else.
func assertEachOnce(tb testing.TB, emu *emulatortest.Instance, want []string) {
	tb.Helper()
	counts := map[string]int{}
	for _, m := range emu.Server.Messages(channelName) {
		counts[m.ID]++
	}
	for _, id := range want {
		if counts[id] != 1 {
			tb.Errorf("trade %s recorded %d times, want 1", id, counts[id])
		}
		delete(counts, id)
	}
	for id, n := range counts {
		tb.Errorf("unexpected message %s recorded %d times", id, n)
	}
}
