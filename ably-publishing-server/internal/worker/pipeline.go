package worker

import (
	"context"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/trade"
)

// maxAdmissionAge is how long a batch may wait between its admission and
// the start of its publish. The limiter holds an admission for the
// publish timeout plus one second (limiter.WithHold), so a publish that
// starts within this age and ends within the publish timeout always ends
// inside the hold. A batch that waited longer is admitted again.
const maxAdmissionAge = 500 * time.Millisecond

// inFlight is a batch whose publish runs in its own goroutine.
type inFlight struct {
	channel  string
	trades   []trade.Trade
	payloads []string
	// done receives the publish error, after the limiter recorded the end
	// of a publish that Ably responded to.
	done chan error
}

// runPipelined is runBatched for a single channel. While one batch is
// being published, it takes the next window from Redis, validates it and
// admits it, which saves its plan, so that the Redis round trips and the
// parsing overlap the publish. The next publish starts only after the
// current one was settled, so batches reach Ably in list order.
//
// Each batch is the head of the processing list, because every trade
// goes to the one channel: the batch in flight is the list's first
// entries, and the next window starts after them. A batch whose first
// trade has a plan, left by a crash, is published the same way as in
// runBatched, with nothing in flight.
func (w *Worker) runPipelined(ctx context.Context) error {
	// current is being published; accepted was accepted by Ably and is
	// acknowledged with the next window read.
	var current, accepted *inFlight
	// At shutdown a publish already sent finishes and is acknowledged.
	defer func() {
		w.ackAccepted(ctx, accepted)
		w.settle(ctx, current)
	}()
	checkHeld := true
	for attempt := 0; ctx.Err() == nil; {
		if w.recoverRequested() {
			checkHeld = true
		}
		if checkHeld {
			// countHeld counts every trade in the list as held, so the
			// batches published must leave the list first.
			accepted = w.ackAccepted(ctx, accepted)
			current = w.settle(ctx, current)
			if !w.countHeld(ctx) {
				return nil
			}
			checkHeld = false
		}
		offset := 0
		if current != nil {
			offset = len(current.payloads)
		}
		head, ok := w.ackAndReadWindow(ctx, &accepted, offset, &attempt)
		if !ok {
			continue
		}
		if len(head.Payloads) == 0 {
			if current != nil {
				current = w.settle(ctx, current)
				continue
			}
			// Both lists are empty: block until a trade arrives, as in
			// runBatched.
			_, _, _ = w.take(ctx)
			continue
		}
		next, ok := w.buildBatch(ctx, head)
		if !ok {
			continue
		}
		if head.Plan > 0 {
			current = w.settle(ctx, current)
			w.sendBatch(ctx, next.channel, next.trades, next.payloads, next.minimum)
			continue
		}
		current, accepted = w.advance(ctx, current, next)
	}
	return nil
}

// ackAndReadWindow is readWindow that first acknowledges *accepted, when
// it is not nil, in the same script call, and then sets it to nil. After
// a Redis error *accepted stays, so the next call acknowledges it again.
func (w *Worker) ackAndReadWindow(ctx context.Context, accepted **inFlight, offset int, attempt *int) (queue.Window, bool) {
	f := *accepted
	if f == nil {
		return w.readWindow(ctx, offset, attempt)
	}
	head, removed, err := w.cfg.Batching.Queue.AckAndWindowAt(ctx, f.payloads, offset, w.cfg.Batching.Size)
	if err != nil {
		if ctx.Err() == nil {
			w.redisFailed(ctx, "ack", err, *attempt, "trade_id", f.trades[0].ID)
			*attempt++
		}
		return queue.Window{}, false
	}
	*accepted = nil
	w.warnMissing(f.trades[0].ID, f.payloads, removed)
	w.forgetRecoveries(ctx, f.payloads)
	w.redisRecovered("ack", *attempt)
	*attempt = 0
	w.metrics.Taken.Add(float64(head.Moved))
	return head, true
}

// ackAccepted acknowledges f, a batch that Ably accepted, on its own. It
// returns nil and does nothing for a nil f.
func (w *Worker) ackAccepted(ctx context.Context, f *inFlight) *inFlight {
	if f != nil {
		w.ackMany(ctx, f.trades[0].ID, f.payloads)
	}
	return nil
}

// advance admits next, which saves its plan, waits for the publish of
// current, starts next's publish and returns it.
//
// When Ably accepted current, next's publish starts at once, and advance
// also returns current as accepted, so that the caller acknowledges it
// with its next window read. Any other outcome of current is settled
// before next's publish. When the admission waited too long for current,
// next is sent again from its admission, without overlap, and advance
// returns nil.
func (w *Worker) advance(ctx context.Context, current *inFlight, next builtBatch) (started, accepted *inFlight) {
	requestID, admitted, ok := w.admitChannel(ctx, next.channel, next.payloads, next.minimum)
	if !ok {
		return current, nil
	}
	admittedAt := time.Now()
	next.trades, next.payloads = next.trades[:admitted], next.payloads[:admitted]

	var err error
	if current != nil {
		err = <-current.done
	}
	fresh := time.Since(admittedAt) <= maxAdmissionAge
	if current != nil && publish.Classify(err) == publish.Published && fresh && ctx.Err() == nil {
		return w.startPublish(ctx, next, requestID), current
	}

	if current != nil {
		w.settleBatch(ctx, current.channel, current.trades, current.payloads, len(current.trades),
			&publishAttempt{err: err, counted: true})
	}
	if ctx.Err() != nil {
		// The planned trades stay in the processing list, and the next
		// publish of them, by any replica, follows the plan.
		return nil, nil
	}
	if !fresh || time.Since(admittedAt) > maxAdmissionAge {
		// The admission may leave the limiter's window before this publish
		// ends. It keeps its slots until its hold ends, and the batch gets
		// a new one.
		w.sendBatch(ctx, next.channel, next.trades, next.payloads, admitted)
		return nil, nil
	}
	return w.startPublish(ctx, next, requestID), nil
}

// startPublish publishes next in a new goroutine. When Ably responds, the
// goroutine records the end of the publish in the limiter at once, so
// that a caller waiting for a slot does not wait for settle.
func (w *Worker) startPublish(ctx context.Context, next builtBatch, requestID string) *inFlight {
	f := &inFlight{channel: next.channel, trades: next.trades, payloads: next.payloads, done: make(chan error, 1)}
	base := next.trades[0].ID
	go func() {
		err := w.publishBatchOnce(ctx, f.channel, base, f.trades, f.payloads)
		if publish.GotResponse(err) {
			w.completeAdmission(ctx, base, func(cctx context.Context) error {
				return w.cfg.Batching.Limiter.Complete(cctx, requestID, f.channel)
			})
		}
		// Counted here, so that the metrics show the publish at once and
		// not when the loop next looks at it.
		if publish.Classify(err) == publish.Published {
			w.countPublished(base, len(f.trades), 0)
		}
		f.done <- err
	}()
	return f
}

// settle waits for the publish of f and finishes the batch as sendBatch
// does: an ack when Ably accepted it, else the retries, the dead-letter
// list or the key error wait. It returns nil, the batch in flight after
// it, and does nothing for a nil f.
func (w *Worker) settle(ctx context.Context, f *inFlight) *inFlight {
	if f == nil {
		return nil
	}
	err := <-f.done
	w.settleBatch(ctx, f.channel, f.trades, f.payloads, len(f.trades), &publishAttempt{err: err, counted: true})
	return nil
}
