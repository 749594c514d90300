package faults

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
)

// TestKill_ThreeReplicaCrashesDuringLoad kills one of three replicas with
// SIGKILL at three points of a run, each time while it holds a trade, and
// starts a replacement with a new REPLICA_ID. The live replicas take over
// each killed replica's processing list once its lease expires.
func TestKill_ThreeReplicaCrashesDuringLoad(t *testing.T) {
	const trades, rateLimit = 600, 30
	s := startStack(t, stack.Options{Replicas: 3, RateLimit: rateLimit})
	rdb := redisClient(t, s)
	sub := subscribe(t, s)
	ids := startTradingServer(t, s, "kill", trades, map[string]string{"PUBLISH_RATE": "200"})

	var leftInFlight int64
	var recoveries []time.Duration
	for i, point := range []int64{100, 250, 400} {
		waitFor(t, time.Minute, fmt.Sprintf("%d trades to be published", point), func() (bool, string) {
			n := channelStats(t, s).Accepted
			return n >= point, fmt.Sprintf("accepted %d", n)
		})
		victim := s.Publishers[i]
		// Most of the time a replica waits for the limiter with its trade
		// in the processing list; the kill comes right after one is seen.
		waitFor(t, 30*time.Second, victim.ID+" to hold a trade", func() (bool, string) {
			return listLen(t, rdb, processingKey(victim)) > 0, "processing list empty"
		})
		victim.Kill()
		killedAt := time.Now()
		inFlight := listLen(t, rdb, processingKey(victim))
		leftInFlight += inFlight
		startPublisher(t, s, fmt.Sprintf("replacement-%d", i+1))

		waitFor(t, 10*leaseTTL+30*time.Second, "the killed replica's trades to be taken over", func() (bool, string) {
			left := listLen(t, rdb, processingKey(victim))
			return left == 0 && !hasLease(t, rdb, victim.ID), fmt.Sprintf("%d trades left", left)
		})
		recovery := time.Since(killedAt)
		recoveries = append(recoveries, recovery)
		t.Logf("killed %s holding %d trades; its list was taken over %s later", victim.ID, inFlight,
			recovery.Round(10*time.Millisecond))
	}

	waitDelivered(t, s, rdb, trades)
	sub.waitDistinct(t, trades)

	assertEachOnce(t, "emulator", receivedCounts(t, s), ids)
	assertEachOnce(t, "realtime subscriber", sub.snapshot(), ids)
	st := channelStats(t, s)
	assertWithinLimit(t, st, rateLimit)
	assertDrained(t, s, rdb)
	if n := len(deadEntries(t, rdb)); n != 0 {
		t.Errorf("dead-letter list holds %d entries, want 0", n)
	}
	if leftInFlight == 0 {
		t.Error("no kill left a trade in a processing list, so no take-over was tested")
	}
	var claims []string
	for _, p := range runningPublishers(s) {
		claimed := statsOf(t, p).Lease.ClaimedTrades
		claims = append(claims, fmt.Sprintf("%s=%d", p.ID, claimed))
	}
	t.Logf("trades taken over, per surviving replica: %s", strings.Join(claims, " "))
	logFigures(t, trades, len(receivedCounts(t, s)), st.Duplicates, 0,
		fmt.Sprintf("kills=3 left_in_flight=%d recovery=%s lease_ttl=%s %s",
			leftInFlight, formatDurations(recoveries), leaseTTL, limitFigures(t, s, rateLimit)))
}

func formatDurations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Round(100 * time.Millisecond).String()
	}
	return strings.Join(parts, ",")
}
