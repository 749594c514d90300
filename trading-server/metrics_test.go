package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/redistest"
)

// httpAddr waits for the "http server listening" line and returns its
// address.
func httpAddr(tb testing.TB, logs *logRecorder) string {
	tb.Helper()
	var addr string
	waitFor(tb, "the http server address", func() bool {
		recs := records(tb, logs.bytes(), "http server listening")
		if len(recs) == 0 {
			return false
		}
		addr, _ = recs[0]["addr"].(string)
		return true
	})
	return addr
}

// scrape reads the server's /metrics.
func scrape(tb testing.TB, addr string) metrics.Families {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	families, err := metrics.Scrape(ctx, http.DefaultClient, "http://"+addr+"/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	return families
}

// readyzBody returns the status and body of GET /readyz.
func readyzBody(tb testing.TB, addr string) (int, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET /readyz: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read /readyz: %v", err)
	}
	return resp.StatusCode, string(body)
}

func TestRun_ServesMetrics(t *testing.T) {
	const maxQueue = 50
	srv := redistest.Start(t, redistest.Options{})
	client := srv.Client()
	cfg := testConfig(t, map[string]string{
		"REDIS_URL": srv.URL(), "QUEUE_KEY": testQueue, "HTTP_ADDR": "127.0.0.1:0",
		"MODE": "steady", "STEADY_RATE": "500", "MAX_QUEUE_LENGTH": "50", "PUSH_BATCH": "10",
	})
	// The trades still waiting for room at the signal are pushed once the
	// test drains the queue, well within this timeout.
	cfg.ShutdownTimeout = time.Minute
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs, done := startRun(t, ctx, cfg)
	addr := httpAddr(t, logs)

	// Nothing consumes, so the queue fills up and stays full, and the
	// sampler reports the bound within a sample interval or two.
	var families metrics.Families
	waitFor(t, "the queue length gauge to reach the bound", func() bool {
		families = scrape(t, addr)
		return families.Value(metrics.QueueLength) == maxQueue
	})
	t.Run("counters", func(t *testing.T) {
		if got := families.Value(metrics.TradesPushed); got != maxQueue {
			t.Errorf("%s = %v, want the %d trades in the full queue", metrics.TradesPushed, got, maxQueue)
		}
		if got := families.Value(metrics.TradesProduced); got < maxQueue {
			t.Errorf("%s = %v, want at least the %d pushed", metrics.TradesProduced, got, maxQueue)
		}
		if got := families.Value(metrics.QueueFull); got != 1 {
			t.Errorf("%s = %v, want 1 wait for room", metrics.QueueFull, got)
		}
		if got := families.Value(metrics.PushErrors); got != 0 {
			t.Errorf("%s = %v, want 0", metrics.PushErrors, got)
		}
		if got := families.Value(metrics.QueueMaxLength); got != maxQueue {
			t.Errorf("%s = %v, want MAX_QUEUE_LENGTH %d", metrics.QueueMaxLength, got, maxQueue)
		}
		if got := families.Value(metrics.DeadLetterLength); got != 0 {
			t.Errorf("%s = %v, want 0", metrics.DeadLetterLength, got)
		}
		if got := families.SampleCount(metrics.PushDuration); got < maxQueue/10 {
			t.Errorf("%s count = %d, want at least one per batch of 10", metrics.PushDuration, got)
		}
	})
	t.Run("every listed name", func(t *testing.T) {
		for _, name := range metrics.TradingServerNames {
			if !families.Has(name) {
				t.Errorf("/metrics does not expose %s", name)
			}
		}
		for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
			if !families.Has(name) {
				t.Errorf("/metrics does not expose %s", name)
			}
		}
	})

	cancel()
	if err := client.Del(t.Context(), testQueue).Err(); err != nil {
		t.Fatalf("drain the queue: %v", err)
	}
	if err := waitDone(t, done, logs); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
}

func TestRun_ReadyzNotReadyAfterSignal(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := testConfig(t, map[string]string{
		"REDIS_URL": srv.URL(), "QUEUE_KEY": testQueue, "HTTP_ADDR": "127.0.0.1:0",
		"MODE": "burst", "PUBLISH_RATE": "5", "BURST_INTERVAL": "1h", "MAX_QUEUE_LENGTH": "1",
	})
	cfg.ShutdownTimeout = time.Minute
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs, done := startRun(t, ctx, cfg)
	addr := httpAddr(t, logs)
	waitFor(t, "the queue to fill up", func() bool {
		return len(records(t, logs.bytes(), "queue full, waiting")) > 0
	})
	if status, body := readyzBody(t, addr); status != http.StatusOK {
		t.Fatalf("/readyz before the signal = %d %q, want 200: a full queue is no reason to stop routing", status, body)
	}

	cancel()
	waitFor(t, "the shutdown line", func() bool {
		return len(records(t, logs.bytes(), "shutdown requested, stopping trade generation")) > 0
	})
	status, body := readyzBody(t, addr)
	if status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the drain = %d, want 503", status)
	}
	if !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz body during the drain = %q, want it to say shutting down", body)
	}
	if got := httpStatus("http://" + addr + "/healthz"); got != http.StatusOK {
		t.Errorf("/healthz during the drain = %d, want 200", got)
	}

	// Let the remaining trades through so that run returns.
	client := srv.Client()
	waitFor(t, "all 5 trades to pass through the queue", func() bool {
		_ = client.LPop(t.Context(), testQueue).Err()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run returned %v, want nil", err)
			}
			return true
		default:
			return false
		}
	})
}
