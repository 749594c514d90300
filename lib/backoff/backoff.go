// Package backoff computes growing retry delays with jitter and sleeps
// until a delay passes or a context ends.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff with jitter. The zero value is not
// useful: set both fields.
type Policy struct {
	// Min is the base delay of the first retry.
	Min time.Duration
	// Max caps every delay, jitter included.
	Max time.Duration
}

// Delay returns the delay before retry number attempt, counted from 0. The
// base delay doubles with every attempt up to Max, and the result is drawn
// uniformly from the upper half of the base delay, so replicas that failed
// together do not retry in step.
func (p Policy) Delay(attempt int) time.Duration {
	base := p.Min
	for range min(attempt, 62) {
		if base >= p.Max/2 {
			base = p.Max
			break
		}
		base *= 2
	}
	base = min(base, p.Max)
	if base <= 1 {
		return base
	}
	half := base / 2
	return half + rand.N(base-half+1)
}

// Sleep waits for d, or returns the context's error as soon as ctx ends.
// A d of zero or less returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
