package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably-fanout/lib/trade"
	"github.com/ably-fanout/trading-server/internal/generate"
	"github.com/ably-fanout/trading-server/internal/health"
	"github.com/ably-fanout/trading-server/internal/push"
	"github.com/ably-fanout/trading-server/internal/source"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Sentinel errors.
var (
	// errPusherStopped is returned to a source when the pusher has given
	// up, which happens only when the shutdown timeout ends.
	errPusherStopped = errors.New("pusher stopped")
	// errShuttingDown is the readiness error once SIGTERM or SIGINT has
	// arrived, so that Kubernetes stops routing to the pod while it drains.
	errShuttingDown = errors.New("shutting down")
)

// run generates trades and pushes them until ctx ends, the trade limit is
// reached or the replay file ends. After ctx ends it stops generating and
// gives the pusher cfg.ShutdownTimeout to push what was generated. It
// returns an error only if the server cannot start or the replay file
// cannot be read.
func run(ctx context.Context, cfg config, logger *slog.Logger) error {
	opts, err := cfg.Redis.Options()
	if err != nil {
		return err
	}
	client := redis.NewClient(opts)
	defer client.Close()

	reg := metrics.NewRegistry()
	m := metrics.NewTrading(reg)
	m.QueueMaxLength.Set(float64(cfg.MaxQueueLength))

	queueKey := keys.Queue(cfg.Redis.QueueKey)
	pusher, err := push.New(client, push.Config{
		QueueKey:       queueKey,
		MaxQueueLength: int64(cfg.MaxQueueLength),
		BatchSize:      cfg.PushBatch,
	}, m, logger)
	if err != nil {
		return err
	}
	src, replay, closeSource, err := newSource(cfg, logger)
	if err != nil {
		return err
	}
	defer closeSource()

	// Start order: HTTP server (probes and metrics), queue sampler,
	// pusher, progress log, source. Shutdown order: the source stops, the
	// pusher pushes what is left, the final progress line is logged, then
	// the deferred calls stop the queue sampler and the HTTP server.
	if cfg.HTTPAddr != "" {
		stopHTTP, err := startHTTPServer(ctx, cfg.HTTPAddr, client, pusher, reg, logger)
		if err != nil {
			return err
		}
		defer stopHTTP()
	}
	sampler := metrics.NewQueueSampler(client, cfg.Redis.QueueKey, m.Queue, metrics.DefaultSampleInterval, logger)
	sampler.Start()
	defer sampler.Shutdown()

	// The pusher outlives ctx: after SIGTERM it keeps pushing until the
	// input is drained or ShutdownTimeout has passed.
	pushCtx, cancelPush := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPush()
	in := make(chan trade.Trade, cfg.PushBatch)
	pushDone := make(chan error, 1)
	go func() {
		pushDone <- pusher.Run(pushCtx, in)
		cancelPush()
	}()
	go cancelAfterShutdownTimeout(ctx, pushCtx, cancelPush, cfg.ShutdownTimeout)

	prog := newProgress(client, queueKey, pusher, logger)
	prog.start(cfg.ProgressInterval)
	defer prog.shutdown()

	// emit counts a trade as produced as soon as the source has made it,
	// and then waits for room in the input even after ctx has ended, so a
	// trade made just before a shutdown is pushed like the others. Only
	// the shutdown timeout ends the wait.
	emit := func(t trade.Trade) error {
		n := prog.produced.Add(1)
		m.Produced.Inc()
		select {
		case in <- t:
		case <-pushCtx.Done():
			return errPusherStopped
		}
		if cfg.TradeLimit > 0 && n >= int64(cfg.TradeLimit) {
			return source.ErrLimitReached
		}
		return nil
	}
	stopLog := context.AfterFunc(ctx, func() {
		logger.Info("shutdown requested, stopping trade generation",
			slog.Duration("shutdown_timeout", cfg.ShutdownTimeout))
	})
	defer stopLog()
	logger.Info("trading server started",
		slog.String("mode", cfg.Mode), slog.String("producer_id", cfg.ProducerID))
	srcErr := src.Run(ctx, emit)
	stopReason := stopReason(ctx, srcErr)
	logger.Info("trade generation stopped, pushing the remaining trades",
		slog.String("reason", stopReason),
		slog.Int64("waiting", prog.produced.Load()-pusher.Stats().Pushed))
	close(in)
	pushErr := <-pushDone
	prog.shutdown()

	logSummary(logger, prog, replay, stopReason, pushErr, cfg.ShutdownTimeout)
	if srcErr != nil && !errors.Is(srcErr, source.ErrLimitReached) && !errors.Is(srcErr, errPusherStopped) {
		return srcErr
	}
	return nil
}

// startHTTPServer serves /healthz, /readyz and /metrics on addr and
// returns a function that shuts the server down. The server is ready
// until runCtx ends, while the last push succeeded (or none was made yet)
// and Redis responds to PING.
func startHTTPServer(runCtx context.Context, addr string, client *redis.Client, pusher *push.Pusher, reg *prometheus.Registry, logger *slog.Logger) (func(), error) {
	ready := func(ctx context.Context) error {
		if runCtx.Err() != nil {
			return errShuttingDown
		}
		if err := pusher.Err(); err != nil {
			return fmt.Errorf("last push failed: %w", err)
		}
		return client.Ping(ctx).Err()
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.Handler(reg, logger))
	mux.Handle("/", health.Handler(ready, logger))
	srv, err := health.Listen(addr, mux, logger)
	if err != nil {
		return nil, err
	}
	srv.Start()
	logger.Info("http server listening", slog.String("addr", srv.Addr()),
		slog.String("paths", "/healthz /readyz /metrics"))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			logger.Warn("http server shutdown failed", slog.Any("error", err))
		}
	}, nil
}

// logSummary logs the final counts of a run, at error level when the
// shutdown timeout left trades unpushed.
func logSummary(logger *slog.Logger, prog *progress, replay *source.Replay, reason string, pushErr error, shutdownTimeout time.Duration) {
	summary := append(prog.attrs(), slog.String("reason", reason))
	if replay != nil {
		stats := replay.Stats()
		summary = append(summary,
			slog.Int64("lines_read", stats.Lines),
			slog.Int64("lines_blank", stats.Blank),
			slog.Int64("lines_skipped", stats.Skipped))
	}
	if pushErr == nil {
		logger.Info("trading server stopped", summary...)
		return
	}
	// NOTE: a batch whose script ran just as the timeout ended may be in
	// Redis although it is not counted as pushed.
	logger.Error("shutdown timeout ended before every trade was pushed",
		append(summary, slog.Duration("shutdown_timeout", shutdownTimeout), slog.Any("error", pushErr))...)
}

// cancelAfterShutdownTimeout calls cancelPush once timeout has passed
// after ctx ended. It returns early when pushCtx ends first, which happens
// when the pusher has returned.
func cancelAfterShutdownTimeout(ctx, pushCtx context.Context, cancelPush context.CancelFunc, timeout time.Duration) {
	select {
	case <-ctx.Done():
	case <-pushCtx.Done():
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-t.C:
		cancelPush()
	case <-pushCtx.Done():
	}
}

// stopReason returns why the source stopped, for the log.
func stopReason(ctx context.Context, srcErr error) string {
	switch {
	case errors.Is(srcErr, source.ErrLimitReached):
		return "trade limit reached"
	case ctx.Err() != nil:
		return "signal"
	case srcErr != nil:
		return "source failed"
	default:
		return "replay file ended"
	}
}

// newSource returns the source for cfg.Mode, the Replay when the mode is
// replay, and a function that releases the source's file.
func newSource(cfg config, logger *slog.Logger) (source.Source, *source.Replay, func(), error) {
	if cfg.Mode == modeReplay {
		f, err := os.Open(cfg.ReplayFile)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open REPLAY_FILE: %w", err)
		}
		r, err := source.NewReplay(f, source.ReplayConfig{Rate: cfg.ReplayRate}, logger)
		if err != nil {
			_ = f.Close()
			return nil, nil, nil, err
		}
		return r, r, func() { _ = f.Close() }, nil
	}

	// The top-level functions of math/rand/v2 are randomly seeded, so each
	// run walks differently.
	rng := mathrand.New(mathrand.NewPCG(mathrand.Uint64(), mathrand.Uint64()))
	gen, err := generate.New(generate.Config{ProducerID: cfg.ProducerID, Symbols: cfg.Symbols}, rng, time.Now)
	if err != nil {
		return nil, nil, nil, err
	}
	var src source.Source
	if cfg.Mode == modeSteady {
		src, err = source.NewSteady(gen, cfg.SteadyRate)
	} else {
		src, err = source.NewBurst(gen, cfg.PublishRate, cfg.BurstInterval)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return src, nil, func() {}, nil
}
