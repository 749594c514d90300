// Package keys names every Redis key the system uses. All keys derive from
// the queue key, so several pipelines can share one Redis server.
//
// On Redis Cluster every key that one script touches must be in one hash
// slot. All keys start with the queue key, so a queue key with a hash tag,
// such as "{trades}", puts every key of a pipeline in the slot of "trades".
package keys

// Queue is the list the trading server pushes trades onto.
func Queue(queueKey string) string { return queueKey }

// RateLog is the sorted set of the global limiter's sliding-window log.
func RateLog(queueKey string) string { return queueKey + ":log" }

// ChannelRateLog is the sorted set of the sliding-window log of one Ably
// channel, used when trades are routed to many channels. RateLog is then
// the account-wide log over all channels.
func ChannelRateLog(queueKey, channel string) string { return queueKey + ":log:" + channel }

// RateCounts is the hash that goes with RateLog when each log entry stands
// for several admissions: field = request id, value = admissions, and the
// field "total" with their sum. The suffix ":logn" cannot end any log key,
// because those end in ":log" or continue with ":".
func RateCounts(queueKey string) string { return queueKey + ":logn" }

// ChannelRateCounts is the hash of admission counts of ChannelRateLog.
func ChannelRateCounts(queueKey, channel string) string { return queueKey + ":logn:" + channel }

// BatchPlans is the hash of batches published and not yet acknowledged:
// field = SHA-1 of the batch's first payload, value = how many trades the
// batch has.
func BatchPlans(queueKey string) string { return queueKey + ":batches" }

// Dead is the dead-letter list of trades that cannot be published as they are.
func Dead(queueKey string) string { return queueKey + ":dead" }

// Processing is the list of trades that one publisher replica has taken and
// not yet published.
func Processing(queueKey, replica string) string { return queueKey + ":processing:" + replica }

// Replicas is the sorted set of live publisher replicas, scored by the time
// their lease ends.
func Replicas(queueKey string) string { return queueKey + ":replicas" }

// Recoveries is the hash that counts, per payload digest, how many times a
// publisher replica took over a trade that another run left unfinished.
func Recoveries(queueKey string) string { return queueKey + ":recoveries" }
