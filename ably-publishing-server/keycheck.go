package main

import (
	"context"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/lib/backoff"
)

// keyCheckTimeout bounds one token request of the key check.
const keyCheckTimeout = 10 * time.Second

// keyCheckRetry spaces the key checks after a failure: 1s doubling to
// 1m, with jitter.
var keyCheckRetry = backoff.Policy{Min: time.Second, Max: time.Minute}

// checkAblyKey requests a token with ABLY_KEY until Ably accepts the key,
// so that /readyz reports a rejected key before the first publish needs
// it. While Ably rejects the key, such as a revoked or unknown one, the
// replica is not ready. An error that does not concern the key, such as a
// timeout, leaves readiness as it is. Both are retried with the delays
// of retry until ctx ends. After the key was accepted once, the worker's
// publishes report a later rejection.
func (a *app) checkAblyKey(ctx context.Context, retry backoff.Policy) {
	rejected := false
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, keyCheckTimeout)
		err := a.requestToken(rctx)
		cancel()

		outcome := publish.Classify(err)
		switch {
		case outcome == publish.Published:
			if rejected {
				a.health.ClearAblyFailure()
			}
			a.logger.Info("Ably accepted the key", "replica_id", a.cfg.ReplicaID, "failed_checks", attempt)
			return
		case ctx.Err() != nil:
			return
		case outcome == publish.ConfigError:
			rejected = true
			a.health.SetAblyFailure("Ably rejected the key: " + publish.Message(err))
		}

		delay := retry.Delay(attempt)
		a.logger.Error("Ably key check failed; retrying, check ABLY_KEY and ABLY_ENDPOINT if this repeats",
			"replica_id", a.cfg.ReplicaID, "outcome", outcome.String(), "ably_code", publish.Code(err),
			"error", err, "attempt", attempt+1, "retry_in", delay)
		if backoff.Sleep(ctx, delay) != nil {
			return
		}
	}
}
