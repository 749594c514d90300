package lease

import (
	"testing"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestKeeperMetrics_CountTakeovers(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	now := redisMillis(t, client)
	addLease(t, client, "gone-1", now-1)
	push(t, client, keys.Processing(queueKey, "gone-1"), "t-1", "t-2")
	addLease(t, client, "gone-2", now-1)
	push(t, client, keys.Processing(queueKey, "gone-2"), "t-3")
	// A processing list without a lease is taken over too.
	push(t, client, keys.Processing(queueKey, "orphan"), "t-4")

	k := newKeeper(t, client, "live", 300*time.Millisecond)
	k.start(t)
	waitFor(t, "all four trades to be taken over", func() bool { return k.Stats().ClaimedTrades == 4 })

	if got := testutil.ToFloat64(k.metrics.LeaseTakeovers); got != 3 {
		t.Errorf("lease takeovers = %v, want 3 processing lists", got)
	}
	if got, want := testutil.ToFloat64(k.metrics.LeaseTakeovers), float64(k.Stats().Claims); got != want {
		t.Errorf("lease takeovers = %v, want the %v claims of Stats", got, want)
	}
}
