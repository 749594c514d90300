package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/lib/redistest"
	"github.com/ably-fanout/lib/trade"
)

func TestRun_StopsAtTradeLimit(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
	}{
		{"burst", map[string]string{"MODE": "burst", "PUBLISH_RATE": "7", "BURST_INTERVAL": "1ms", "TRADE_LIMIT": "50"}},
		{"burst larger than limit", map[string]string{"MODE": "burst", "PUBLISH_RATE": "500", "BURST_INTERVAL": "1h", "TRADE_LIMIT": "123"}},
		{"steady", map[string]string{"MODE": "steady", "STEADY_RATE": "5000", "TRADE_LIMIT": "300", "PUSH_BATCH": "16"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			env := map[string]string{
				"REDIS_URL": srv.URL(), "QUEUE_KEY": testQueue, "HTTP_ADDR": "", "PRODUCER_ID": "limit",
			}
			for k, v := range tc.env {
				env[k] = v
			}
			logs, done := startRun(t, t.Context(), testConfig(t, env))
			if err := waitDone(t, done, logs); err != nil {
				t.Fatalf("run returned %v, want nil", err)
			}

			want, _ := strconv.Atoi(env["TRADE_LIMIT"])
			got := queueTrades(t, srv.Client())
			if len(got) != want {
				t.Fatalf("queue holds %d trades, want exactly %d", len(got), want)
			}
			checkGenerated(t, got, "limit")
			summary := lastRecord(t, logs.bytes(), "trading server stopped")
			if n := intField(t, summary, "pushed"); n != int64(want) {
				t.Errorf("summary pushed = %d, want %d", n, want)
			}
			if summary["reason"] != "trade limit reached" {
				t.Errorf("summary reason = %v, want %q", summary["reason"], "trade limit reached")
			}
		})
	}
}

func TestRun_ReplayPushesValidLines(t *testing.T) {
	valid := func(id string, seq int64) string {
		data, err := json.Marshal(trade.Trade{
			ID: id, Symbol: "MSFT", Price: "410.10", Size: 3, Side: trade.Buy, Seq: seq,
			Time: "2025-03-14T09:30:00.000Z",
		})
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		return string(data)
	}
	lines := []string{
		valid("replay-1", 1), // line 1
		`{"id": "replay-x"`,  // line 2: invalid JSON
		strings.Replace(valid("replay-bad", 2), `"410.10"`, `"abc"`, 1), // line 3: price "abc"
		"",                         // line 4: blank
		valid("replay-2", 2),       // line 5
		strings.Repeat("{", 2<<20), // line 6: 2 MiB, over the 1 MiB limit
		valid("replay-3", 3),       // line 7
	}
	path := filepath.Join(t.TempDir(), "trades.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatalf("write replay file: %v", err)
	}
	srv := redistest.Start(t, redistest.Options{})
	cfg := testConfig(t, map[string]string{
		"REDIS_URL": srv.URL(), "QUEUE_KEY": testQueue, "HTTP_ADDR": "",
		"MODE": "replay", "REPLAY_FILE": path, "PUSH_BATCH": "2",
	})
	logs, done := startRun(t, t.Context(), cfg)
	if err := waitDone(t, done, logs); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}

	var ids []string
	for _, tr := range queueTrades(t, srv.Client()) {
		ids = append(ids, tr.ID)
	}
	if got := strings.Join(ids, ","); got != "replay-1,replay-2,replay-3" {
		t.Errorf("queue ids = %s, want replay-1,replay-2,replay-3", got)
	}
	skipped := map[int64]string{}
	for _, rec := range records(t, logs.bytes(), "skipped replay line") {
		skipped[intField(t, rec, "line")], _ = rec["reason"].(string)
	}
	wantReasons := map[int64]string{2: "not a JSON object", 3: `invalid field "price"`, 6: "longer than 1048576 bytes"}
	if len(skipped) != len(wantReasons) {
		t.Errorf("skipped lines = %v, want lines 2, 3 and 6", skipped)
	}
	for line, want := range wantReasons {
		if !strings.Contains(skipped[line], want) {
			t.Errorf("reason for line %d = %q, want it to contain %q", line, skipped[line], want)
		}
	}
	summary := lastRecord(t, logs.bytes(), "trading server stopped")
	for key, want := range map[string]int64{"lines_read": 7, "lines_skipped": 3, "lines_blank": 1, "pushed": 3} {
		if got := intField(t, summary, key); got != want {
			t.Errorf("summary %s = %d, want %d", key, got, want)
		}
	}
	if summary["reason"] != "replay file ended" {
		t.Errorf("summary reason = %v, want %q", summary["reason"], "replay file ended")
	}
}

func TestRun_ReadyzFollowsRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	cfg := testConfig(t, map[string]string{
		"REDIS_URL": srv.URL(), "QUEUE_KEY": testQueue, "HTTP_ADDR": "127.0.0.1:0",
		"MODE": "steady", "STEADY_RATE": "200", "PRODUCER_ID": "ready",
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs, done := startRun(t, ctx, cfg)
	var addr string
	waitFor(t, "the http server address", func() bool {
		recs := records(t, logs.bytes(), "http server listening")
		if len(recs) == 0 {
			return false
		}
		addr, _ = recs[0]["addr"].(string)
		return true
	})
	readyz := "http://" + addr + "/readyz"
	healthz := "http://" + addr + "/healthz"

	waitFor(t, "/readyz to return 200", func() bool { return httpStatus(readyz) == http.StatusOK })
	srv.Kill()
	waitFor(t, "/readyz to return 503 while Redis is down", func() bool {
		return httpStatus(readyz) == http.StatusServiceUnavailable
	})
	if got := httpStatus(healthz); got != http.StatusOK {
		t.Errorf("/healthz while Redis is down = %d, want 200", got)
	}
	srv.Restart()
	waitFor(t, "/readyz to return 200 after the restart", func() bool { return httpStatus(readyz) == http.StatusOK })
	cancel()
	if err := waitDone(t, done, logs); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}

	summary := lastRecord(t, logs.bytes(), "trading server stopped")
	produced := intField(t, summary, "produced")
	if pushed := intField(t, summary, "pushed"); pushed != produced {
		t.Errorf("summary pushed = %d, want all %d produced", pushed, produced)
	}
	// Trades appended by a script whose reply was lost are in the queue
	// twice, and the order of the first copies must be intact.
	trades := queueTrades(t, srv.Client())
	seen := map[string]bool{}
	var unique []trade.Trade
	for _, tr := range trades {
		if !seen[tr.ID] {
			seen[tr.ID] = true
			unique = append(unique, tr)
		}
	}
	t.Logf("produced %d trades, queue holds %d with %d repeats", produced, len(trades), len(trades)-len(unique))
	if int64(len(unique)) != produced {
		t.Errorf("queue holds %d distinct trades, want %d", len(unique), produced)
	}
	checkGenerated(t, unique, "ready")
}

func TestRun_ShutdownTimeoutBoundsDrain(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := testConfig(t, map[string]string{
		"REDIS_URL": srv.URL(), "QUEUE_KEY": testQueue, "HTTP_ADDR": "",
		"MODE": "burst", "PUBLISH_RATE": "50", "BURST_INTERVAL": "1h",
	})
	cfg.ShutdownTimeout = 100 * time.Millisecond
	srv.Kill()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs, done := startRun(t, ctx, cfg)
	waitFor(t, "a failed push", func() bool {
		return len(records(t, logs.bytes(), "push to redis failed, retrying")) > 0
	})
	cancel()
	if err := waitDone(t, done, logs); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}

	summary := lastRecord(t, logs.bytes(), "shutdown timeout ended before every trade was pushed")
	if got := intField(t, summary, "produced"); got != 50 {
		t.Errorf("summary produced = %d, want the 50 trades of the first burst", got)
	}
	if got := intField(t, summary, "waiting"); got != 50 {
		t.Errorf("summary waiting = %d, want 50 unpushed trades", got)
	}
	if got := records(t, logs.bytes(), "trading server stopped"); len(got) != 0 {
		t.Errorf("logged %q after the timeout, want only the error summary", "trading server stopped")
	}
}

func TestRun_LogsProgress(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := testConfig(t, map[string]string{
		"REDIS_URL": srv.URL(), "QUEUE_KEY": testQueue, "HTTP_ADDR": "",
		"MODE": "steady", "STEADY_RATE": "1000",
	})
	cfg.ProgressInterval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs, done := startRun(t, ctx, cfg)
	waitFor(t, "a progress line with pushed trades", func() bool {
		for _, rec := range records(t, logs.bytes(), "progress") {
			if n, _ := rec["pushed"].(float64); n > 0 {
				return true
			}
		}
		return false
	})
	cancel()
	if err := waitDone(t, done, logs); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}

	for _, rec := range records(t, logs.bytes(), "progress") {
		produced := intField(t, rec, "produced")
		pushed := intField(t, rec, "pushed")
		if waiting := intField(t, rec, "waiting"); waiting != produced-pushed {
			t.Errorf("progress waiting = %d, want produced %d - pushed %d", waiting, produced, pushed)
		}
		if _, ok := rec["queue_length"]; !ok {
			t.Errorf("progress line %v has no queue_length", rec)
		}
	}
}
