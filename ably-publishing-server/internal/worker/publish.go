package worker

import (
	"context"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/lib/backoff"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/trade"
)

// publish admits and publishes t until Ably accepts or rejects it, or ctx
// ends. Every attempt, retries included, takes its own limiter slot,
// because Ably may count a failed attempt. It returns true when the trade
// left the processing list.
func (w *Worker) publish(ctx context.Context, payload string, t trade.Trade) bool {
	retries, configFailures := 0, 0
	for {
		requestID, ok := w.admit(ctx, t.ID)
		if !ok {
			return false
		}
		err := w.publishOnce(ctx, t)
		if publish.GotResponse(err) {
			w.completeAdmission(ctx, t.ID, func(cctx context.Context) error {
				return w.limiter.Complete(cctx, requestID, 1)
			})
		}
		var delay time.Duration
		switch outcome := publish.Classify(err); outcome {
		case publish.Published:
			w.published.Add(1)
			w.metrics.Published.Inc()
			w.ablyRecovered(t.ID, retries+configFailures)
			return w.ack(ctx, payload, t.ID)

		case publish.Reject:
			reason := "rejected by Ably: " + publish.Message(err)
			return w.deadLetter(ctx, payload, t.ID, metrics.ReasonRejected, reason, publish.Code(err))

		case publish.ConfigError:
			w.health.SetAblyFailure("Ably rejected the key or the channel: " + publish.Message(err))
			w.metrics.Retry(publish.Code(err))
			delay = w.cfg.ConfigErrorRetry.Delay(configFailures)
			configFailures++
			if ok, suppressed := w.throttle.Allow("ably_config"); ok {
				w.logger.Error("key or channel rejected by Ably; publishing waits until they work, check ABLY_KEY and CHANNEL_NAME",
					"trade_id", t.ID, "ably_code", publish.Code(err), "error", err,
					"retry_in", delay, "suppressed", suppressed)
			}

		default:
			// publish.Retry, or publish.Canceled if ably-go canceled the
			// attempt itself. The trade is kept either way.
			w.publishRetries.Add(1)
			w.metrics.Retry(publish.Code(err))
			delay = w.cfg.PublishRetry.Delay(retries)
			retries++
			if ok, suppressed := w.throttle.Allow("publish_retry"); ok {
				w.logger.Warn("publish failed; retrying with the same message id",
					"trade_id", t.ID, "ably_code", publish.Code(err), "attempt", retries,
					"retry_in", delay, "error", err, "suppressed", suppressed)
			}
		}
		if err := backoff.Sleep(ctx, delay); err != nil {
			return false
		}
	}
}

// publishOnce runs one publish attempt of one message. The attempt is not
// canceled when shutdown starts, only bounded by PublishTimeout, so that a
// trade Ably accepts is also acknowledged.
func (w *Worker) publishOnce(ctx context.Context, t trade.Trade) error {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.PublishTimeout)
	defer cancel()
	started := time.Now()
	err := w.publisher.Publish(pctx, t)
	w.metrics.PublishDuration.Observe(time.Since(started).Seconds())
	w.metrics.PublishBatchSize.Observe(1)
	return err
}

// ablyRecovered clears a key or channel failure after a successful publish
// and logs the end of a retry series.
func (w *Worker) ablyRecovered(tradeID string, failures int) {
	if _, failed := w.health.AblyFailure(); failed {
		w.health.ClearAblyFailure()
		w.throttle.Reset("ably_config")
		w.logger.Info("publishing works again after Ably rejected the key or the channel", "trade_id", tradeID)
	}
	if failures > 0 {
		w.throttle.Reset("publish_retry")
		w.logger.Info("published after retries", "trade_id", tradeID, "failed_attempts", failures)
	}
}

// admit waits for one limiter slot, retrying Redis errors with a backoff.
// Every retry passes the same request id, so that a call whose reply was
// lost after the limiter admitted it takes no second slot. It returns the
// request id, or false when ctx ended first.
func (w *Worker) admit(ctx context.Context, tradeID string) (string, bool) {
	requestID := w.limiter.NewRequestID()
	started := time.Now()
	for attempt := 0; ; attempt++ {
		_, err := w.limiter.WaitRequest(ctx, requestID, 1)
		if err == nil {
			w.redisRecovered("limiter", attempt)
			w.metrics.LimiterWait.Observe(time.Since(started).Seconds())
			return requestID, true
		}
		if ctx.Err() != nil {
			return "", false
		}
		w.redisFailed(ctx, "limiter", err, attempt, "trade_id", tradeID)
	}
}

// completeAdmission records in the limiter that a publish Ably responded to
// has ended, so that its slots count from now instead of from the end of
// the hold. It makes one attempt, not canceled by shutdown. A failure
// only keeps the slots taken until the hold ends, so it is logged and not
// retried.
func (w *Worker) completeAdmission(ctx context.Context, tradeID string, complete func(context.Context) error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.PublishTimeout)
	defer cancel()
	if err := complete(cctx); err != nil {
		if ok, suppressed := w.throttle.Allow("redis_complete"); ok {
			w.logger.Warn("could not record the end of a publish in the limiter; its slots stay taken until the hold ends",
				"trade_id", tradeID, "error", err, "suppressed", suppressed)
		}
	}
}
