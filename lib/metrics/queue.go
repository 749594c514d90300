package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/logging"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/redis/go-redis/v9"
)

// DefaultSampleInterval is the time between two queue samples. LLEN is
// O(1), so the cost is one round trip per interval and process.
const DefaultSampleInterval = 5 * time.Second

// Queue holds the gauges that a QueueSampler sets.
type Queue struct {
	// Length is the queue's length (QueueLength).
	Length prometheus.Gauge
	// DeadLetterLength is the dead-letter list's length
	// (DeadLetterLength).
	DeadLetterLength prometheus.Gauge
	// SampleErrors counts failed samples (QueueSampleErrors).
	SampleErrors prometheus.Counter
}

// NewQueue creates the queue gauges and registers them on reg, unless reg
// is nil.
func NewQueue(reg prometheus.Registerer) *Queue {
	f := promauto.With(reg)
	return &Queue{
		Length: f.NewGauge(prometheus.GaugeOpts{
			Name: QueueLength,
			Help: "Trades waiting in the Redis queue, sampled with LLEN every few seconds.",
		}),
		DeadLetterLength: f.NewGauge(prometheus.GaugeOpts{
			Name: DeadLetterLength,
			Help: "Entries in the dead-letter list, sampled with LLEN every few seconds.",
		}),
		SampleErrors: f.NewCounter(prometheus.CounterOpts{
			Name: QueueSampleErrors,
			Help: "Queue samples that failed; the length gauges then keep their last value.",
		}),
	}
}

// QueueSampler sets the Queue gauges from LLEN of the queue and the
// dead-letter list once at Start and then every interval until Shutdown.
type QueueSampler struct {
	client   redis.Cmdable
	queueKey string
	gauges   *Queue
	interval time.Duration
	logger   *slog.Logger
	throttle *logging.Throttle

	// started is set by Start. Only the goroutine that owns the sampler
	// calls Start and Shutdown, so it needs no lock.
	started  bool
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// NewQueueSampler returns a sampler of the lists of queueKey (see package
// keys). An interval of 0 means DefaultSampleInterval.
func NewQueueSampler(client redis.Cmdable, queueKey string, gauges *Queue, interval time.Duration, logger *slog.Logger) *QueueSampler {
	if interval <= 0 {
		interval = DefaultSampleInterval
	}
	return &QueueSampler{
		client:   client,
		queueKey: queueKey,
		gauges:   gauges,
		interval: interval,
		logger:   logger.With(slog.String("queue_key", queueKey)),
		// One failure line per minute is enough: the services log their
		// own Redis errors, and the counter shows every failure.
		throttle: logging.NewThrottle(time.Minute),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// Sample reads both lengths in one round trip and sets the gauges. On
// error it counts the failure, logs it (rate-limited) and leaves the
// gauges as they were.
func (s *QueueSampler) Sample(ctx context.Context) error {
	pipe := s.client.Pipeline()
	queued := pipe.LLen(ctx, keys.Queue(s.queueKey))
	dead := pipe.LLen(ctx, keys.Dead(s.queueKey))
	if _, err := pipe.Exec(ctx); err != nil {
		s.gauges.SampleErrors.Inc()
		if ok, suppressed := s.throttle.Allow("sample"); ok {
			s.logger.Warn("sample queue length failed", slog.Any("error", err), slog.Int("suppressed", suppressed))
		}
		return err
	}
	s.throttle.Reset("sample")
	s.gauges.Length.Set(float64(queued.Val()))
	s.gauges.DeadLetterLength.Set(float64(dead.Val()))
	return nil
}

// Start samples once in a goroutine and then every interval until
// Shutdown. Call it once, from the goroutine that later calls Shutdown.
func (s *QueueSampler) Start() {
	s.started = true
	go func() {
		defer close(s.done)
		ticker := time.NewTicker(s.interval)
		defer ticker.Stop()
		for {
			s.sampleOnce()
			select {
			case <-s.stop:
				return
			case <-ticker.C:
			}
		}
	}()
}

// sampleOnce runs Sample with a timeout of one interval. Shutdown cancels
// a sample in progress.
func (s *QueueSampler) sampleOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), s.interval)
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = s.Sample(ctx)
}

// Shutdown stops the sampling goroutine and waits for it to exit. It may
// be called more than once, and without Start.
func (s *QueueSampler) Shutdown() {
	s.stopOnce.Do(func() { close(s.stop) })
	if s.started {
		<-s.done
	}
}
