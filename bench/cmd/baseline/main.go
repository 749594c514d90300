// Command baseline is the comparison consumer of the pipeline benchmark. It
// re-creates how the original Ably demo's publishing server moves trades:
// one blocking pop per trade, a rate check made of two separate commands (a
// count of the last second's entries in a sorted set, then an add), and one
// Ably REST publish per trade with the same ably-go client as the
// publisher. It has no processing list, so a crash loses the trade it holds.
// It exists only to be measured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/ably/ably-go/ably"
	"github.com/redis/go-redis/v9"
)

func main() {
	redisURL := flag.String("redis-url", "", "redis:// URL of the server that holds the queue; required")
	queueKey := flag.String("queue-key", "myJobQueue", "Redis list the trades are popped from")
	rateKey := flag.String("rate-key", "baseline:rate", "sorted set that logs one entry per publish")
	rateLimit := flag.Int("rate-limit", 50, "maximum publishes in the last second, count")
	ablyKey := flag.String("ably-key", "", "Ably API key; required")
	host := flag.String("ably-host", "127.0.0.1", "host of the Ably emulator (plain HTTP)")
	port := flag.Int("ably-port", 0, "port of the Ably emulator; required")
	channelName := flag.String("channel", "trades", "Ably channel")
	flag.Parse()
	if *redisURL == "" || *ablyKey == "" || *port == 0 {
		fmt.Fprintln(os.Stderr, "baseline: -redis-url, -ably-key and -ably-port are required")
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	opts, err := redis.ParseURL(*redisURL)
	if err != nil {
		logger.Error("invalid redis url", "error", err)
		os.Exit(2)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	client, err := ably.NewREST(
		ably.WithKey(*ablyKey),
		ably.WithRESTHost(*host),
		ably.WithRealtimeHost(*host),
		ably.WithTLS(false),
		ably.WithPort(*port),
		ably.WithInsecureAllowBasicAuthWithoutTLS(),
		ably.WithIdempotentRESTPublishing(false),
	)
	if err != nil {
		logger.Error("create ably client", "error", err)
		os.Exit(2)
	}
	channel := client.Channels.Get(*channelName)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger.Info("baseline started")
	published := 0
	for ctx.Err() == nil {
		if err := moveOne(ctx, rdb, channel, *queueKey, *rateKey, *rateLimit); err != nil {
			if ctx.Err() == nil {
				logger.Error("move trade", "error", err)
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		published++
	}
	logger.Info("baseline stopped", "published", published)
}

// moveOne pops one trade, waits until the last second holds fewer than
// limit entries, logs the publish and publishes the trade.
func moveOne(ctx context.Context, rdb *redis.Client, channel *ably.RESTChannel, queueKey, rateKey string, limit int) error {
	popped, err := rdb.BLPop(ctx, time.Second, queueKey).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blpop: %w", err)
	}
	payload := popped[1]
	for {
		now := time.Now()
		from := strconv.FormatInt(now.Add(-time.Second).UnixMicro(), 10)
		count, err := rdb.ZCount(ctx, rateKey, from, "+inf").Result()
		if err != nil {
			return fmt.Errorf("zcount: %w", err)
		}
		if count < int64(limit) {
			member := redis.Z{Score: float64(now.UnixMicro()), Member: strconv.FormatInt(now.UnixNano(), 10)}
			if err := rdb.ZAdd(ctx, rateKey, member).Err(); err != nil {
				return fmt.Errorf("zadd: %w", err)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return channel.Publish(ctx, "trade", payload)
}
