package main

import (
	"context"
	"strconv"
	"time"
)

// memoryResult is resident memory at steady state with a full limit.
type memoryResult struct {
	ReplicaRSS  int64
	EmulatorRSS int64
	// LogBytes is MEMORY USAGE of the limiter's log key.
	LogBytes int64
	// LogEntries is ZCARD of the log key at the same moment.
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
	logKey := queueKey + ":log"
	if res.LogBytes, err = e.rdb.MemoryUsage(ctx, logKey, 0).Result(); err != nil {
		return res, err
	}
	if res.LogEntries, err = e.rdb.ZCard(ctx, logKey).Result(); err != nil {
		return res, err
	}
	if res.ReplicaRSS, err = residentBytes(e.consumers[0].Pid()); err != nil {
		return res, err
	}
	res.EmulatorRSS, err = residentBytes(e.emulator.Pid())
	return res, err
}
