package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

const testQueueKey = "trades"

// metricsServer serves a fresh registry with the publisher metrics and
// the trading server's produced counter, so that it can stand in for
// either service. It returns the server and both sets of metrics.
func metricsServer(tb testing.TB) (*httptest.Server, *metrics.Trading, *metrics.Publisher) {
	tb.Helper()
	reg := metrics.NewRegistry()
	// The trading server set is not registered whole, because its queue
	// gauges have the same names as the publisher's.
	trading := metrics.NewTrading(nil)
	publisher := metrics.NewPublisher(reg)
	reg.MustRegister(trading.Produced)
	srv := httptest.NewServer(metrics.Handler(reg, slog.New(slog.NewTextHandler(io.Discard, nil))))
	tb.Cleanup(srv.Close)
	return srv, trading, publisher
}

func newTestSampler(tb testing.TB, cfg stack.SamplerConfig) *stack.Sampler {
	tb.Helper()
	sampler, err := stack.NewSampler(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sampler.Close() })
	return sampler
}

func sample(tb testing.TB, sampler *stack.Sampler) stack.Status {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	st, err := sampler.Sample(ctx)
	if err != nil {
		tb.Fatalf("sample: %v", err)
	}
	return st
}

func TestSampler_ReadsRedisAndMetrics(t *testing.T) {
	rs := redistest.Start(t, redistest.Options{})
	rdb := rs.Client()
	ctx := t.Context()
	if err := rdb.RPush(ctx, keys.Queue(testQueueKey), "a", "b", "c").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.RPush(ctx, keys.Dead(testQueueKey), "x").Err(); err != nil {
		t.Fatal(err)
	}
	for replica, n := range map[string]int{"publisher-1": 2, "publisher-2": 1} {
		for range n {
			if err := rdb.RPush(ctx, keys.Processing(testQueueKey, replica), "held").Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	now, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	// Two admissions in the current window and one long before it.
	for i, at := range []time.Time{now, now.Add(-100 * time.Millisecond), now.Add(-time.Hour)} {
		member := redis.Z{Score: float64(at.UnixMicro()), Member: "request:" + strconv.Itoa(i)}
		if err := rdb.ZAdd(ctx, keys.RateLog(testQueueKey), member).Err(); err != nil {
			t.Fatal(err)
		}
	}

	tradingSrv, trading, _ := metricsServer(t)
	trading.Produced.Add(40)
	pub1Srv, _, pub1 := metricsServer(t)
	pub1.Published.Add(10)
	pub1.Retry(42910)
	pub1.DeadLetter(metrics.ReasonMalformed)
	pub2Srv, _, pub2 := metricsServer(t)
	pub2.Published.Add(15)
	pub2.Retry(0)
	pub2.Retry(50000)

	sampler := newTestSampler(t, stack.SamplerConfig{
		RedisURL:  rs.URL(),
		QueueKey:  testQueueKey,
		RateLimit: 50,
		Trading:   stack.Target{Name: "trading-server", URL: tradingSrv.URL},
		Publishers: []stack.Target{
			{Name: "publisher-1", URL: pub1Srv.URL},
			{Name: "publisher-2", URL: pub2Srv.URL},
		},
	})
	first := sample(t, sampler)

	t.Run("redis", func(t *testing.T) {
		if first.Queued != 3 {
			t.Errorf("queued = %d, want 3", first.Queued)
		}
		if first.Dead != 1 {
			t.Errorf("dead = %d, want 1", first.Dead)
		}
		if first.Processing != 3 {
			t.Errorf("processing = %d, want the 3 trades in the two replicas' lists", first.Processing)
		}
		if first.InWindow != 2 {
			t.Errorf("in window = %d, want the 2 admissions of the last second", first.InWindow)
		}
	})
	t.Run("batched log", func(t *testing.T) {
		// With BATCH_SIZE above 1 the counts hash gives each entry's
		// admissions. The entry of an hour ago and the hash's running
		// total, which only a replica holding trades trims, do not count.
		counts := map[string]any{"request:0": 70, "request:1": 50, "request:2": 999, "total": 1119}
		if err := rdb.HSet(ctx, keys.RateCounts(testQueueKey), counts).Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rdb.Del(context.WithoutCancel(ctx), keys.RateCounts(testQueueKey)) })
		if got := sample(t, sampler).InWindow; got != 120 {
			t.Errorf("in window = %d, want the 70 + 50 admissions of the entries in the last second", got)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		if first.Produced != 40 {
			t.Errorf("produced = %d, want 40", first.Produced)
		}
		if first.Published != 25 {
			t.Errorf("published = %d, want 10 + 15", first.Published)
		}
		if first.PublishedBy["publisher-1"] != 10 || first.PublishedBy["publisher-2"] != 15 {
			t.Errorf("published by replica = %v, want publisher-1 10 and publisher-2 15", first.PublishedBy)
		}
		if first.Retries != 3 {
			t.Errorf("retries = %d, want 3 summed over the replicas", first.Retries)
		}
		if first.DeadLettered != 1 {
			t.Errorf("dead-lettered = %d, want 1", first.DeadLettered)
		}
		if len(first.Unreachable) != 0 {
			t.Errorf("unreachable = %v, want none", first.Unreachable)
		}
	})

	// A replica that stops responding keeps its last counts in the totals.
	pub2.Published.Add(5)
	pub1.Published.Add(1)
	pub2Srv.Close()
	second := sample(t, sampler)
	t.Run("unreachable replica", func(t *testing.T) {
		if !slices.Equal(second.Unreachable, []string{"publisher-2"}) {
			t.Errorf("unreachable = %v, want [publisher-2]", second.Unreachable)
		}
		if second.PublishedBy["publisher-2"] != 15 {
			t.Errorf("publisher-2 published = %d, want its last value 15", second.PublishedBy["publisher-2"])
		}
		if second.Published != 26 {
			t.Errorf("published = %d, want 11 + 15", second.Published)
		}
		if first.PublishedBy["publisher-1"] != 10 {
			t.Errorf("the first sample's map changed to %v; samples must not share it", first.PublishedBy)
		}
	})
}

func TestLine_FitsEightyColumns(t *testing.T) {
	sampler := newTestSampler(t, stack.SamplerConfig{RedisURL: "redis://127.0.0.1:1", QueueKey: testQueueKey, RateLimit: 50})
	at := time.Date(2025, 3, 14, 23, 59, 58, 0, time.UTC)
	prev := stack.Status{At: at, Published: 0}
	cur := stack.Status{
		At:        at.Add(time.Second),
		Queued:    999_999,
		InWindow:  50,
		Published: 99_999,
		Retries:   999_999,
		Dead:      999_999,
	}
	line := sampler.Line(prev, cur)
	if len(line) > 80 {
		t.Errorf("line of %d columns, want at most 80: %q", len(line), line)
	}
	for _, want := range []string{"23:59:59", "999999", "99999.0/s", "100%", "retries 999999", "dead 999999"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q does not contain %q", line, want)
		}
	}
}

func TestSummary_ShowsTotalsWithinEightyColumns(t *testing.T) {
	started := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	last := stack.Status{
		At:           started.Add(125 * time.Second),
		Queued:       7,
		Dead:         4,
		Produced:     6011,
		Published:    6000,
		PublishedBy:  map[string]int64{"publisher-2": 2100, "publisher-1": 1900, "publisher-3": 2000},
		Retries:      12,
		DeadLettered: 4,
		Channel: stack.ChannelStats{
			Accepted:       6000,
			Duplicates:     2,
			MaxInAnySecond: 50,
			Rejected:       map[string]int64{"rate_limit": 0, "injected": 3},
		},
	}
	record := runRecord{started: started, last: last, maxPerSecond: 49.6}

	cases := []struct {
		name     string
		emulator bool
		want     []string
		absent   []string
	}{
		{
			name:     "emulator",
			emulator: true,
			want: []string{
				"run of 2m5s", "produced", "6011", "published", "6000 accepted by the emulator",
				"max in any second", "limit 50", "retries", "12", "dead-lettered", "4 in the dead-letter list",
				"still queued", "rejected by Ably", "injected 3", "duplicates dropped",
				"publisher-1", "1900", "publisher-2", "2100", "publisher-3",
			},
			absent: []string{"rate_limit", "max in one sample"},
		},
		{
			name:     "real Ably",
			emulator: false,
			want:     []string{"published", "6000", "max in one sample", "50", "publisher-3"},
			absent:   []string{"rejected by Ably", "duplicates", "emulator"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			writeSummary(&out, summaryInput{record: record, rateLimit: 50, emulator: tc.emulator})
			text := out.String()
			for _, line := range strings.Split(text, "\n") {
				if len(line) > 80 {
					t.Errorf("summary line of %d columns, want at most 80: %q", len(line), line)
				}
			}
			for _, want := range tc.want {
				if !strings.Contains(text, want) {
					t.Errorf("summary does not contain %q:\n%s", want, text)
				}
			}
			for _, absent := range tc.absent {
				if strings.Contains(text, absent) {
					t.Errorf("summary contains %q:\n%s", absent, text)
				}
			}
			if i1, i2 := strings.Index(text, "publisher-1"), strings.Index(text, "publisher-2"); i1 > i2 {
				t.Errorf("replicas are not sorted by id:\n%s", text)
			}
		})
	}
}

func TestStatusWriter_Modes(t *testing.T) {
	t.Run("live", func(t *testing.T) {
		var out bytes.Buffer
		sw := &statusWriter{w: &out, live: true}
		sw.Update("one")
		sw.Update("two")
		sw.Note("warning")
		sw.Finish()
		want := clearLine + "one" + clearLine + "two" + clearLine + "warning\ntwo\n"
		if out.String() != want {
			t.Errorf("output = %q, want %q", out.String(), want)
		}
	})
	t.Run("lines", func(t *testing.T) {
		var out bytes.Buffer
		sw := &statusWriter{w: &out, live: false}
		sw.Update("one")
		sw.Note("warning")
		sw.Update("two")
		sw.Finish()
		if want := "one\nwarning\ntwo\n"; out.String() != want {
			t.Errorf("output = %q, want %q", out.String(), want)
		}
	})
}
