package lease

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/redis/go-redis/v9"
)

// claimExpired takes over the processing list of every replica whose lease
// expired.
func (k *Keeper) claimExpired(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, k.cfg.CallTimeout)
	ids, err := expiredScript.Run(cctx, k.client, []string{k.replicas}, maxExpiredPerCheck).StringSlice()
	cancel()
	if err != nil {
		k.claimFailed(ctx, "list expired leases", "", err)
		return
	}
	for _, id := range ids {
		if id == k.replicaID || ctx.Err() != nil {
			continue
		}
		k.claim(ctx, id)
	}
}

// claimOrphans takes over the processing lists that have no lease at all.
// Such a list is left when a replica's lease was taken over while the
// replica was still running, and the replica then took one more trade and
// stopped before its next renewal.
func (k *Keeper) claimOrphans(ctx context.Context) {
	pattern := escapeGlob(k.processingPrefix) + "*"
	var cursor uint64
	// The bound stops a scan of a very large key space; the next scan
	// starts over.
	for range 1000 {
		cctx, cancel := context.WithTimeout(ctx, k.cfg.CallTimeout)
		found, next, err := k.client.Scan(cctx, cursor, pattern, 1000).Result()
		cancel()
		if err != nil {
			k.claimFailed(ctx, "scan processing lists", "", err)
			return
		}
		for _, key := range found {
			id := strings.TrimPrefix(key, k.processingPrefix)
			if id == k.replicaID || ctx.Err() != nil {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, k.cfg.CallTimeout)
			err := k.client.ZScore(cctx, k.replicas, id).Err()
			cancel()
			switch {
			case err == redis.Nil:
				k.claim(ctx, id)
			case err != nil:
				k.claimFailed(ctx, "read lease", id, err)
			}
		}
		cursor = next
		if cursor == 0 {
			return
		}
	}
}

// claim moves the trades of replica id into this replica's processing list
// if its lease is still expired or absent when the script runs.
func (k *Keeper) claim(ctx context.Context, id string) {
	cctx, cancel := context.WithTimeout(ctx, k.cfg.CallTimeout)
	defer cancel()
	reply, err := claimScript.Run(cctx, k.client,
		[]string{k.replicas, keys.Processing(k.queueKey, id), k.processing},
		id, k.replicaID).Int64Slice()
	if err == nil && len(reply) != 2 {
		err = fmt.Errorf("unexpected reply %v", reply)
	}
	if err != nil {
		k.claimFailed(ctx, "take over", id, err)
		// The script may have run and its reply been lost.
		k.onClaim()
		return
	}

	moved, expiredMs := reply[0], reply[1]
	switch moved {
	case claimOwnLeaseNotLive:
		k.logger.Warn("own lease expired before taking over another replica; renewing first",
			"replica_id", k.replicaID, "stopped_replica", id)
		k.healthySince = time.Time{}
		return
	case claimLeaseLive, claimNothing:
		return
	}

	k.claims.Add(1)
	k.metrics.LeaseTakeovers.Inc()
	k.claimedTrades.Add(moved)
	attrs := []any{"replica_id", k.replicaID, "stopped_replica", id, "trades", moved}
	if expiredMs >= 0 {
		expired := time.Duration(expiredMs) * time.Millisecond
		attrs = append(attrs, "expired_for", expired, "since_last_renewal", expired+k.cfg.TTL)
		k.logger.Info("took over the trades of a replica whose lease expired", attrs...)
	} else {
		k.logger.Info("took over a processing list that had no lease", attrs...)
	}

	if moved > 0 {
		k.onClaim()
	}
}

func (k *Keeper) claimFailed(ctx context.Context, op, id string, err error) {
	if ctx.Err() != nil {
		return
	}
	if ok, suppressed := k.throttle.Allow("claim"); ok {
		k.logger.Error("taking over stopped replicas failed; retrying at the next check",
			"operation", op, "replica_id", k.replicaID, "stopped_replica", id, "error", err,
			"retry_in", k.cfg.RenewInterval, "suppressed", suppressed)
	}
}

// escapeGlob escapes the characters that SCAN MATCH treats as a pattern.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
