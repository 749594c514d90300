package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ably-fanout/lib/backoff"
)

// httpShutdownReserve is the part of SHUTDOWN_GRACE kept for the HTTP
// server after the hand-back, at most a tenth of the grace.
const httpShutdownReserve = time.Second

// shutdown stops the components in this order, within SHUTDOWN_GRACE:
//
//  1. /readyz returns 503, so Kubernetes stops routing to this replica.
//  2. The worker stops taking trades. A trade in flight is published and
//     acknowledged, or stays in the processing list.
//  3. The lease keeper stops, so no more trades are taken over into the
//     processing list.
//  4. The trades left in the processing list go back to the head of the
//     queue, and the lease is removed, in one Lua script. If Redis cannot
//     be reached until the grace ends, they stay in the list, and another
//     replica takes them over once the lease expires.
//  5. The HTTP server stops after the worker, so /readyz reports the
//     shutdown until then, and finishes open requests.
//
// The Redis client is closed by run after this returns.
func (a *app) shutdown(stopWorker context.CancelFunc, workerDone <-chan struct{},
	stopKeeper context.CancelFunc, keeperDone <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
	defer cancel()

	a.health.SetShuttingDown()
	stopWorker()
	select {
	case <-workerDone:
	case <-ctx.Done():
		a.logger.Error("worker did not stop within the grace; its trade stays in the processing list until the lease expires",
			"grace", a.cfg.ShutdownGrace)
		return errGraceExceeded
	}

	stopKeeper()
	select {
	case <-keeperDone:
	case <-ctx.Done():
		a.logger.Error("lease keeper did not stop within the grace", "grace", a.cfg.ShutdownGrace)
		return errGraceExceeded
	}

	a.handBack(ctx)

	httpDone := make(chan error, 1)
	go func() { httpDone <- a.server.Shutdown(ctx) }()
	select {
	case err := <-httpDone:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Warn("http server shutdown failed", "error", err)
		}
	case <-ctx.Done():
		a.logger.Error("http server did not stop within the grace", "grace", a.cfg.ShutdownGrace)
		return errGraceExceeded
	}
	a.logger.Info("shutdown finished")
	return nil
}

// handBack moves the trades left in the processing list back to the queue
// and removes the lease, retrying Redis errors until shortly before the
// grace ends. A failure is logged, not returned: the trades stay in Redis,
// and another replica takes them over after the lease expires.
func (a *app) handBack(ctx context.Context) {
	reserve := min(httpShutdownReserve, a.cfg.ShutdownGrace/10)
	deadline, _ := ctx.Deadline()
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(-reserve))
	defer cancel()

	retry := backoff.Policy{Min: 100 * time.Millisecond, Max: time.Second}
	for attempt := 0; ; attempt++ {
		moved, err := a.keeper.Release(ctx)
		if err == nil {
			a.logger.Info("handed the unfinished trades back to the queue and removed the lease",
				"replica_id", a.cfg.ReplicaID, "trades", moved)
			return
		}
		if backoff.Sleep(ctx, retry.Delay(attempt)) != nil {
			a.logger.Error("handing back the unfinished trades failed; another replica takes them over when the lease expires",
				"replica_id", a.cfg.ReplicaID, "error", err, "attempts", attempt+1, "lease_ttl", a.cfg.LeaseTTL)
			return
		}
	}
}
