package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Publisher holds the metrics of one Ably publishing server replica.
type Publisher struct {
	// Taken counts trades moved into the processing list (TradesTaken).
	Taken prometheus.Counter
	// Published counts trades Ably accepted (TradesPublished).
	Published prometheus.Counter
	// DeadLettered counts dead-lettered trades by LabelReason
	// (TradesDeadLettered). Use DeadLetter to add one.
	DeadLettered *prometheus.CounterVec
	// Retries counts retried publish attempts by LabelCode
	// (PublishRetries). Use Retry to add one.
	Retries *prometheus.CounterVec
	// LimiterAdmissions counts admitted messages (LimiterAdmissions).
	LimiterAdmissions prometheus.Counter
	// LimiterDenials counts limiter requests that admitted fewer messages
	// than requested (LimiterDenials).
	LimiterDenials prometheus.Counter
	// LimiterWait observes the wait for each admission (LimiterWait).
	LimiterWait prometheus.Histogram
	// PublishDuration observes each publish request (PublishDuration).
	PublishDuration prometheus.Histogram
	// PublishBatchSize observes the messages per publish request
	// (PublishBatchSize).
	PublishBatchSize prometheus.Histogram
	// LeaseTakeovers counts processing lists taken over (LeaseTakeovers).
	LeaseTakeovers prometheus.Counter
	// Recovered counts trades handled from the processing list
	// (TradesRecovered).
	Recovered prometheus.Counter
	// Queue holds the gauges of the queue sampler.
	Queue *Queue
}

// NewPublisher creates a publisher replica's metrics and registers them on
// reg. A nil reg registers nothing, which suits tests that read the
// metrics directly. Every reason class of TradesDeadLettered starts at 0.
func NewPublisher(reg prometheus.Registerer) *Publisher {
	f := promauto.With(reg)
	p := &Publisher{
		Taken: f.NewCounter(prometheus.CounterOpts{
			Name: TradesTaken,
			Help: "Trades moved from the queue into this replica's processing list.",
		}),
		Published: f.NewCounter(prometheus.CounterOpts{
			Name: TradesPublished,
			Help: "Trades Ably accepted.",
		}),
		DeadLettered: f.NewCounterVec(prometheus.CounterOpts{
			Name: TradesDeadLettered,
			Help: "Trades moved to the dead-letter list, by reason class.",
		}, []string{LabelReason}),
		Retries: f.NewCounterVec(prometheus.CounterOpts{
			Name: PublishRetries,
			Help: "Failed publish attempts that are retried, by Ably error code (none for a failure without one, such as a timeout).",
		}, []string{LabelCode}),
		LimiterAdmissions: f.NewCounter(prometheus.CounterOpts{
			Name: LimiterAdmissions,
			Help: "Messages the global limiter admitted.",
		}),
		LimiterDenials: f.NewCounter(prometheus.CounterOpts{
			Name: LimiterDenials,
			Help: "Limiter requests that admitted fewer messages than requested because the window was full.",
		}),
		LimiterWait: f.NewHistogram(prometheus.HistogramOpts{
			Name: LimiterWait,
			Help: "Time in seconds from a message's first limiter request to its admission.",
			// 1 ms to about 33 s.
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		PublishDuration: f.NewHistogram(prometheus.HistogramOpts{
			Name: PublishDuration,
			Help: "Time of one publish request to Ably in seconds, failed ones included.",
			// 5 ms to about 10 s, the default publish timeout.
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		PublishBatchSize: f.NewHistogram(prometheus.HistogramOpts{
			Name:    PublishBatchSize,
			Help:    "Messages in one publish request to Ably.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 8),
		}),
		LeaseTakeovers: f.NewCounter(prometheus.CounterOpts{
			Name: LeaseTakeovers,
			Help: "Processing lists of stopped replicas that this replica took over after their lease ended.",
		}),
		Recovered: f.NewCounter(prometheus.CounterOpts{
			Name: TradesRecovered,
			Help: "Trades handled from this replica's processing list: left by an earlier run or taken over.",
		}),
		Queue: NewQueue(reg),
	}
	for _, reason := range Reasons {
		p.DeadLettered.WithLabelValues(reason)
	}
	return p
}

// DeadLetter counts one trade moved to the dead-letter list for a reason
// class, one of the Reason constants.
func (p *Publisher) DeadLetter(reason string) {
	p.DeadLettered.WithLabelValues(reason).Inc()
}

// Retry counts one failed publish attempt that is retried. code is the
// Ably error code, or 0 when the failure carried none.
func (p *Publisher) Retry(code int) {
	label := CodeNone
	if code != 0 {
		label = strconv.Itoa(code)
	}
	p.Retries.WithLabelValues(label).Inc()
}
