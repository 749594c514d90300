package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// recoveryCountTTL is how long a recovery count lives after its last
// increment. A count is deleted when its trade is finished; the expiry only
// removes counts whose trade left Redis some other way, such as by hand.
const recoveryCountTTL = 24 * time.Hour

// CountRecovery adds one to the number of times a trade was handled from a
// processing list rather than right after its take, which happens after
// the replica handling it stopped, and returns the new count. Counts are kept per payload digest in
// keys.Recoveries, so that a payload that makes the process crash is
// counted even though it cannot be parsed.
func (q *Queue) CountRecovery(ctx context.Context, payload string) (int64, error) {
	var incr *redis.IntCmd
	_, err := q.client.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		incr = pipe.HIncrBy(ctx, q.recoveries, payloadDigest(payload), 1)
		pipe.Expire(ctx, q.recoveries, recoveryCountTTL)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count recovery in %s: %w", q.recoveries, err)
	}
	return incr.Val(), nil
}

// ForgetRecovery deletes the recovery count of a payload once its trade
// was published or dead-lettered.
func (q *Queue) ForgetRecovery(ctx context.Context, payload string) error {
	if err := q.client.HDel(ctx, q.recoveries, payloadDigest(payload)).Err(); err != nil {
		return fmt.Errorf("delete recovery count in %s: %w", q.recoveries, err)
	}
	return nil
}

// payloadDigest returns the hex SHA-256 of payload, which names its
// recovery count.
func payloadDigest(payload string) string {
	sum := sha256.Sum256([]byte(payload))
	return hex.EncodeToString(sum[:])
}
