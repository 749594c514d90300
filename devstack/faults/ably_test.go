package faults

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
)

func TestAbly_RateLimitThenServerErrors(t *testing.T) {
	const trades, rateLimit, rejectedEach = 100, 30, 6
	s := startStack(t, stack.Options{Replicas: 2, RateLimit: rateLimit})
	rdb := redisClient(t, s)
	sub := subscribe(t, s)
	// The emulator applies the faults in the order they were added: first
	// a burst of 429s, then a burst of 500s.
	addFault(t, s, stack.EmulatorFault{Status: 429, Code: 42910, Message: "rate limit exceeded", Count: rejectedEach})
	addFault(t, s, stack.EmulatorFault{Status: 500, Code: 50000, Message: "internal error", Count: rejectedEach})
	ids := pushTrades(t, rdb, "ably-errors", trades)

	waitDelivered(t, s, rdb, trades)
	sub.waitDistinct(t, trades)

	assertEachOnce(t, "emulator", receivedCounts(t, s), ids)
	assertEachOnce(t, "realtime subscriber", sub.snapshot(), ids)
	st := channelStats(t, s)
	assertWithinLimit(t, st, rateLimit)
	assertDrained(t, s, rdb)
	// The emulator counts each message of a failed publish, and a batch
	// carries one or more.
	if n := st.Rejected["injected"]; n < 2*rejectedEach {
		t.Errorf("emulator rejected %d messages with injected failures, want at least one per failed publish (%d)", n, 2*rejectedEach)
	}
	var retries int64
	for _, p := range s.Publishers {
		retries += statsOf(t, p).Worker.PublishRetries
	}
	if retries != 2*rejectedEach {
		t.Errorf("replicas retried %d publishes, want one per injected failure (%d)", retries, 2*rejectedEach)
	}
	if n := len(deadEntries(t, rdb)); n != 0 {
		t.Errorf("dead-letter list holds %d entries, want 0: 429 and 5xx are retried", n)
	}
	logFigures(t, trades, len(receivedCounts(t, s)), st.Duplicates, 0,
		fmt.Sprintf("injected_429=%d injected_500=%d retries=%d %s",
			rejectedEach, rejectedEach, retries, limitFigures(t, s, rateLimit)))
}

// TestAbly_CrashAfterAcceptRepublishedOnce makes the emulator hold a
// publish, kills the replica while the publish is in flight, and lets the
// emulator accept it afterwards: Ably has the trade, but the replica never
// recorded it. The surviving replica takes the trade over and publishes it
// again with the same message id, and the emulator drops the repeat.
func TestAbly_CrashAfterAcceptRepublishedOnce(t *testing.T) {
	const later = 20
	s := startStack(t, stack.Options{Replicas: 2})
	rdb := redisClient(t, s)
	sub := subscribe(t, s)
	addFault(t, s, stack.EmulatorFault{DelayMs: 2000, Count: 1})
	ids := pushTrades(t, rdb, "accepted", 1)

	// The fault is gone from the list once the publish that it delays has
	// arrived.
	waitFor(t, 30*time.Second, "the delayed publish to reach the emulator", func() (bool, string) {
		faults, err := stack.EmulatorFaults(t.Context(), s.EmulatorURL)
		if err != nil {
			return false, err.Error()
		}
		return len(faults) == 0, fmt.Sprintf("%d faults left", len(faults))
	})
	var victim *stack.Publisher
	for _, p := range s.Publishers {
		if listLen(t, rdb, processingKey(p)) == 1 {
			victim = p
		}
	}
	if victim == nil {
		t.Fatal("no replica holds the delayed trade")
	}
	victim.Kill()
	killedAt := time.Now()
	if n := channelStats(t, s).Accepted; n != 0 {
		t.Fatalf("emulator accepted %d messages before the kill, want 0 (the publish is still held)", n)
	}
	waitFor(t, 30*time.Second, "the emulator to accept the held publish", func() (bool, string) {
		return channelStats(t, s).Accepted == 1, "not accepted yet"
	})
	waitFor(t, 10*leaseTTL+30*time.Second, "the repeat publish to be dropped as a duplicate", func() (bool, string) {
		st := channelStats(t, s)
		return st.Duplicates >= 1 && listLen(t, rdb, processingKey(victim)) == 0,
			fmt.Sprintf("%d duplicates", st.Duplicates)
	})
	recovery := time.Since(killedAt)
	ids = append(ids, pushTrades(t, rdb, "after-crash", later)...)

	waitDelivered(t, s, rdb, len(ids))
	sub.waitDistinct(t, len(ids))
	assertEachOnce(t, "emulator", receivedCounts(t, s), ids)
	assertEachOnce(t, "realtime subscriber", sub.snapshot(), ids)
	st := channelStats(t, s)
	if st.Duplicates < 1 {
		t.Errorf("emulator dropped %d duplicates, want at least 1", st.Duplicates)
	}
	assertWithinLimit(t, st, 30)
	if n := listLen(t, rdb, keys.Dead(queueKey)); n != 0 {
		t.Errorf("dead-letter list holds %d entries, want 0", n)
	}
	survivor := runningPublishers(s)
	if !slices.ContainsFunc(survivor, func(p *stack.Publisher) bool { return statsOf(t, p).Worker.Recovered >= 1 }) {
		t.Error("no surviving replica reports a recovered trade")
	}
	logFigures(t, len(ids), len(receivedCounts(t, s)), st.Duplicates, 0,
		fmt.Sprintf("republished_after=%s", recovery.Round(100*time.Millisecond)))
}

// TestAbly_RevokedKeyHoldsTrades makes the emulator reject every publish
// as if the key were revoked. The replicas keep their trades, report not
// ready with the reason, and publish everything once the key works again.
func TestAbly_RevokedKeyHoldsTrades(t *testing.T) {
	const trades = 20
	s := startStack(t, stack.Options{Replicas: 2})
	rdb := redisClient(t, s)
	addFault(t, s, stack.EmulatorFault{Status: 401, Code: 40131, Message: "key revoked"})
	ids := pushTrades(t, rdb, "revoked", trades)

	for _, p := range s.Publishers {
		waitFor(t, 30*time.Second, p.ID+" to report the rejected key", func() (bool, string) {
			status, body := readyz(t, p.URL)
			return status == http.StatusServiceUnavailable && strings.Contains(body, "key revoked"),
				fmt.Sprintf("status %d: %s", status, body)
		})
	}
	var held int64
	for _, p := range s.Publishers {
		held += listLen(t, rdb, processingKey(p))
	}
	queued := listLen(t, rdb, keys.Queue(queueKey))
	if held+queued != trades {
		t.Errorf("%d trades in processing lists + %d queued, want all %d kept", held, queued, trades)
	}
	if n := len(deadEntries(t, rdb)); n != 0 {
		t.Errorf("dead-letter list holds %d entries, want 0: a rejected key is not the trade's fault", n)
	}
	if n := channelStats(t, s).Accepted; n != 0 {
		t.Errorf("emulator accepted %d messages with the key rejected, want 0", n)
	}

	if err := stack.ClearEmulatorFaults(t.Context(), s.EmulatorURL); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, s, rdb, trades)
	assertEachOnce(t, "emulator", receivedCounts(t, s), ids)
	waitReadyz(t, http.StatusOK, publisherURLs(s)...)
	logFigures(t, trades, len(receivedCounts(t, s)), channelStats(t, s).Duplicates, 0,
		fmt.Sprintf("held_while_rejected=%d", held+queued))
}

// readyz returns the status and body of url's /readyz.
func readyz(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
