package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/redistest"
)

// scrapeApp reads the app's /metrics, and returns nil while the app does
// not listen yet or the scrape fails.
func scrapeApp(tb testing.TB, addr string) metrics.Families {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	families, err := metrics.Scrape(ctx, http.DefaultClient, "http://"+addr+"/metrics")
	if err != nil {
		tb.Logf("scrape: %v", err)
		return nil
	}
	return families
}

func TestApp_ServesMetrics(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	cfg := testConfig(t, srv, emu, emu.URL)
	rdb := srv.Client()
	for _, id := range []string{"metrics-1", "metrics-2", "metrics-3"} {
		pushTrade(t, rdb, cfg.Redis.QueueKey, id)
	}
	if err := rdb.RPush(t.Context(), keys.Queue(cfg.Redis.QueueKey), "not json").Err(); err != nil {
		t.Fatal(err)
	}
	startApp(t, cfg)

	var families metrics.Families
	waitFor(t, "3 published trades and 1 dead letter in /metrics", func() bool {
		families = scrapeApp(t, cfg.HTTPAddr)
		return families.Value(metrics.TradesPublished) == 3 &&
			families.Value(metrics.TradesDeadLettered) == 1
	})
	// The queue gauges are sampled every few seconds.
	waitFor(t, "the dead-letter gauge to show the dead letter", func() bool {
		families = scrapeApp(t, cfg.HTTPAddr)
		return families.Value(metrics.DeadLetterLength) == 1
	})

	for _, name := range metrics.PublisherNames {
		if name == metrics.PublishRetries {
			// A labelled counter without a retry has no series yet.
			continue
		}
		if !families.Has(name) {
			t.Errorf("/metrics does not expose %s", name)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if !families.Has(name) {
			t.Errorf("/metrics does not expose %s", name)
		}
	}
	if got := families.Value(metrics.TradesTaken); got != 4 {
		t.Errorf("%s = %v, want 4", metrics.TradesTaken, got)
	}
	if got := families.Value(metrics.TradesDeadLettered, metrics.LabelReason, metrics.ReasonMalformed); got != 1 {
		t.Errorf("%s{reason=malformed} = %v, want 1", metrics.TradesDeadLettered, got)
	}
	if got := families.Value(metrics.QueueLength); got != 0 {
		t.Errorf("%s = %v, want 0", metrics.QueueLength, got)
	}
	if got := families.Value(metrics.LimiterAdmissions); got != 3 {
		t.Errorf("%s = %v, want 3", metrics.LimiterAdmissions, got)
	}
}
