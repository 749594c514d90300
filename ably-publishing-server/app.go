package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/ably-fanout/ably-publishing-server/internal/health"
	"github.com/ably-fanout/ably-publishing-server/internal/httpapi"
	"github.com/ably-fanout/ably-publishing-server/internal/lease"
	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/ably-publishing-server/internal/route"
	"github.com/ably-fanout/ably-publishing-server/internal/worker"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/redis/go-redis/v9"
)

// errGraceExceeded means shutdown did not finish within SHUTDOWN_GRACE.
var errGraceExceeded = errors.New("shutdown did not finish within SHUTDOWN_GRACE")

// app is the running publisher: the lease keeper, one worker, the queue
// sampler and the HTTP endpoints.
type app struct {
	cfg     Config
	logger  *slog.Logger
	health  *health.State
	redis   *redis.Client
	keeper  *lease.Keeper
	worker  *worker.Worker
	sampler *metrics.QueueSampler
	server  *http.Server
	// requestToken requests a token from Ably with the key, for
	// checkAblyKey.
	requestToken func(ctx context.Context) error
}

// stats is the body of GET /stats.
type stats struct {
	ReplicaID string       `json:"replica_id"`
	Worker    worker.Stats `json:"worker"`
	Lease     lease.Stats  `json:"lease"`
}

// newApp builds every component from cfg. It makes no network call, so a
// Redis or Ably outage at start only delays publishing.
func newApp(cfg Config, logger *slog.Logger) (*app, error) {
	redisOpts, err := cfg.Redis.Options()
	if err != nil {
		return nil, err
	}
	rdb := redis.NewClient(redisOpts)
	a, err := buildApp(cfg, logger, rdb)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return a, nil
}

func buildApp(cfg Config, logger *slog.Logger, rdb *redis.Client) (*app, error) {
	ablyClient, err := publish.NewClient(publish.ClientConfig{
		Key:            cfg.AblyKey,
		Endpoint:       cfg.AblyEndpoint,
		RequestTimeout: cfg.publishTimeout(),
		Logger:         logger,
	})
	if err != nil {
		return nil, err
	}

	reg := metrics.NewRegistry()
	m := metrics.NewPublisher(reg)

	lim, err := limiter.New(rdb, keys.RateLog(cfg.Redis.QueueKey), cfg.RateLimit, cfg.RateWindow,
		limiter.WithMargin(cfg.RateMargin), limiter.WithHold(cfg.limiterHold()),
		limiter.WithRequestPrefix(cfg.ReplicaID), limiter.WithMetrics(m))
	if err != nil {
		return nil, err
	}

	q := queue.New(rdb, cfg.Redis.QueueKey, cfg.ReplicaID)
	batching, err := newBatching(cfg, rdb, q, ablyClient, m, logger)
	if err != nil {
		return nil, err
	}
	router, err := route.New(cfg.ChannelName)
	if err != nil {
		return nil, err
	}

	state := &health.State{}
	w := worker.New(worker.Config{PublishTimeout: cfg.publishTimeout(), MaxRecoveries: cfg.MaxRecoveries, Batching: batching},
		q, lim, publish.New(ablyClient, cfg.ChannelName), state, m, logger)

	keeper, err := lease.New(lease.Config{TTL: cfg.LeaseTTL}, rdb, cfg.Redis.QueueKey, cfg.ReplicaID,
		w.NotifyRecovered, m, logger)
	if err != nil {
		return nil, err
	}

	api, err := httpapi.New(httpapi.Config{
		Channel:            router.Pattern(),
		Routed:             router.Routed(),
		Channels:           router.Channels(cfg.Fanout.Symbols),
		TokenTTL:           cfg.TokenTTL,
		ClientAblyEndpoint: cfg.ClientAblyEndpoint,
		Stats: func() any {
			return stats{ReplicaID: cfg.ReplicaID, Worker: w.Stats(), Lease: keeper.Stats()}
		},
	}, ablyClient.Auth, rdb, state, logger)
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(reg, logger))
	mux.Handle("/", api.Handler())

	return &app{
		cfg:     cfg,
		logger:  logger,
		health:  state,
		redis:   rdb,
		keeper:  keeper,
		worker:  w,
		sampler: metrics.NewQueueSampler(rdb, cfg.Redis.QueueKey, m.Queue, metrics.DefaultSampleInterval, logger),
		server:  httpapi.NewServer(cfg.HTTPAddr, mux),
		requestToken: func(ctx context.Context) error {
			_, err := ablyClient.Auth.RequestToken(ctx, nil)
			return err
		},
	}, nil
}

// run serves HTTP, keeps the lease and runs the worker until ctx ends, then
// shuts down. It returns an error when the HTTP listener fails or shutdown
// overruns SHUTDOWN_GRACE.
//
// Start order: HTTP server, queue sampler, Ably key check, lease keeper,
// then the worker once the lease is registered, so that every trade taken
// sits in a processing list that other replicas watch. The key check ends
// with ctx, and the queue sampler stops after shutdown, before the Redis
// client is closed.
func (a *app) run(ctx context.Context) error {
	defer a.redis.Close()

	listener, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR=%s: %w", a.cfg.HTTPAddr, err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.server.Serve(listener) }()
	a.logger.Info("http server listening", "addr", listener.Addr().String())
	a.sampler.Start()
	defer a.sampler.Shutdown()
	keyCheckDone := make(chan struct{})
	go func() {
		defer close(keyCheckDone)
		a.checkAblyKey(ctx, keyCheckRetry)
	}()
	defer func() { <-keyCheckDone }()

	// Both run on contexts of their own, so that shutdown stops them one
	// after the other.
	keeperCtx, stopKeeper := context.WithCancel(context.WithoutCancel(ctx))
	defer stopKeeper()
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		a.keeper.Run(keeperCtx)
	}()

	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		select {
		case <-a.keeper.Registered():
		case <-workerCtx.Done():
			return
		}
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
	if err := a.shutdown(stopWorker, workerDone, stopKeeper, keeperDone); err != nil {
		return err
	}
	return runErr
}
