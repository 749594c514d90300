package main

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/ably-fanout/lib/keys"
)

// accuracyResult is the peak count and the use of a limit that a backlog
// keeps full.
type accuracyResult struct {
	// MaxInLog is the largest count of limiter log entries in any sliding
	// window of one second of Redis time.
	MaxInLog int
	// MaxAtEmulator is the largest count of accepted messages in any
	// sliding window of one second of arrival time.
	MaxAtEmulator int
	// EmulatorMaxInAnySecond is the emulator's own maxInAnySecond.
	EmulatorMaxInAnySecond int64
	// Use is the arrival rate at the emulator over the limit; see
	// steadyUse.
	Use float64
	// Rejected counts publishes the emulator rejected for any reason.
	Rejected int
}

// runAccuracy keeps a backlog in front of replicas publishers with
// RATE_LIMIT limit, BATCH_SIZE batchSize and the given margin ("" for the
// default), for
// duration, and measures the sliding-window maximum in the limiter's log
// and at the emulator. The emulator's own limit is set to twice the limit
// so that an excess shows up as a count above limit, not as a rejection.
func runAccuracy(ctx context.Context, dir string, bin binaries, limit, replicas, batchSize int, margin string, duration time.Duration) (accuracyResult, error) {
	e, err := startEnv(ctx, dir, bin, 2*limit)
	if err != nil {
		return accuracyResult{}, err
	}
	defer e.stop()
	seconds := int(duration / time.Second)
	if err := pushBacklog(ctx, e.rdb, "a", limit*(seconds+3)); err != nil {
		return accuracyResult{}, err
	}
	settings := map[string]string{"RATE_LIMIT": strconv.Itoa(limit), "BATCH_SIZE": strconv.Itoa(batchSize)}
	if margin != "" {
		settings["RATE_MARGIN"] = margin
	}
	if err := e.startPublishers(ctx, replicas, settings); err != nil {
		return accuracyResult{}, err
	}

	// The log keeps entries for one window plus margin after their
	// publish ended, so reading it every 100ms reads every entry at least
	// once, and its last score read is the end of its publish. With
	// BATCH_SIZE above 1 an entry stands for the admissions the counts
	// hash gives it, else for one.
	logKey := keys.RateLog(queueKey)
	countsKey := keys.RateCounts(queueKey)
	scores := map[string]float64{}
	counts := map[string]int{}
	deadline := time.Now().Add(duration + time.Second)
	for time.Now().Before(deadline) {
		entries, err := e.rdb.ZRangeWithScores(ctx, logKey, 0, -1).Result()
		if err != nil {
			return accuracyResult{}, err
		}
		weights, err := e.rdb.HGetAll(ctx, countsKey).Result()
		if err != nil {
			return accuracyResult{}, err
		}
		for _, z := range entries {
			member := z.Member.(string)
			scores[member] = z.Score
			if n, err := strconv.Atoi(weights[member]); err == nil {
				counts[member] = n
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	msgs, err := e.messages(ctx, channelName)
	if err != nil {
		return accuracyResult{}, err
	}
	stats, err := e.stats(ctx)
	if err != nil {
		return accuracyResult{}, err
	}

	logTimes := make([]int64, 0, len(scores))
	for member, s := range scores {
		for range max(counts[member], 1) {
			logTimes = append(logTimes, int64(s))
		}
	}
	arrivals := make([]int64, 0, len(msgs))
	for _, m := range msgs {
		arrivals = append(arrivals, m.ReceivedAt.UnixMicro())
	}
	res := accuracyResult{
		MaxInLog:               maxInWindow(logTimes, time.Second.Microseconds()),
		MaxAtEmulator:          maxInWindow(arrivals, time.Second.Microseconds()),
		EmulatorMaxInAnySecond: stats[channelName].MaxInAnySecond,
	}
	for _, n := range stats[channelName].Rejected {
		res.Rejected += n
	}
	res.Use = steadyUse(arrivals, limit)
	return res, nil
}

// maxInWindow returns the largest number of times (microseconds) in any
// half-open window [t, t+window).
func maxInWindow(times []int64, window int64) int {
	slices.Sort(times)
	best, first := 0, 0
	for last := range times {
		for times[last]-times[first] >= window {
			first++
		}
		best = max(best, last-first+1)
	}
	return best
}

// steadyUse returns the share of the limit used in steady state: one
// window over the mean time from each arrival to the arrival limit
// places later. At full use of a limit per window every such span is one
// window, whether the arrivals come in bursts or spread out, and no span
// may be shorter while the limit holds. The window is one second,
// RATE_WINDOW's default.
func steadyUse(arrivals []int64, limit int) float64 {
	const window = 1e6
	if limit < 1 || len(arrivals) <= limit {
		return 0
	}
	slices.Sort(arrivals)
	var total float64
	for i := limit; i < len(arrivals); i++ {
		total += float64(arrivals[i] - arrivals[i-limit])
	}
	mean := total / float64(len(arrivals)-limit)
	if mean <= 0 {
		return 0
	}
	return window / mean
}
