package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// limiterResult is admissions per second of each limiter variant, measured
// one after the other on the same redis-server with the same concurrency.
type limiterResult struct {
	// Single is our script with one admission per call.
	Single float64
	// Batched is our script with limiterBatch admissions per call.
	Batched float64
	// GCRA is redis_rate's Allow, one admission per call.
	GCRA float64
	// GCRABatched is redis_rate's AllowN with limiterBatch per call.
	GCRABatched float64
}

const (
	limiterBatch       = 100
	limiterConcurrency = 8
	// limiterHuge is a limit no variant reaches, so every call admits and
	// the figures compare the cost of admitting.
	limiterHuge = 100_000_000
)

// loadLimiterScript reads the publisher's limiter script from the
// repository, so the benchmark runs exactly the Lua that production runs:
// group.lua, which every replica uses with BATCH_SIZE above 1.
func loadLimiterScript(repoRoot string) (*redis.Script, error) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "ably-publishing-server", "internal", "limiter", "group.lua"))
	if err != nil {
		return nil, fmt.Errorf("read limiter script: %w", err)
	}
	return redis.NewScript(string(src)), nil
}

// runLimiter measures each variant for duration on a fresh redis-server.
func runLimiter(ctx context.Context, dir, repoRoot string, duration time.Duration) (limiterResult, error) {
	script, err := loadLimiterScript(repoRoot)
	if err != nil {
		return limiterResult{}, err
	}
	e, err := startRedisOnly(dir)
	if err != nil {
		return limiterResult{}, err
	}
	defer e.stop()
	rdb := e.rdb
	gcra := redis_rate.NewLimiter(rdb)
	gcraLimit := redis_rate.Limit{Rate: limiterHuge, Burst: limiterHuge, Period: time.Second}
	window := strconv.FormatInt(time.Second.Microseconds(), 10)
	var prefix atomic.Uint64

	ours := func(n int) func(context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			id := "bench:" + strconv.FormatUint(prefix.Add(1), 10)
			// One log, minimum 1, and no hold: every call is scored at
			// its admission, as the worker's completion would soon do.
			reply, err := script.Run(ctx, rdb, []string{"bench:log", "bench:logn"},
				window, n, 1, id, 0, limiterHuge).Int64Slice()
			if err != nil {
				return 0, err
			}
			return int(reply[0]), nil
		}
	}
	theirs := func(n int) func(context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			res, err := gcra.AllowN(ctx, "bench:gcra", gcraLimit, n)
			if err != nil {
				return 0, err
			}
			return res.Allowed, nil
		}
	}
	var res limiterResult
	for _, v := range []struct {
		out  *float64
		call func(context.Context) (int, error)
	}{
		{&res.Single, ours(1)},
		{&res.Batched, ours(limiterBatch)},
		{&res.GCRA, theirs(1)},
		{&res.GCRABatched, theirs(limiterBatch)},
	} {
		// Each variant starts from an empty Redis, so the log of one does
		// not slow the next.
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			return res, err
		}
		if *v.out, err = admissionsPerSecond(ctx, v.call, duration); err != nil {
			return res, err
		}
	}
	return res, nil
}

// admissionsPerSecond calls call from limiterConcurrency goroutines until
// duration passes and returns the admissions per second.
func admissionsPerSecond(ctx context.Context, call func(context.Context) (int, error), duration time.Duration) (float64, error) {
	var admitted atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(duration)
	for range limiterConcurrency {
		wg.Go(func() {
			// Bounded by time and by count.
			for i := 0; i < 10_000_000 && time.Now().Before(deadline); i++ {
				n, err := call(ctx)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				admitted.Add(int64(n))
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(admitted.Load()) / time.Since(start).Seconds(), nil
}
