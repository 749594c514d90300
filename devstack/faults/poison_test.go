package faults

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
	"github.com/redis/go-redis/v9"
)

// recoveryCount returns the largest take-over count in keys.Recoveries.
func recoveryCount(tb testing.TB, rdb *redis.Client) int {
	tb.Helper()
	values, err := rdb.HVals(tb.Context(), keys.Recoveries(queueKey)).Result()
	if err != nil {
		tb.Fatalf("HVALS: %v", err)
	}
	largest := 0
	for _, v := range values {
		n, err := strconv.Atoi(v)
		if err != nil {
			tb.Fatalf("recovery count %q is not an integer", v)
		}
		largest = max(largest, n)
	}
	return largest
}

// TestPoison_DeadLetteredAfterRepeatedCrashes kills every replica that
// handles one trade, as a trade that crashes the process would, until the
// trade has been taken over more than MAX_RECOVERIES times. The next
// replica moves it to the dead-letter list instead of handling it, and
// goes on with other trades.
func TestPoison_DeadLetteredAfterRepeatedCrashes(t *testing.T) {
	const maxRecoveries = 2
	s := startStack(t, stack.Options{Replicas: 1, PublisherEnv: map[string]string{
		"MAX_RECOVERIES": strconv.Itoa(maxRecoveries),
	}})
	rdb := redisClient(t, s)
	// Every publish is held, then fails with a 500, so no replica ever
	// finishes the trade.
	addFault(t, s, stack.EmulatorFault{Status: 500, Code: 50000, DelayMs: 200})
	poison := tradeJSON(t, "poison-1", 1)
	push(t, rdb, poison)

	victim := s.Publishers[0]
	for kill := range maxRecoveries + 1 {
		waitFor(t, 10*leaseTTL+30*time.Second, fmt.Sprintf("%s to handle the trade after %d take-overs", victim.ID, kill),
			func() (bool, string) {
				inList, count := listLen(t, rdb, processingKey(victim)), recoveryCount(t, rdb)
				return inList == 1 && count == kill, fmt.Sprintf("%d in its list, taken over %d times", inList, count)
			})
		victim.Kill()
		victim = startPublisher(t, s, fmt.Sprintf("publisher-%d", kill+2))
	}

	waitFor(t, 10*leaseTTL+30*time.Second, "the trade to be dead-lettered", func() (bool, string) {
		n := len(deadEntries(t, rdb))
		return n == 1, fmt.Sprintf("%d dead-letter entries", n)
	})
	entry := deadEntries(t, rdb)[0]
	if entry.Payload != poison {
		t.Errorf("dead-letter entry holds %q, want the poison trade", entry.Payload)
	}
	if !strings.Contains(entry.Reason, "MAX_RECOVERIES") {
		t.Errorf("reason %q, want it to name MAX_RECOVERIES", entry.Reason)
	}
	if entry.Replica != victim.ID {
		t.Errorf("dead-lettered by %s, want the last replica %s", entry.Replica, victim.ID)
	}
	if n := recoveryCount(t, rdb); n != 0 {
		t.Errorf("recovery count %d after the dead-lettering, want it deleted", n)
	}

	if err := stack.ClearEmulatorFaults(t.Context(), s.EmulatorURL); err != nil {
		t.Fatal(err)
	}
	after := pushTrades(t, rdb, "after-poison", 3)
	waitDelivered(t, s, rdb, len(after))
	assertEachOnce(t, "emulator", receivedCounts(t, s), after)
	if !victim.Running() {
		t.Errorf("%s exited: %v", victim.ID, victim.ExitErr())
	}
	assertDrained(t, s, rdb)
	logFigures(t, 1+len(after), len(receivedCounts(t, s)), channelStats(t, s).Duplicates, 1,
		fmt.Sprintf("kills=%d max_recoveries=%d", maxRecoveries+1, maxRecoveries))
}
