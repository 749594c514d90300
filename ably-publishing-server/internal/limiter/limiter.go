// Package limiter is the global rate limiter that every publisher replica
// calls before it publishes to Ably. It keeps a sliding-window log in one
// Redis sorted set and checks and updates it in one Lua script, so that all
// replicas together admit at most the limit in any window of Redis time.
package limiter

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ably-fanout/lib/backoff"
	"github.com/ably-fanout/lib/metrics"
	"github.com/redis/go-redis/v9"
)

//go:embed limiter.lua
var limiterSource string

var limiterScript = redis.NewScript(limiterSource)

// Errors returned by New and Admit.
var (
	// ErrInvalidArgument means a limit, window, margin or count is out of range.
	ErrInvalidArgument = errors.New("invalid limiter argument")
	// ErrUnexpectedReply means the script returned something other than
	// two integers, which points to a different script under the same hash.
	ErrUnexpectedReply = errors.New("unexpected reply from the limiter script")
)

// Limiter admits at most limit events in any window+margin of Redis time,
// shared by every Limiter that uses the same key on the same Redis server.
type Limiter struct {
	client redis.Scripter
	key    string
	limit  int
	window time.Duration
	margin time.Duration

	// prefix makes request ids unique across replicas and across restarts
	// of one replica, so a restarted process never mistakes an old entry
	// in the log for its own earlier call.
	prefix  string
	counter atomic.Uint64

	// metrics counts admissions and denials when set by WithMetrics.
	metrics *metrics.Publisher

	// hold is how long past admission an entry counts until Complete.
	hold time.Duration
}

// Option changes a Limiter built by New.
type Option func(*Limiter)

// WithMargin widens the window the limiter enforces to window+margin.
//
// Ably counts a message when it arrives, not when it was admitted. Without
// WithHold, the margin must cover how much the delay between admission and
// arrival varies: then any window of arrivals falls inside a window+margin
// of admissions, which contains at most limit admissions. With WithHold it
// only covers rounding and clock drift. Default 0.
func WithMargin(margin time.Duration) Option {
	return func(l *Limiter) { l.margin = margin }
}

// WithHold scores each admission at its time plus hold until Complete
// records when its publish ended.
//
// A message arrives at Ably between its admission and the end of its
// publish. Counting it from the end therefore bounds every window of
// arrivals at Ably, however long the delay. hold must be longer than any
// publish can take, so that an admission never leaves the window while its
// messages may still reach Ably. Default 0: admissions count from the time
// they were admitted.
func WithHold(hold time.Duration) Option {
	return func(l *Limiter) { l.hold = hold }
}

// WithMetrics counts the admitted messages in m.LimiterAdmissions, and the
// requests that admitted fewer than requested in m.LimiterDenials. Default:
// no metrics.
func WithMetrics(m *metrics.Publisher) Option {
	return func(l *Limiter) { l.metrics = m }
}

// WithRequestPrefix sets the prefix of the request ids, normally the replica
// id. A random part is always appended. Default "limiter".
func WithRequestPrefix(prefix string) Option {
	return func(l *Limiter) { l.prefix = prefix }
}

// New returns a Limiter over the sorted set key. Nothing is sent to Redis
// until the first Admit.
func New(client redis.Scripter, key string, limit int, window time.Duration, opts ...Option) (*Limiter, error) {
	l := &Limiter{client: client, key: key, limit: limit, window: window, prefix: "limiter"}
	for _, opt := range opts {
		opt(l)
	}
	switch {
	case key == "":
		return nil, fmt.Errorf("%w: empty key", ErrInvalidArgument)
	case limit < 1:
		return nil, fmt.Errorf("%w: limit %d, expected at least 1", ErrInvalidArgument, limit)
	case window < time.Microsecond:
		return nil, fmt.Errorf("%w: window %s, expected at least 1µs", ErrInvalidArgument, window)
	case l.margin < 0:
		return nil, fmt.Errorf("%w: margin %s, expected 0 or more", ErrInvalidArgument, l.margin)
	}
	var random [6]byte
	if _, err := rand.Read(random[:]); err != nil {
		return nil, fmt.Errorf("new limiter: %w", err)
	}
	l.prefix = l.prefix + ":" + hex.EncodeToString(random[:])
	return l, nil
}

// Limit returns the maximum number of admissions per window.
func (l *Limiter) Limit() int { return l.limit }

// EffectiveWindow returns the window the log enforces: window plus margin.
func (l *Limiter) EffectiveWindow() time.Duration { return l.window + l.margin }

// NewRequestID returns a request id that no other call of any Limiter uses.
func (l *Limiter) NewRequestID() string {
	return l.prefix + ":" + strconv.FormatUint(l.counter.Add(1), 10)
}

// Admit requests n admissions under a new request id. It returns how many
// were admitted, from 0 to n, and, when fewer than n were admitted, how long
// until the next slot frees.
func (l *Limiter) Admit(ctx context.Context, n int) (admitted int, wait time.Duration, err error) {
	return l.AdmitRequest(ctx, l.NewRequestID(), n)
}

// AdmitRequest is Admit under the caller's request id. Calling it again with
// the same id returns the earlier result while the earlier entries are still
// in the window, and admits nothing more, so a call whose reply was lost can
// be retried safely.
func (l *Limiter) AdmitRequest(ctx context.Context, requestID string, n int) (admitted int, wait time.Duration, err error) {
	if n < 1 {
		return 0, 0, fmt.Errorf("%w: n %d, expected at least 1", ErrInvalidArgument, n)
	}
	if requestID == "" {
		return 0, 0, fmt.Errorf("%w: empty request id", ErrInvalidArgument)
	}
	windowMicros := l.EffectiveWindow().Microseconds()
	reply, err := limiterScript.Run(ctx, l.client, []string{l.key},
		l.limit, windowMicros, n, requestID, l.hold.Microseconds()).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("run limiter script: %w", err)
	}
	return admissionResult(reply, n, l.metrics)
}

// admissionResult checks a limiter script's reply {admitted, wait_us} to a
// request for n admissions and counts it in m when m is not nil.
func admissionResult(reply []int64, n int, m *metrics.Publisher) (int, time.Duration, error) {
	if len(reply) != 2 || reply[0] < 0 || reply[0] > int64(n) || reply[1] < 0 {
		return 0, 0, fmt.Errorf("%w: %v", ErrUnexpectedReply, reply)
	}
	admitted, wait := int(reply[0]), time.Duration(reply[1])*time.Microsecond
	if m != nil {
		// NOTE: a repeated call with the same request id returns the
		// earlier admissions again, and they are counted again. The
		// worker repeats a call only when the first reply was lost, so
		// the first was never counted.
		m.LimiterAdmissions.Add(float64(admitted))
		if admitted < n {
			m.LimiterDenials.Inc()
		}
	}
	return admitted, wait, nil
}

// Complete records that the publish admitted by a call with requestID has
// ended; admitted is the number that call admitted. Call it once Ably
// returned a response, accepted or not. After a timeout or a lost
// connection the messages may still arrive later, so the entries should
// keep their hold.
func (l *Limiter) Complete(ctx context.Context, requestID string, admitted int) error {
	if admitted < 1 {
		return nil
	}
	members := make([]any, admitted)
	for i := range members {
		members[i] = requestID + ":" + strconv.Itoa(i+1)
	}
	return complete(ctx, l.client, []string{l.key}, members...)
}

// immediateRetries is how many times Wait calls the script again at once
// after a denial with a zero wait, before it sleeps for minRetryDelay. The
// script returns a wait of at least 1µs with every denial, so this bound
// only guards against a spin if that ever changes.
const (
	immediateRetries = 3
	minRetryDelay    = time.Millisecond
)

// Wait blocks until at least one of n admissions is granted and returns how
// many were. Between attempts it sleeps exactly the wait the script
// returned. It returns the context's error when ctx ends first, and the
// Redis error when a call fails; the caller decides how to back off.
func (l *Limiter) Wait(ctx context.Context, n int) (int, error) {
	return l.WaitRequest(ctx, l.NewRequestID(), n)
}

// WaitRequest is Wait under the caller's request id. A caller that retries
// after a Redis error passes the same id again, so that a call whose reply
// was lost after the script admitted it is not admitted a second time.
func (l *Limiter) WaitRequest(ctx context.Context, requestID string, n int) (int, error) {
	zeroWaits := 0
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		admitted, wait, err := l.AdmitRequest(ctx, requestID, n)
		if err != nil {
			return 0, err
		}
		if admitted > 0 {
			return admitted, nil
		}
		if wait <= 0 {
			zeroWaits++
			if zeroWaits <= immediateRetries {
				continue
			}
			wait = minRetryDelay
		}
		zeroWaits = 0
		if err := backoff.Sleep(ctx, wait); err != nil {
			return 0, err
		}
	}
}
