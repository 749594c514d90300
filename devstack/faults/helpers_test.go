package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/trade"
	"github.com/redis/go-redis/v9"
)

const (
	queueKey    = "myJobQueue"
	channelName = "trades"
	// leaseTTL is short so that a killed replica's trades are taken over
	// within seconds.
	leaseTTL = 3 * time.Second
	// shutdownGrace is the SHUTDOWN_GRACE of every replica.
	shutdownGrace = 10 * time.Second
)

// publisherEnv returns the settings every test gives the replicas, with
// extra over them.
//
// RATE_MARGIN is 400ms rather than the default 50ms, because the tests
// run many processes on a machine that may have two cores. The margin must
// cover the variation of the delay from the limiter's admission to the
// emulator's receipt. Otherwise the emulator receives more than the limit
// in a second. Runs of the kill test on two cores saw variations of up to
// about 200ms.
func publisherEnv(extra map[string]string) map[string]string {
	env := map[string]string{
		"RATE_MARGIN":    "400ms",
		"LEASE_TTL":      leaseTTL.String(),
		"SHUTDOWN_GRACE": shutdownGrace.String(),
		"LOG_FORMAT":     "json",
	}
	maps.Copy(env, extra)
	return env
}

// startStack starts a stack for tb with a private redis-server, the
// emulator and no trading server unless the test starts one. It stops the
// stack when the test ends.
//
// The emulator accepts twice the publishers' RATE_LIMIT per second, so
// that a second over the limit shows in its maxInAnySecond, which the
// tests check, instead of being rejected and retried.
func startStack(tb testing.TB, opts stack.Options) *stack.Stack {
	tb.Helper()
	opts.RepoRoot = repoRoot
	opts.Bin = bin
	// The logs stay when the test fails, so that they can be read after.
	runDir, err := os.MkdirTemp("", "faults-run-")
	if err != nil {
		tb.Fatal(err)
	}
	opts.RunDir = runDir

	opts.NoTradingServer = true
	if opts.RateLimit == 0 {
		opts.RateLimit = 30
	}
	opts.PublisherEnv = publisherEnv(opts.PublisherEnv)
	opts.EmulatorEnv = map[string]string{"EMULATOR_CHANNEL_RATE": strconv.Itoa(2 * opts.RateLimit)}
	ctx, cancel := context.WithTimeout(tb.Context(), 2*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, opts)
	if err != nil {
		tb.Fatalf("start stack: %v", err)
	}

	tb.Cleanup(func() {
		// Processes that a test killed or stopped report how they ended
		// there; only the shutdown of the rest is checked here.
		if err := s.Stop(); err != nil {
			tb.Logf("stop stack: %v", err)
		}
		if tb.Failed() {
			tb.Logf("process logs are in %s", opts.RunDir)
			return
		}
		if err := os.RemoveAll(opts.RunDir); err != nil {
			tb.Logf("remove %s: %v", opts.RunDir, err)
		}
	})
	return s
}

// startPublisher starts one more replica, as a replacement for one that
// was killed.
func startPublisher(tb testing.TB, s *stack.Stack, id string) *stack.Publisher {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), time.Minute)
	defer cancel()
	p, err := s.StartPublisher(ctx, id)
	if err != nil {
		tb.Fatalf("start publisher %s: %v", id, err)
	}
	return p
}

// startTradingServer starts the trading server in burst mode with
// TRADE_LIMIT trades and PRODUCER_ID producer, so its ids are producer-1
// to producer-N. extra adds settings.
func startTradingServer(tb testing.TB, s *stack.Stack, producer string, trades int, extra map[string]string) []string {
	tb.Helper()
	env := map[string]string{
		"MODE":           "burst",
		"PUBLISH_RATE":   "100",
		"BURST_INTERVAL": "1s",
		"TRADE_LIMIT":    strconv.Itoa(trades),
		"PRODUCER_ID":    producer,
		"LOG_FORMAT":     "json",
	}
	maps.Copy(env, extra)
	if err := s.StartTradingServer(env); err != nil {
		tb.Fatalf("start trading server: %v", err)
	}
	return tradeIDs(producer, trades)
}

func redisClient(tb testing.TB, s *stack.Stack) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(s.Redis.URL)
	if err != nil {
		tb.Fatal(err)
	}
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// tradeIDs returns prefix-1 to prefix-n, the ids the trading server gives
// its first n trades.
func tradeIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i+1)
	}
	return ids
}

// tradeJSON returns a valid trade with the given id as it goes on the queue.
func tradeJSON(tb testing.TB, id string, seq int64) string {
	tb.Helper()
	b, err := json.Marshal(trade.Trade{ID: id, Symbol: "AAPL", Price: "187.25", Size: 10,
		Side: trade.Buy, Seq: seq, Time: trade.FormatTime(time.Now())})
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// pushTrades appends valid trades prefix-1 to prefix-n to the queue and
// returns their ids.
func pushTrades(tb testing.TB, rdb *redis.Client, prefix string, n int) []string {
	tb.Helper()
	ids := tradeIDs(prefix, n)
	for i, id := range ids {
		push(tb, rdb, tradeJSON(tb, id, int64(i+1)))
	}
	return ids
}

func push(tb testing.TB, rdb *redis.Client, payloads ...string) {
	tb.Helper()
	for _, p := range payloads {
		if err := rdb.RPush(tb.Context(), keys.Queue(queueKey), p).Err(); err != nil {
			tb.Fatalf("RPUSH: %v", err)
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

func processingKey(p *stack.Publisher) string { return keys.Processing(queueKey, p.ID) }

// hasLease reports whether the replica has an entry in the lease set.
func hasLease(tb testing.TB, rdb *redis.Client, id string) bool {
	tb.Helper()
	err := rdb.ZScore(tb.Context(), keys.Replicas(queueKey), id).Err()
	if err == redis.Nil {
		return false
	}
	if err != nil {
		tb.Fatalf("ZSCORE: %v", err)
	}
	return true
}

// httpStatus returns the status of GET url, or 0 when the request failed.
func httpStatus(url string) int {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// publisherStats is the body of a replica's GET /stats.
type publisherStats struct {
	Worker struct {
		Published      int64 `json:"published"`
		DeadLettered   int64 `json:"dead_lettered"`
		PublishRetries int64 `json:"publish_retries"`
		Recovered      int64 `json:"recovered"`
	} `json:"worker"`
	Lease struct {
		Claims        int64 `json:"claims"`
		ClaimedTrades int64 `json:"claimed_trades"`
		HandedBack    int64 `json:"handed_back"`
	} `json:"lease"`
}

func statsOf(tb testing.TB, p *stack.Publisher) publisherStats {
	tb.Helper()
	resp, err := http.Get(p.URL + "/stats")
	if err != nil {
		tb.Fatalf("GET %s/stats: %v", p.URL, err)
	}
	defer resp.Body.Close()
	var st publisherStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		tb.Fatalf("decode %s/stats: %v", p.URL, err)
	}
	return st
}

// runningPublishers returns the replicas that have not exited.
func runningPublishers(s *stack.Stack) []*stack.Publisher {
	var out []*stack.Publisher
	for _, p := range s.Publishers {
		if p.Running() {
			out = append(out, p)
		}
	}
	return out
}

// logFigures writes the line that RELIABILITY.md quotes.
func logFigures(tb testing.TB, produced, delivered int, duplicates, deadLettered int64, extra string) {
	tb.Helper()
	tb.Logf("figures: test=%s produced=%d delivered=%d duplicates_dropped=%d dead_lettered=%d %s",
		tb.Name(), produced, delivered, duplicates, deadLettered, extra)
}
