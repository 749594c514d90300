package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ably-fanout/lib/logging"
)

// redisLogger receives the log lines of go-redis itself, such as "failed to
// dial" during an outage, and writes them to slog at warn level, at most
// one per interval, so that they share the service's format and do not
// flood the log. Install it with redis.SetLogger.
type redisLogger struct {
	logger   *slog.Logger
	throttle *logging.Throttle
}

func newRedisLogger(logger *slog.Logger, interval time.Duration) redisLogger {
	return redisLogger{logger: logger, throttle: logging.NewThrottle(interval)}
}

// Printf implements go-redis's logging interface.
func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	if ok, suppressed := l.throttle.Allow("go-redis"); ok {
		l.logger.Warn("redis client message", "message", fmt.Sprintf(format, v...), "suppressed", suppressed)
	}
}
