package logging

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// RedisLogger writes the messages of the go-redis client itself, such as
// a failed dial or a dropped connection during an outage, to slog at warn
// level. It lets one message through per interval and counts the others,
// so that an outage does not flood the log. Install it with
// redis.SetLogger, which applies to every client of the process.
type RedisLogger struct {
	logger   *slog.Logger
	throttle *Throttle
}

// NewRedisLogger returns a RedisLogger that writes to logger.
func NewRedisLogger(logger *slog.Logger, interval time.Duration) *RedisLogger {
	return &RedisLogger{logger: logger, throttle: NewThrottle(interval)}
}

// Printf implements the logging interface of go-redis v9.
func (l *RedisLogger) Printf(_ context.Context, format string, v ...any) {
	ok, suppressed := l.throttle.Allow("go-redis")
	if !ok {
		return
	}
	l.logger.Warn("redis client message",
		slog.String("message", fmt.Sprintf(format, v...)),
		slog.Int("suppressed", suppressed))
}
