package emulator

import "time"

// idempotencyIndex remembers the ids of accepted messages on one channel for
// a fixed window, so that a message whose id was accepted within the window
// is recognized as a duplicate. Entries expire in insertion order, so a FIFO
// queue beside the map is enough to drop them. Only accepted ids are added,
// so memory is bounded by the channel rate times the window. Not safe for
// concurrent use.
type idempotencyIndex struct {
	window  time.Duration
	expires map[string]time.Time
	queue   []idempotencyEntry // oldest first, from index head
	head    int
}

type idempotencyEntry struct {
	id      string
	expires time.Time
}

func newIdempotencyIndex(window time.Duration) *idempotencyIndex {
	return &idempotencyIndex{window: window, expires: make(map[string]time.Time)}
}

// contains reports whether id was accepted within the window ending at now.
func (x *idempotencyIndex) contains(id string, now time.Time) bool {
	x.prune(now)
	_, ok := x.expires[id]
	return ok
}

// add remembers id as accepted at now.
func (x *idempotencyIndex) add(id string, now time.Time) {
	expires := now.Add(x.window)
	x.expires[id] = expires
	x.queue = append(x.queue, idempotencyEntry{id: id, expires: expires})
}

// size returns the number of remembered ids.
func (x *idempotencyIndex) size() int {
	return len(x.expires)
}

// prune removes the ids whose window has passed.
func (x *idempotencyIndex) prune(now time.Time) {
	for x.head < len(x.queue) && !x.queue[x.head].expires.After(now) {
		entry := x.queue[x.head]
		// An id re-added after its expiry has a newer entry later in the
		// queue; only delete the map entry that this queue entry created.
		if x.expires[entry.id].Equal(entry.expires) {
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
