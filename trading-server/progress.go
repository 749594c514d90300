package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ably-fanout/trading-server/internal/push"
	"github.com/redis/go-redis/v9"
)

// progress counts the trades of a run and logs them periodically.
type progress struct {
	client   *redis.Client
	queueKey string
	pusher   *push.Pusher
	logger   *slog.Logger

	// produced counts the trades handed to the pusher.
	produced atomic.Int64

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

func newProgress(client *redis.Client, queueKey string, pusher *push.Pusher, logger *slog.Logger) *progress {
	return &progress{
		client:   client,
		queueKey: queueKey,
		pusher:   pusher,
		logger:   logger,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// start logs a progress line every interval until shutdown.
func (p *progress) start(interval time.Duration) {
	go func() {
		defer close(p.done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-ticker.C:
				p.logger.Info("progress", p.attrs()...)
			}
		}
	}()
}

// shutdown stops the periodic lines and waits for the goroutine to exit.
func (p *progress) shutdown() {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
}

// attrs returns the counters and the current queue length. The length is
// left out when Redis does not return it within a second.
func (p *progress) attrs() []any {
	stats := p.pusher.Stats()
	produced := p.produced.Load()
	attrs := []any{
		slog.Int64("produced", produced),
		slog.Int64("pushed", stats.Pushed),
		slog.Int64("waiting", produced-stats.Pushed),
		slog.Int64("push_errors", stats.Errors),
		slog.Int64("queue_full_episodes", stats.FullEpisodes),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if length, err := p.client.LLen(ctx, p.queueKey).Result(); err == nil {
		attrs = append(attrs, slog.Int64("queue_length", length))
	}
	return attrs
}
