package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Trading holds the metrics of the trading server.
type Trading struct {
	// Produced counts generated trades (TradesProduced).
	Produced prometheus.Counter
	// Pushed counts trades appended to the queue (TradesPushed).
	Pushed prometheus.Counter
	// PushErrors counts failed round trips to Redis (PushErrors).
	PushErrors prometheus.Counter
	// QueueFull counts the waits for room in the queue (QueueFull).
	QueueFull prometheus.Counter
	// PushDuration observes each push round trip (PushDuration).
	PushDuration prometheus.Histogram
	// QueueMaxLength is MAX_QUEUE_LENGTH (QueueMaxLength).
	QueueMaxLength prometheus.Gauge
	// Queue holds the gauges of the queue sampler.
	Queue *Queue
}

// NewTrading creates the trading server's metrics and registers them on
// reg. A nil reg registers nothing, which suits tests that read the
// metrics directly.
func NewTrading(reg prometheus.Registerer) *Trading {
	f := promauto.With(reg)
	return &Trading{
		Produced: f.NewCounter(prometheus.CounterOpts{
			Name: TradesProduced,
			Help: "Trades the trading server generated.",
		}),
		Pushed: f.NewCounter(prometheus.CounterOpts{
			Name: TradesPushed,
			Help: "Trades Redis confirmed as appended to the queue.",
		}),
		PushErrors: f.NewCounter(prometheus.CounterOpts{
			Name: PushErrors,
			Help: "Failed round trips to Redis while pushing trades; each is retried.",
		}),
		QueueFull: f.NewCounter(prometheus.CounterOpts{
			Name: QueueFull,
			Help: "Times the queue reached its maximum length and the trading server started waiting for room.",
		}),
		PushDuration: f.NewHistogram(prometheus.HistogramOpts{
			Name: PushDuration,
			Help: "Time of one push round trip to Redis in seconds, failed ones included.",
			// 0.5 ms to about 2 s.
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 13),
		}),
		QueueMaxLength: f.NewGauge(prometheus.GaugeOpts{
			Name: QueueMaxLength,
			Help: "Length the trading server never lets the queue grow past (MAX_QUEUE_LENGTH).",
		}),
		Queue: NewQueue(reg),
	}
}
