package emulatortest

import (
	"sync"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
)

// Clock is a fake clock for emulator.Config.Now. Its time changes only when
// the test advances it, so rate windows, idempotency expiry and token expiry
// do not depend on how fast the machine runs.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// WithClock makes the emulator read the time from clock.
func WithClock(clock *Clock) Option {
	return func(cfg *emulator.Config) {
		cfg.Now = clock.Now
	}
}
