package lease

import (
	"context"
	"fmt"
	"time"
)

// renewOnce renews the lease and reports whether it succeeded.
func (k *Keeper) renewOnce(ctx context.Context) bool {
	cctx, cancel := context.WithTimeout(ctx, k.cfg.CallTimeout)
	defer cancel()
	reply, err := renewScript.Run(cctx, k.client, []string{k.replicas},
		k.replicaID, k.cfg.TTL.Milliseconds()).Int64Slice()
	if err == nil && len(reply) != 2 {
		err = fmt.Errorf("unexpected reply %v", reply)
	}
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		k.healthySince = time.Time{}
		if ok, suppressed := k.throttle.Allow("renew"); ok {
			k.logger.Error("lease renewal failed; retrying", "replica_id", k.replicaID, "error", err,
				"retry_in", k.cfg.RenewInterval, "lease_ttl", k.cfg.TTL, "suppressed", suppressed)
		}
		return false
	}

	firstRenewal := false
	k.registeredOnce.Do(func() {
		firstRenewal = true
		close(k.registered)
		k.logger.Info("lease registered", "replica_id", k.replicaID, "lease_ttl", k.cfg.TTL)
	})
	switch state := reply[0]; {
	case state == renewAdded && !firstRenewal:
		k.leaseLosses.Add(1)
		k.logger.Warn("lease had expired and another replica took over this replica's trades; "+
			"a trade in flight may be published twice, and Ably drops the repeat by its message id",
			"replica_id", k.replicaID)
	case state == renewRevived:
		k.logger.Warn("lease renewed after it had expired; no replica had taken over its trades",
			"replica_id", k.replicaID)
	}
	if k.healthySince.IsZero() {
		k.healthySince = time.Now()
		if !firstRenewal {
			k.throttle.Reset("renew")
			k.logger.Info("lease renewal succeeded again", "replica_id", k.replicaID)
		}
	}
	return true
}
