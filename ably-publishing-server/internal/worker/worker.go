// Package worker runs the publisher's loop. It takes a trade from the Redis
// queue, validates it, waits for the global limiter, publishes it to Ably
// and acknowledges it. A trade that cannot be published as it is goes to
// the dead-letter list instead.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/health"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/backoff"
	"github.com/ably-fanout/lib/logging"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/trade"
)

// Queue is the reliable queue the worker takes trades from;
// *queue.Queue implements it.
type Queue interface {
	Take(ctx context.Context, timeout time.Duration) (payload string, ok bool, err error)
	Pending(ctx context.Context) (payload string, ok bool, err error)
	Ack(ctx context.Context, payload string) (bool, error)
	DeadLetter(ctx context.Context, payload, reason string, code int, at time.Time) (bool, error)
	CountRecovery(ctx context.Context, payload string) (int64, error)
	ForgetRecovery(ctx context.Context, payload string) error
}

// Limiter grants publish slots; *limiter.Limiter implements it.
type Limiter interface {
	NewRequestID() string
	WaitRequest(ctx context.Context, requestID string, n int) (int, error)
	Complete(ctx context.Context, requestID string, admitted int) error
}

// Publisher sends one trade to Ably; *publish.Publisher implements it.
type Publisher interface {
	Publish(ctx context.Context, t trade.Trade) error
}

var _ Queue = (*queue.Queue)(nil)

// Config tunes the worker. Zero fields take the defaults below.
type Config struct {
	// TakeTimeout is how long one BLMOVE blocks on an empty queue. It bounds
	// how long shutdown waits for a blocked take. go-redis sends whole
	// seconds, so it is at least 1s. Default 1s.
	TakeTimeout time.Duration
	// MaxPayloadBytes is the largest payload accepted; larger ones go to the
	// dead-letter list unparsed. Default 65536, Ably's default maximum
	// message size.
	MaxPayloadBytes int
	// PublishTimeout bounds one publish attempt and one final Redis write.
	// These run to completion after shutdown starts, so that a trade Ably
	// may have accepted is acknowledged. Default 10s.
	PublishTimeout time.Duration
	// PublishRetry spaces the retries of a transient publish failure
	// (429, 5xx, timeout). Default 100ms doubling to 10s, with jitter.
	PublishRetry backoff.Policy
	// ConfigErrorRetry spaces the retries after Ably rejected the key or the
	// channel. Default 5s doubling to 1m, with jitter.
	ConfigErrorRetry backoff.Policy
	// RedisRetry spaces the retries of a failed Redis call. Default 100ms
	// doubling to 5s, with jitter.
	RedisRetry backoff.Policy
	// LogInterval is the minimum time between two log lines of one kind of
	// repeated failure. Default 10s.
	LogInterval time.Duration
	// MaxRecoveries is how many times a trade may be taken over from a
	// processing list after the replica handling it stopped. The next
	// take-over moves it to the dead-letter list instead, so that a trade
	// that crashes every replica does not stop them one after another
	// forever. Default 5.
	MaxRecoveries int
	// Batching turns on batched publishing; see Batching. Default nil: one
	// trade per publish, with the trade id as the message id.
	Batching *Batching
}

func (c Config) withDefaults() Config {
	if c.TakeTimeout < time.Second {
		c.TakeTimeout = time.Second
	}
	if c.MaxPayloadBytes <= 0 {
		c.MaxPayloadBytes = 64 * 1024
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = 10 * time.Second
	}
	if c.PublishRetry == (backoff.Policy{}) {
		c.PublishRetry = backoff.Policy{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	}
	if c.ConfigErrorRetry == (backoff.Policy{}) {
		c.ConfigErrorRetry = backoff.Policy{Min: 5 * time.Second, Max: time.Minute}
	}
	if c.RedisRetry == (backoff.Policy{}) {
		c.RedisRetry = backoff.Policy{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	}
	if c.LogInterval <= 0 {
		c.LogInterval = 10 * time.Second
	}
	if c.MaxRecoveries <= 0 {
		c.MaxRecoveries = 5
	}
	if c.Batching != nil && c.Batching.MaxBytes <= 0 {
		batching := *c.Batching
		batching.MaxBytes = publish.MaxPublishBytes
		c.Batching = &batching
	}
	return c
}

// Stats are the worker's counters since it started.
type Stats struct {
	// Published counts trades Ably accepted.
	Published int64 `json:"published"`
	// DeadLettered counts trades moved to the dead-letter list.
	DeadLettered int64 `json:"dead_lettered"`
	// PublishRetries counts publish attempts that failed and were retried.
	PublishRetries int64 `json:"publish_retries"`
	// Recovered counts trades handled from the processing list rather than
	// right after their take: those an earlier run of this replica left,
	// those taken over from stopped replicas, and those whose take reply
	// was lost.
	Recovered int64 `json:"recovered"`
}

// Worker publishes trades one at a time. Run it from one goroutine.
type Worker struct {
	cfg       Config
	queue     Queue
	limiter   Limiter
	publisher Publisher
	health    *health.State
	metrics   *metrics.Publisher
	logger    *slog.Logger
	throttle  *logging.Throttle
	// recoverSignal has a value when trades were added to the processing
	// list from outside the worker's loop.
	recoverSignal chan struct{}
	// recovering contains the payloads whose recovery count the batched
	// loop deletes once they leave the processing list.
	recovering map[string]bool

	published, deadLettered, publishRetries, recovered atomic.Int64
}

// New returns a Worker. state receives the Ably key and channel status for
// /readyz, and m counts the trades taken, published, dead-lettered,
// retried and recovered, the limiter waits and the publish requests.
func New(cfg Config, q Queue, lim Limiter, pub Publisher, state *health.State, m *metrics.Publisher, logger *slog.Logger) *Worker {
	cfg = cfg.withDefaults()
	return &Worker{
		cfg:           cfg,
		queue:         q,
		limiter:       lim,
		publisher:     pub,
		health:        state,
		metrics:       m,
		logger:        logger,
		throttle:      logging.NewThrottle(cfg.LogInterval),
		recoverSignal: make(chan struct{}, 1),
		recovering:    map[string]bool{},
	}
}

// NotifyRecovered signals to the worker that trades were moved into its
// processing list, such as those taken over from a stopped replica. The
// worker publishes them after the trade it is handling. It never blocks.
func (w *Worker) NotifyRecovered() {
	select {
	case w.recoverSignal <- struct{}{}:
	default:
	}
}

// Stats returns the current counters.
func (w *Worker) Stats() Stats {
	return Stats{
		Published:      w.published.Load(),
		DeadLettered:   w.deadLettered.Load(),
		PublishRetries: w.publishRetries.Load(),
		Recovered:      w.recovered.Load(),
	}
}

// Run publishes the trades that an earlier run of this replica left in the
// processing list, then takes new trades until ctx ends. After
// NotifyRecovered it publishes the trades in the processing list before
// taking the next one. It returns nil after ctx ends. A trade being handled
// at that moment is either finished or left in the processing list, never
// dropped.
//
// Shutdown order, once ctx ends:
//
//  1. No new trade is taken. A blocked BLMOVE is not canceled, because a
//     canceled call could drop the reply for a trade that Redis already
//     moved. It returns within TakeTimeout, and a trade it took stays in
//     the processing list.
//  2. A wait for the limiter or for a retry delay stops at once, and the
//     trade stays in the processing list.
//  3. A publish already sent runs to completion, bounded by
//     PublishTimeout, and then its ack or dead-letter move is written.
//  4. Run returns.
func (w *Worker) Run(ctx context.Context) error {
	w.logger.Info("worker started")
	defer func() {
		s := w.Stats()
		w.logger.Info("worker stopped", "published", s.Published, "dead_lettered", s.DeadLettered,
			"publish_retries", s.PublishRetries, "recovered", s.Recovered)
	}()
	if w.cfg.Batching != nil {
		return w.runBatched(ctx)
	}
	if err := w.recoverPending(ctx); err != nil {
		return nil
	}
	for ctx.Err() == nil {
		select {
		case <-w.recoverSignal:
			if err := w.recoverPending(ctx); err != nil {
				return nil
			}
			continue
		default:
		}
		payload, ok, err := w.take(ctx)
		if err != nil || !ok {
			continue
		}
		w.handle(ctx, payload)
	}
	return nil
}

// recoverPending publishes every trade in this replica's processing list:
// those an earlier run left, and those taken over from stopped replicas.
// The worker handles one trade at a time, so when this runs the list contains
// no trade of the current run. It returns an error only when ctx ended.
func (w *Worker) recoverPending(ctx context.Context) error {
	for attempt := 0; ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		payload, ok, err := w.queue.Pending(ctx)
		if err != nil {
			w.redisFailed(ctx, "read_pending", err, attempt)
			attempt++
			continue
		}
		w.redisRecovered("read_pending", attempt)
		attempt = 0
		if !ok {
			return nil
		}
		w.recovered.Add(1)
		w.metrics.Recovered.Inc()
		if !w.handleRecovered(ctx, payload) {
			return ctx.Err()
		}
	}
}

// take returns the next trade, retrying Redis errors with a backoff.
func (w *Worker) take(ctx context.Context) (string, bool, error) {
	for attempt := 0; ; attempt++ {
		// Not canceled at shutdown: see Run.
		payload, ok, err := w.queue.Take(context.WithoutCancel(ctx), w.cfg.TakeTimeout)
		if err == nil {
			w.redisRecovered("take", attempt)
			if ok {
				w.metrics.Taken.Inc()
			}
			return payload, ok, nil
		}
		// Redis may have moved a trade and lost the reply, as when it
		// stops right after writing. Such a trade sits in the processing
		// list, so the worker publishes what the list contains before its
		// next take.
		w.NotifyRecovered()
		if ctx.Err() != nil {
			return "", false, ctx.Err()
		}
		w.redisFailed(ctx, "take", err, attempt)
	}
}

// handle finishes one trade that is in the processing list. It returns
// true when the trade left the list (acknowledged or dead-lettered), and
// false when ctx ended first and the trade stays.
func (w *Worker) handle(ctx context.Context, payload string) (done bool) {
	defer func() {
		// A payload that makes the code panic would otherwise crash the
		// process at every restart, because recovery handles it first.
		if r := recover(); r != nil {
			w.logger.Error("panic while handling a trade; moving it to the dead-letter list",
				"error", fmt.Sprint(r), "bytes", len(payload))
			done = w.deadLetter(ctx, payload, "", metrics.ReasonInternal, fmt.Sprintf("internal error: %v", r), 0)
		}
	}()

	if len(payload) > w.cfg.MaxPayloadBytes {
		reason := fmt.Sprintf("payload of %d bytes is larger than the %d-byte maximum", len(payload), w.cfg.MaxPayloadBytes)
		return w.deadLetter(ctx, payload, "", metrics.ReasonTooLarge, reason, 0)
	}
	t, err := trade.Parse([]byte(payload))
	if err != nil {
		return w.deadLetter(ctx, payload, "", metrics.ReasonMalformed, "invalid trade: "+err.Error(), 0)
	}
	return w.publish(ctx, payload, t)
}
