package emulator

import "time"

// slidingWindow enforces "at most limit accepted messages in any one-second
// window" on arrival times, and tracks the largest count seen in any such
// window. A window is the half-open interval (t-1s, t], so two messages
// exactly one second apart never share a window.
//
// It keeps the arrival times of the accepted messages of the last second in
// a ring buffer of limit entries, oldest first. Not safe for concurrent use.
type slidingWindow struct {
	limit int
	times []time.Time // ring buffer of len limit
	head  int         // index of the oldest entry
	count int         // number of entries in use
	// maxInAnySecond is the largest number of accepted messages in any
	// window so far. The maximum over all windows is reached by a window
	// that ends at an arrival, so checking after each admission is exact.
	maxInAnySecond int
}

func newSlidingWindow(limit int) *slidingWindow {
	return &slidingWindow{limit: limit, times: make([]time.Time, limit)}
}

// admit records n messages arriving at now and returns true if the window
// ending at now stays within the limit. Otherwise it records nothing and
// returns false. A batch of more than limit messages is never admitted.
func (w *slidingWindow) admit(now time.Time, n int) bool {
	if n <= 0 {
		return true
	}
	w.prune(now)
	if w.count+n > w.limit {
		return false
	}
	for range n {
		w.times[(w.head+w.count)%w.limit] = now
		w.count++
	}
	w.maxInAnySecond = max(w.maxInAnySecond, w.count)
	return true
}

// inWindow returns the number of accepted messages in the window ending at now.
func (w *slidingWindow) inWindow(now time.Time) int {
	w.prune(now)
	return w.count
}

// prune drops the entries that arrived at or before now-1s.
func (w *slidingWindow) prune(now time.Time) {
	cutoff := now.Add(-time.Second)
	for w.count > 0 && !w.times[w.head].After(cutoff) {
		w.times[w.head] = time.Time{}
		w.head = (w.head + 1) % w.limit
		w.count--
	}
}
