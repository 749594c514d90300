package push

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably-fanout/lib/redistest"
	"github.com/ably-fanout/lib/trade"
)

func TestPushBounded_AppendsWhatFits(t *testing.T) {
	cases := []struct {
		name         string
		existing     int
		maxLength    int64
		trades       int
		wantAppended int
	}{
		{"empty queue with room", 0, 10, 3, 3},
		{"exactly fills", 7, 10, 3, 3},
		{"partly fits", 8, 10, 3, 2},
		{"full", 10, 10, 3, 0},
		{"already over the bound", 12, 10, 3, 0},
		{"bound of one", 0, 1, 5, 1},
	}
	srv := redistest.Start(t, redistest.Options{})
	c := testClient(t, srv.Addr())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Del(t.Context(), testQueue).Err(); err != nil {
				t.Fatalf("del: %v", err)
			}
			for i := range tc.existing {
				if err := c.RPush(t.Context(), testQueue, "old-"+string(rune('a'+i))).Err(); err != nil {
					t.Fatalf("rpush: %v", err)
				}
			}
			batch := []string{"new-1", "new-2", "new-3", "new-4", "new-5"}[:tc.trades]
			got, err := pushBounded(t.Context(), c, testQueue, tc.maxLength, batch)
			if err != nil {
				t.Fatalf("pushBounded: %v", err)
			}
			if got != tc.wantAppended {
				t.Errorf("appended = %d, want %d", got, tc.wantAppended)
			}
			items, err := c.LRange(t.Context(), testQueue, int64(tc.existing), -1).Result()
			if err != nil {
				t.Fatalf("lrange: %v", err)
			}
			if strings.Join(items, ",") != strings.Join(batch[:tc.wantAppended], ",") {
				t.Errorf("appended items = %v, want %v", items, batch[:tc.wantAppended])
			}
		})
	}
}

func TestPusher_FIFOOrder(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := testClient(t, srv.Addr())
	p, _ := newTestPusher(t, c, Config{BatchSize: 7})
	in := make(chan trade.Trade, 16)
	done := runPusher(t, p, in)
	const n = 1000
	for i := 1; i <= n; i++ {
		in <- testTrade(i)
	}
	close(in)
	waitRun(t, done)

	if diff := firstDifference(queueIDs(t, c), wantIDs(n)); diff != "" {
		t.Errorf("queue differs from the input order: %s", diff)
	}
	if got := p.Stats().Pushed; got != n {
		t.Errorf("Stats().Pushed = %d, want %d", got, n)
	}
	if got := p.Stats().Batched; got != 0 {
		t.Errorf("Stats().Batched = %d, want 0", got)
	}
}

func TestPusher_BoundWithSlowConsumer(t *testing.T) {
	const (
		bound = 50
		n     = 2000
	)
	srv := redistest.Start(t, redistest.Options{})
	c := testClient(t, srv.Addr())
	p, logs := newTestPusher(t, c, Config{MaxQueueLength: bound, BatchSize: 20})
	in := make(chan trade.Trade, 64)
	done := runPusher(t, p, in)
	go func() {
		for i := 1; i <= n; i++ {
			in <- testTrade(i)
		}
		close(in)
	}()

	// An observer samples LLEN as fast as it can while a consumer drains
	// the queue a few trades at a time.
	var maxSeen atomic.Int64
	var observations atomic.Int64
	stopObserver := make(chan struct{})
	var observerDone sync.WaitGroup
	observerDone.Go(func() {
		for {
			select {
			case <-stopObserver:
				return
			default:
			}
			length, err := c.LLen(context.Background(), testQueue).Result()
			if err != nil {
				continue
			}
			observations.Add(1)
			if length > maxSeen.Load() {
				maxSeen.Store(length)
			}
		}
	})

	var consumed []string
	deadline := time.Now().Add(time.Minute)
	for len(consumed) < n && time.Now().Before(deadline) {
		length, err := c.LLen(t.Context(), testQueue).Result()
		if err != nil {
			t.Fatalf("llen: %v", err)
		}
		if length > bound {
			t.Fatalf("consumer saw queue length %d, above the bound %d", length, bound)
		}
		items, err := c.LPopCount(t.Context(), testQueue, 3).Result()
		if err != nil && !isNil(err) {
			t.Fatalf("lpop: %v", err)
		}
		consumed = append(consumed, parseIDs(t, items)...)
		time.Sleep(time.Millisecond)
	}
	close(stopObserver)
	observerDone.Wait()
	waitRun(t, done)

	if got := maxSeen.Load(); got > bound {
		t.Errorf("observer saw queue length %d, above the bound %d", got, bound)
	}
	t.Logf("observer made %d observations, max length %d", observations.Load(), maxSeen.Load())
	if diff := firstDifference(consumed, wantIDs(n)); diff != "" {
		t.Errorf("consumed trades differ from the input order: %s", diff)
	}
	stats := p.Stats()
	if stats.FullEpisodes == 0 {
		t.Fatal("the queue never filled up, so the bound was not exercised")
	}
	if got := logs.count(t, "queue full, waiting"); int64(got) != stats.FullEpisodes {
		t.Errorf("logged %q %d times, want once per episode (%d)", "queue full, waiting", got, stats.FullEpisodes)
	}
	if got := logs.count(t, "queue has room, resuming"); int64(got) != stats.FullEpisodes {
		t.Errorf("logged %q %d times, want once per episode (%d)", "queue has room, resuming", got, stats.FullEpisodes)
	}
}

func TestPusher_SurvivesRedisKill(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	c := testClient(t, srv.Addr())
	p, logs := newTestPusher(t, c, Config{BatchSize: 10})
	in := make(chan trade.Trade, 1000)
	done := runPusher(t, p, in)

	for i := 1; i <= 100; i++ {
		in <- testTrade(i)
	}
	waitFor(t, "the first 100 trades to be pushed", func() bool { return p.Stats().Pushed == 100 })

	srv.Kill()
	for i := 101; i <= 300; i++ {
		in <- testTrade(i)
	}
	waitFor(t, "a push error while Redis is down", func() bool { return p.Err() != nil })
	if got := p.Stats().Pushed; got != 100 {
		t.Errorf("Stats().Pushed while Redis is down = %d, want 100", got)
	}

	srv.Restart()
	close(in)
	waitRun(t, done)

	if diff := firstDifference(queueIDs(t, c), wantIDs(300)); diff != "" {
		t.Errorf("queue differs from the input order: %s", diff)
	}
	if err := p.Err(); err != nil {
		t.Errorf("Err() after recovery = %v, want nil", err)
	}
	if got := logs.count(t, "push to redis failed, retrying"); got == 0 {
		t.Error("no push error was logged")
	}
	if got := logs.count(t, "push to redis succeeded again"); got != 1 {
		t.Errorf("logged recovery %d times, want 1", got)
	}
}

func TestPusher_SurvivesRestartMidRun(t *testing.T) {
	const (
		batchSize  = 50
		afterStart = 2000
		maxTrades  = 1_000_000
	)
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	c := testClient(t, srv.Addr())
	// The bound is far above the trades sent, so that only the restart
	// can hold the pusher up.
	p, _ := newTestPusher(t, c, Config{BatchSize: batchSize, MaxQueueLength: 10 * maxTrades})
	in := make(chan trade.Trade, 4*batchSize)
	done := runPusher(t, p, in)

	// The feeder keeps the pusher busy through the restart and sends
	// afterStart more trades once Redis is back.
	restarted := make(chan struct{})
	fed := make(chan int, 1)
	go func() {
		i, extra := 0, -1
		for i < maxTrades && extra != 0 {
			i++
			select {
			case in <- testTrade(i):
			case <-t.Context().Done():
				return
			}
			select {
			case <-restarted:
				if extra < 0 {
					extra = afterStart
				}
				extra--
			default:
			}
		}
		close(in)
		fed <- i
	}()

	waitFor(t, "2000 trades to be pushed", func() bool { return p.Stats().Pushed >= 2000 })
	srv.Restart()
	close(restarted)
	var n int
	select {
	case n = <-fed:
	case <-time.After(time.Minute):
		t.Fatalf("feeder did not finish within a minute of the restart; stats %+v, last error %v", p.Stats(), p.Err())
	}
	waitRun(t, done)

	got := queueIDs(t, c)
	unique, repeats := dropRepeats(got)
	if diff := firstDifference(unique, wantIDs(n)); diff != "" {
		t.Errorf("queue without repeats differs from the input order: %s", diff)
	}
	stats := p.Stats()
	t.Logf("pushed %d trades, %d failed round trips, %d repeated trades", n, stats.Errors, repeats)
	if stats.Errors == 0 {
		t.Error("no push failed, so the restart was not exercised")
	}
	// Only a batch whose reply was lost can be appended twice.
	if limit := stats.Errors * batchSize; int64(repeats) > limit {
		t.Errorf("%d repeated trades, more than one batch per failed round trip (%d)", repeats, limit)
	}
}

func TestPusher_OutOfMemoryWaitsAndResumes(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := testClient(t, srv.Addr())
	admin := srv.Client()
	if err := admin.ConfigSet(t.Context(), "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatalf("config set maxmemory-policy: %v", err)
	}
	if err := admin.ConfigSet(t.Context(), "maxmemory", "1").Err(); err != nil {
		t.Fatalf("config set maxmemory: %v", err)
	}
	p, logs := newTestPusher(t, c, Config{BatchSize: 25})
	in := make(chan trade.Trade, 500)
	done := runPusher(t, p, in)
	const n = 500
	for i := 1; i <= n; i++ {
		in <- testTrade(i)
	}
	close(in)

	waitFor(t, "an out-of-memory error", func() bool {
		err := p.Err()
		return err != nil && isOutOfMemory(err)
	})
	length, err := admin.LLen(t.Context(), testQueue).Result()
	if err != nil {
		t.Fatalf("llen: %v", err)
	}
	if length != 0 {
		t.Errorf("queue length while out of memory = %d, want 0", length)
	}
	if err := admin.ConfigSet(t.Context(), "maxmemory", "0").Err(); err != nil {
		t.Fatalf("config set maxmemory 0: %v", err)
	}
	waitRun(t, done)

	got := queueIDs(t, c)
	if diff := firstDifference(got, wantIDs(n)); diff != "" {
		t.Errorf("queue differs from the input order: %s", diff)
	}
	if got := logs.count(t, "push to redis failed because redis reached maxmemory, retrying"); got == 0 {
		t.Error("the out-of-memory error was not logged")
	}
}

func TestPusher_ScriptCacheFlushed(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := testClient(t, srv.Addr())
	p, _ := newTestPusher(t, c, Config{BatchSize: 5})
	in := make(chan trade.Trade, 100)
	done := runPusher(t, p, in)
	for i := 1; i <= 20; i++ {
		in <- testTrade(i)
	}
	waitFor(t, "20 trades to be pushed", func() bool { return p.Stats().Pushed == 20 })
	if err := c.ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatalf("script flush: %v", err)
	}
	for i := 21; i <= 40; i++ {
		in <- testTrade(i)
	}
	close(in)
	waitRun(t, done)

	if diff := firstDifference(queueIDs(t, c), wantIDs(40)); diff != "" {
		t.Errorf("queue differs from the input order: %s", diff)
	}
	if got := p.Stats().Errors; got != 0 {
		t.Errorf("Stats().Errors = %d, want 0 because Script.Run falls back to EVAL", got)
	}
}

func TestPusher_StopsWhenContextEnds(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := testClient(t, srv.Addr())
	p, _ := newTestPusher(t, c, Config{})
	srv.Kill()
	in := make(chan trade.Trade, 10)
	in <- testTrade(1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, in) }()
	waitFor(t, "a push error", func() bool { return p.Err() != nil })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrStopped) || !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want ErrStopped wrapping context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return within a minute of the cancel")
	}
	if got := p.Stats().Batched; got != 1 {
		t.Errorf("Stats().Batched = %d, want 1", got)
	}
}

func TestConfig_ValidateRejects(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"empty queue key", Config{}},
		{"negative max queue length", Config{QueueKey: "q", MaxQueueLength: -1}},
		{"batch too large", Config{QueueKey: "q", BatchSize: MaxBatchSize + 1}},
		{"negative batch", Config{QueueKey: "q", BatchSize: -1}},
		{"inverted full backoff", Config{QueueKey: "q", FullMinBackoff: time.Second, FullMaxBackoff: time.Millisecond}},
		{"negative error backoff", Config{QueueKey: "q", ErrorMinBackoff: -time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Validate() = %v, want ErrInvalidConfig", err)
			}
		})
	}
}
