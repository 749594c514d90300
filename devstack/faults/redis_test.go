package faults

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
	"github.com/redis/go-redis/v9"
)

// redisOutage is how long the tests keep Redis unavailable.
const redisOutage = 4 * time.Second

// maxOutageLogLines bounds the log lines one process may write during an
// outage of redisOutage and its recovery. A loop that logged every retry
// would write hundreds; the throttled log writes about one line per kind
// of failure per 10s.
const maxOutageLogLines = 40

// waitReadyz waits until every url's /readyz returns status.
func waitReadyz(tb testing.TB, status int, urls ...string) {
	tb.Helper()
	for _, u := range urls {
		waitFor(tb, 30*time.Second, fmt.Sprintf("%s/readyz to return %d", u, status), func() (bool, string) {
			got := httpStatus(u + "/readyz")
			return got == status, fmt.Sprintf("status %d", got)
		})
	}
}

func publisherURLs(s *stack.Stack) []string {
	var urls []string
	for _, p := range runningPublishers(s) {
		urls = append(urls, p.URL)
	}
	return urls
}

// logLineCounts returns the number of lines in the log of each running
// publisher and of the trading server.
func logLineCounts(tb testing.TB, s *stack.Stack) map[string]int {
	tb.Helper()
	counts := map[string]int{"trading-server": countLines(tb, s.LogPath("trading-server"))}
	for _, p := range runningPublishers(s) {
		counts[p.ID] = countLines(tb, s.LogPath(p.ID))
	}
	return counts
}

// assertTradingServerSurvived checks that the trading server is running or
// exited with status 0 after reaching its trade limit.
func assertTradingServerSurvived(tb testing.TB, s *stack.Stack) {
	tb.Helper()
	if s.Trading.Running() {
		return
	}
	if err := s.Trading.ExitErr(); err != nil {
		tb.Errorf("trading server exited with %v, want it running or done with status 0", err)
	}
}

func TestRedis_RestartDuringLoad(t *testing.T) {
	const trades, rateLimit = 300, 30
	s := startStack(t, stack.Options{Replicas: 3, RateLimit: rateLimit})
	rdb := redisClient(t, s)
	ids := startTradingServer(t, s, "restart", trades, map[string]string{"PUBLISH_RATE": "50"})
	waitFor(t, time.Minute, "45 trades to be published", func() (bool, string) {
		n := channelStats(t, s).Accepted
		return n >= 45, fmt.Sprintf("accepted %d", n)
	})
	before := logLineCounts(t, s)

	// SIGKILL, as a crash of the Redis pod would. The append-only file is
	// written with appendfsync always, so every acknowledged write survives.
	s.Redis.Proc.Kill()
	downAt := time.Now()
	waitReadyz(t, http.StatusServiceUnavailable, append(publisherURLs(s), s.TradingURL)...)
	time.Sleep(redisOutage - time.Since(downAt))
	if err := s.Redis.Proc.Restart(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	upAt := time.Now()
	waitReadyz(t, http.StatusOK, publisherURLs(s)...)
	resumed := time.Since(upAt)

	waitDelivered(t, s, rdb, trades)
	assertEachOnce(t, "emulator", receivedCounts(t, s), ids)
	st := channelStats(t, s)
	assertWithinLimit(t, st, rateLimit)
	assertDrained(t, s, rdb)
	if n := len(deadEntries(t, rdb)); n != 0 {
		t.Errorf("dead-letter list holds %d entries, want 0", n)
	}
	for _, p := range s.Publishers {
		if !p.Running() {
			t.Errorf("%s exited during the outage: %v", p.ID, p.ExitErr())
		}
	}
	assertTradingServerSurvived(t, s)
	var recovered int64
	for _, p := range s.Publishers {
		recovered += statsOf(t, p).Worker.Recovered
	}
	after := logLineCounts(t, s)
	for name, n := range after {
		if written := n - before[name]; written > maxOutageLogLines {
			t.Errorf("%s wrote %d log lines during a %s outage, want at most %d", name, written, redisOutage, maxOutageLogLines)
		}
	}
	logFigures(t, trades, len(receivedCounts(t, s)), st.Duplicates, 0,
		fmt.Sprintf("outage=%s ready_again_after=%s recovered_from_own_list=%d %s",
			redisOutage, resumed.Round(time.Millisecond), recovered, limitFigures(t, s, rateLimit)))
}

// sampleMaxLen records the largest length of the queue until stop is
// called, which returns it.
func sampleMaxLen(tb testing.TB, rdb *redis.Client) (stop func() int64) {
	tb.Helper()
	var maxLen atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		ticker := time.NewTicker(10 * time.Millisecond)
		defer ticker.Stop()
		for {
			if n, err := rdb.LLen(ctx, keys.Queue(queueKey)).Result(); err == nil && n > maxLen.Load() {
				maxLen.Store(n)
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	})
	return func() int64 {
		cancel()
		wg.Wait()
		return maxLen.Load()
	}
}

func TestRedis_OutOfMemoryDuringLoad(t *testing.T) {
	const queued, trades, rateLimit, maxQueue = 30, 300, 30, 40
	s := startStack(t, stack.Options{Replicas: 2, RateLimit: rateLimit})
	rdb := redisClient(t, s)
	stopSampling := sampleMaxLen(t, rdb)
	// The replicas are busy with these when Redis runs out of memory.
	ids := pushTrades(t, rdb, "before-oom", queued)
	waitFor(t, time.Minute, "5 trades to be published", func() (bool, string) {
		n := channelStats(t, s).Accepted
		return n >= 5, fmt.Sprintf("accepted %d", n)
	})

	// With maxmemory far below the memory in use and no eviction, Redis
	// replies OOM to every command that may add data, such as RPUSH,
	// BLMOVE and the scripts' writes.
	ctx := t.Context()
	if err := rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	oomAt := time.Now()
	ids = append(ids, startTradingServer(t, s, "oom", trades, map[string]string{
		"MAX_QUEUE_LENGTH": fmt.Sprint(maxQueue),
	})...)
	waitReadyz(t, http.StatusServiceUnavailable, s.TradingURL)
	time.Sleep(redisOutage - time.Since(oomAt))
	if err := rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}

	waitDelivered(t, s, rdb, queued+trades)
	maxLen := stopSampling()
	assertEachOnce(t, "emulator", receivedCounts(t, s), ids)
	st := channelStats(t, s)
	assertWithinLimit(t, st, rateLimit)
	assertDrained(t, s, rdb)
	if maxLen > maxQueue {
		t.Errorf("queue reached %d trades, want at most MAX_QUEUE_LENGTH=%d", maxLen, maxQueue)
	}
	for _, p := range s.Publishers {
		if !p.Running() {
			t.Errorf("%s exited during the OOM replies: %v", p.ID, p.ExitErr())
		}
	}
	assertTradingServerSurvived(t, s)
	oomLines := recordsWithMessage(readLog(t, s.LogPath("trading-server")),
		"push to redis failed because redis reached maxmemory, retrying")
	if len(oomLines) == 0 {
		t.Error("the trading server never logged the OOM replies")
	}
	logFigures(t, queued+trades, len(receivedCounts(t, s)), st.Duplicates, 0,
		fmt.Sprintf("oom_for=%s max_queue_length_seen=%d max_queue_length=%d %s",
			redisOutage, maxLen, maxQueue, limitFigures(t, s, rateLimit)))
}
