package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/ably-publishing-server/internal/worker"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
)

func TestWorker_PublishesTradesTakenOver(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	r := newReplica(t, srv, emu, "replica-a", replicaOptions{})
	r.start(t)
	queued := pushTrades(t, rdb, "queued", 1)
	waitFor(t, "the queued trade to be accepted", func() bool { return accepted(emu) >= 1 })

	// The lease keeper moved a stopped replica's trades into this
	// replica's processing list and notified the worker.
	taken := []string{"taken-1", "taken-2"}
	for i, id := range taken {
		push(t, rdb, keys.Processing(queueKey, "replica-a"), tradeJSON(t, newTrade(id, int64(i+1))))
	}
	r.worker.NotifyRecovered()
	waitFor(t, "the taken-over trades to be accepted", func() bool { return accepted(emu) >= 3 })
	waitFor(t, "the processing list to empty", func() bool {
		return listLen(t, rdb, keys.Processing(queueKey, "replica-a")) == 0
	})

	assertEachOnce(t, emu, append(queued, taken...))
	if got := r.worker.Stats().Recovered; got != int64(len(taken)) {
		t.Errorf("worker recovered %d trades, want %d", got, len(taken))
	}
	if n, err := rdb.HLen(t.Context(), keys.Recoveries(queueKey)).Result(); err != nil || n != 0 {
		t.Errorf("recovery counts hold %d entries (%v), want 0 after the trades were published", n, err)
	}
}

func TestWorker_RecoveryLimit(t *testing.T) {
	const maxRecoveries = 3
	tests := []struct {
		name          string
		earlier       int // take-overs counted before this start
		wantPublished bool
	}{
		{name: "below the limit", earlier: maxRecoveries - 1, wantPublished: true},
		{name: "over the limit", earlier: maxRecoveries, wantPublished: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			emu := emulatortest.Start(t)
			rdb := newRedisClient(t, srv)
			payload := tradeJSON(t, newTrade("poison-1", 1))
			push(t, rdb, keys.Processing(queueKey, "replica-a"), payload)
			counter := queue.New(rdb, queueKey, "replica-a")
			for range tt.earlier {
				if _, err := counter.CountRecovery(t.Context(), payload); err != nil {
					t.Fatalf("CountRecovery: %v", err)
				}
			}
			cfg := fastRetries
			cfg.MaxRecoveries = maxRecoveries

			r := newReplica(t, srv, emu, "replica-a", replicaOptions{config: cfg})
			r.start(t)
			waitFor(t, "the processing list to empty", func() bool {
				return listLen(t, rdb, keys.Processing(queueKey, "replica-a")) == 0
			})
			r.stop(t)

			dead, err := rdb.LRange(t.Context(), keys.Dead(queueKey), 0, -1).Result()
			if err != nil {
				t.Fatalf("read dead-letter list: %v", err)
			}
			if tt.wantPublished {
				assertEachOnce(t, emu, []string{"poison-1"})
				if len(dead) != 0 {
					t.Errorf("dead-letter list has %d entries, want 0", len(dead))
				}
			} else {
				assertEachOnce(t, emu, nil)
				if len(dead) != 1 {
					t.Fatalf("dead-letter list has %d entries, want 1", len(dead))
				}
				var entry queue.DeadLetterEntry
				if err := json.Unmarshal([]byte(dead[0]), &entry); err != nil {
					t.Fatalf("decode entry: %v", err)
				}
				if !strings.Contains(entry.Reason, "MAX_RECOVERIES") {
					t.Errorf("reason %q, want it to name MAX_RECOVERIES", entry.Reason)
				}
				if entry.Payload != payload {
					t.Errorf("entry payload %q, want the trade", entry.Payload)
				}
			}
			if n, err := rdb.HLen(t.Context(), keys.Recoveries(queueKey)).Result(); err != nil || n != 0 {
				t.Errorf("recovery counts hold %d entries (%v), want 0 once the trade left the list", n, err)
			}
		})
	}
}

// lostReplyLimiter runs every WaitRequest, and then reports the first one
// as failed, as if the connection broke after Redis ran the script.
type lostReplyLimiter struct {
	worker.Limiter
	lost atomic.Bool
}

func (l *lostReplyLimiter) WaitRequest(ctx context.Context, requestID string, n int) (int, error) {
	admitted, err := l.Limiter.WaitRequest(ctx, requestID, n)
	if err == nil && l.lost.CompareAndSwap(false, true) {
		return 0, errors.New("read tcp: connection reset by peer")
	}
	return admitted, err
}

func TestWorker_LostLimiterReplyTakesOneSlot(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	ids := pushTrades(t, rdb, "slot", 3)
	lost := &lostReplyLimiter{}

	r := newReplica(t, srv, emu, "replica-a", replicaOptions{
		window: time.Minute,
		wrapLimiter: func(l worker.Limiter) worker.Limiter {
			lost.Limiter = l
			return lost
		},
	})
	r.start(t)
	waitFor(t, "every trade to be accepted", func() bool { return accepted(emu) >= int64(len(ids)) })

	assertEachOnce(t, emu, ids)
	if !lost.lost.Load() {
		t.Fatal("no limiter reply was lost; the test did not run its case")
	}
	// The window is a minute, so every admission is still in the log.
	if n, err := rdb.ZCard(t.Context(), keys.RateLog(queueKey)).Result(); err != nil || n != int64(len(ids)) {
		t.Errorf("limiter log has %d entries (%v), want %d: one per trade", n, err, len(ids))
	}
}

// lostTakeQueue runs every Take, and then reports the first one that took
// a trade as failed, as when Redis stops right after moving the trade.
type lostTakeQueue struct {
	worker.Queue
	lost atomic.Bool
}

func (q *lostTakeQueue) Take(ctx context.Context, timeout time.Duration) (string, bool, error) {
	payload, ok, err := q.Queue.Take(ctx, timeout)
	if err == nil && ok && q.lost.CompareAndSwap(false, true) {
		return "", false, errors.New("read tcp: EOF")
	}
	return payload, ok, err
}

func TestWorker_LostTakeReplyPublishesTrade(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	lost := &lostTakeQueue{}
	r := newReplica(t, srv, emu, "replica-a", replicaOptions{
		wrapQueue: func(q worker.Queue) worker.Queue {
			lost.Queue = q
			return lost
		},
	})
	r.start(t)
	ids := pushTrades(t, rdb, "lost-take", 3)

	waitFor(t, "every trade to be accepted", func() bool { return accepted(emu) >= int64(len(ids)) })
	waitFor(t, "the processing list to empty", func() bool {
		return listLen(t, rdb, keys.Processing(queueKey, "replica-a")) == 0
	})
	if !lost.lost.Load() {
		t.Fatal("no take reply was lost; the test did not run its case")
	}
	assertEachOnce(t, emu, ids)
}
