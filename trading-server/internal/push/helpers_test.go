package push

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/trade"
	"github.com/redis/go-redis/v9"
)

const testQueue = "trades"

// logRecorder collects JSON log lines from several goroutines.
type logRecorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *logRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

// count returns the number of lines whose msg is msg.
func (r *logRecorder) count(tb testing.TB, msg string) int {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(r.buf.Bytes()))
	for sc.Scan() {
		var line struct {
			Msg string `json:"msg"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			tb.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if line.Msg == msg {
			n++
		}
	}
	return n
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

func newTestPusher(tb testing.TB, client redis.Scripter, cfg Config) (*Pusher, *logRecorder) {
	tb.Helper()
	p, rec, _ := newMeasuredPusher(tb, client, cfg)
	return p, rec
}

// newMeasuredPusher returns a Pusher, its log and its metrics.
func newMeasuredPusher(tb testing.TB, client redis.Scripter, cfg Config) (*Pusher, *logRecorder, *metrics.Trading) {
	tb.Helper()
	if cfg.QueueKey == "" {
		cfg.QueueKey = testQueue
	}
	rec := &logRecorder{}
	logger := slog.New(slog.NewJSONHandler(rec, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.NewTrading(nil)
	p, err := New(client, cfg, m, logger)
	if err != nil {
		tb.Fatalf("new pusher: %v", err)
	}
	return p, rec, m
}

// testClient returns a client configured as production configures it: the
// client never retries a command by itself.
func testClient(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:         addr,
		MaxRetries:   -1,
		DialTimeout:  2 * time.Second,
		ReadTimeout:  3 * time.Second,
		WriteTimeout: 3 * time.Second,
	})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

func testTrade(i int) trade.Trade {
	return trade.Trade{
		ID:     fmt.Sprintf("test-%d", i),
		Symbol: "AAPL",
		Price:  "187.25",
		Size:   1,
		Side:   trade.Buy,
		Seq:    int64(i),
		Time:   "2025-03-14T09:30:00.000Z",
	}
}

// runPusher starts p.Run in a goroutine and returns a channel with its
// result.
func runPusher(tb testing.TB, p *Pusher, in <-chan trade.Trade) <-chan error {
	tb.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Run(tb.Context(), in) }()
	return done
}

// waitRun waits up to a minute for Run to return and fails on an error.
func waitRun(tb testing.TB, done <-chan error) {
	tb.Helper()
	select {
	case err := <-done:
		if err != nil {
			tb.Fatalf("Run returned %v, want nil", err)
		}
	case <-time.After(time.Minute):
		tb.Fatal("Run did not return within a minute")
	}
}

// waitFor polls cond every 5ms for up to 30s.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after 30s waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// queueIDs returns the ids of the trades in the queue, head first.
func queueIDs(tb testing.TB, c *redis.Client) []string {
	tb.Helper()
	items, err := c.LRange(tb.Context(), testQueue, 0, -1).Result()
	if err != nil {
		tb.Fatalf("lrange: %v", err)
	}
	return parseIDs(tb, items)
}

func parseIDs(tb testing.TB, items []string) []string {
	tb.Helper()
	ids := make([]string, len(items))
	for i, item := range items {
		t, err := trade.Parse([]byte(item))
		if err != nil {
			tb.Fatalf("queue item %d %q: %v", i, item, err)
		}
		ids[i] = t.ID
	}
	return ids
}

func wantIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = testTrade(i + 1).ID
	}
	return ids
}

// dropRepeats returns ids without the ids seen before and the number of
// repeats removed.
func dropRepeats(ids []string) ([]string, int) {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out, len(ids) - len(out)
}

// firstDifference returns a description of where got and want first
// differ, or "" if they are equal.
func firstDifference(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("position %d: got %s, want %s", i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d ids, want %d", len(got), len(want))
	}
	return ""
}

func isNil(err error) bool { return errors.Is(err, redis.Nil) }
