// Package keys names every Redis key the system uses. All keys derive from
// the queue key, so several pipelines can share one Redis server.
package keys

// Queue is the list the trading server pushes trades onto.
func Queue(queueKey string) string { return queueKey }

// RateLog is the sorted set of the global limiter's sliding-window log.
func RateLog(queueKey string) string { return queueKey + ":log" }

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
