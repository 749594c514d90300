package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ably-fanout/lib/trade"
	"github.com/redis/go-redis/v9"
)

const testQueue = "trades"

// logRecorder collects JSON log lines written by several goroutines.
type logRecorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *logRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

func (r *logRecorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

// records parses JSON log lines and returns those whose msg is msg.
func records(tb testing.TB, data []byte, msg string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			tb.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read log: %v", err)
	}
	return out
}

// lastRecord returns the last log record with msg and fails if there is
// none.
func lastRecord(tb testing.TB, data []byte, msg string) map[string]any {
	tb.Helper()
	recs := records(tb, data, msg)
	if len(recs) == 0 {
		tb.Fatalf("no log line %q in:\n%s", msg, data)
	}
	return recs[len(recs)-1]
}

// intField returns a numeric field of a JSON log record.
func intField(tb testing.TB, rec map[string]any, key string) int64 {
	tb.Helper()
	v, ok := rec[key].(float64)
	if !ok {
		tb.Fatalf("log record %v has no number %q", rec, key)
	}
	return int64(v)
}

// testConfig parses env as the process environment would be parsed.
func testConfig(tb testing.TB, env map[string]string) config {
	tb.Helper()
	set, cfg := newSettings()
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	if err := set.Parse(nil, lookup, io.Discard); err != nil {
		tb.Fatalf("parse settings: %v", err)
	}
	if err := cfg.complete(); err != nil {
		tb.Fatalf("complete settings: %v", err)
	}
	return *cfg
}

// startRun runs the server in a goroutine with JSON logs and returns the
// log and a channel with run's result.
func startRun(tb testing.TB, ctx context.Context, cfg config) (*logRecorder, <-chan error) {
	tb.Helper()
	logs := &logRecorder{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, logger) }()
	return logs, done
}

// waitDone waits up to a minute for run to return.
func waitDone(tb testing.TB, done <-chan error, logs *logRecorder) error {
	tb.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		tb.Fatalf("run did not return within a minute; log:\n%s", logs.bytes())
		return nil
	}
}

// waitFor polls cond every 10ms for up to 30s.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after 30s waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// queueTrades returns the trades in the queue, head first.
func queueTrades(tb testing.TB, c *redis.Client) []trade.Trade {
	tb.Helper()
	items, err := c.LRange(tb.Context(), testQueue, 0, -1).Result()
	if err != nil {
		tb.Fatalf("lrange: %v", err)
	}
	out := make([]trade.Trade, len(items))
	for i, item := range items {
		t, err := trade.Parse([]byte(item))
		if err != nil {
			tb.Fatalf("queue item %d %q: %v", i, item, err)
		}
		out[i] = t
	}
	return out
}

// checkGenerated checks that trades are numbered producer-1, producer-2,
// ... in order with no gap or repeat, and that each symbol's seq counts
// up from 1.
func checkGenerated(tb testing.TB, trades []trade.Trade, producer string) {
	tb.Helper()
	seq := map[string]int64{}
	for i, tr := range trades {
		if want := producer + "-" + strconv.Itoa(i+1); tr.ID != want {
			tb.Fatalf("queue item %d id = %q, want %q", i, tr.ID, want)
		}
		if tr.Seq != seq[tr.Symbol]+1 {
			tb.Fatalf("queue item %d %s seq = %d, want %d", i, tr.Symbol, tr.Seq, seq[tr.Symbol]+1)
		}
		seq[tr.Symbol] = tr.Seq
	}
}

// httpStatus returns the status of GET url, or 0 if the request failed.
func httpStatus(url string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
