package worker

import (
	"context"
	"time"

	"github.com/ably-fanout/lib/backoff"
	"github.com/ably-fanout/lib/trade"
)

// ack removes a published trade from the processing list, retrying Redis
// errors until ctx ends. It returns false only when ctx ended first. The
// trade then stays in the list and is published again at the next start
// with the same message id, so Ably drops the repeat if it comes within
// the idempotency window.
func (w *Worker) ack(ctx context.Context, payload, tradeID string) bool {
	return w.finish(ctx, "ack", tradeID, func(fctx context.Context) error {
		removed, err := w.queue.Ack(fctx, payload)
		if err == nil && !removed {
			w.logger.Warn("published trade was no longer in the processing list", "trade_id", tradeID)
		}
		return err
	})
}

// deadLetter moves a trade that cannot be published as it is to the
// dead-letter list, with the reason and the Ably error code (0 when Ably
// was not involved), and counts it under class, one of the metrics.Reason
// constants. tradeID is empty when the payload did not parse.
func (w *Worker) deadLetter(ctx context.Context, payload, tradeID, class, reason string, code int) bool {
	return w.finish(ctx, "dead_letter", tradeID, func(fctx context.Context) error {
		moved, err := w.queue.DeadLetter(fctx, payload, reason, code, time.Now())
		if err != nil {
			return err
		}
		if !moved {
			w.logger.Warn("trade to dead-letter was no longer in the processing list", "trade_id", tradeID)
			return nil
		}
		total := w.deadLettered.Add(1)
		w.metrics.DeadLetter(class)
		if tradeID == "" {
			tradeID = trade.PeekID([]byte(payload))
		}
		// One line per reason class and interval, so a flood of one kind
		// of bad input does not hide the other kinds.
		if ok, suppressed := w.throttle.Allow("dead_letter:" + class); ok {
			w.logger.Warn("moved trade to the dead-letter list", "trade_id", tradeID, "reason", reason,
				"ably_code", code, "bytes", len(payload), "dead_lettered_total", total, "suppressed", suppressed)
		}
		return nil
	})
}

// finish runs a final Redis write for a trade. Each attempt gets its own
// timeout and is not canceled when shutdown starts. A failed attempt is
// retried with a backoff until one succeeds or ctx ends.
func (w *Worker) finish(ctx context.Context, op, tradeID string, write func(context.Context) error) bool {
	for attempt := 0; ; attempt++ {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.PublishTimeout)
		err := write(fctx)
		cancel()
		if err == nil {
			w.redisRecovered(op, attempt)
			return true
		}
		if ctx.Err() != nil {
			w.logger.Warn("shutdown before the trade left the processing list; it is handled again at the next start",
				"operation", op, "trade_id", tradeID, "error", err)
			return false
		}
		w.redisFailed(ctx, op, err, attempt, "trade_id", tradeID)
	}
}

// redisFailed logs a failed Redis call with ids, key-value pairs such as
// "trade_id", id, rate-limited per operation. Then it sleeps the backoff
// delay for attempt, or until ctx ends.
func (w *Worker) redisFailed(ctx context.Context, op string, err error, attempt int, ids ...any) {
	delay := w.cfg.RedisRetry.Delay(attempt)
	if ok, suppressed := w.throttle.Allow("redis_" + op); ok {
		attrs := append([]any{"operation", op, "error", err,
			"attempt", attempt + 1, "retry_in", delay, "suppressed", suppressed}, ids...)
		w.logger.Error("redis call failed; retrying", attrs...)
	}
	_ = backoff.Sleep(ctx, delay)
}

// redisRecovered logs that a Redis operation works again after attempt
// failures, and lets its next failure be logged at once.
func (w *Worker) redisRecovered(op string, attempt int) {
	if attempt == 0 {
		return
	}
	w.throttle.Reset("redis_" + op)
	w.logger.Info("redis call succeeded again", "operation", op, "failed_attempts", attempt)
}
