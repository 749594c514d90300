// Package metrics defines the Prometheus metrics of the trading server and
// the Ably publishing server: their names, which are the contract that the
// Grafana dashboard and the tests rely on, and the constructors that
// register them on a per-service registry.
//
// Every name starts with the prefix fanout_. Counters end in _total, and
// durations are in seconds. Both services also expose the go_ and
// process_ metrics of the client_golang collectors.
package metrics

// Namespace is the prefix of every project metric, without the underscore.
const Namespace = "fanout"

// Metrics of the trading server.
const (
	// TradesProduced counts the trades the trading server generated.
	TradesProduced = "fanout_trades_produced_total"
	// TradesPushed counts the trades Redis confirmed as appended to the
	// queue.
	TradesPushed = "fanout_trades_pushed_total"
	// PushErrors counts failed round trips to Redis while pushing trades.
	// Each one is retried.
	PushErrors = "fanout_push_errors_total"
	// QueueFull counts the times the queue reached its maximum length and
	// the trading server started waiting for room.
	QueueFull = "fanout_queue_full_total"
	// PushDuration is a histogram of the time of one push round trip to
	// Redis, failed ones included.
	PushDuration = "fanout_push_duration_seconds"
	// QueueMaxLength is the length the trading server never lets the queue
	// grow past (MAX_QUEUE_LENGTH).
	QueueMaxLength = "fanout_queue_max_length"
)

// Metrics of the Ably publishing server. Each replica counts its own work,
// so totals are sums over the replicas.
const (
	// TradesTaken counts the trades moved from the queue into the
	// replica's processing list.
	TradesTaken = "fanout_trades_taken_total"
	// TradesPublished counts the trades Ably accepted.
	TradesPublished = "fanout_trades_published_total"
	// TradesDeadLettered counts the trades moved to the dead-letter list,
	// by the label LabelReason.
	TradesDeadLettered = "fanout_trades_dead_lettered_total"
	// PublishRetries counts the failed publish attempts that are retried,
	// by the label LabelCode.
	PublishRetries = "fanout_publish_retries_total"
	// LimiterAdmissions counts the messages the global limiter admitted.
	LimiterAdmissions = "fanout_limiter_admissions_total"
	// LimiterDenials counts the limiter requests that admitted fewer
	// messages than requested because the window was full. A message
	// that finds the window full three times adds three.
	LimiterDenials = "fanout_limiter_denials_total"
	// LimiterWait is a histogram of the time from a message's first
	// limiter request to its admission.
	LimiterWait = "fanout_limiter_wait_seconds"
	// PublishDuration is a histogram of the time of one publish request
	// to Ably, failed ones included.
	PublishDuration = "fanout_publish_duration_seconds"
	// PublishBatchSize is a histogram of the number of messages in one
	// publish request to Ably.
	PublishBatchSize = "fanout_publish_batch_size"
	// LeaseTakeovers counts the processing lists of stopped replicas that
	// this replica took over after their lease ended.
	LeaseTakeovers = "fanout_lease_takeovers_total"
	// TradesRecovered counts the trades handled from the replica's own
	// processing list instead of taken from the queue: those an earlier
	// run left and those taken over from stopped replicas.
	TradesRecovered = "fanout_trades_recovered_total"
)

// Metrics that both services expose from the same queue sampler.
const (
	// QueueLength is the length of the trade queue, sampled with LLEN.
	QueueLength = "fanout_queue_length"
	// DeadLetterLength is the length of the dead-letter list, sampled with
	// LLEN.
	DeadLetterLength = "fanout_dead_letter_length"
	// QueueSampleErrors counts the samples that failed, after which the
	// length gauges keep their last value.
	QueueSampleErrors = "fanout_queue_sample_errors_total"
)

// Labels.
const (
	// LabelReason is the reason class of a dead-lettered trade, one of
	// the Reason constants.
	LabelReason = "reason"
	// LabelCode is the Ably error code of a failed publish attempt, such
	// as 42910 or 50000, or CodeNone when the failure carried no code,
	// such as a timeout or a refused connection.
	LabelCode = "code"
)

// Reason classes of dead-lettered trades: the values of LabelReason.
const (
	// ReasonMalformed is a payload that is not a valid trade: not JSON, a
	// missing or invalid field, or an unknown field.
	ReasonMalformed = "malformed"
	// ReasonTooLarge is a payload larger than the publisher accepts.
	ReasonTooLarge = "too_large"
	// ReasonRejected is a trade that Ably rejected as a message, such as
	// error 40009 (too large) or 40013 (invalid data).
	ReasonRejected = "rejected"
	// ReasonRecoveryLimit is a trade taken over from stopped replicas more
	// times than MAX_RECOVERIES allows.
	ReasonRecoveryLimit = "recovery_limit"
	// ReasonInternal is a trade whose handling made the publisher panic.
	ReasonInternal = "internal_error"
)

// Reasons lists every reason class. The publisher exposes each of them
// from the start, at 0, so that dashboards and alerts see the series
// before the first dead letter.
var Reasons = []string{ReasonMalformed, ReasonTooLarge, ReasonRejected, ReasonRecoveryLimit, ReasonInternal}

// CodeNone is the LabelCode value of a failure without an Ably error code.
const CodeNone = "none"

// QueueNames lists the metrics of the queue sampler.
var QueueNames = []string{QueueLength, DeadLetterLength, QueueSampleErrors}

// TradingServerNames lists the project metrics of the trading server.
var TradingServerNames = append([]string{
	TradesProduced, TradesPushed, PushErrors, QueueFull, PushDuration, QueueMaxLength,
}, QueueNames...)

// PublisherNames lists the project metrics of the Ably publishing server.
var PublisherNames = append([]string{
	TradesTaken, TradesPublished, TradesDeadLettered, PublishRetries,
	LimiterAdmissions, LimiterDenials, LimiterWait,
	PublishDuration, PublishBatchSize, LeaseTakeovers, TradesRecovered,
}, QueueNames...)
