package emulator

import "time"

// idempotencyIndex remembers the ids of accepted messages on one channel for
// a fixed window, so that a message whose id was accepted within the window
// is recognized as a duplicate. Entries expire in insertion order, so a FIFO
// queue beside the map is enough to drop them. Only accepted ids are added,
// so memory is bounded by the channel rate times the window. Not safe for
// concurrent use.
type idempotencyIndex struct {
	window time.Duration
	// epoch is the time of the first call. Expiry times are nanoseconds
	// after it, computed with time.Time.Sub, so they compare as time.Time
	// values do, by the monotonic clock when both times have one. Unlike
	// time.Time, the int64 values hold no pointer for the garbage collector
	// to scan.
	epoch   time.Time
	started bool
	expires map[string]int64
	queue   []idempotencyEntry // oldest first, from index head
	head    int
}

type idempotencyEntry struct {
	id      string
	expires int64 // nanoseconds after epoch
}

func newIdempotencyIndex(window time.Duration) *idempotencyIndex {
	return &idempotencyIndex{window: window, expires: make(map[string]int64)}
}

// contains reports whether id was accepted within the window ending at now.
func (x *idempotencyIndex) contains(id string, now time.Time) bool {
	x.prune(now)
	_, ok := x.expires[id]
	return ok
}

// add remembers id as accepted at now.
func (x *idempotencyIndex) add(id string, now time.Time) {
	expires := int64(x.sinceEpoch(now) + x.window)
	x.expires[id] = expires
	x.queue = append(x.queue, idempotencyEntry{id: id, expires: expires})
}

// size returns the number of remembered ids.
func (x *idempotencyIndex) size() int {
	return len(x.expires)
}

// sinceEpoch returns the time from the epoch to now, setting the epoch to
// now on the first call.
func (x *idempotencyIndex) sinceEpoch(now time.Time) time.Duration {
	if !x.started {
		x.epoch = now
		x.started = true
	}
	return now.Sub(x.epoch)
}

// prune removes the ids whose window has passed.
func (x *idempotencyIndex) prune(now time.Time) {
	elapsed := int64(x.sinceEpoch(now))
	for x.head < len(x.queue) && x.queue[x.head].expires <= elapsed {
		entry := x.queue[x.head]
		// An id re-added after its expiry has a newer entry later in the
		// queue; only delete the map entry that this queue entry created.
		if x.expires[entry.id] == entry.expires {
			delete(x.expires, entry.id)
		}
		x.queue[x.head] = idempotencyEntry{}
		x.head++
	}
	// Move the live entries to the front once the dead prefix is the larger
	// part, so the slice does not grow without bound.
	if x.head > 0 && x.head*2 >= len(x.queue) {
		x.queue = append(x.queue[:0], x.queue[x.head:]...)
		x.head = 0
	}
}
