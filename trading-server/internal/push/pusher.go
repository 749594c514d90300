// Package push appends trades to the Redis queue in batches, never lets the
// queue grow past its maximum length, and retries through Redis failures
// without dropping a trade.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ably-fanout/lib/backoff"
	"github.com/ably-fanout/lib/logging"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/trade"
	"github.com/redis/go-redis/v9"
)

// ErrStopped is returned by Run when its context ends before every trade
// was pushed. It wraps the context's error.
var ErrStopped = errors.New("pusher stopped before pushing every trade")

// Stats are counters of a Pusher, safe to read while it runs.
type Stats struct {
	// Pushed is the number of trades Redis confirmed as appended.
	Pushed int64
	// Batched is the number of trades taken from the input and not yet
	// pushed.
	Batched int64
	// Errors is the number of failed round trips to Redis.
	Errors int64
	// FullEpisodes is the number of times the queue filled up and the
	// pusher had to wait for room.
	FullEpisodes int64
}

// Pusher appends trades to the queue in order. Create it with New and call
// Run once.
type Pusher struct {
	client   redis.Scripter
	cfg      Config
	metrics  *metrics.Trading
	logger   *slog.Logger
	throttle *logging.Throttle

	// batch holds the JSON of trades taken from the input, oldest first,
	// and batchIDs their trade ids for the log. Only Run touches them.
	batch    []string
	batchIDs []string
	full     bool

	pushed       atomic.Int64
	batched      atomic.Int64
	errors       atomic.Int64
	fullEpisodes atomic.Int64

	mu      sync.Mutex
	lastErr error
}

// New returns a Pusher that writes through client and counts its work in
// m (Pushed, PushErrors, QueueFull and PushDuration). A *redis.Client
// with MaxRetries -1 is expected, so that only the Pusher decides when to
// run the script again.
func New(client redis.Scripter, cfg Config, m *metrics.Trading, logger *slog.Logger) (*Pusher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Pusher{
		client:   client,
		cfg:      cfg,
		metrics:  m,
		logger:   logger.With(slog.String("queue_key", cfg.QueueKey)),
		throttle: logging.NewThrottle(cfg.LogInterval),
		batch:    make([]string, 0, cfg.BatchSize),
		batchIDs: make([]string, 0, cfg.BatchSize),
	}, nil
}

// Stats returns the current counters.
func (p *Pusher) Stats() Stats {
	return Stats{
		Pushed:       p.pushed.Load(),
		Batched:      p.batched.Load(),
		Errors:       p.errors.Load(),
		FullEpisodes: p.fullEpisodes.Load(),
	}
}

// Err returns the error of the last round trip to Redis, or nil if it
// succeeded or none has been made. A full queue is not an error.
func (p *Pusher) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

// Run takes trades from in and appends them to the queue in the order
// received, up to BatchSize per round trip. While the queue is full it
// waits, and after a Redis error it retries the same trades, so it drops
// nothing. It returns nil once in is closed and every trade is pushed, or
// ErrStopped when ctx ends first.
func (p *Pusher) Run(ctx context.Context, in <-chan trade.Trade) error {
	fullWait := backoff.Policy{Min: p.cfg.FullMinBackoff, Max: p.cfg.FullMaxBackoff}
	errorWait := backoff.Policy{Min: p.cfg.ErrorMinBackoff, Max: p.cfg.ErrorMaxBackoff}
	// fullWaits and errorWaits count the waits since the last push that
	// appended trades, and since the last push without an error.
	fullWaits, errorWaits := 0, 0
	inOpen := true
	for {
		if len(p.batch) == 0 {
			if !inOpen {
				return nil
			}
			select {
			case t, ok := <-in:
				if !ok {
					return nil
				}
				p.add(t)
			case <-ctx.Done():
				return fmt.Errorf("%w: %w", ErrStopped, ctx.Err())
			}
		}
		if inOpen {
			inOpen = p.fill(in)
		}

		// NOTE: if Redis ran the script but the reply was lost (a timeout
		// or a dropped connection), the retry below appends the same
		// trades again, right after the first copies. The copies keep
		// their ids, and the publisher derives each Ably message id from
		// the trade id, so Ably discards the second publish as one whose
		// message id it has already seen (idempotent publishing).
		started := time.Now()
		appended, err := pushBounded(ctx, p.client, p.cfg.QueueKey, p.cfg.MaxQueueLength, p.batch)
		p.metrics.PushDuration.Observe(time.Since(started).Seconds())
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %w", ErrStopped, ctx.Err())
			}
			p.recordError(err)
			if backoff.Sleep(ctx, errorWait.Delay(errorWaits)) != nil {
				return fmt.Errorf("%w: %w", ErrStopped, ctx.Err())
			}
			errorWaits++
			continue
		}
		p.recordSuccess()
		errorWaits = 0

		sent := len(p.batch)
		p.batch = p.batch[:copy(p.batch, p.batch[appended:])]
		p.batchIDs = p.batchIDs[:copy(p.batchIDs, p.batchIDs[appended:])]
		p.batched.Add(-int64(appended))
		p.pushed.Add(int64(appended))
		p.metrics.Pushed.Add(float64(appended))
		if appended == sent {
			p.endFull()
			fullWaits = 0
			continue
		}

		p.startFull()
		if appended > 0 {
			fullWaits = 0
		}
		if backoff.Sleep(ctx, fullWait.Delay(fullWaits)) != nil {
			return fmt.Errorf("%w: %w", ErrStopped, ctx.Err())
		}
		fullWaits++
	}
}

// add appends t to the batch. A trade always marshals, because its fields
// are strings and integers.
func (p *Pusher) add(t trade.Trade) {
	data, err := json.Marshal(t)
	if err != nil {
		panic(fmt.Sprintf("push: marshal trade %s: %v", t.ID, err))
	}
	p.batch = append(p.batch, string(data))
	p.batchIDs = append(p.batchIDs, t.ID)
	p.batched.Add(1)
}

// fill tops the batch up from in without blocking and reports whether in
// is still open.
func (p *Pusher) fill(in <-chan trade.Trade) bool {
	for len(p.batch) < p.cfg.BatchSize {
		select {
		case t, ok := <-in:
			if !ok {
				return false
			}
			p.add(t)
		default:
			return true
		}
	}
	return true
}

func (p *Pusher) startFull() {
	if p.full {
		return
	}
	p.full = true
	p.fullEpisodes.Add(1)
	p.metrics.QueueFull.Inc()
	p.logger.Info("queue full, waiting",
		slog.Int64("max_queue_length", p.cfg.MaxQueueLength),
		slog.Int("batched", len(p.batch)))
}

func (p *Pusher) endFull() {
	if !p.full {
		return
	}
	p.full = false
	p.logger.Info("queue has room, resuming", slog.Int64("max_queue_length", p.cfg.MaxQueueLength))
}

const errorLogKey = "push"

func (p *Pusher) recordError(err error) {
	p.errors.Add(1)
	p.metrics.PushErrors.Inc()
	p.mu.Lock()
	p.lastErr = err
	p.mu.Unlock()
	ok, suppressed := p.throttle.Allow(errorLogKey)
	if !ok {
		return
	}
	msg := "push to redis failed, retrying"
	if isOutOfMemory(err) {
		msg = "push to redis failed because redis reached maxmemory, retrying"
	}
	p.logger.Error(msg,
		slog.Any("error", err),
		slog.Int("batched", len(p.batch)),
		slog.String("first_trade_id", p.batchIDs[0]),
		slog.String("last_trade_id", p.batchIDs[len(p.batchIDs)-1]),
		slog.Int("suppressed", suppressed))
}

func (p *Pusher) recordSuccess() {
	p.mu.Lock()
	failed := p.lastErr != nil
	p.lastErr = nil
	p.mu.Unlock()
	if failed {
		p.throttle.Reset(errorLogKey)
		p.logger.Info("push to redis succeeded again", slog.Int64("errors_total", p.errors.Load()))
	}
}

// isOutOfMemory reports whether err is Redis's reply to a write once
// used memory is above maxmemory with a noeviction policy.
func isOutOfMemory(err error) bool {
	return strings.Contains(err.Error(), "OOM command not allowed")
}
