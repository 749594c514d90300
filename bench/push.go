package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ably-fanout/lib/trade"
	"github.com/redis/go-redis/v9"
)

// symbols are the instruments the pushed trades cycle through.
var symbols = []string{"AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "NFLX", "AMD", "INTC",
	"ORCL", "IBM", "CSCO", "ADBE", "CRM", "QCOM", "TXN", "AVGO", "PYPL", "SHOP"}

// newTrade returns trade number i of run, a valid trade whose id is unique
// per run and whose sequence number increases per symbol.
func newTrade(run string, i int, at time.Time) trade.Trade {
	return trade.Trade{
		ID:     run + "-" + strconv.Itoa(i),
		Symbol: symbols[i%len(symbols)],
		Price:  "101.25",
		Size:   int64(1 + i%500),
		Side:   [2]string{"buy", "sell"}[i%2],
		Seq:    int64(i/len(symbols) + 1),
		Time:   trade.FormatTime(at),
	}
}

// pushBacklog appends count trades of run to the queue.
func pushBacklog(ctx context.Context, rdb *redis.Client, run string, count int) error {
	payloads, err := encodeBacklog(run, count)
	if err != nil {
		return err
	}
	return pushPayloads(ctx, rdb, payloads)
}

// encodeBacklog returns the JSON payloads of count trades of run. The
// pipeline suite encodes them before its timer starts, so that the
// benchmark's own JSON encoding does not compete for the CPU with the
// consumers it measures.
func encodeBacklog(run string, count int) ([]any, error) {
	now := time.Now()
	payloads := make([]any, count)
	for i := range payloads {
		payload, err := json.Marshal(newTrade(run, i, now))
		if err != nil {
			return nil, err
		}
		payloads[i] = payload
	}
	return payloads, nil
}

// pushPayloads appends payloads to the queue, 1000 per RPUSH.
func pushPayloads(ctx context.Context, rdb *redis.Client, payloads []any) error {
	const chunk = 1000
	for first := 0; first < len(payloads); first += chunk {
		last := min(first+chunk, len(payloads))
		if err := rdb.RPush(ctx, queueKey, payloads[first:last]...).Err(); err != nil {
			return fmt.Errorf("push backlog: %w", err)
		}
	}
	return nil
}
