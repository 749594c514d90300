package push

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/redistest"
	"github.com/ably-fanout/lib/trade"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// logRecords returns the JSON log records whose msg is msg.
func logRecords(tb testing.TB, rec *logRecorder, msg string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(rec.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			tb.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if line["msg"] == msg {
			out = append(out, line)
		}
	}
	return out
}

func TestPusherMetrics_CountPushesAndFullQueue(t *testing.T) {
	const (
		bound = 10
		n     = 25
	)
	srv := redistest.Start(t, redistest.Options{})
	c := testClient(t, srv.Addr())
	p, _, m := newMeasuredPusher(t, c, Config{MaxQueueLength: bound, BatchSize: 5})
	in := make(chan trade.Trade, n)
	for i := 1; i <= n; i++ {
		in <- testTrade(i)
	}
	close(in)
	done := runPusher(t, p, in)

	waitFor(t, "the queue to fill up", func() bool { return testutil.ToFloat64(m.QueueFull) == 1 })
	if got := testutil.ToFloat64(m.Pushed); got != bound {
		t.Errorf("pushed while the queue is full = %v, want the bound %d", got, bound)
	}

	// Drain the queue until every trade has passed through it.
	var drained int
	waitFor(t, "every trade to pass through the queue", func() bool {
		items, err := c.LPopCount(t.Context(), testQueue, bound).Result()
		if err != nil && !isNil(err) {
			t.Fatalf("lpop: %v", err)
		}
		drained += len(items)
		return drained == n
	})
	waitRun(t, done)

	if got := testutil.ToFloat64(m.Pushed); got != n {
		t.Errorf("pushed = %v, want %d", got, n)
	}
	if got := testutil.ToFloat64(m.PushErrors); got != 0 {
		t.Errorf("push errors = %v, want 0", got)
	}
	if got, want := testutil.ToFloat64(m.QueueFull), float64(p.Stats().FullEpisodes); got != want {
		t.Errorf("queue full = %v, want the %v episodes of Stats", got, want)
	}
	// At least one round trip per batch of 5, plus the tries while full.
	if got := histogramCount(t, m); got < n/5 {
		t.Errorf("push duration observations = %d, want at least %d", got, n/5)
	}
}

func TestPusherMetrics_CountErrorsAndLogIDs(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	c := testClient(t, srv.Addr())
	p, logs, m := newMeasuredPusher(t, c, Config{BatchSize: 10})
	srv.Kill()

	in := make(chan trade.Trade, 10)
	for i := 1; i <= 4; i++ {
		in <- testTrade(i)
	}
	done := runPusher(t, p, in)
	waitFor(t, "two push errors", func() bool { return testutil.ToFloat64(m.PushErrors) >= 2 })
	if got := testutil.ToFloat64(m.Pushed); got != 0 {
		t.Errorf("pushed while Redis is down = %v, want 0", got)
	}

	srv.Restart()
	close(in)
	waitRun(t, done)
	if got := testutil.ToFloat64(m.Pushed); got != 4 {
		t.Errorf("pushed after recovery = %v, want 4", got)
	}
	if got, want := testutil.ToFloat64(m.PushErrors), float64(p.Stats().Errors); got != want {
		t.Errorf("push errors = %v, want the %v of Stats", got, want)
	}

	recs := logRecords(t, logs, "push to redis failed, retrying")
	if len(recs) == 0 {
		t.Fatal("no push error was logged")
	}
	first := recs[0]
	if first["first_trade_id"] != testTrade(1).ID {
		t.Errorf("error line first_trade_id = %v, want %s", first["first_trade_id"], testTrade(1).ID)
	}
	if first["last_trade_id"] != testTrade(4).ID {
		t.Errorf("error line last_trade_id = %v, want %s", first["last_trade_id"], testTrade(4).ID)
	}
	if first["error"] == nil || first["error"] == "" {
		t.Errorf("error line has no error: %v", first)
	}
}

// histogramCount returns the number of PushDuration observations.
func histogramCount(tb testing.TB, m *metrics.Trading) int {
	tb.Helper()
	var out dto.Metric
	if err := m.PushDuration.Write(&out); err != nil {
		tb.Fatalf("read push duration: %v", err)
	}
	return int(out.GetHistogram().GetSampleCount())
}
