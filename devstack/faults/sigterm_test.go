package faults

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
	"github.com/redis/go-redis/v9"
)

// stopWithSIGTERM sends SIGTERM to p and waits for it to exit. It fails
// the test when the exit status is not 0 or the exit came after
// SHUTDOWN_GRACE, and returns the time the exit took.
func stopWithSIGTERM(tb testing.TB, p *stack.Publisher) time.Duration {
	tb.Helper()
	sent := time.Now()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		tb.Fatalf("send SIGTERM to %s: %v", p.ID, err)
	}
	ctx, cancel := context.WithTimeout(tb.Context(), 3*shutdownGrace)
	defer cancel()
	err := p.Wait(ctx)
	took := time.Since(sent)
	if ctx.Err() != nil {
		tb.Fatalf("%s still running %s after SIGTERM", p.ID, took)
	}
	if err != nil {
		tb.Errorf("%s exited with %v after SIGTERM, want status 0", p.ID, err)
	}
	// SHUTDOWN_GRACE is a bound the replica promises, not a speed target.
	if took >= shutdownGrace {
		tb.Errorf("%s exited %s after SIGTERM, want before SHUTDOWN_GRACE (%s)", p.ID, took, shutdownGrace)
	}
	return took
}

// handedBack returns the number of trades p reported handing back to the
// queue at shutdown, from its log.
func handedBack(tb testing.TB, s *stack.Stack, p *stack.Publisher) int64 {
	tb.Helper()
	records := recordsWithMessage(readLog(tb, s.LogPath(p.ID)), "handed the unfinished trades back to the queue and removed the lease")
	if len(records) != 1 {
		tb.Fatalf("%s logged the hand-back %d times, want once", p.ID, len(records))
	}
	n, ok := records[0]["trades"].(float64)
	if !ok {
		tb.Fatalf("hand-back log line %v has no trade count", records[0])
	}
	return int64(n)
}

func TestSIGTERM_DuringLoadHandsBackAndExits(t *testing.T) {
	const trades, rateLimit = 300, 30
	s := startStack(t, stack.Options{Replicas: 3, RateLimit: rateLimit})
	rdb := redisClient(t, s)
	ids := startTradingServer(t, s, "term", trades, nil)

	waitFor(t, time.Minute, "60 trades to be published", func() (bool, string) {
		n := channelStats(t, s).Accepted
		return n >= 60, fmt.Sprintf("accepted %d", n)
	})
	victim := s.Publishers[1]
	waitFor(t, 30*time.Second, victim.ID+" to hold a trade", func() (bool, string) {
		return listLen(t, rdb, processingKey(victim)) > 0, "processing list empty"
	})
	took := stopWithSIGTERM(t, victim)

	if n := listLen(t, rdb, processingKey(victim)); n != 0 {
		t.Errorf("%s left %d trades in its processing list, want 0 after the hand-back", victim.ID, n)
	}
	if hasLease(t, rdb, victim.ID) {
		t.Errorf("%s still has a lease after a clean shutdown", victim.ID)
	}
	back := handedBack(t, s, victim)

	waitDelivered(t, s, rdb, trades)
	assertEachOnce(t, "emulator", receivedCounts(t, s), ids)
	st := channelStats(t, s)
	assertWithinLimit(t, st, rateLimit)
	assertDrained(t, s, rdb)
	logFigures(t, trades, len(receivedCounts(t, s)), st.Duplicates, int64(len(deadEntries(t, rdb))),
		fmt.Sprintf("exit_after_sigterm=%s handed_back=%d shutdown_grace=%s %s",
			took.Round(time.Millisecond), back, shutdownGrace, limitFigures(t, s, rateLimit)))
}

// waitBlocked waits until p has a lease and a connection blocked in BLMOVE
// on the empty queue.
func waitBlocked(tb testing.TB, rdb *redis.Client, p *stack.Publisher) {
	tb.Helper()
	waitFor(tb, 30*time.Second, p.ID+" to block on the empty queue", func() (bool, string) {
		list, err := rdb.ClientList(tb.Context()).Result()
		if err != nil {
			return false, err.Error()
		}
		return hasLease(tb, rdb, p.ID) && strings.Contains(list, "cmd=blmove"), "no lease or no blocked BLMOVE"
	})
}

func TestSIGTERM_IdleReplicaExits(t *testing.T) {
	s := startStack(t, stack.Options{Replicas: 1})
	rdb := redisClient(t, s)
	idle := s.Publishers[0]
	waitBlocked(t, rdb, idle)

	took := stopWithSIGTERM(t, idle)

	if hasLease(t, rdb, idle.ID) {
		t.Error("the replica still has a lease after a clean shutdown")
	}
	if back := handedBack(t, s, idle); back != 0 {
		t.Errorf("the idle replica handed back %d trades, want 0", back)
	}
	logFigures(t, 0, 0, 0, 0, fmt.Sprintf("exit_after_sigterm=%s shutdown_grace=%s",
		took.Round(time.Millisecond), shutdownGrace))
}

func TestSIGTERM_TradePushedDuringShutdownKept(t *testing.T) {
	s := startStack(t, stack.Options{Replicas: 1})
	rdb := redisClient(t, s)
	first := s.Publishers[0]
	waitBlocked(t, rdb, first)

	// The trade arrives while the replica shuts down: it is published, or
	// taken and handed back, or left on the queue, but never lost.
	late := tradeJSON(t, "late-1", 1)
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		if err := rdb.RPush(context.Background(), keys.Queue(queueKey), late).Err(); err != nil {
			t.Errorf("RPUSH: %v", err)
		}
	}()
	took := stopWithSIGTERM(t, first)
	<-pushed

	published := channelStats(t, s).Accepted
	queued := listLen(t, rdb, keys.Queue(queueKey))
	if published+queued != 1 {
		t.Errorf("after the shutdown %d published + %d queued, want the late trade once", published, queued)
	}
	if n := listLen(t, rdb, processingKey(first)); n != 0 {
		t.Errorf("processing list holds %d trades after the shutdown, want 0", n)
	}

	startPublisher(t, s, "publisher-after")
	waitDelivered(t, s, rdb, 1)
	assertEachOnce(t, "emulator", receivedCounts(t, s), []string{"late-1"})
	logFigures(t, 1, len(receivedCounts(t, s)), channelStats(t, s).Duplicates, 0,
		fmt.Sprintf("exit_after_sigterm=%s handed_back=%d", took.Round(time.Millisecond), handedBack(t, s, first)))
}
