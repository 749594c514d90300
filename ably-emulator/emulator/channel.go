package emulator

import "sync"

// channel is the state of one channel: its limits, the ids it has accepted,
// its recorded messages, its history and its subscribers. The fields after
// mu are guarded by it. Publishes hold mu while they admit, record and fan
// out, so subscribers receive messages in serial order.
type channel struct {
	name string

	mu       sync.Mutex
	window   *slidingWindow
	seen     *idempotencyIndex
	records  *recordBuffer
	history  *historyBuffer
	sequence uint64
	// lastSerial and lastPos name the last accepted message; they are
	// empty and zero before the first.
	lastSerial  string
	lastPos     position
	subscribers map[*connection]struct{}
	stats       ChannelStats
}

// channelRegistry creates channels on first use and keeps them.
type channelRegistry struct {
	cfg      Config
	mu       sync.RWMutex
	channels map[string]*channel
}

func newChannelRegistry(cfg Config) *channelRegistry {
	return &channelRegistry{cfg: cfg, channels: make(map[string]*channel)}
}

// get returns the named channel, creating it if needed.
func (r *channelRegistry) get(name string) *channel {
	r.mu.RLock()
	ch, ok := r.channels[name]
	r.mu.RUnlock()
	if ok {
		return ch
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ch, ok := r.channels[name]; ok {
		return ch
	}
	ch = &channel{
		name:        name,
		window:      newSlidingWindow(r.cfg.ChannelRate),
		seen:        newIdempotencyIndex(r.cfg.IdempotencyWindow),
		records:     newRecordBuffer(r.cfg.RecordLimit),
		history:     newHistoryBuffer(r.cfg.HistoryLimit),
		subscribers: make(map[*connection]struct{}),
	}
	r.channels[name] = ch
	return ch
}

// lookup returns the named channel if it exists.
func (r *channelRegistry) lookup(name string) (*channel, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ch, ok := r.channels[name]
	return ch, ok
}

// all returns every channel.
func (r *channelRegistry) all() []*channel {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*channel, 0, len(r.channels))
	for _, ch := range r.channels {
		out = append(out, ch)
	}
	return out
}

// rejectReason names a RejectedStats counter.
type rejectReason int

const (
	rejectRateLimit rejectReason = iota
	rejectTooLarge
	rejectUnauthorized
	rejectInjected
	rejectInvalid
	rejectInvalidID
)

// countRejected adds n rejected messages under reason.
func (ch *channel) countRejected(reason rejectReason, n int) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.countRejectedLocked(reason, n)
}

func (ch *channel) countRejectedLocked(reason rejectReason, n int) {
	rejected := &ch.stats.Rejected
	switch reason {
	case rejectRateLimit:
		rejected.RateLimit += int64(n)
	case rejectTooLarge:
		rejected.TooLarge += int64(n)
	case rejectUnauthorized:
		rejected.Unauthorized += int64(n)
	case rejectInjected:
		rejected.Injected += int64(n)
	case rejectInvalid:
		rejected.Invalid += int64(n)
	case rejectInvalidID:
		rejected.InvalidID += int64(n)
	}
}

// snapshot returns the channel's counters.
func (ch *channel) snapshot() ChannelStats {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	stats := ch.stats
	stats.MaxInAnySecond = ch.window.maxInAnySecond
	stats.Subscribers = len(ch.subscribers)
	stats.Recorded = len(ch.records.items)
	stats.History = ch.history.len()
	return stats
}
