package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/trade"
)

// pipelineCounts are the counters of one scrape of every process, summed
// over the publisher replicas.
type pipelineCounts struct {
	produced, pushed                          float64
	taken, published, deadLettered, recovered float64
	malformed, rejected, retries, admissions  float64
	takeovers                                 float64
	publishes, batchMessages                  uint64
	queueGauge, deadGauge                     []float64
	publishedBy                               map[string]float64
}

// scrapeURL reads one /metrics endpoint.
func scrapeURL(tb testing.TB, url string) metrics.Families {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	families, err := metrics.Scrape(ctx, http.DefaultClient, url+"/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	return families
}

// scrapePipeline reads the publishers first and the trading server last,
// so that every trade the publishers counted was produced before the
// trading server's counters were read.
func scrapePipeline(tb testing.TB, s *stack.Stack) pipelineCounts {
	tb.Helper()
	c := pipelineCounts{publishedBy: map[string]float64{}}
	for _, p := range s.Publishers {
		f := scrapeURL(tb, p.URL)
		c.taken += f.Value(metrics.TradesTaken)
		c.published += f.Value(metrics.TradesPublished)
		c.publishedBy[p.ID] = f.Value(metrics.TradesPublished)
		c.deadLettered += f.Value(metrics.TradesDeadLettered)
		c.malformed += f.Value(metrics.TradesDeadLettered, metrics.LabelReason, metrics.ReasonMalformed)
		c.rejected += f.Value(metrics.TradesDeadLettered, metrics.LabelReason, metrics.ReasonRejected)
		c.recovered += f.Value(metrics.TradesRecovered)
		c.retries += f.Value(metrics.PublishRetries)
		c.admissions += f.Value(metrics.LimiterAdmissions)
		c.takeovers += f.Value(metrics.LeaseTakeovers)
		c.publishes += f.SampleCount(metrics.PublishDuration)
		c.batchMessages += uint64(f.SampleSum(metrics.PublishBatchSize))
		c.queueGauge = append(c.queueGauge, f.Value(metrics.QueueLength))
		c.deadGauge = append(c.deadGauge, f.Value(metrics.DeadLetterLength))
	}
	f := scrapeURL(tb, s.TradingURL)
	c.produced = f.Value(metrics.TradesProduced)
	c.pushed = f.Value(metrics.TradesPushed)
	c.queueGauge = append(c.queueGauge, f.Value(metrics.QueueLength))
	c.deadGauge = append(c.deadGauge, f.Value(metrics.DeadLetterLength))
	return c
}

// allEqual reports whether every value is want.
func allEqual(values []float64, want float64) bool {
	for _, v := range values {
		if v != want {
			return false
		}
	}
	return len(values) > 0
}

func TestMetrics_CountersAddUp(t *testing.T) {
	const (
		trades    = 400
		rateLimit = 100
		replicas  = 3
		queueKey  = "myJobQueue"
		channel   = "trades"
	)
	s := startStack(t, stack.Options{
		Replicas:        replicas,
		RateLimit:       rateLimit,
		NoTradingServer: true,
		EmulatorEnv:     map[string]string{"EMULATOR_CHANNEL_RATE": strconv.Itoa(rateLimit)},
		// The margin absorbs the variation of the delay from admission to
		// arrival at the emulator on a busy machine, as in the pipeline
		// test, so that the emulator rejects nothing for rate.
		PublisherEnv: map[string]string{"RATE_MARGIN": "150ms"},
	})
	rdb := redisClient(t, s)

	// Entries that are no trade reach the dead-letter list, not Ably.
	malformed := []any{"not json", `{"id":"m-1","price":"abc"}`, `{"unknown":true}`, "[1,2,3]", ""}
	if err := rdb.RPush(t.Context(), keys.Queue(queueKey), malformed...).Err(); err != nil {
		t.Fatalf("push malformed entries: %v", err)
	}
	// One burst, then an hour of quiet, so that the trading server keeps
	// serving /metrics with a fixed count.
	err := s.StartTradingServer(map[string]string{
		"MODE":           "burst",
		"PUBLISH_RATE":   strconv.Itoa(trades),
		"BURST_INTERVAL": "1h",
		"PRODUCER_ID":    "metrics",
	})
	if err != nil {
		t.Fatal(err)
	}
	extra := float64(len(malformed))

	// During the run: every counter only grows, and nothing is counted as
	// published or dead-lettered before it was produced or pushed.
	var prev pipelineCounts
	midRun := 0
	waitFor(t, 3*time.Minute, "every trade to be published", func() (bool, string) {
		cur := scrapePipeline(t, s)
		for name, pair := range map[string][2]float64{
			"produced":      {prev.produced, cur.produced},
			"pushed":        {prev.pushed, cur.pushed},
			"taken":         {prev.taken, cur.taken},
			"published":     {prev.published, cur.published},
			"dead-lettered": {prev.deadLettered, cur.deadLettered},
			"retries":       {prev.retries, cur.retries},
			"admissions":    {prev.admissions, cur.admissions},
		} {
			if pair[1] < pair[0] {
				t.Errorf("%s fell from %v to %v between two scrapes", name, pair[0], pair[1])
			}
		}
		if cur.published+cur.deadLettered > cur.pushed+extra {
			t.Errorf("published %v + dead-lettered %v exceed pushed %v + %v malformed entries",
				cur.published, cur.deadLettered, cur.pushed, extra)
		}
		if cur.pushed > cur.produced {
			t.Errorf("pushed %v exceeds produced %v", cur.pushed, cur.produced)
		}
		if cur.published > 0 && cur.published < trades {
			midRun++
		}
		prev = cur
		return cur.published >= trades, "published " + strconv.FormatFloat(cur.published, 'f', 0, 64)
	})
	t.Logf("%d scrapes saw the run in progress", midRun)

	// The queue gauges are sampled every few seconds; wait for a sample
	// taken after the queue emptied.
	var end pipelineCounts
	waitFor(t, time.Minute, "the queue gauges to show the end state", func() (bool, string) {
		end = scrapePipeline(t, s)
		ok := allEqual(end.queueGauge, 0) && allEqual(end.deadGauge, extra)
		return ok, "queue gauges " + formatValues(end.queueGauge) + ", dead-letter gauges " + formatValues(end.deadGauge)
	})

	queued := rdb.LLen(t.Context(), keys.Queue(queueKey)).Val()
	dead := rdb.LLen(t.Context(), keys.Dead(queueKey)).Val()
	var processing int64
	for _, p := range s.Publishers {
		processing += rdb.LLen(t.Context(), keys.Processing(queueKey, p.ID)).Val()
	}
	stats := channelStats(t, s, channel)

	t.Run("trading server", func(t *testing.T) {
		if end.produced != trades {
			t.Errorf("produced = %v, want %d", end.produced, trades)
		}
		if end.pushed != end.produced {
			t.Errorf("pushed = %v, want the %v produced", end.pushed, end.produced)
		}
	})
	t.Run("conservation", func(t *testing.T) {
		// Every entry that entered the queue is published, dead-lettered,
		// still queued or in a processing list.
		in := end.produced + extra
		out := end.published + end.deadLettered + float64(queued) + float64(processing)
		if in != out {
			t.Errorf("produced %v + malformed %v = %v, want published %v + dead-lettered %v + queued %d + processing %d = %v",
				end.produced, extra, in, end.published, end.deadLettered, queued, processing, out)
		}
		if queued != 0 || processing != 0 {
			t.Errorf("queue holds %d and processing lists %d entries after the run, want 0", queued, processing)
		}
		if end.taken+end.recovered != end.published+end.deadLettered {
			t.Errorf("taken %v + recovered %v, want published %v + dead-lettered %v",
				end.taken, end.recovered, end.published, end.deadLettered)
		}
	})
	t.Run("dead letters", func(t *testing.T) {
		if end.deadLettered != extra {
			t.Errorf("dead-lettered = %v, want the %v malformed entries", end.deadLettered, extra)
		}
		if end.malformed != extra {
			t.Errorf("dead-lettered with reason %s = %v, want %v", metrics.ReasonMalformed, end.malformed, extra)
		}
		if float64(dead) != extra {
			t.Errorf("dead-letter list holds %d entries, want %v", dead, extra)
		}
	})
	t.Run("emulator", func(t *testing.T) {
		// The emulator counts a message as accepted, or as a duplicate
		// when its id was seen before. A run without faults sends each
		// trade once, so the emulator reports no duplicates, and
		// published equals accepted minus duplicates.
		if stats.Duplicates != 0 {
			t.Errorf("emulator dropped %d duplicates, want 0 in a run without faults", stats.Duplicates)
		}
		if end.published != float64(stats.Accepted-stats.Duplicates) {
			t.Errorf("published = %v, want emulator accepted %d - duplicates %d",
				end.published, stats.Accepted, stats.Duplicates)
		}
		ids := map[string]bool{}
		for _, m := range receivedMessages(t, s, channel) {
			var tr trade.Trade
			if err := json.Unmarshal(m.Data, &tr); err != nil {
				t.Fatalf("message %s: %v", m.ID, err)
			}
			ids[tr.ID] = true
		}
		if float64(len(ids)) != end.published {
			t.Errorf("emulator received %d distinct trades, want the %v published", len(ids), end.published)
		}
	})
	t.Run("publish attempts", func(t *testing.T) {
		// Every message of every publish request took one limiter slot.
		// In a run without faults no request is retried or rejected, so
		// the requests carried each published trade once.
		if end.admissions != float64(end.batchMessages) {
			t.Errorf("limiter admissions = %v, want the %d messages of all publish requests", end.admissions, end.batchMessages)
		}
		if end.retries != 0 || end.rejected != 0 {
			t.Errorf("publish retries %v and rejected trades %v, want 0 in a run without faults", end.retries, end.rejected)
		}
		if float64(end.batchMessages) != end.published {
			t.Errorf("messages in publish requests = %d, want the %v published trades", end.batchMessages, end.published)
		}
		if end.publishes == 0 || float64(end.publishes) > end.published {
			t.Errorf("publish requests = %d, want 1 to %v", end.publishes, end.published)
		}
		t.Logf("%d publish requests carried %v trades", end.publishes, end.published)
		if end.takeovers != 0 || end.recovered != 0 {
			t.Errorf("lease takeovers %v and recovered trades %v, want 0 in a run where no replica stops",
				end.takeovers, end.recovered)
		}
	})
	t.Run("replicas", func(t *testing.T) {
		var sum float64
		for id, n := range end.publishedBy {
			sum += n
			if n == 0 {
				t.Logf("replica %s published nothing", id)
			}
		}
		if sum != end.published || len(end.publishedBy) != replicas {
			t.Errorf("published by replica = %v, want %d replicas adding up to %v", end.publishedBy, replicas, end.published)
		}
	})
}

func formatValues(values []float64) string {
	out := "["
	for i, v := range values {
		if i > 0 {
			out += " "
		}
		out += strconv.FormatFloat(v, 'f', -1, 64)
	}
	return out + "]"
}
