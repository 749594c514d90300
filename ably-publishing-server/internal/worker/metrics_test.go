package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/redistest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
)

// histogram returns the count and sum of h's observations.
func histogram(tb testing.TB, h prometheus.Histogram) (uint64, float64) {
	tb.Helper()
	var out dto.Metric
	if err := h.Write(&out); err != nil {
		tb.Fatalf("read histogram: %v", err)
	}
	return out.GetHistogram().GetSampleCount(), out.GetHistogram().GetSampleSum()
}

// counterValue returns the value of vec's counter with one label value.
func counterValue(vec *prometheus.CounterVec, label string) float64 {
	return testutil.ToFloat64(vec.WithLabelValues(label))
}

// waitForEmptyLists waits until the queue and the replica's processing
// list are empty, which means every entry was handled.
func waitForEmptyLists(tb testing.TB, rdb *redis.Client, r *replica) {
	tb.Helper()
	waitFor(tb, "the queue and the processing list to empty", func() bool {
		return listLen(tb, rdb, keys.Queue(queueKey)) == 0 && listLen(tb, rdb, keys.Processing(queueKey, r.id)) == 0
	})
}

func TestWorkerMetrics_BatchedCountsTaken(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := newBatchEmulator(t, 0)
	rdb := newRedisClient(t, srv)
	// Pushed before the start, so the window moves most of them.
	pushTrades(t, rdb, "ok", 25)
	push(t, rdb, keys.Queue(queueKey), "not json")

	r := newBatchReplica(t, srv, emu, "replica-a", batchOptions{size: 10, limit: 1000})
	r.start(t)
	waitForEmptyLists(t, rdb, r)
	// Pushed while the queue is empty, so a blocking take moves the first.
	pushTrades(t, rdb, "late", 5)
	waitFor(t, "the late trades to be published", func() bool {
		return testutil.ToFloat64(r.metrics.Published) == 30
	})
	waitForEmptyLists(t, rdb, r)
	r.stop(t)
	m := r.metrics

	if got := testutil.ToFloat64(m.Taken); got != 31 {
		t.Errorf("taken = %v, want the 31 entries pushed", got)
	}
	if got := testutil.ToFloat64(m.Published); got != 30 {
		t.Errorf("published = %v, want 30", got)
	}
	if got := counterValue(m.DeadLettered, metrics.ReasonMalformed); got != 1 {
		t.Errorf("dead-lettered malformed = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.LimiterAdmissions); got != 30 {
		t.Errorf("limiter admissions = %v, want 30", got)
	}
	if _, sum := histogram(t, m.PublishBatchSize); sum != 30 {
		t.Errorf("messages in publish requests = %v, want 30", sum)
	}
}

func TestWorkerMetrics_CountOutcomes(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	pushTrades(t, rdb, "ok", 5)
	push(t, rdb, keys.Queue(queueKey), "not json", `{"id":"x"}`, strings.Repeat("x", 64*1024+1))

	r := newReplica(t, srv, emu, "replica-a", replicaOptions{})
	r.start(t)
	waitForEmptyLists(t, rdb, r)
	r.stop(t)
	m := r.metrics

	counters := []struct {
		name string
		got  float64
		want float64
	}{
		{"taken", testutil.ToFloat64(m.Taken), 8},
		{"published", testutil.ToFloat64(m.Published), 5},
		{"dead-lettered malformed", counterValue(m.DeadLettered, metrics.ReasonMalformed), 2},
		{"dead-lettered too large", counterValue(m.DeadLettered, metrics.ReasonTooLarge), 1},
		{"dead-lettered rejected", counterValue(m.DeadLettered, metrics.ReasonRejected), 0},
		{"recovered", testutil.ToFloat64(m.Recovered), 0},
		{"limiter admissions", testutil.ToFloat64(m.LimiterAdmissions), 5},
		{"retries", float64(testutil.CollectAndCount(m.Retries)), 0},
	}
	for _, c := range counters {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if n, _ := histogram(t, m.PublishDuration); n != 5 {
		t.Errorf("publish duration observations = %d, want one per publish request (5)", n)
	}
	if n, sum := histogram(t, m.PublishBatchSize); n != 5 || sum != 5 {
		t.Errorf("batch size observations = %d with sum %v, want 5 requests of 1 message", n, sum)
	}
	if n, _ := histogram(t, m.LimiterWait); n != 5 {
		t.Errorf("limiter wait observations = %d, want one per admission (5)", n)
	}
	if got, want := testutil.ToFloat64(m.Published), float64(r.worker.Stats().Published); got != want {
		t.Errorf("published metric = %v, want the %v of Stats", got, want)
	}
}

func TestWorkerMetrics_CountRetriesByCode(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	faults := []emulator.Fault{
		{Channel: channelName, Status: 503, Count: 2},
		{Channel: channelName, Status: 429, Code: 42910, Count: 1},
		{Channel: channelName, Status: 400, Code: 40013, Message: "invalid data", Count: 1},
	}
	for _, f := range faults {
		if err := emu.Server.AddFault(f); err != nil {
			t.Fatalf("add fault: %v", err)
		}
	}
	// The emulator applies the faults in order: the first trade fails
	// three times with errors worth retrying and is then rejected, and the
	// second is published at once.
	pushTrades(t, rdb, "retry", 2)

	r := newReplica(t, srv, emu, "replica-a", replicaOptions{})
	r.start(t)
	waitForEmptyLists(t, rdb, r)
	r.stop(t)
	m := r.metrics

	if got := counterValue(m.Retries, "50300"); got != 2 {
		t.Errorf("retries with code 50300 = %v, want 2", got)
	}
	if got := counterValue(m.Retries, "42910"); got != 1 {
		t.Errorf("retries with code 42910 = %v, want 1", got)
	}
	if got := testutil.CollectAndCount(m.Retries); got != 2 {
		t.Errorf("retry series = %d, want 2 codes", got)
	}
	if got := counterValue(m.DeadLettered, metrics.ReasonRejected); got != 1 {
		t.Errorf("dead-lettered rejected = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.Published); got != 1 {
		t.Errorf("published = %v, want 1", got)
	}
	// Every attempt takes a limiter slot and is one publish request.
	if got := testutil.ToFloat64(m.LimiterAdmissions); got != 5 {
		t.Errorf("limiter admissions = %v, want 5 attempts", got)
	}
	if n, _ := histogram(t, m.PublishDuration); n != 5 {
		t.Errorf("publish duration observations = %d, want 5 attempts", n)
	}
}

func TestWorkerMetrics_CountLimiterDenials(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	pushTrades(t, rdb, "slow", 3)

	// One admission per 200 ms: the second and third trade each find the
	// window full at least once.
	r := newReplica(t, srv, emu, "replica-a", replicaOptions{limit: 1, window: 200 * time.Millisecond})
	r.start(t)
	waitForEmptyLists(t, rdb, r)
	r.stop(t)
	m := r.metrics

	if got := testutil.ToFloat64(m.LimiterDenials); got < 2 {
		t.Errorf("limiter denials = %v, want at least 2", got)
	}
	if got := testutil.ToFloat64(m.LimiterAdmissions); got != 3 {
		t.Errorf("limiter admissions = %v, want 3", got)
	}
	if n, sum := histogram(t, m.LimiterWait); n != 3 || sum <= 0 {
		t.Errorf("limiter wait observations = %d with sum %v s, want 3 with a positive sum", n, sum)
	}
}

func TestWorkerMetrics_CountRecoveries(t *testing.T) {
	const maxRecoveries = 2
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	processing := keys.Processing(queueKey, "replica-a")
	left := tradeJSON(t, newTrade("left-1", 1))
	poison := tradeJSON(t, newTrade("poison-1", 2))
	push(t, rdb, processing, left, poison)
	counter := queue.New(rdb, queueKey, "replica-a")
	for range maxRecoveries {
		if _, err := counter.CountRecovery(t.Context(), poison); err != nil {
			t.Fatalf("CountRecovery: %v", err)
		}
	}
	cfg := fastRetries
	cfg.MaxRecoveries = maxRecoveries

	r := newReplica(t, srv, emu, "replica-a", replicaOptions{config: cfg})
	r.start(t)
	waitForEmptyLists(t, rdb, r)
	r.stop(t)
	m := r.metrics

	if got := testutil.ToFloat64(m.Recovered); got != 2 {
		t.Errorf("recovered = %v, want the 2 trades of the processing list", got)
	}
	if got := testutil.ToFloat64(m.Taken); got != 0 {
		t.Errorf("taken = %v, want 0: nothing came from the queue", got)
	}
	if got := testutil.ToFloat64(m.Published); got != 1 {
		t.Errorf("published = %v, want 1", got)
	}
	if got := counterValue(m.DeadLettered, metrics.ReasonRecoveryLimit); got != 1 {
		t.Errorf("dead-lettered over the recovery limit = %v, want 1", got)
	}
}
