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

// pushBacklog appends count trades to the queue with pipelined RPUSH of
// up to 1000 trades each.
func pushBacklog(ctx context.Context, rdb *redis.Client, run string, count int) error {
	const chunk = 1000
	now := time.Now()
	for first := 0; first < count; first += chunk {
		last := min(first+chunk, count)
		values := make([]any, 0, last-first)
		for i := first; i < last; i++ {
			payload, err := json.Marshal(newTrade(run, i, now))
			if err != nil {
				return err
			}
			values = append(values, payload)
		}
		if err := rdb.RPush(ctx, queueKey, values...).Err(); err != nil {
			return fmt.Errorf("push backlog: %w", err)
		}
	}
	return nil
}
