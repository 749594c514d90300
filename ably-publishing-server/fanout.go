package main

import (
	"fmt"
	"log/slog"

	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/ably-publishing-server/internal/route"
	"github.com/ably-fanout/ably-publishing-server/internal/worker"
	"github.com/ably-fanout/lib/envconfig"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/metrics"
	"github.com/ably/ably-go/ably"
	"github.com/redis/go-redis/v9"
)

// fanoutConfig holds the settings of batching and of routing trades to
// many channels.
type fanoutConfig struct {
	// BatchSize is the maximum number of trades published in one Ably
	// request. 1 publishes one trade per request with the trade id as the
	// message id. Default 100, about 15 KB of trades, well under Ably's
	// 64 KiB maximum message size, which batching keeps to in any case.
	BatchSize int
	// ChannelRateLimit is each channel's limit per RateWindow when
	// CHANNEL_NAME routes trades to many channels. Default 50, Ably's
	// per-channel message rate.
	ChannelRateLimit int
	// AccountRateLimit is the limit per RateWindow over all channels when
	// CHANNEL_NAME routes trades to many channels. Default 500, the
	// smallest account rate of Ably's packages.
	AccountRateLimit int
	// Symbols are the symbols whose channels /config lists for the browser
	// when CHANNEL_NAME contains {symbol}. Default none.
	Symbols []string
}

func registerFanoutSettings(set *envconfig.Set, cfg *fanoutConfig) {
	set.Int(&cfg.BatchSize, "BATCH_SIZE", 100, 1, 1000,
		"maximum trades taken from Redis and published to Ably together; 1 publishes each trade alone with its trade id as the message id")
	set.Int(&cfg.ChannelRateLimit, "CHANNEL_RATE_LIMIT", 50, 1, 100000,
		"messages per RATE_WINDOW on each channel when CHANNEL_NAME contains {symbol} or {side}")
	set.Int(&cfg.AccountRateLimit, "ACCOUNT_RATE_LIMIT", 500, 1, 1000000,
		"messages per RATE_WINDOW over all channels when CHANNEL_NAME contains {symbol} or {side}; RATE_LIMIT applies only to a single channel")
	set.List(&cfg.Symbols, "SYMBOLS", nil,
		"comma-separated symbols whose channels /config lists for the browser when CHANNEL_NAME contains {symbol}")
}

// validateFanout checks CHANNEL_NAME as a template.
func validateFanout(c Config) error {
	if _, err := route.New(c.ChannelName); err != nil {
		return fmt.Errorf("%w: invalid CHANNEL_NAME=%q: %w", errInvalidConfig, c.ChannelName, err)
	}
	return nil
}

// newBatching returns the worker's Batching for cfg, or nil when every
// trade goes alone to one channel, the behaviour without batching.
func newBatching(cfg Config, rdb *redis.Client, q *queue.Queue, client *ably.REST, m *metrics.Publisher, logger *slog.Logger) (*worker.Batching, error) {
	router, err := route.New(cfg.ChannelName)
	if err != nil {
		return nil, err
	}
	// A Config built in code, not by registerSettings, has BatchSize 0.
	size := max(cfg.Fanout.BatchSize, 1)
	if size == 1 && !router.Routed() {
		return nil, nil
	}
	group, err := limiter.NewGroup(rdb, cfg.RateWindow, limiter.WithMargin(cfg.RateMargin),
		limiter.WithHold(cfg.limiterHold()), limiter.WithRequestPrefix(cfg.ReplicaID), limiter.WithMetrics(m))
	if err != nil {
		return nil, err
	}
	// NOTE: the batched logs keep one entry per call with its count in a
	// hash, while BATCH_SIZE=1 keeps one entry per message in RateLog.
	// Replicas of both kinds at once, as during a rolling change of
	// BATCH_SIZE, each count only their own kind of entry.
	queueKey := cfg.Redis.QueueKey
	account := limiter.Scope{Key: keys.RateLog(queueKey), Counts: keys.RateCounts(queueKey), Limit: cfg.RateLimit}
	scopes := func(string) []limiter.Scope { return []limiter.Scope{account} }
	if router.Routed() {
		account.Limit = cfg.Fanout.AccountRateLimit
		scopes = func(channel string) []limiter.Scope {
			own := limiter.Scope{
				Key:    keys.ChannelRateLog(queueKey, channel),
				Counts: keys.ChannelRateCounts(queueKey, channel),
				Limit:  cfg.Fanout.ChannelRateLimit,
			}
			return []limiter.Scope{own, account}
		}
		logger.Info("routing trades to many channels", "channel_template", cfg.ChannelName,
			"channel_rate_limit", cfg.Fanout.ChannelRateLimit, "account_rate_limit", cfg.Fanout.AccountRateLimit)
	}
	return &worker.Batching{
		Size:      size,
		MaxBytes:  publish.MaxPublishBytes,
		Route:     router.Channel,
		Pipelined: !router.Routed(),
		Queue:     q,
		Limiter:   limiter.Channels{Group: group, Scopes: scopes},
		Publisher: publish.NewBatchPublisher(client),
	}, nil
}
