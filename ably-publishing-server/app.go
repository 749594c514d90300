package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/health"
	"github.com/ably-fanout/ably-publishing-server/internal/httpapi"
	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/ably-publishing-server/internal/worker"
	"github.com/ably-fanout/lib/keys"
	"github.com/redis/go-redis/v9"
)

// errGraceExceeded means shutdown did not finish within SHUTDOWN_GRACE.
var errGraceExceeded = errors.New("shutdown did not finish within SHUTDOWN_GRACE")

// app is the running publisher: one worker and the HTTP endpoints.
type app struct {
	cfg    Config
	logger *slog.Logger
	health *health.State
	redis  *redis.Client
	worker *worker.Worker
	server *http.Server
}

// newApp builds every component from cfg. It makes no network call, so a
// Redis or Ably outage at start only delays publishing.
func newApp(cfg Config, logger *slog.Logger) (*app, error) {
	redisOpts, err := cfg.Redis.Options()
	if err != nil {
		return nil, err
	}
	rdb := redis.NewClient(redisOpts)

	ablyClient, err := publish.NewClient(publish.ClientConfig{
		Key:            cfg.AblyKey,
		Endpoint:       cfg.AblyEndpoint,
		RequestTimeout: cfg.publishTimeout(),
		Logger:         logger,
	})
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}

	lim, err := limiter.New(rdb, keys.RateLog(cfg.Redis.QueueKey), cfg.RateLimit, cfg.RateWindow,
		limiter.WithMargin(cfg.RateMargin), limiter.WithRequestPrefix(cfg.ReplicaID))
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}

	state := &health.State{}
	w := worker.New(worker.Config{PublishTimeout: cfg.publishTimeout()},
		queue.New(rdb, cfg.Redis.QueueKey, cfg.ReplicaID), lim,
		publish.New(ablyClient, cfg.ChannelName), state, logger)

	api, err := httpapi.New(httpapi.Config{
		Channel:            cfg.ChannelName,
		TokenTTL:           cfg.TokenTTL,
		ClientAblyEndpoint: cfg.ClientAblyEndpoint,
	}, ablyClient.Auth, rdb, state, logger)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}

	return &app{
		cfg:    cfg,
		logger: logger,
		health: state,
		redis:  rdb,
		worker: w,
		server: httpapi.NewServer(cfg.HTTPAddr, api.Handler()),
	}, nil
}

// run serves HTTP and runs the worker until ctx ends, then shuts down. It
// returns an error when the HTTP listener fails or shutdown overruns
// SHUTDOWN_GRACE.
func (a *app) run(ctx context.Context) error {
	defer a.redis.Close()

	listener, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR=%s: %w", a.cfg.HTTPAddr, err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.server.Serve(listener) }()
	a.logger.Info("http server listening", "addr", listener.Addr().String())

	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		_ = a.worker.Run(workerCtx)
	}()

	var runErr error
	select {
	case <-ctx.Done():
		a.logger.Info("shutdown started", "grace", a.cfg.ShutdownGrace)
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
		a.logger.Error("http server failed; shutting down", "error", err)
	}
	if err := a.shutdown(stopWorker, workerDone); err != nil {
		return err
	}
	return runErr
}

// shutdown stops the components in this order, within SHUTDOWN_GRACE:
//
//  1. /readyz returns 503, so Kubernetes stops routing to this replica.
//  2. The worker stops taking trades. A trade in flight is published and
//     acknowledged, or stays in the processing list for the next start.
//  3. The HTTP server stops after the worker, so /readyz reports the
//     shutdown until then, and finishes open requests.
//
// The Redis client is closed by run after this returns.
func (a *app) shutdown(stopWorker context.CancelFunc, workerDone <-chan struct{}) error {
	deadline := time.NewTimer(a.cfg.ShutdownGrace)
	defer deadline.Stop()

	a.health.SetShuttingDown()
	stopWorker()
	select {
	case <-workerDone:
	case <-deadline.C:
		a.logger.Error("worker did not stop within the grace; its trade stays in the processing list",
			"grace", a.cfg.ShutdownGrace)
		return errGraceExceeded
	}

	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
	defer cancel()
	httpDone := make(chan error, 1)
	go func() { httpDone <- a.server.Shutdown(ctx) }()
	select {
	case err := <-httpDone:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Warn("http server shutdown failed", "error", err)
		}
	case <-deadline.C:
		a.logger.Error("http server did not stop within the grace", "grace", a.cfg.ShutdownGrace)
		return errGraceExceeded
	}
	a.logger.Info("shutdown finished")
	return nil
}
