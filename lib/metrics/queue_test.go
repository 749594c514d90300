package metrics

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
)

// syncBuffer is a log destination that several goroutines may write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pushN appends n entries to key.
func pushN(tb testing.TB, c *redis.Client, key string, n int) {
	tb.Helper()
	values := make([]any, n)
	for i := range values {
		values[i] = "entry"
	}
	if err := c.RPush(tb.Context(), key, values...).Err(); err != nil {
		tb.Fatalf("rpush %s: %v", key, err)
	}
}

func TestQueueSampler_SetsLengths(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := srv.Client()
	const queueKey = "trades"
	pushN(t, client, keys.Queue(queueKey), 5)
	pushN(t, client, keys.Dead(queueKey), 2)
	// Another pipeline on the same server must not be counted.
	pushN(t, client, keys.Queue("other"), 9)

	gauges := NewQueue(nil)
	sampler := NewQueueSampler(client, queueKey, gauges, time.Hour, discardLogger())
	if err := sampler.Sample(t.Context()); err != nil {
		t.Fatalf("sample: %v", err)
	}
	if got := testutil.ToFloat64(gauges.Length); got != 5 {
		t.Errorf("queue length = %v, want 5", got)
	}
	if got := testutil.ToFloat64(gauges.DeadLetterLength); got != 2 {
		t.Errorf("dead-letter length = %v, want 2", got)
	}
	if got := testutil.ToFloat64(gauges.SampleErrors); got != 0 {
		t.Errorf("sample errors = %v, want 0", got)
	}
}

func TestQueueSampler_StartSamplesAtOnceAndRepeats(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := srv.Client()
	const queueKey = "trades"
	pushN(t, client, keys.Queue(queueKey), 3)

	gauges := NewQueue(nil)
	sampler := NewQueueSampler(client, queueKey, gauges, 20*time.Millisecond, discardLogger())
	sampler.Start()
	defer sampler.Shutdown()

	waitForValue(t, "the first sample", func() float64 { return testutil.ToFloat64(gauges.Length) }, 3)
	pushN(t, client, keys.Queue(queueKey), 4)
	waitForValue(t, "a later sample", func() float64 { return testutil.ToFloat64(gauges.Length) }, 7)

	sampler.Shutdown()
	sampler.Shutdown()
	pushN(t, client, keys.Queue(queueKey), 1)
	time.Sleep(100 * time.Millisecond)
	if got := testutil.ToFloat64(gauges.Length); got != 7 {
		t.Errorf("queue length after Shutdown = %v, want 7: the sampler kept running", got)
	}
}

func TestQueueSampler_FailureKeepsLastValue(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	const queueKey = "trades"
	pushN(t, client, keys.Queue(queueKey), 4)

	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	gauges := NewQueue(nil)
	sampler := NewQueueSampler(client, queueKey, gauges, time.Hour, logger)
	if err := sampler.Sample(t.Context()); err != nil {
		t.Fatalf("sample: %v", err)
	}

	srv.Stop()
	for range 3 {
		if err := sampler.Sample(t.Context()); err == nil {
			t.Fatal("sample succeeded with Redis stopped")
		}
	}
	if got := testutil.ToFloat64(gauges.SampleErrors); got != 3 {
		t.Errorf("sample errors = %v, want 3", got)
	}
	if got := testutil.ToFloat64(gauges.Length); got != 4 {
		t.Errorf("queue length after failures = %v, want the last sample 4", got)
	}
	if n := strings.Count(logs.String(), "sample queue length failed"); n != 1 {
		t.Errorf("logged %d failure lines for 3 failures within a minute, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"queue_key":"trades"`) {
		t.Errorf("failure line does not name the queue key:\n%s", logs.String())
	}
}

func TestQueueSampler_ShutdownWithoutStart(t *testing.T) {
	sampler := NewQueueSampler(nil, "trades", NewQueue(nil), 0, discardLogger())
	done := make(chan struct{})
	go func() {
		sampler.Shutdown()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown without Start did not return")
	}
}

// waitForValue polls read every 10 ms for up to 30 s until it returns want.
func waitForValue(tb testing.TB, what string, read func() float64, want float64) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := read()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after 30s waiting for %s: value %v, want %v", what, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
