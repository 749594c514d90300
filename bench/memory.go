package main

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/redis/go-redis/v9"
)

// memoryResult is resident memory at steady state with a full limit.
type memoryResult struct {
	ReplicaRSS  int64
	EmulatorRSS int64
	// LogBytes is MEMORY USAGE of the limiter's log key and its counts
	// hash.
	LogBytes int64
	// LogEntries is ZCARD of the log key at the same moment: one entry per
	// admitted message with BATCH_SIZE 1, else one per admitting call.
	LogEntries int64
}

// runMemory keeps a backlog in front of one replica at RATE_LIMIT limit
// and BATCH_SIZE batchSize for settle, then reads the memory figures.
func runMemory(ctx context.Context, dir string, bin binaries, limit, batchSize int, settle time.Duration) (memoryResult, error) {
	e, err := startEnv(ctx, dir, bin, 2*limit)
	if err != nil {
		return memoryResult{}, err
	}
	defer e.stop()
	seconds := int(settle/time.Second) + 2
	if err := pushBacklog(ctx, e.rdb, "m", limit*seconds); err != nil {
		return memoryResult{}, err
	}
	settings := map[string]string{"RATE_LIMIT": strconv.Itoa(limit), "BATCH_SIZE": strconv.Itoa(batchSize)}
	if err := e.startPublishers(ctx, 1, settings); err != nil {
		return memoryResult{}, err
	}
	time.Sleep(settle)
	var res memoryResult
	logKey := keys.RateLog(queueKey)
	if res.LogBytes, err = e.rdb.MemoryUsage(ctx, logKey, 0).Result(); err != nil {
		return res, err
	}
	// The counts hash exists only with BATCH_SIZE above 1.
	countsBytes, err := e.rdb.MemoryUsage(ctx, keys.RateCounts(queueKey), 0).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return res, err
	}
	res.LogBytes += countsBytes
	if res.LogEntries, err = e.rdb.ZCard(ctx, logKey).Result(); err != nil {
		return res, err
	}
	if res.ReplicaRSS, err = residentBytes(e.consumers[0].Pid()); err != nil {
		return res, err
	}
	res.EmulatorRSS, err = residentBytes(e.emulator.Pid())
	return res, err
}
