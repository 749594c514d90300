package limiter_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/lib/redisconn"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

const logKey = "test:log"

// newClient returns a client with the production options: no automatic
// retries and short timeouts.
func newClient(tb testing.TB, srv *redistest.Server) *redis.Client {
	tb.Helper()
	opts, err := redisconn.Config{URL: srv.URL(), QueueKey: "test"}.Options()
	if err != nil {
		tb.Fatalf("redis options: %v", err)
	}
	client := redis.NewClient(opts)
	tb.Cleanup(func() { _ = client.Close() })
	return client
}

func newLimiter(tb testing.TB, client redis.Scripter, limit int, window time.Duration, opts ...limiter.Option) *limiter.Limiter {
	tb.Helper()
	l, err := limiter.New(client, logKey, limit, window, opts...)
	if err != nil {
		tb.Fatalf("limiter.New: %v", err)
	}
	return l
}

// redisTime returns the Redis server's clock in microseconds.
func redisTime(tb testing.TB, client *redis.Client) int64 {
	tb.Helper()
	now, err := client.Time(tb.Context()).Result()
	if err != nil {
		tb.Fatalf("TIME: %v", err)
	}
	return now.UnixMicro()
}

func TestLimiter_AdmitsUpToLimitThenDenies(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	const window, margin = 200 * time.Millisecond, 50 * time.Millisecond
	l := newLimiter(t, client, 5, window, limiter.WithMargin(margin))
	ctx := t.Context()

	for i := range 5 {
		admitted, wait, err := l.Admit(ctx, 1)
		if err != nil {
			t.Fatalf("admit %d: %v", i, err)
		}
		if admitted != 1 {
			t.Fatalf("admit %d: admitted %d, want 1", i, admitted)
		}
		if wait != 0 {
			t.Errorf("admit %d: wait %s, want 0", i, wait)
		}
	}

	entries, err := client.ZRangeWithScores(ctx, logKey, 0, 0).Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("read oldest entry: %v %v", entries, err)
	}
	oldest := int64(entries[0].Score)

	admitted, wait, err := l.Admit(ctx, 1)
	after := redisTime(t, client)
	if err != nil {
		t.Fatalf("admit over the limit: %v", err)
	}
	if admitted != 0 {
		t.Fatalf("admitted %d over the limit, want 0", admitted)
	}
	effective := window + margin
	if wait <= 0 || wait > effective {
		t.Errorf("wait %s, want within (0, %s]", wait, effective)
	}
	// The oldest entry leaves at oldest+effective, and the script ran
	// before after, so the wait it returned is at least that distance.
	minWait := time.Duration(oldest+effective.Microseconds()-after) * time.Microsecond
	if wait < minWait {
		t.Errorf("wait %s, want at least %s (oldest entry leaves then)", wait, minWait)
	}
	if n, _ := client.ZCard(ctx, logKey).Result(); n != 5 {
		t.Errorf("log has %d entries, want 5", n)
	}
	ttl, err := client.PTTL(ctx, logKey).Result()
	if err != nil || ttl <= 0 || ttl > effective+time.Millisecond {
		t.Errorf("log expiry %s (%v), want within (0, %s]", ttl, err, effective+time.Millisecond)
	}
}

func TestLimiter_TrimsOldEntries(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	l := newLimiter(t, client, 3, 200*time.Millisecond)
	ctx := t.Context()

	if admitted, _, err := l.Admit(ctx, 3); err != nil || admitted != 3 {
		t.Fatalf("first batch: admitted %d, %v; want 3", admitted, err)
	}
	admitted, wait, err := l.Admit(ctx, 1)
	if err != nil || admitted != 0 {
		t.Fatalf("over the limit: admitted %d, %v; want 0", admitted, err)
	}
	time.Sleep(wait)

	admitted, _, err = l.Admit(ctx, 3)
	if err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	if admitted != 3 {
		t.Errorf("after the wait: admitted %d, want 3 (old entries trimmed)", admitted)
	}
	if n, _ := client.ZCard(ctx, logKey).Result(); n != 3 {
		t.Errorf("log has %d entries, want 3", n)
	}
}

func TestLimiter_ConcurrentCallersShareLimit(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	const clients, callersPerClient, limit = 4, 50, 10
	// The window is long so that nothing leaves it during the test.
	limiters := make([]*limiter.Limiter, clients)
	for i := range limiters {
		limiters[i] = newLimiter(t, newClient(t, srv), limit, time.Minute,
			limiter.WithRequestPrefix("replica-"+strconv.Itoa(i)))
	}

	var admittedTotal, errCount atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, l := range limiters {
		for range callersPerClient {
			wg.Go(func() {
				<-start
				admitted, _, err := l.Admit(t.Context(), 1)
				if err != nil {
					errCount.Add(1)
					return
				}
				admittedTotal.Add(int64(admitted))
			})
		}
	}
	close(start)
	wg.Wait()

	if n := errCount.Load(); n != 0 {
		t.Fatalf("%d calls failed", n)
	}
	if n := admittedTotal.Load(); n != limit {
		t.Errorf("admitted %d in total, want exactly %d", n, limit)
	}
	if n, _ := srv.Client().ZCard(t.Context(), logKey).Result(); n != limit {
		t.Errorf("log has %d entries, want %d", n, limit)
	}
}

func TestLimiter_BatchAdmission(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	l := newLimiter(t, newClient(t, srv), 10, time.Minute)

	tests := []struct {
		name      string
		n         int
		admitted  int
		wantsWait bool
	}{
		{name: "whole batch", n: 4, admitted: 4},
		{name: "partial batch", n: 10, admitted: 6, wantsWait: true},
		{name: "full log", n: 1, admitted: 0, wantsWait: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admitted, wait, err := l.Admit(t.Context(), tt.n)
			if err != nil {
				t.Fatalf("admit %d: %v", tt.n, err)
			}
			if admitted != tt.admitted {
				t.Errorf("admitted %d, want %d", admitted, tt.admitted)
			}
			if got := wait > 0; got != tt.wantsWait {
				t.Errorf("wait %s, want positive: %v", wait, tt.wantsWait)
			}
		})
	}
}

func TestLimiter_BatchLargerThanLuaStack(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	const limit = 20000
	l := newLimiter(t, newClient(t, srv), limit, time.Minute)

	admitted, _, err := l.Admit(t.Context(), limit+5)
	if err != nil {
		t.Fatalf("admit: %v", err)
	}
	if admitted != limit {
		t.Errorf("admitted %d, want %d", admitted, limit)
	}
}

func TestLimiter_RetriedRequestCountedOnce(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	l := newLimiter(t, client, 4, time.Minute)
	ctx := t.Context()
	requestID := l.NewRequestID()

	for attempt := range 3 {
		admitted, _, err := l.AdmitRequest(ctx, requestID, 3)
		if err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		if admitted != 3 {
			t.Errorf("attempt %d: admitted %d, want the earlier 3", attempt, admitted)
		}
	}
	if n, _ := client.ZCard(ctx, logKey).Result(); n != 3 {
		t.Errorf("log has %d entries, want 3", n)
	}

	admitted, _, err := l.Admit(ctx, 3)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if admitted != 1 {
		t.Errorf("new request admitted %d, want the 1 slot left", admitted)
	}
}

func TestLimiter_RetriedPartialRequest(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	l := newLimiter(t, newClient(t, srv), 2, time.Minute)
	ctx := t.Context()
	requestID := l.NewRequestID()

	first, _, err := l.AdmitRequest(ctx, requestID, 5)
	if err != nil || first != 2 {
		t.Fatalf("first call: admitted %d, %v; want 2", first, err)
	}
	again, wait, err := l.AdmitRequest(ctx, requestID, 5)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if again != 2 {
		t.Errorf("retry admitted %d, want the earlier 2", again)
	}
	if wait <= 0 {
		t.Errorf("retry wait %s, want positive because 3 are still missing", wait)
	}
}

func TestLimiter_WaitSleepsUntilSlotFrees(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	counting := &countingScripter{Scripter: client}
	const limit, window, waits = 2, 150 * time.Millisecond, 8
	l := newLimiter(t, counting, limit, window)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	// Read the log after every admission, before this goroutine calls the
	// script again, so that no entry is trimmed before it is seen.
	scores := map[string]float64{}
	for i := range waits {
		admitted, err := l.Wait(ctx, 1)
		if err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
		if admitted != 1 {
			t.Fatalf("wait %d: admitted %d, want 1", i, admitted)
		}
		entries, err := client.ZRangeWithScores(ctx, logKey, 0, -1).Result()
		if err != nil {
			t.Fatalf("read log: %v", err)
		}
		for _, e := range entries {
			scores[e.Member.(string)] = e.Score
		}
	}

	if len(scores) != waits {
		t.Fatalf("saw %d admissions in the log, want %d", len(scores), waits)
	}
	times := make([]int64, 0, waits)
	for _, s := range scores {
		times = append(times, int64(s))
	}
	slices.Sort(times)
	for i := limit; i < len(times); i++ {
		if gap := time.Duration(times[i]-times[i-limit]) * time.Microsecond; gap < window {
			t.Errorf("admissions %d and %d are %s apart, want at least the window %s", i-limit, i, gap, window)
		}
	}
	// Each Wait is normally denied at most once and then sleeps exactly
	// until the slot frees. The bound leaves room for the EVAL after the
	// first NOSCRIPT and for clock noise; a busy loop makes hundreds of
	// calls.
	if calls, maxCalls := counting.calls.Load(), int64(3*waits); calls > maxCalls {
		t.Errorf("made %d script calls for %d waits, want at most %d", calls, waits, maxCalls)
	}
}

func TestLimiter_WaitReturnsWhenContextEnds(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	l := newLimiter(t, newClient(t, srv), 1, time.Hour)
	if admitted, _, err := l.Admit(t.Context(), 1); err != nil || admitted != 1 {
		t.Fatalf("fill the log: admitted %d, %v", admitted, err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := l.Wait(ctx, 1)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait returned %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not return after the context ended")
	}
}

func TestLimiter_SurvivesScriptFlush(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	l := newLimiter(t, client, 3, time.Minute)
	ctx := t.Context()

	if admitted, _, err := l.Admit(ctx, 1); err != nil || admitted != 1 {
		t.Fatalf("before flush: admitted %d, %v", admitted, err)
	}
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	admitted, _, err := l.Admit(ctx, 5)
	if err != nil {
		t.Fatalf("after flush: %v", err)
	}
	if admitted != 2 {
		t.Errorf("after flush: admitted %d, want the 2 slots left", admitted)
	}
}

func TestLimiter_SurvivesRedisRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	client := newClient(t, srv)
	l := newLimiter(t, client, 3, time.Minute)
	ctx := t.Context()

	if admitted, _, err := l.Admit(ctx, 2); err != nil || admitted != 2 {
		t.Fatalf("before restart: admitted %d, %v", admitted, err)
	}
	srv.Restart()

	// Connections in the pool broke with the restart, and the client does
	// not retry by itself, so the first calls may fail.
	var admitted int
	var err error
	for range 5 {
		admitted, _, err = l.Admit(ctx, 5)
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if admitted != 1 {
		t.Errorf("after restart: admitted %d, want the 1 slot left (the log is in the append-only file)", admitted)
	}
}

func TestLimiter_RejectsInvalidArguments(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	tests := []struct {
		name   string
		key    string
		limit  int
		window time.Duration
		margin time.Duration
	}{
		{name: "empty key", key: "", limit: 1, window: time.Second},
		{name: "zero limit", key: logKey, limit: 0, window: time.Second},
		{name: "zero window", key: logKey, limit: 1, window: 0},
		{name: "negative margin", key: logKey, limit: 1, window: time.Second, margin: -time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := limiter.New(client, tt.key, tt.limit, tt.window, limiter.WithMargin(tt.margin))
			if !errors.Is(err, limiter.ErrInvalidArgument) {
				t.Errorf("New returned %v, want ErrInvalidArgument", err)
			}
		})
	}

	l := newLimiter(t, client, 1, time.Second)
	if _, _, err := l.Admit(t.Context(), 0); !errors.Is(err, limiter.ErrInvalidArgument) {
		t.Errorf("Admit(0) returned %v, want ErrInvalidArgument", err)
	}
}

// countingScripter counts the script calls that reach Redis.
type countingScripter struct {
	redis.Scripter
	calls atomic.Int64
}

func (c *countingScripter) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	c.calls.Add(1)
	return c.Scripter.EvalSha(ctx, sha1, keys, args...)
}

func (c *countingScripter) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	c.calls.Add(1)
	return c.Scripter.Eval(ctx, script, keys, args...)
}
