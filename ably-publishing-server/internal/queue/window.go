package queue

import (
	"context"
	"crypto/sha1"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

//go:embed window.lua
var windowSource string

var windowScript = redis.NewScript(windowSource)

// ErrUnexpectedWindow means the window script returned something other
// than a list of payloads and a plan.
var ErrUnexpectedWindow = errors.New("unexpected reply from the window script")

// Window is the head of a processing list.
type Window struct {
	// Payloads are the first trades of the list, oldest first.
	Payloads []string
	// Plan is how many trades of the batch that starts with Payloads[0]
	// were published before, by any replica, without being acknowledged:
	// 0 when none. See SavePlan.
	Plan int
	// Moved is how many trades this call moved from the queue into the
	// processing list.
	Moved int
	// NextPlan is the index in Payloads of the first entry after the first
	// that starts a planned batch, such as one taken over from a stopped
	// replica, or 0 when none does. A new batch must end before it.
	NextPlan int
}

// Window moves trades from the queue into the processing list until the
// list holds size trades or the queue is empty, and returns the first size
// trades of the list with the plan of the first, in one round trip. It
// never blocks: an empty window means both lists are empty, and the caller
// then waits with Take.
//
// The processing list is the batched worker's only state, so after a
// restart or a take-over Window returns the same trades, in the same
// order, that the worker saw before: only new trades at the tail differ.
//
// All keys must hash to one Redis Cluster slot: see package keys.
func (q *Queue) Window(ctx context.Context, size int) (Window, error) {
	return q.WindowAt(ctx, 0, size)
}

// WindowAt is Window for the size trades after the first offset entries
// of the processing list, which the caller is publishing. It fills the
// list up to offset+size trades.
func (q *Queue) WindowAt(ctx context.Context, offset, size int) (Window, error) {
	if size < 1 {
		return Window{}, fmt.Errorf("window of %d trades, expected at least 1", size)
	}
	w, _, err := q.AckAndWindowAt(ctx, nil, offset, size)
	return w, err
}

// AckAndWindowAt runs AckMany of acked and then WindowAt(offset, size) in
// one script call, so that a replica acknowledges a batch and reads the
// next window in one round trip and one write. An empty acked skips the
// ack, and a size of 0 skips the window. offset counts the entries left
// after the ack. It returns the window and how many of acked were removed.
func (q *Queue) AckAndWindowAt(ctx context.Context, acked []string, offset, size int) (Window, int, error) {
	if size < 0 || offset < 0 {
		return Window{}, 0, fmt.Errorf("window of %d trades at offset %d, expected an offset and a size of at least 0", size, offset)
	}
	args := make([]any, 0, 4+len(acked))
	args = append(args, size, offset, len(acked), "")
	if len(acked) > 0 {
		args[3] = planField(acked[0])
		for _, p := range acked {
			args = append(args, p)
		}
	}
	reply, err := windowScript.Run(ctx, q.client, []string{q.queue, q.processing, q.plans}, args...).Slice()
	if err != nil {
		if len(acked) > 0 {
			return Window{}, 0, fmt.Errorf("ack %d trades in %s and read the next window: %w", len(acked), q.processing, err)
		}
		return Window{}, 0, fmt.Errorf("fill %s from %s: %w", q.processing, q.queue, err)
	}
	return parseWindowReply(reply, size)
}

// parseWindowReply reads window.lua's reply {payloads, plan, moved,
// removed, next_plan}.
func parseWindowReply(reply []any, size int) (Window, int, error) {
	if len(reply) != 5 {
		return Window{}, 0, fmt.Errorf("%w: %d elements", ErrUnexpectedWindow, len(reply))
	}
	items, ok := reply[0].([]any)
	if !ok {
		return Window{}, 0, fmt.Errorf("%w: payloads of type %T", ErrUnexpectedWindow, reply[0])
	}
	w := Window{Payloads: make([]string, len(items))}
	for i, item := range items {
		if w.Payloads[i], ok = item.(string); !ok {
			return Window{}, 0, fmt.Errorf("%w: payload of type %T", ErrUnexpectedWindow, item)
		}
	}
	// A Lua false arrives as a nil reply.
	if plan, isString := reply[1].(string); isString {
		var err error
		if w.Plan, err = strconv.Atoi(plan); err != nil {
			return Window{}, 0, fmt.Errorf("%w: plan %q", ErrUnexpectedWindow, plan)
		}
	}
	moved, ok := reply[2].(int64)
	if !ok || moved < 0 || moved > int64(size) {
		return Window{}, 0, fmt.Errorf("%w: moved count %v", ErrUnexpectedWindow, reply[2])
	}
	w.Moved = int(moved)
	removed, ok := reply[3].(int64)
	if !ok || removed < 0 {
		return Window{}, 0, fmt.Errorf("%w: removed count %v", ErrUnexpectedWindow, reply[3])
	}
	nextPlan, ok := reply[4].(int64)
	if !ok || nextPlan < 0 || nextPlan >= int64(max(len(w.Payloads), 1)) {
		return Window{}, 0, fmt.Errorf("%w: next plan index %v", ErrUnexpectedWindow, reply[4])
	}
	w.NextPlan = int(nextPlan)
	return w, int(removed), nil
}

// SavePlan records that count trades of the batch starting with first are
// about to be published, before the publish, so that whichever replica
// publishes the batch again after a crash sends the same trades with the
// same message ids. AckMany deletes the plan. The worker saves plans in
// its admission call instead (PlanRef); SavePlan sets one on its own.
func (q *Queue) SavePlan(ctx context.Context, first string, count int) error {
	if err := q.client.HSet(ctx, q.plans, planField(first), count).Err(); err != nil {
		return fmt.Errorf("save batch plan in %s: %w", q.plans, err)
	}
	return nil
}

// PlanRef returns the hash and the field of the plan of the batch that
// starts with first, so that the limiter can save the plan in the same
// step as the batch's admission (limiter.Request.RecordKey) instead of a
// SavePlan call.
func (q *Queue) PlanRef(first string) (key, field string) {
	return q.plans, planField(first)
}

// AckMany removes one copy of each payload of a published batch from the
// processing list and deletes the batch's plan, in one atomic step. The
// first payload is the batch's first trade. It returns how many payloads
// were found.
func (q *Queue) AckMany(ctx context.Context, payloads []string) (int, error) {
	if len(payloads) == 0 {
		return 0, nil
	}
	_, removed, err := q.AckAndWindowAt(ctx, payloads, 0, 0)
	return removed, err
}

// Held returns every trade in the processing list, oldest first.
func (q *Queue) Held(ctx context.Context) ([]string, error) {
	payloads, err := q.client.LRange(ctx, q.processing, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", q.processing, err)
	}
	return payloads, nil
}

// planField is the hex SHA-1 of payload, the same as Lua's
// redis.sha1hex, which names a payload's batch plan.
func planField(payload string) string {
	sum := sha1.Sum([]byte(payload))
	return hex.EncodeToString(sum[:])
}
