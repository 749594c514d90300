package main

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

func (b *bench) limiter(ctx context.Context) error {
	var single, batched, gcra, gcraBatched, batchedRatio, singleRatio []float64
	for run := range b.s.Runs {
		res, err := runLimiter(ctx, b.dir("limiter"), b.repoRoot, b.s.LimiterTime)
		if err != nil {
			return err
		}
		b.logger.Info("limiter run", "run", run+1, "single", int(res.Single), "batched", int(res.Batched), "redis_rate", int(res.GCRA))
		single = append(single, res.Single)
		batched = append(batched, res.Batched)
		gcra = append(gcra, res.GCRA)
		gcraBatched = append(gcraBatched, res.GCRABatched)
		batchedRatio = append(batchedRatio, ratio(res.Batched, res.GCRA))
		singleRatio = append(singleRatio, ratio(res.Single, res.GCRA))
	}
	r := b.r
	r.printf("## Limiter: admissions per second\n\n")
	r.printf("%d goroutines on one private redis-server, %s per variant, a limit no variant reaches. Our script is the publisher's group.lua with one log, one entry per call. Ratios are per run, then the median.\n\n", limiterConcurrency, b.s.LimiterTime)
	r.printf("| variant | admissions/s | ratio to redis_rate Allow |\n|---|---:|---:|\n")
	r.printf("| our script, n=1 per call | %.0f | %.2f |\n", median(single), median(singleRatio))
	r.printf("| our script, n=%d per call | %.0f | %.2f |\n", limiterBatch, median(batched), median(batchedRatio))
	r.printf("| redis_rate v10 Allow (GCRA), n=1 | %.0f | 1.00 |\n", median(gcra))
	r.printf("| redis_rate v10 AllowN, n=%d | %.0f | %.2f |\n\n", limiterBatch, median(gcraBatched), ratio(median(gcraBatched), median(gcra)))
	return nil
}

// pipelineConsumers returns the rows of the pipeline table.
func (b *bench) pipelineConsumers() []consumer {
	rows := []consumer{
		{Name: "baseline, 1 process", Baseline: true, Replicas: 1},
		{Name: "baseline, 3 processes", Baseline: true, Replicas: 3},
		{Name: "publisher, 1 replica, BATCH_SIZE=1", Replicas: 1, Settings: map[string]string{"BATCH_SIZE": "1"}},
		{Name: "publisher, 3 replicas, BATCH_SIZE=1", Replicas: 3, Settings: map[string]string{"BATCH_SIZE": "1"}},
	}
	if b.s.BatchSize > 0 {
		size := strconv.Itoa(b.s.BatchSize)
		rows = append(rows,
			consumer{Name: "publisher, 1 replica, BATCH_SIZE=" + size, Replicas: 1, Settings: map[string]string{"BATCH_SIZE": size}},
			consumer{Name: "publisher, 3 replicas, BATCH_SIZE=" + size, Replicas: 3, Settings: map[string]string{"BATCH_SIZE": size}},
		)
	}
	return rows
}

func (b *bench) pipeline(ctx context.Context) error {
	rows := b.pipelineConsumers()
	type summary struct {
		rate, consumerCPU, redisCPU, emulatorCPU, share, roundTrips float64
		rates                                                       []float64
	}
	results := make([]summary, len(rows))
	// The runs interleave the rows, so a slow minute of a shared machine
	// spreads over every row instead of hitting one.
	for run := range b.s.Runs {
		for i, c := range rows {
			trades := b.s.Trades
			switch {
			case c.Baseline:
				trades = b.s.BaselineTrades
			case c.Settings["BATCH_SIZE"] == "1":
				trades = b.s.UnbatchedTrades
			}
			res, err := runPipeline(ctx, b.dir("pipeline"), b.bin, c, trades)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
			b.logger.Info("pipeline run", "run", run+1, "consumer", c.Name, "trades_per_second", int(res.TradesPerSecond))
			results[i].rates = append(results[i].rates, res.TradesPerSecond)
			results[i].consumerCPU += res.CPUPer100k["consumers"] / float64(b.s.Runs)
			results[i].redisCPU += res.CPUPer100k["redis"] / float64(b.s.Runs)
			results[i].emulatorCPU += res.CPUPer100k["emulator"] / float64(b.s.Runs)
			results[i].share += res.EmulatorShare / float64(b.s.Runs)
		}
	}
	for i, c := range rows {
		trips, err := roundTripsPerTrade(ctx, b.dir("round-trips"), b.bin, c, b.s.RoundTripTrades)
		if err != nil {
			return fmt.Errorf("%s: round trips: %w", c.Name, err)
		}
		results[i].roundTrips = trips
		results[i].rate = median(results[i].rates)
	}
	r := b.r
	r.printf("## Pipeline: trades per second from the queue into the emulator\n\n")
	r.printf("A backlog of %d trades (BATCH_SIZE=1: %d, baseline: %d) pushed into a fresh redis-server and emulator, RATE_LIMIT %d; the rate is counted from the first push to the emulator's last acceptance. CPU is user+system from /proc/<pid>/stat over the same interval, mean of the runs. Round trips are counted in a separate run of %d trades under redis-cli MONITOR, leaving out commands run inside Lua scripts and the benchmark's RPUSH calls.\n\n",
		b.s.Trades, b.s.UnbatchedTrades, b.s.BaselineTrades, highLimit, b.s.RoundTripTrades)
	r.printf("| consumer | trades/s (median) | ratio to baseline, same process count | Redis round trips/trade | CPU s/100k: consumers | redis | emulator | emulator share of CPU |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, c := range rows {
		base := results[0].rate
		if c.Replicas == 3 {
			base = results[1].rate
		}
		res := results[i]
		r.printf("| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f%% |\n",
			c.Name, res.rate, ratio(res.rate, base), res.roundTrips, res.consumerCPU, res.redisCPU, res.emulatorCPU, 100*res.share)
	}
	r.printf("\n")
	return nil
}

func (b *bench) latency(ctx context.Context) error {
	interval := 40 * time.Millisecond
	rows := []consumer{
		{Name: "publisher, 1 replica, BATCH_SIZE=1", Replicas: 1, Settings: map[string]string{"BATCH_SIZE": "1"}},
		{Name: "baseline, 1 process", Baseline: true, Replicas: 1},
	}
	if b.s.BatchSize > 0 {
		rows = append(rows, consumer{Name: "publisher, 1 replica, BATCH_SIZE=" + strconv.Itoa(b.s.BatchSize),
			Replicas: 1, Settings: map[string]string{"BATCH_SIZE": strconv.Itoa(b.s.BatchSize)}})
	}
	r := b.r
	r.printf("## Latency on a quiet queue\n\n")
	r.printf("%d trades pushed one at a time, %s apart (25/s, under RATE_LIMIT 50), from RPUSH to the emulator's receivedAt; median over runs of each run's percentile.\n\n", b.s.LatencyCount, interval)
	r.printf("| consumer | p50 | p99 |\n|---|---:|---:|\n")
	for _, c := range rows {
		var p50, p99 []float64
		for run := range b.s.Runs {
			res, err := runLatency(ctx, b.dir("latency"), b.bin, c, b.s.LatencyCount, interval)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
			b.logger.Info("latency run", "run", run+1, "consumer", c.Name, "p50", res.P50, "p99", res.P99)
			p50 = append(p50, float64(res.P50))
			p99 = append(p99, float64(res.P99))
		}
		r.printf("| %s | %s | %s |\n", c.Name, time.Duration(median(p50)).Round(10*time.Microsecond), time.Duration(median(p99)).Round(10*time.Microsecond))
	}
	r.printf("\n")
	return nil
}

func (b *bench) accuracy(ctx context.Context) error {
	r := b.r
	r.printf("## Limit accuracy with a backlog\n\n")
	r.printf("BATCH_SIZE %d. Each run keeps a backlog for %s. \"max in log\" is the largest count of admissions in any sliding 1-second window of the limiter log's last scores (the end of each publish), \"max at emulator\" the same over the emulator's receivedAt (the emulator's own limit is set to twice RATE_LIMIT, so an excess would show as a count, not a rejection). Use is one second over the mean time from each arrival at the emulator to the arrival RATE_LIMIT places later: 100%% when every such span is exactly one window. Max columns are the maximum over %d runs, use is the median.\n\n",
		max(b.s.BatchSize, 1), b.s.AccuracyTime, b.s.AccuracyRuns)
	r.printf("| RATE_LIMIT | replicas | RATE_MARGIN | max in log | max at emulator | emulator maxInAnySecond | rejected | use |\n|---:|---:|---|---:|---:|---:|---:|---:|\n")
	for _, limit := range []int{50, 500} {
		for _, replicas := range []int{1, 2, 4, 8} {
			for _, margin := range []string{"", "0s"} {
				var maxLog, maxEmu, rejected int
				var maxStat int64
				var uses []float64
				for run := range b.s.AccuracyRuns {
					res, err := runAccuracy(ctx, b.dir("accuracy"), b.bin, limit, replicas, max(b.s.BatchSize, 1), margin, b.s.AccuracyTime)
					if err != nil {
						return fmt.Errorf("limit %d, %d replicas: %w", limit, replicas, err)
					}
					b.logger.Info("accuracy run", "run", run+1, "limit", limit, "replicas", replicas, "margin", margin,
						"max_in_log", res.MaxInLog, "max_at_emulator", res.MaxAtEmulator, "use", res.Use)
					maxLog = max(maxLog, res.MaxInLog)
					maxEmu = max(maxEmu, res.MaxAtEmulator)
					maxStat = max(maxStat, res.EmulatorMaxInAnySecond)
					rejected += res.Rejected
					uses = append(uses, res.Use)
				}
				label := "default (10ms)"
				if margin != "" {
					label = margin
				}
				r.printf("| %d | %d | %s | %d | %d | %d | %d | %.1f%% |\n", limit, replicas, label, maxLog, maxEmu, maxStat, rejected, 100*median(uses))
			}
		}
	}
	r.printf("\n")
	return nil
}

func (b *bench) memory(ctx context.Context) error {
	r := b.r
	settle := 4 * time.Second
	r.printf("## Memory at steady state\n\n")
	r.printf("One replica with BATCH_SIZE %d and a backlog, read after %s. The emulator keeps every accepted message for inspection, so its figure grows with the messages it received.\n\n", max(b.s.BatchSize, 1), settle)
	r.printf("| RATE_LIMIT | replica RSS | emulator RSS | limiter log MEMORY USAGE | log entries |\n|---:|---:|---:|---:|---:|\n")
	for _, limit := range []int{50, 500, 5000, 50000} {
		var replica, emulator, logBytes, entries []float64
		for run := range b.s.Runs {
			res, err := runMemory(ctx, b.dir("memory"), b.bin, limit, max(b.s.BatchSize, 1), settle)
			if err != nil {
				return fmt.Errorf("limit %d: %w", limit, err)
			}
			b.logger.Info("memory run", "run", run+1, "limit", limit, "replica_rss", res.ReplicaRSS, "log_bytes", res.LogBytes)
			replica = append(replica, float64(res.ReplicaRSS))
			emulator = append(emulator, float64(res.EmulatorRSS))
			logBytes = append(logBytes, float64(res.LogBytes))
			entries = append(entries, float64(res.LogEntries))
		}
		r.printf("| %d | %s | %s | %s | %.0f |\n", limit, size(median(replica)), size(median(emulator)), size(median(logBytes)), median(entries))
	}
	r.printf("\n")
	return nil
}

func (b *bench) channels(ctx context.Context) error {
	const (
		channelLimit = 50
		accountLimit = 500
		replicas     = 3
	)
	batchSize := max(b.s.BatchSize, 1)
	r := b.r
	r.printf("## Many channels\n\n")
	r.printf("CHANNEL_NAME=trades:{symbol} over %d symbols, CHANNEL_RATE_LIMIT %d, ACCOUNT_RATE_LIMIT %d, %d replicas, BATCH_SIZE %d, a backlog for %s. The emulator's channel limit is %d, so an excess shows as a count. Peaks are the maximum over %d runs, the rate the median.\n\n",
		len(symbols), channelLimit, accountLimit, replicas, batchSize, b.s.AccuracyTime, 2*channelLimit, b.s.AccuracyRuns)
	var rates []float64
	var maxChannel, maxAccount, rejected int
	for run := range b.s.AccuracyRuns {
		res, err := runChannels(ctx, b.dir("channels"), b.bin, replicas, channelLimit, accountLimit, batchSize, b.s.AccuracyTime)
		if err != nil {
			return err
		}
		b.logger.Info("channels run", "run", run+1, "rate", int(res.Rate), "max_channel", res.MaxChannel, "max_account", res.MaxAccount)
		rates = append(rates, res.Rate)
		maxChannel = max(maxChannel, res.MaxChannel)
		maxAccount = max(maxAccount, res.MaxAccount)
		rejected += res.Rejected
	}
	r.printf("| aggregate rate | share of the account limit | max of one channel in any 1s | max of all channels in any 1s | rejected |\n|---:|---:|---:|---:|---:|\n")
	r.printf("| %.0f/s | %.1f%% | %d | %d | %d |\n\n", median(rates), 100*median(rates)/accountLimit, maxChannel, maxAccount, rejected)
	return nil
}
