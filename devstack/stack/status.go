package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/redis/go-redis/v9"
)

// ChannelStats are the emulator's counters for one channel.
type ChannelStats struct {
	Accepted       int64            `json:"accepted"`
	Rejected       map[string]int64 `json:"rejected"`
	Duplicates     int64            `json:"duplicates"`
	MaxInAnySecond int64            `json:"maxInAnySecond"`
	Subscribers    int64            `json:"subscribers"`
}

// RejectedTotal adds up the rejections of every reason.
func (c ChannelStats) RejectedTotal() int64 {
	var n int64
	for _, v := range c.Rejected {
		n += v
	}
	return n
}

// EmulatorStats reads the emulator's counters for every channel.
func EmulatorStats(ctx context.Context, emulatorURL string) (map[string]ChannelStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, emulatorURL+"/_emulator/stats", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read emulator stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read emulator stats: status %s", resp.Status)
	}
	var body struct {
		Channels map[string]ChannelStats `json:"channels"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decode emulator stats: %w", err)
	}
	return body.Channels, nil
}

// Status is one sample of the pipeline's state.
type Status struct {
	At time.Time
	// Queued is the length of the trade queue.
	Queued int64
	// Dead is the length of the dead-letter list.
	Dead int64
	// InWindow is the number of admissions in the limiter's current window.
	InWindow int64
	// Channel holds the emulator's counters; zero with real Ably.
	Channel ChannelStats
}

// Sampler takes Status samples and turns two of them into a status line.
type Sampler struct {
	rdb         *redis.Client
	queueKey    string
	channel     string
	emulatorURL string
	rateLimit   int
	window      time.Duration
}

// NewSampler returns a Sampler for the stack.
func (s *Stack) NewSampler() (*Sampler, error) {
	opts, err := redis.ParseURL(s.Redis.URL)
	if err != nil {
		return nil, err
	}
	return &Sampler{
		rdb:         redis.NewClient(opts),
		queueKey:    s.opts.QueueKey,
		channel:     s.opts.Channel,
		emulatorURL: s.EmulatorURL,
		rateLimit:   s.opts.RateLimit,
		window:      time.Second,
	}, nil
}

// Close releases the Sampler's Redis connection.
func (sm *Sampler) Close() error { return sm.rdb.Close() }

// Sample reads the queue, the dead-letter list, the limiter's log and the
// emulator's counters.
func (sm *Sampler) Sample(ctx context.Context) (Status, error) {
	st := Status{At: time.Now()}
	now, err := sm.rdb.Time(ctx).Result()
	if err != nil {
		return st, err
	}
	pipe := sm.rdb.Pipeline()
	queued := pipe.LLen(ctx, keys.Queue(sm.queueKey))
	dead := pipe.LLen(ctx, keys.Dead(sm.queueKey))
	from := strconv.FormatInt(now.Add(-sm.window).UnixMicro(), 10)
	inWindow := pipe.ZCount(ctx, keys.RateLog(sm.queueKey), "("+from, "+inf")
	if _, err := pipe.Exec(ctx); err != nil {
		return st, err
	}
	st.Queued, st.Dead, st.InWindow = queued.Val(), dead.Val(), inWindow.Val()
	if sm.emulatorURL != "" {
		stats, err := EmulatorStats(ctx, sm.emulatorURL)
		if err != nil {
			return st, err
		}
		st.Channel = stats[sm.channel]
	}
	return st, nil
}

// Line formats the change from prev to cur as one status line.
func (sm *Sampler) Line(prev, cur Status) string {
	secs := cur.At.Sub(prev.At).Seconds()
	perSecond := 0.0
	if secs > 0 {
		perSecond = float64(cur.Channel.Accepted-prev.Channel.Accepted) / secs
	}
	use := 100 * float64(cur.InWindow) / float64(sm.rateLimit)
	line := fmt.Sprintf("queue %6d | limit use %3.0f%% (%d/%d per s) | dead letters %d",
		cur.Queued, use, cur.InWindow, sm.rateLimit, cur.Dead)
	if sm.emulatorURL != "" {
		line += fmt.Sprintf(" | published %5.1f/s, %d in all | max in 1 s %d | rejected %d | duplicates dropped %d",
			perSecond, cur.Channel.Accepted, cur.Channel.MaxInAnySecond,
			cur.Channel.RejectedTotal(), cur.Channel.Duplicates)
	}
	return line
}
