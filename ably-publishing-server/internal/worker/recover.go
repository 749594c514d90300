package worker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ably-fanout/lib/metrics"
)

// handleRecovered finishes a trade found in the processing list. It counts
// the take-over first, and moves the trade to the dead-letter list instead
// of handling it once the count passes MaxRecoveries. It returns true when
// the trade left the list.
func (w *Worker) handleRecovered(ctx context.Context, payload string) bool {
	// Counted before anything reads the payload, so that a payload that
	// crashes the process is counted too.
	count, ok := w.countRecovery(ctx, payload)
	if !ok {
		return false
	}
	tradeID := peekTradeID(payload, w.cfg.MaxPayloadBytes)
	w.logger.Info("publishing a trade left in the processing list", "trade_id", tradeID,
		"bytes", len(payload), "recoveries", count)

	var done bool
	if count > int64(w.cfg.MaxRecoveries) {
		reason := fmt.Sprintf("taken over %d times after the replica handling it stopped, more than the %d that MAX_RECOVERIES allows",
			count, w.cfg.MaxRecoveries)
		done = w.deadLetter(ctx, payload, tradeID, metrics.ReasonRecoveryLimit, reason, 0)
	} else {
		done = w.handle(ctx, payload)
	}
	if done {
		w.forgetRecovery(ctx, payload, tradeID)
	}
	return done
}

// countRecovery adds one to the trade's recovery count, retrying Redis
// errors until ctx ends. It returns false when ctx ended first.
func (w *Worker) countRecovery(ctx context.Context, payload string) (int64, bool) {
	for attempt := 0; ; attempt++ {
		count, err := w.queue.CountRecovery(ctx, payload)
		if err == nil {
			w.redisRecovered("count_recovery", attempt)
			return count, true
		}
		if ctx.Err() != nil {
			return 0, false
		}
		w.redisFailed(ctx, "count_recovery", err, attempt)
	}
}

// forgetRecovery deletes the recovery count of a finished trade. A failure
// only leaves the count until it expires, so it is logged and not retried.
func (w *Worker) forgetRecovery(ctx context.Context, payload, tradeID string) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.PublishTimeout)
	defer cancel()
	if err := w.queue.ForgetRecovery(fctx, payload); err != nil {
		if ok, suppressed := w.throttle.Allow("redis_forget_recovery"); ok {
			w.logger.Warn("deleting a recovery count failed; it expires by itself", "trade_id", tradeID,
				"error", err, "suppressed", suppressed)
		}
	}
}

// peekTradeID returns the "id" field of payload for log lines, or "" when
// the payload is too large or not a JSON object with a string id.
func peekTradeID(payload string, maxBytes int) string {
	if len(payload) > maxBytes {
		return ""
	}
	var fields struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(payload), &fields); err != nil {
		return ""
	}
	return fields.ID
}
