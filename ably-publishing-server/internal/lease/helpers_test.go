package lease

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/redisconn"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

const queueKey = "lease-test"

// hangTimeout only stops a test that would otherwise hang.
const hangTimeout = 30 * time.Second

func newClient(tb testing.TB, srv *redistest.Server) *redis.Client {
	tb.Helper()
	opts, err := redisconn.Config{URL: srv.URL(), QueueKey: queueKey}.Options()
	if err != nil {
		tb.Fatalf("redis options: %v", err)
	}
	client := redis.NewClient(opts)
	tb.Cleanup(func() { _ = client.Close() })
	return client
}

// testKeeper is a Keeper with a count of the calls of its onClaim
// callback.
type testKeeper struct {
	*Keeper
	notified atomic.Int64
	metrics  *metrics.Publisher
}

func newKeeper(tb testing.TB, client *redis.Client, replicaID string, ttl time.Duration) *testKeeper {
	tb.Helper()
	tk := &testKeeper{metrics: metrics.NewPublisher(nil)}
	logger := slog.New(slog.NewTextHandler(tb.Output(), nil)).With("test_replica", replicaID)
	k, err := New(Config{TTL: ttl}, client, queueKey, replicaID,
		func() { tk.notified.Add(1) }, tk.metrics, logger)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tk.Keeper = k
	return tk
}

// start runs the keeper until the test ends.
func (k *testKeeper) start(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
}

// redisMillis returns the Redis clock in milliseconds.
func redisMillis(tb testing.TB, client *redis.Client) int64 {
	tb.Helper()
	now, err := client.Time(tb.Context()).Result()
	if err != nil {
		tb.Fatalf("TIME: %v", err)
	}
	return now.UnixMilli()
}

// addLease writes a lease for replicaID that expires at expiresMs.
func addLease(tb testing.TB, client *redis.Client, replicaID string, expiresMs int64) {
	tb.Helper()
	err := client.ZAdd(tb.Context(), keys.Replicas(queueKey), redis.Z{Score: float64(expiresMs), Member: replicaID}).Err()
	if err != nil {
		tb.Fatalf("ZADD: %v", err)
	}
}

func push(tb testing.TB, client *redis.Client, key string, items ...string) {
	tb.Helper()
	for _, item := range items {
		if err := client.RPush(tb.Context(), key, item).Err(); err != nil {
			tb.Fatalf("RPUSH %s: %v", key, err)
		}
	}
}

func list(tb testing.TB, client *redis.Client, key string) []string {
	tb.Helper()
	items, err := client.LRange(tb.Context(), key, 0, -1).Result()
	if err != nil {
		tb.Fatalf("LRANGE %s: %v", key, err)
	}
	return items
}

// leaseOf returns the lease expiry of replicaID and whether it has one.
func leaseOf(tb testing.TB, client *redis.Client, replicaID string) (float64, bool) {
	tb.Helper()
	score, err := client.ZScore(tb.Context(), keys.Replicas(queueKey), replicaID).Result()
	if err == redis.Nil {
		return 0, false
	}
	if err != nil {
		tb.Fatalf("ZSCORE: %v", err)
	}
	return score, true
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(hangTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", hangTimeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
