package limiter

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ably-fanout/lib/backoff"
	"github.com/ably-fanout/lib/metrics"
	"github.com/redis/go-redis/v9"
)

//go:embed group.lua
var groupSource string

//go:embed complete.lua
var completeSource string

var (
	groupScript    = redis.NewScript(groupSource)
	completeScript = redis.NewScript(completeSource)
)

// Scope is one sliding-window log and its limit, such as one channel's log
// with Ably's per-channel rate, or the account's log with the account rate.
type Scope struct {
	// Key is the sorted set of the log, one entry per admitting call.
	Key string
	// Counts is the hash of the admissions of each entry of Key and their
	// total.
	Counts string
	// Limit is the maximum admissions in any window.
	Limit int
}

// Group admits events that must fit under several limits at once. Every
// admission is checked against and recorded in each scope's log in one
// Lua script, so replicas sharing the logs never exceed any of the limits
// together. All keys of one call must share a Redis Cluster hash tag.
type Group struct {
	client redis.Scripter
	window time.Duration
	margin time.Duration
	hold   time.Duration

	prefix  string
	counter atomic.Uint64

	metrics *metrics.Publisher
}

// NewGroup returns a Group over windows of window+margin. It takes the same
// options as New, and WithHold.
func NewGroup(client redis.Scripter, window time.Duration, opts ...Option) (*Group, error) {
	// The options are written for Limiter, so they are applied to one and
	// copied.
	l := &Limiter{prefix: "limiter"}
	for _, opt := range opts {
		opt(l)
	}
	switch {
	case window < time.Microsecond:
		return nil, fmt.Errorf("%w: window %s, expected at least 1µs", ErrInvalidArgument, window)
	case l.margin < 0:
		return nil, fmt.Errorf("%w: margin %s, expected 0 or more", ErrInvalidArgument, l.margin)
	case l.hold < 0:
		return nil, fmt.Errorf("%w: hold %s, expected 0 or more", ErrInvalidArgument, l.hold)
	}
	var random [6]byte
	if _, err := rand.Read(random[:]); err != nil {
		return nil, fmt.Errorf("new limiter group: %w", err)
	}
	return &Group{client: client, window: window, margin: l.margin, hold: l.hold, metrics: l.metrics,
		prefix: l.prefix + ":" + hex.EncodeToString(random[:])}, nil
}

// NewRequestID returns a request id that no other call of any Group uses.
func (g *Group) NewRequestID() string {
	return g.prefix + ":" + strconv.FormatUint(g.counter.Add(1), 10)
}

// Request is one call for admissions from a Group.
type Request struct {
	// ID is unique per call. A retry of the same call passes the same ID.
	ID string
	// N is the number of admissions requested, of which at least Minimum
	// or none.
	N, Minimum int
	// RecordKey and RecordField, when RecordKey is set, name a hash field
	// that the admission sets to the admitted count in the same atomic
	// step, such as the plan of the batch being admitted. RecordKey must
	// share the scopes' hash tag on Redis Cluster.
	RecordKey, RecordField string
}

// AdmitRequest is Admit without a record.
func (g *Group) AdmitRequest(ctx context.Context, requestID string, n, minimum int, scopes ...Scope) (admitted int, wait time.Duration, err error) {
	return g.Admit(ctx, Request{ID: requestID, N: n, Minimum: minimum}, scopes...)
}

// Admit requests req.N admissions under every scope, of which at least
// req.Minimum or none. It returns how many were admitted, the same number
// in each log, and when fewer than req.N, how long until the logs have
// room for more. A minimum above the smallest limit is lowered to it. A
// retry with the same request id returns the earlier result and admits
// nothing more.
func (g *Group) Admit(ctx context.Context, req Request, scopes ...Scope) (admitted int, wait time.Duration, err error) {
	n, minimum := req.N, req.Minimum
	if n < 1 || minimum < 1 || minimum > n {
		return 0, 0, fmt.Errorf("%w: n %d and minimum %d, expected 1 <= minimum <= n", ErrInvalidArgument, n, minimum)
	}
	if req.ID == "" {
		return 0, 0, fmt.Errorf("%w: empty request id", ErrInvalidArgument)
	}
	keys, err := scopeKeys(scopes)
	if err != nil {
		return 0, 0, err
	}
	args := []any{(g.window + g.margin).Microseconds(), n, minimum, req.ID, g.hold.Microseconds()}
	for _, s := range scopes {
		args = append(args, s.Limit)
	}
	if req.RecordKey != "" {
		keys = append(keys, req.RecordKey)
		args = append(args, req.RecordField)
	}
	reply, err := groupScript.Run(ctx, g.client, keys, args...).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("run limiter group script: %w", err)
	}
	return admissionResult(reply, n, g.metrics)
}

// Complete records that the publish admitted under requestID has ended, so
// that its admissions leave the window one window after now instead of
// one window after the hold. Call it once the publish returned a response
// from Ably, accepted or not. After a timeout or a lost connection the
// messages may still arrive later, so the entry should keep its hold.
func (g *Group) Complete(ctx context.Context, requestID string, scopes ...Scope) error {
	keys, err := scopeKeys(scopes)
	if err != nil {
		return err
	}
	sets := make([]string, 0, len(scopes))
	for i := 0; i < len(keys); i += 2 {
		sets = append(sets, keys[i])
	}
	return complete(ctx, g.client, sets, requestID)
}

// complete runs complete.lua for members in the sorted sets.
func complete(ctx context.Context, client redis.Scripter, sets []string, members ...any) error {
	if err := completeScript.Run(ctx, client, sets, members...).Err(); err != nil {
		return fmt.Errorf("run limiter complete script: %w", err)
	}
	return nil
}

// scopeKeys returns the keys of scopes in the order the scripts take them.
func scopeKeys(scopes []Scope) ([]string, error) {
	if len(scopes) == 0 {
		return nil, fmt.Errorf("%w: no scope", ErrInvalidArgument)
	}
	keys := make([]string, 0, 2*len(scopes))
	for _, s := range scopes {
		if s.Key == "" || s.Counts == "" || s.Key == s.Counts || s.Limit < 1 {
			return nil, fmt.Errorf("%w: scope %q, counts %q, limit %d", ErrInvalidArgument, s.Key, s.Counts, s.Limit)
		}
		keys = append(keys, s.Key, s.Counts)
	}
	return keys, nil
}

// WaitRequest is Wait without a record.
func (g *Group) WaitRequest(ctx context.Context, requestID string, n, minimum int, scopes ...Scope) (int, error) {
	return g.Wait(ctx, Request{ID: requestID, N: n, Minimum: minimum}, scopes...)
}

// Wait blocks until at least req.Minimum of req.N admissions are granted
// under every scope (fewer when a limit is below the minimum) and returns
// how many were. It returns the context's error when ctx ends first, and
// the Redis error when a call fails.
func (g *Group) Wait(ctx context.Context, req Request, scopes ...Scope) (int, error) {
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		admitted, wait, err := g.Admit(ctx, req, scopes...)
		if err != nil {
			return 0, err
		}
		if admitted > 0 {
			return admitted, nil
		}
		// The script returns a wait of at least 1µs with every denial.
		if err := backoff.Sleep(ctx, max(wait, time.Microsecond)); err != nil {
			return 0, err
		}
	}
}
