package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/backoff"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/trade"
)

// Batching turns on batched publishing: Run then takes up to Size trades
// from Redis in one round trip, admits them in one limiter call and
// publishes those of one channel in one Ably request.
//
// Message ids. Ably requires the messages of one multi-message publish to
// carry ids of the form <base>:<index> with a shared base and the indexes
// 0 to n-1, so a trade's id depends on the batch it is published in. The
// worker makes that batch the same every time the trade is published:
//
//   - A batch starts with the first trade of the processing list, its id
//     is the base, and it continues with the later trades among the first
//     Size entries that go to the same channel, in list order. The list
//     only loses entries by an ack or a dead-letter move and only gains
//     entries at its tail, also when another replica takes it over.
//   - A new batch ends before any later entry that starts a planned batch
//     (queue.Window.NextPlan), such as one appended by a take-over.
//   - Before a publish, the number of trades in it is saved as the batch's
//     plan, keyed by the first payload, by the limiter script that admits
//     them (Queue.PlanRef), and the ack deletes the plan in the same script
//     that removes the trades.
//   - A batch whose first trade has a plan was published and maybe
//     accepted before, by this or another replica. It is published again
//     with exactly the plan's trades, because the limiter admits all of
//     them at once or none (its minimum). They get the same ids as before,
//     and Ably drops them as duplicates within its idempotency window (the
//     emulator's EMULATOR_IDEMPOTENCY_WINDOW, 2 minutes by default).
//
// A trade published in a batch is therefore never published in another
// batch with another id, unless the limit was lowered below the plan's
// size or BATCH_SIZE was lowered so that the plan's trades no longer fit
// in the first Size entries (both between a crash and the republish), or
// Ably rejected the batch and its trades are being published one at a time
// (see sendBatch). The sequence number of each symbol lets subscribers
// drop a trade repeated in those cases.
type Batching struct {
	// Size is the maximum number of trades taken and published together,
	// BATCH_SIZE. Required, at least 1.
	Size int
	// MaxBytes bounds the total message size of one publish. Default
	// publish.MaxPublishBytes.
	MaxBytes int
	// Route returns the channel of a trade. Required.
	Route func(trade.Trade) string
	// Pipelined overlaps the Redis work and parsing of the next batch with
	// the publish of the current one (see runPipelined). Set it only when
	// Route returns one channel for every trade.
	Pipelined bool
	// Queue, Limiter and Publisher are the batched counterparts of the
	// worker's queue, limiter and publisher. Required.
	Queue     BatchQueue
	Limiter   ChannelLimiter
	Publisher BatchPublisher
}

// BatchQueue is the part of *queue.Queue that batched publishing uses.
type BatchQueue interface {
	Window(ctx context.Context, size int) (queue.Window, error)
	WindowAt(ctx context.Context, offset, size int) (queue.Window, error)
	AckAndWindowAt(ctx context.Context, acked []string, offset, size int) (queue.Window, int, error)
	PlanRef(first string) (key, field string)
	AckMany(ctx context.Context, payloads []string) (int, error)
	Held(ctx context.Context) ([]string, error)
}

// ChannelLimiter grants publish slots for one channel, under the
// channel's own limit and any account-wide limit; limiter.Channels
// implements it.
type ChannelLimiter interface {
	NewRequestID() string
	Wait(ctx context.Context, channel string, req limiter.Request) (int, error)
	Complete(ctx context.Context, requestID, channel string) error
}

// BatchPublisher sends trades to a channel in one request;
// *publish.BatchPublisher implements it.
type BatchPublisher interface {
	PublishBatch(ctx context.Context, channel, base string, trades []trade.Trade, payloads []string) error
}

// runBatched is Run with Batching set. The shutdown order is Run's: a
// blocked take is not canceled, a limiter wait or retry delay stops at
// once, and a publish already sent finishes and is acknowledged.
func (w *Worker) runBatched(ctx context.Context) error {
	b := w.cfg.Batching
	if b.Pipelined {
		return w.runPipelined(ctx)
	}
	checkHeld := true
	for attempt := 0; ctx.Err() == nil; {
		if w.recoverRequested() {
			checkHeld = true
		}
		if checkHeld {
			if !w.countHeld(ctx) {
				return nil
			}
			checkHeld = false
		}
		head, ok := w.readWindow(ctx, 0, &attempt)
		if !ok {
			continue
		}
		if len(head.Payloads) == 0 {
			// Both lists are empty: block until a trade arrives. The trade
			// moves into the processing list, and the next window returns
			// it with any that arrived meanwhile, so a quiet stream is
			// published at once.
			_, _, _ = w.take(ctx)
			continue
		}
		w.handleWindow(ctx, head)
	}
	return nil
}

// recoverRequested reports, without waiting, whether NotifyRecovered was
// called since the last report: trades were added to the processing list
// that the worker must count as held.
func (w *Worker) recoverRequested() bool {
	select {
	case <-w.recoverSignal:
		return true
	default:
		return false
	}
}

// readWindow reads the window after the first offset entries of the
// processing list and counts the trades it moved. After a Redis error it
// logs, backs off for the attempt'th time and returns false; the caller
// tries again unless ctx ended.
func (w *Worker) readWindow(ctx context.Context, offset int, attempt *int) (queue.Window, bool) {
	head, err := w.cfg.Batching.Queue.WindowAt(ctx, offset, w.cfg.Batching.Size)
	if err != nil {
		if ctx.Err() == nil {
			w.redisFailed(ctx, "window", err, *attempt)
			*attempt++
		}
		return queue.Window{}, false
	}
	w.redisRecovered("window", *attempt)
	*attempt = 0
	w.metrics.Taken.Add(float64(head.Moved))
	return head, true
}

// countHeld counts a recovery for every trade in the processing list
// before the worker publishes them: those an earlier run left and those
// taken over from stopped replicas. A trade taken over more than
// MaxRecoveries times goes to the dead-letter list. It returns false when
// ctx ended.
func (w *Worker) countHeld(ctx context.Context) bool {
	var held []string
	for attempt := 0; ; attempt++ {
		var err error
		if held, err = w.cfg.Batching.Queue.Held(ctx); err == nil {
			w.redisRecovered("read_pending", attempt)
			break
		}
		if ctx.Err() != nil {
			return false
		}
		w.redisFailed(ctx, "read_pending", err, attempt)
	}
	if len(held) > 0 {
		w.logger.Info("publishing trades left in the processing list", "trades", len(held))
	}
	for _, payload := range held {
		count, ok := w.countRecovery(ctx, payload)
		if !ok {
			return false
		}
		w.recovered.Add(1)
		w.metrics.Recovered.Inc()
		if count <= int64(w.cfg.MaxRecoveries) {
			w.recovering[payload] = true
			continue
		}
		tradeID := peekTradeID(payload, w.cfg.MaxPayloadBytes)
		reason := fmt.Sprintf("taken over %d times after the replica handling it stopped, more than the %d that MAX_RECOVERIES allows",
			count, w.cfg.MaxRecoveries)
		if !w.deadLetter(ctx, payload, tradeID, metrics.ReasonRecoveryLimit, reason, 0) {
			return false
		}
		w.forgetRecovery(ctx, payload, tradeID)
	}
	return true
}

// handleWindow publishes one batch from the head of the processing list,
// or moves the first invalid trade to the dead-letter list.
func (w *Worker) handleWindow(ctx context.Context, head queue.Window) {
	if next, ok := w.buildBatch(ctx, head); ok {
		w.sendBatch(ctx, next.channel, next.trades, next.payloads, next.minimum)
	}
}

// builtBatch is a batch formed from a window, before its admission.
type builtBatch struct {
	channel  string
	trades   []trade.Trade
	payloads []string
	// minimum is how many the limiter must admit at once: the plan's size
	// for a batch published before, else 1.
	minimum int
}

// buildBatch forms the batch that starts with the window's first trade.
// When a trade of the window is invalid, it moves the first one to the
// dead-letter list instead and returns false.
func (w *Worker) buildBatch(ctx context.Context, head queue.Window) (builtBatch, bool) {
	b := w.cfg.Batching
	window := head.Payloads
	trades := make([]trade.Trade, len(window))
	for i, payload := range window {
		t, class, reason := w.validate(payload)
		if reason != "" {
			if w.deadLetter(ctx, payload, "", class, reason, 0) {
				w.forgetRecoveries(ctx, []string{payload})
			}
			return builtBatch{}, false
		}
		trades[i] = t
	}
	channel := b.Route(trades[0])
	batch := make([]trade.Trade, 0, len(trades))
	payloads := make([]string, 0, len(trades))
	for i, t := range trades {
		if head.Plan == 0 && head.NextPlan > 0 && i >= head.NextPlan {
			// A batch planned before starts here and must be published
			// alone, with its plan's ids.
			break
		}
		if b.Route(t) == channel {
			batch = append(batch, t)
			payloads = append(payloads, window[i])
		}
	}
	if head.Plan > 0 {
		n := min(head.Plan, len(batch))
		return builtBatch{channel: channel, trades: batch[:n], payloads: payloads[:n], minimum: n}, true
	}
	n := publish.FitPrefix(payloads, b.MaxBytes)
	return builtBatch{channel: channel, trades: batch[:n], payloads: payloads[:n], minimum: 1}, true
}

// validate returns the trade in payload, or the reason class and the
// reason it goes to the dead-letter list, as handle does.
func (w *Worker) validate(payload string) (t trade.Trade, class, reason string) {
	if len(payload) > w.cfg.MaxPayloadBytes {
		return trade.Trade{}, metrics.ReasonTooLarge,
			fmt.Sprintf("payload of %d bytes is larger than the %d-byte maximum", len(payload), w.cfg.MaxPayloadBytes)
	}
	t, err := trade.Parse([]byte(payload))
	if err != nil {
		return trade.Trade{}, metrics.ReasonMalformed, "invalid trade: " + err.Error()
	}
	return t, "", ""
}

// sendBatch admits at least minimum trades of batch, saves the plan,
// publishes them and acknowledges what Ably accepted, retrying as publish
// does for one trade. A retry publishes the planned trades again, all of
// them. It returns false when ctx ended first; the trades then stay in the
// processing list.
func (w *Worker) sendBatch(ctx context.Context, channel string, batch []trade.Trade, payloads []string, minimum int) bool {
	return w.settleBatch(ctx, channel, batch, payloads, minimum, nil)
}

// publishAttempt is the result of a publish that the pipelined loop made
// before settleBatch took over the batch. Its admission was recorded as
// complete already when Ably responded.
type publishAttempt struct {
	err error
	// counted is true when the trades were already counted as published.
	counted bool
}

// settleBatch is sendBatch for a batch whose first attempt, when first is
// not nil, was already admitted, planned and published.
func (w *Worker) settleBatch(ctx context.Context, channel string, batch []trade.Trade, payloads []string, minimum int, first *publishAttempt) bool {
	b := w.cfg.Batching
	base := batch[0].ID
	retries, configFailures := 0, 0
	for {
		var err error
		counted := false
		if first != nil {
			err, counted, first = first.err, first.counted, nil
		} else {
			requestID, admitted, ok := w.admitChannel(ctx, channel, payloads, minimum)
			if !ok {
				return false
			}
			batch, payloads = batch[:admitted], payloads[:admitted]
			minimum = admitted
			err = w.publishBatchOnce(ctx, channel, base, batch, payloads)
			if publish.GotResponse(err) {
				w.completeAdmission(ctx, base, func(cctx context.Context) error {
					return b.Limiter.Complete(cctx, requestID, channel)
				})
			}
		}
		admitted := len(batch)
		var delay time.Duration
		switch outcome := publish.Classify(err); outcome {
		case publish.Published:
			if !counted {
				w.countPublished(base, admitted, retries+configFailures)
			}
			return w.ackMany(ctx, base, payloads)

		case publish.Reject:
			if admitted == 1 {
				reason := "rejected by Ably: " + publish.Message(err)
				done := w.deadLetter(ctx, payloads[0], base, metrics.ReasonRejected, reason, publish.Code(err))
				if done {
					w.forgetRecoveries(ctx, payloads)
				}
				return done
			}
			// Ably rejects a publish whole, so none of these trades was
			// accepted. Publishing them one at a time finds the one Ably
			// rejects and publishes the others.
			for i := range admitted {
				if !w.sendBatch(ctx, channel, batch[i:i+1], payloads[i:i+1], 1) {
					return false
				}
			}
			return true

		case publish.ConfigError:
			w.health.SetAblyFailure("Ably rejected the key or the channel: " + publish.Message(err))
			w.metrics.Retry(publish.Code(err))
			delay = w.cfg.ConfigErrorRetry.Delay(configFailures)
			configFailures++
			if ok, suppressed := w.throttle.Allow("ably_config"); ok {
				w.logger.Error("key or channel rejected by Ably; publishing waits until they work, check ABLY_KEY and CHANNEL_NAME",
					"trade_id", base, "channel", channel, "ably_code", publish.Code(err), "error", err,
					"retry_in", delay, "suppressed", suppressed)
			}

		default:
			w.publishRetries.Add(1)
			w.metrics.Retry(publish.Code(err))
			delay = w.cfg.PublishRetry.Delay(retries)
			retries++
			if ok, suppressed := w.throttle.Allow("publish_retry"); ok {
				w.logger.Warn("batch publish failed; retrying with the same message ids",
					"trade_id", base, "channel", channel, "trades", admitted, "ably_code", publish.Code(err),
					"attempt", retries, "retry_in", delay, "error", err, "suppressed", suppressed)
			}
		}
		if err := backoff.Sleep(ctx, delay); err != nil {
			return false
		}
	}
}

// publishBatchOnce makes one publish attempt. Like publishOnce it is not
// canceled by shutdown, only bounded by PublishTimeout.
func (w *Worker) publishBatchOnce(ctx context.Context, channel, base string, trades []trade.Trade, payloads []string) error {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.PublishTimeout)
	defer cancel()
	started := time.Now()
	err := w.cfg.Batching.Publisher.PublishBatch(pctx, channel, base, trades, payloads)
	w.metrics.PublishDuration.Observe(time.Since(started).Seconds())
	w.metrics.PublishBatchSize.Observe(float64(len(trades)))
	return err
}

// admitChannel waits for at least minimum and up to len(payloads) slots
// of channel, and saves the admitted count as the plan of the batch that
// starts with payloads[0] in the same script call, before the publish. It
// retries Redis errors under one request id so that a lost reply never
// admits twice. It returns the request id and the admitted count, or false
// when ctx ended first.
func (w *Worker) admitChannel(ctx context.Context, channel string, payloads []string, minimum int) (string, int, bool) {
	b := w.cfg.Batching
	planKey, planField := b.Queue.PlanRef(payloads[0])
	req := limiter.Request{ID: b.Limiter.NewRequestID(), N: len(payloads), Minimum: minimum,
		RecordKey: planKey, RecordField: planField}
	started := time.Now()
	for attempt := 0; ; attempt++ {
		admitted, err := b.Limiter.Wait(ctx, channel, req)
		if err == nil {
			w.redisRecovered("limiter", attempt)
			w.metrics.LimiterWait.Observe(time.Since(started).Seconds())
			return req.ID, admitted, true
		}
		if ctx.Err() != nil {
			return "", 0, false
		}
		w.redisFailed(ctx, "limiter", err, attempt)
	}
}

// countPublished counts a batch of n trades that Ably accepted after
// failures failed attempts.
func (w *Worker) countPublished(base string, n, failures int) {
	w.published.Add(int64(n))
	w.metrics.Published.Add(float64(n))
	w.ablyRecovered(base, failures)
}

// ackMany removes published trades from the processing list.
func (w *Worker) ackMany(ctx context.Context, base string, payloads []string) bool {
	done := w.finish(ctx, "ack", base, func(fctx context.Context) error {
		removed, err := w.cfg.Batching.Queue.AckMany(fctx, payloads)
		if err == nil {
			w.warnMissing(base, payloads, removed)
		}
		return err
	})
	if done {
		w.forgetRecoveries(ctx, payloads)
	}
	return done
}

// warnMissing logs when an ack found fewer of payloads than it removed.
func (w *Worker) warnMissing(base string, payloads []string, removed int) {
	if removed < len(payloads) {
		w.logger.Warn("published trades were no longer in the processing list", "trade_id", base,
			"missing", len(payloads)-removed)
	}
}

// forgetRecoveries deletes the recovery counts of those payloads that
// were in the processing list when the worker started or took trades over.
func (w *Worker) forgetRecoveries(ctx context.Context, payloads []string) {
	for _, payload := range payloads {
		if w.recovering[payload] {
			delete(w.recovering, payload)
			w.forgetRecovery(ctx, payload, peekTradeID(payload, w.cfg.MaxPayloadBytes))
		}
	}
}
