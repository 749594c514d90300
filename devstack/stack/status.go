package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
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
	// Processing is the trades in the publishers' processing lists: taken
	// from the queue and not yet published or dead-lettered.
	Processing int64
	// Dead is the length of the dead-letter list.
	Dead int64
	// InWindow is the number of admissions in the limiter's current window.
	InWindow int64
	// Produced is the trading server's fanout_trades_produced_total, or
	// the last value read when its /metrics did not respond.
	Produced int64
	// PublishedBy is each publisher replica's
	// fanout_trades_published_total, by replica id. A replica whose
	// /metrics did not respond keeps the last value read.
	PublishedBy map[string]int64
	// Published is the sum of PublishedBy.
	Published int64
	// Retries is fanout_publish_retries_total summed over the replicas.
	Retries int64
	// DeadLettered is fanout_trades_dead_lettered_total summed over the
	// replicas.
	DeadLettered int64
	// Unreachable lists the processes whose /metrics failed in this
	// sample.
	Unreachable []string
	// Channel holds the emulator's counters; zero with real Ably.
	Channel ChannelStats
}

// Target is a process whose /metrics a Sampler reads.
type Target struct {
	// Name is the replica id, or trading-server.
	Name string
	// URL is the base URL of its HTTP server, without /metrics.
	URL string
}

// SamplerConfig locates what a Sampler reads.
type SamplerConfig struct {
	// RedisURL is the Redis server of the queue. Required.
	RedisURL string
	// QueueKey is the queue's key; the other keys derive from it. Required.
	QueueKey string
	// Channel is the Ably channel whose emulator counters are read.
	Channel string
	// EmulatorURL is the emulator's base URL, or empty with real Ably.
	EmulatorURL string
	// RateLimit is the publishers' RATE_LIMIT per second. Required.
	RateLimit int
	// Trading is the trading server, or a zero Target when none runs.
	Trading Target
	// Publishers are the publisher replicas.
	Publishers []Target
}

// Sampler takes Status samples and turns two of them into a status line.
// Use it from one goroutine.
type Sampler struct {
	cfg    SamplerConfig
	rdb    *redis.Client
	http   *http.Client
	window time.Duration

	// last holds the counters of the previous sample, so that a process
	// that stops responding keeps its last value in the totals.
	last struct {
		produced     int64
		published    map[string]int64
		retries      map[string]int64
		deadLettered map[string]int64
	}
}

// NewSampler returns a Sampler for the stack and the replicas it runs now.
func (s *Stack) NewSampler() (*Sampler, error) {
	cfg := SamplerConfig{
		RedisURL:    s.Redis.URL,
		QueueKey:    s.opts.QueueKey,
		Channel:     s.opts.Channel,
		EmulatorURL: s.EmulatorURL,
		RateLimit:   s.opts.RateLimit,
	}
	if s.TradingURL != "" {
		cfg.Trading = Target{Name: "trading-server", URL: s.TradingURL}
	}
	for _, p := range s.Publishers {
		cfg.Publishers = append(cfg.Publishers, Target{Name: p.ID, URL: p.URL})
	}
	return NewSampler(cfg)
}

// NewSampler returns a Sampler for cfg.
func NewSampler(cfg SamplerConfig) (*Sampler, error) {
	if cfg.RateLimit < 1 {
		return nil, fmt.Errorf("invalid sampler RateLimit %d: expected at least 1", cfg.RateLimit)
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("invalid sampler RedisURL: %w", err)
	}
	sm := &Sampler{
		cfg:    cfg,
		rdb:    redis.NewClient(opts),
		http:   &http.Client{Timeout: 2 * time.Second},
		window: time.Second,
	}
	sm.last.published = map[string]int64{}
	sm.last.retries = map[string]int64{}
	sm.last.deadLettered = map[string]int64{}
	return sm, nil
}

// Close releases the Sampler's Redis connection.
func (sm *Sampler) Close() error { return sm.rdb.Close() }

// RateLimit returns the publishers' limit per second.
func (sm *Sampler) RateLimit() int { return sm.cfg.RateLimit }

// Sample reads the queue, the dead-letter list, the limiter's log, the
// /metrics of every process and the emulator's counters. It returns an
// error when Redis or the emulator fails. A process whose /metrics fails
// is named in Status.Unreachable instead, and its counters keep the
// values of the previous sample.
func (sm *Sampler) Sample(ctx context.Context) (Status, error) {
	st := Status{At: time.Now()}
	if err := sm.sampleRedis(ctx, &st); err != nil {
		return st, err
	}
	sm.sampleMetrics(ctx, &st)
	if sm.cfg.EmulatorURL != "" {
		stats, err := EmulatorStats(ctx, sm.cfg.EmulatorURL)
		if err != nil {
			return st, err
		}
		st.Channel = channelTotals(stats, sm.cfg.Channel)
	}
	return st, nil
}

func (sm *Sampler) sampleRedis(ctx context.Context, st *Status) error {
	now, err := sm.rdb.Time(ctx).Result()
	if err != nil {
		return fmt.Errorf("read redis time: %w", err)
	}
	pipe := sm.rdb.Pipeline()
	queued := pipe.LLen(ctx, keys.Queue(sm.cfg.QueueKey))
	dead := pipe.LLen(ctx, keys.Dead(sm.cfg.QueueKey))
	from := strconv.FormatInt(now.Add(-sm.window).UnixMicro(), 10)
	inWindow := pipe.ZCount(ctx, keys.RateLog(sm.cfg.QueueKey), "("+from, "+inf")
	// With BATCH_SIZE above 1 each log entry stands for a whole call, and
	// the counts hash holds how many messages it admitted.
	members := pipe.ZRangeByScore(ctx, keys.RateLog(sm.cfg.QueueKey), &redis.ZRangeBy{Min: "(" + from, Max: "+inf"})
	processing := make([]*redis.IntCmd, len(sm.cfg.Publishers))
	for i, p := range sm.cfg.Publishers {
		processing[i] = pipe.LLen(ctx, keys.Processing(sm.cfg.QueueKey, p.Name))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("read queue lengths: %w", err)
	}
	st.Queued, st.Dead, st.InWindow = queued.Val(), dead.Val(), inWindow.Val()
	for _, n := range processing {
		st.Processing += n.Val()
	}
	if len(members.Val()) == 0 {
		return nil
	}
	counts, err := sm.rdb.HMGet(ctx, keys.RateCounts(sm.cfg.QueueKey), members.Val()...).Result()
	if err != nil {
		return fmt.Errorf("read the limiter's counts: %w", err)
	}
	var batched int64
	found := false
	for _, c := range counts {
		if text, ok := c.(string); ok {
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return fmt.Errorf("read the limiter's counts: invalid count %q", text)
			}
			batched += n
			found = true
		}
	}
	if found {
		st.InWindow = batched
	}
	return nil
}

// channelTotals returns the counters of channel, or, when channel is a
// template such as "trades:{symbol}", the counters of every channel it
// routes to added up, with the busiest channel's MaxInAnySecond.
func channelTotals(stats map[string]ChannelStats, channel string) ChannelStats {
	open, closing := strings.IndexByte(channel, '{'), strings.LastIndexByte(channel, '}')
	if open < 0 || closing < open {
		return stats[channel]
	}
	prefix, suffix := channel[:open], channel[closing+1:]
	total := ChannelStats{Rejected: map[string]int64{}}
	for name, st := range stats {
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) || len(name) <= len(prefix)+len(suffix) {
			continue
		}
		total.Accepted += st.Accepted
		total.Duplicates += st.Duplicates
		total.Subscribers += st.Subscribers
		total.MaxInAnySecond = max(total.MaxInAnySecond, st.MaxInAnySecond)
		for reason, n := range st.Rejected {
			total.Rejected[reason] += n
		}
	}
	return total
}

// sampleMetrics scrapes every process and fills the counters of st.
func (sm *Sampler) sampleMetrics(ctx context.Context, st *Status) {
	if sm.cfg.Trading.URL != "" {
		families, err := sm.scrape(ctx, sm.cfg.Trading)
		if err == nil {
			sm.last.produced = int64(families.Value(metrics.TradesProduced))
		} else {
			st.Unreachable = append(st.Unreachable, sm.cfg.Trading.Name)
		}
	}
	for _, p := range sm.cfg.Publishers {
		families, err := sm.scrape(ctx, p)
		if err != nil {
			st.Unreachable = append(st.Unreachable, p.Name)
			continue
		}
		sm.last.published[p.Name] = int64(families.Value(metrics.TradesPublished))
		sm.last.retries[p.Name] = int64(families.Value(metrics.PublishRetries))
		sm.last.deadLettered[p.Name] = int64(families.Value(metrics.TradesDeadLettered))
	}
	st.Produced = sm.last.produced
	st.PublishedBy = maps.Clone(sm.last.published)
	st.Published = sum(sm.last.published)
	st.Retries = sum(sm.last.retries)
	st.DeadLettered = sum(sm.last.deadLettered)
}

func (sm *Sampler) scrape(ctx context.Context, t Target) (metrics.Families, error) {
	return metrics.Scrape(ctx, sm.http, t.URL+"/metrics")
}

func sum(values map[string]int64) int64 {
	var n int64
	for _, v := range values {
		n += v
	}
	return n
}

// PerSecond returns the published trades per second from prev to cur.
func PerSecond(prev, cur Status) float64 {
	secs := cur.At.Sub(prev.At).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(cur.Published-prev.Published) / secs
}

// Line formats the change from prev to cur as one status line: the queue
// length, published trades per second, the use of the rate limit, retries
// and dead letters so far. It fits 80 columns while every count is below
// a million.
func (sm *Sampler) Line(prev, cur Status) string {
	use := 100 * float64(cur.InWindow) / float64(sm.cfg.RateLimit)
	return fmt.Sprintf("%s queue %6d | %5.1f/s | limit %3.0f%% | retries %d | dead %d",
		cur.At.Format("15:04:05"), cur.Queued, PerSecond(prev, cur), use, cur.Retries, cur.Dead)
}
