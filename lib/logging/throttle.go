package logging

import (
	"sync"
	"time"
)

// Throttle lets one log line per key through each interval and counts the
// ones it holds back, so a loop that fails every few milliseconds logs a
// line every interval with the number of repeats.
type Throttle struct {
	interval time.Duration
	now      func() time.Time

	mu    sync.Mutex
	state map[string]*throttleState
}

type throttleState struct {
	last       time.Time
	suppressed int
}

// NewThrottle returns a Throttle that lets one line per key through each
// interval.
func NewThrottle(interval time.Duration) *Throttle {
	return &Throttle{interval: interval, now: time.Now, state: map[string]*throttleState{}}
}

// Allow reports whether a line for key may be logged now, and how many lines
// for key were held back since the last one allowed.
func (t *Throttle) Allow(key string) (ok bool, suppressed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	s, found := t.state[key]
	if !found {
		t.state[key] = &throttleState{last: now}
		return true, 0
	}
	if now.Sub(s.last) < t.interval {
		s.suppressed++
		return false, 0
	}
	suppressed = s.suppressed
	s.last = now
	s.suppressed = 0
	return true, suppressed
}

// Reset clears the state of key, so that its next line is logged at once.
// Call it when the failing operation succeeds again.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.state, key)
}
