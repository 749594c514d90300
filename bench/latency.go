package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// latencyResult is the added latency from RPUSH to the emulator's receipt
// on a queue that never has a backlog.
type latencyResult struct {
	P50, P99 time.Duration
}

// runLatency pushes count trades one at a time, interval apart, to one
// replica with RATE_LIMIT 50, and compares each push time with the
// emulator's receivedAt. Both clocks are this machine's.
func runLatency(ctx context.Context, dir string, bin binaries, c consumer, count int, interval time.Duration) (latencyResult, error) {
	e, err := startEnv(ctx, dir, bin, 50)
	if err != nil {
		return latencyResult{}, err
	}
	defer e.stop()
	if err := e.startConsumers(ctx, c, 50); err != nil {
		return latencyResult{}, err
	}
	pushed := make(map[string]time.Time, count)
	for i := range count {
		t := newTrade("l", i, time.Now())
		payload, err := json.Marshal(t)
		if err != nil {
			return latencyResult{}, err
		}
		pushed[t.ID] = time.Now()
		if err := e.rdb.RPush(ctx, queueKey, payload).Err(); err != nil {
			return latencyResult{}, err
		}
		time.Sleep(interval)
	}
	if _, err := e.waitAccepted(ctx, int64(count), time.Minute); err != nil {
		return latencyResult{}, err
	}
	msgs, err := e.messages(ctx, channelName)
	if err != nil {
		return latencyResult{}, err
	}
	delays := make([]time.Duration, 0, len(msgs))
	for _, m := range msgs {
		var t struct {
			ID string `json:"id"`
		}
		// The baseline publishes the payload as a string, the publisher as
		// an object, so the trade id is read from either form.
		if err := json.Unmarshal(m.Data, &t); err != nil {
			var text string
			if json.Unmarshal(m.Data, &text) != nil || json.Unmarshal([]byte(text), &t) != nil {
				return latencyResult{}, fmt.Errorf("message %s: unreadable data", m.ID)
			}
		}
		if at, ok := pushed[t.ID]; ok {
			delays = append(delays, m.ReceivedAt.Sub(at))
		}
	}
	if len(delays) != count {
		return latencyResult{}, fmt.Errorf("matched %d of %d pushed trades", len(delays), count)
	}
	slices.Sort(delays)
	return latencyResult{P50: percentile(delays, 0.50), P99: percentile(delays, 0.99)}, nil
}

// percentile returns the nearest-rank percentile p of sorted values.
func percentile[T any](sorted []T, p float64) T {
	index := int(float64(len(sorted))*p+0.999999) - 1
	index = max(0, min(index, len(sorted)-1))
	return sorted[index]
}
