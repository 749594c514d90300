// Package queue takes trades from the shared Redis list reliably. A taken
// trade moves atomically into the replica's own processing list. It stays
// there until it is acknowledged or moved to the dead-letter list, so a
// crash at any point leaves it in Redis.
package queue

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/redis/go-redis/v9"
)

//go:embed deadletter.lua
var deadLetterSource string

var deadLetterScript = redis.NewScript(deadLetterSource)

// Queue is one replica's view of the trade queue.
type Queue struct {
	client     redis.Cmdable
	queue      string
	processing string
	dead       string
	recoveries string
	plans      string
	replicaID  string
}

// New returns the Queue of replica replicaID for the queue key queueKey.
func New(client redis.Cmdable, queueKey, replicaID string) *Queue {
	return &Queue{
		client:     client,
		queue:      keys.Queue(queueKey),
		processing: keys.Processing(queueKey, replicaID),
		dead:       keys.Dead(queueKey),
		recoveries: keys.Recoveries(queueKey),
		plans:      keys.BatchPlans(queueKey),
		replicaID:  replicaID,
	}
}

// ProcessingKey returns the key of this replica's processing list.
func (q *Queue) ProcessingKey() string { return q.processing }

// DeadKey returns the key of the dead-letter list.
func (q *Queue) DeadKey() string { return q.dead }

// Take moves the oldest trade from the queue to the tail of the processing
// list and returns it. It blocks up to timeout for a trade and returns
// ok=false when none arrived. The caller must later Ack or DeadLetter the
// payload it got.
func (q *Queue) Take(ctx context.Context, timeout time.Duration) (payload string, ok bool, err error) {
	payload, err = q.client.BLMove(ctx, q.queue, q.processing, "LEFT", "RIGHT", timeout).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("take from %s: %w", q.queue, err)
	}
	return payload, true, nil
}

// Pending returns the oldest trade in the processing list, which an earlier
// run of this replica took and did not finish, and ok=false when the list
// is empty.
func (q *Queue) Pending(ctx context.Context) (payload string, ok bool, err error) {
	payload, err = q.client.LIndex(ctx, q.processing, 0).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", q.processing, err)
	}
	return payload, true, nil
}

// Ack removes one copy of payload from the processing list after it was
// published. It returns false when the list did not contain the payload.
func (q *Queue) Ack(ctx context.Context, payload string) (bool, error) {
	removed, err := q.client.LRem(ctx, q.processing, 1, payload).Result()
	if err != nil {
		return false, fmt.Errorf("ack in %s: %w", q.processing, err)
	}
	return removed == 1, nil
}

// DeadLetter moves payload from the processing list to the dead-letter list
// with the reason and the Ably error code (0 when Ably was not involved),
// in one atomic step. It returns false, writing nothing, when the
// processing list did not contain the payload.
func (q *Queue) DeadLetter(ctx context.Context, payload, reason string, code int, at time.Time) (bool, error) {
	entry, err := newDeadLetterEntry(payload, reason, code, q.replicaID, at).marshal()
	if err != nil {
		return false, fmt.Errorf("dead-letter entry: %w", err)
	}
	moved, err := deadLetterScript.Run(ctx, q.client, []string{q.processing, q.dead}, payload, entry).Int()
	if err != nil {
		return false, fmt.Errorf("move to %s: %w", q.dead, err)
	}
	return moved == 1, nil
}
