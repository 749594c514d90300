package worker_test

import (
	"strings"
	"testing"

	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

// blockedClients counts the Redis connections blocked in BLMOVE.
func blockedClients(tb testing.TB, rdb *redis.Client) int {
	tb.Helper()
	list, err := rdb.ClientList(tb.Context()).Result()
	if err != nil {
		tb.Fatalf("CLIENT LIST: %v", err)
	}
	return strings.Count(list, "cmd=blmove")
}

func TestWorker_StopsWhileBlockedOnEmptyQueue(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	r := newReplica(t, srv, emu, "replica-a", replicaOptions{})
	r.start(t)
	waitFor(t, "the worker to block in BLMOVE", func() bool { return blockedClients(t, rdb) > 0 })
	r.stop(t) // fails the test if Run does not return

	ids := pushTrades(t, rdb, "after-stop", 1)
	if n := listLen(t, rdb, keys.Queue(queueKey)); n != 1 {
		t.Errorf("queue has %d trades after the stop, want 1 (%s untouched)", n, ids[0])
	}
	if n := listLen(t, rdb, keys.Processing(queueKey, "replica-a")); n != 0 {
		t.Errorf("processing list has %d trades, want 0", n)
	}
	if n := accepted(emu); n != 0 {
		t.Errorf("emulator accepted %d messages, want 0", n)
	}
}

func TestWorker_RestartPublishesLeftoversFirst(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	// A crashed earlier run of replica-a left two trades in its list, and
	// other replicas' lists are not its business.
	leftovers := []string{"left-1", "left-2"}
	for i, id := range leftovers {
		push(t, rdb, keys.Processing(queueKey, "replica-a"), tradeJSON(t, newTrade(id, int64(i+1))))
	}
	push(t, rdb, keys.Processing(queueKey, "replica-gone"), tradeJSON(t, newTrade("other-1", 1)))
	queued := pushTrades(t, rdb, "queued", 2)

	r := newReplica(t, srv, emu, "replica-a", replicaOptions{})
	r.start(t)
	want := append(append([]string{}, leftovers...), queued...)
	waitFor(t, "every trade to be accepted", func() bool { return accepted(emu) >= int64(len(want)) })

	assertEachOnce(t, emu, want)
	msgs := emu.Server.Messages(channelName)
	for i, id := range want {
		if i < len(msgs) && msgs[i].ID != id {
			t.Errorf("message %d is %s, want %s (leftovers first, then the queue in order)", i, msgs[i].ID, id)
		}
	}
	if got := r.worker.Stats().Recovered; got != int64(len(leftovers)) {
		t.Errorf("worker recovered %d trades, want %d", got, len(leftovers))
	}
	if n := listLen(t, rdb, keys.Processing(queueKey, "replica-gone")); n != 1 {
		t.Errorf("another replica's list has %d trades, want its 1 left alone", n)
	}
}

func TestWorker_StopMidStreamLosesNothing(t *testing.T) {
	const limit, trades = 5, 15
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	ids := pushTrades(t, rdb, "stream", trades)

	first := newReplica(t, srv, emu, "replica-a", replicaOptions{limit: limit})
	first.start(t)
	// The limit lets 5 through at once, then one more after a window, so
	// the stop lands while the worker waits for the limiter.
	waitFor(t, "some trades to be accepted", func() bool { return accepted(emu) >= limit+1 })
	first.stop(t)

	done := accepted(emu)
	left := listLen(t, rdb, keys.Queue(queueKey)) + listLen(t, rdb, keys.Processing(queueKey, "replica-a"))
	if done+left != trades {
		t.Errorf("after the stop %d accepted + %d in Redis = %d, want %d", done, left, done+left, trades)
	}

	second := newReplica(t, srv, emu, "replica-a", replicaOptions{limit: limit})
	second.start(t)
	waitFor(t, "every trade to be accepted", func() bool { return accepted(emu) >= trades })
	waitFor(t, "the processing list to empty", func() bool {
		return listLen(t, rdb, keys.Processing(queueKey, "replica-a")) == 0
	})
	assertEachOnce(t, emu, ids)
}

func TestWorker_ResumesAfterRedisRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	before := pushTrades(t, rdb, "before", 3)

	r := newReplica(t, srv, emu, "replica-a", replicaOptions{})
	r.start(t)
	waitFor(t, "the first trades to be accepted", func() bool { return accepted(emu) >= 3 })

	srv.Kill()
	srv.Restart()
	after := pushTrades(t, rdb, "after", 3)
	waitFor(t, "the trades pushed after the restart to be accepted", func() bool { return accepted(emu) >= 6 })
	waitFor(t, "the processing list to empty", func() bool {
		return listLen(t, rdb, keys.Processing(queueKey, "replica-a")) == 0
	})

	assertEachOnce(t, emu, append(before, after...))
}
