package push

import (
	"errors"
	"fmt"
	"time"
)

// Defaults and limits for Config.
const (
	DefaultMaxQueueLength  = 10000
	DefaultBatchSize       = 100
	DefaultFullMinBackoff  = 5 * time.Millisecond
	DefaultFullMaxBackoff  = 500 * time.Millisecond
	DefaultErrorMinBackoff = 20 * time.Millisecond
	DefaultErrorMaxBackoff = 2 * time.Second
	DefaultLogInterval     = 10 * time.Second

	// MaxBatchSize keeps a script call far below the number of values
	// that unpack can return in Redis's Lua: redis-server 7.0.15 rejects
	// an unpack of 7999 values with "too many results to unpack".
	MaxBatchSize = 1000
)

// ErrInvalidConfig is returned by Config.Validate, wrapped with the field
// and value.
var ErrInvalidConfig = errors.New("invalid push config")

// Config sets the queue and the pacing of a Pusher.
type Config struct {
	// QueueKey is the Redis list the trades are appended to. Required.
	QueueKey string
	// MaxQueueLength is the length the list never grows past. Default 10000.
	MaxQueueLength int64
	// BatchSize is the maximum number of trades sent in one round trip,
	// from 1 to MaxBatchSize. Default 100.
	BatchSize int
	// FullMinBackoff and FullMaxBackoff bound the wait between tries while
	// the queue is full. Default 5ms and 500ms.
	FullMinBackoff, FullMaxBackoff time.Duration
	// ErrorMinBackoff and ErrorMaxBackoff bound the wait between retries
	// after a Redis error. Default 20ms and 2s.
	ErrorMinBackoff, ErrorMaxBackoff time.Duration
	// LogInterval is the minimum time between two log lines about repeated
	// Redis errors. Default 10s.
	LogInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxQueueLength == 0 {
		c.MaxQueueLength = DefaultMaxQueueLength
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FullMinBackoff == 0 {
		c.FullMinBackoff = DefaultFullMinBackoff
	}
	if c.FullMaxBackoff == 0 {
		c.FullMaxBackoff = DefaultFullMaxBackoff
	}
	if c.ErrorMinBackoff == 0 {
		c.ErrorMinBackoff = DefaultErrorMinBackoff
	}
	if c.ErrorMaxBackoff == 0 {
		c.ErrorMaxBackoff = DefaultErrorMaxBackoff
	}
	if c.LogInterval == 0 {
		c.LogInterval = DefaultLogInterval
	}
	return c
}

// Validate returns an error naming the first field that is out of range.
// Zero fields take their defaults and are valid.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.QueueKey == "":
		return fmt.Errorf("%w: QueueKey is empty", ErrInvalidConfig)
	case c.MaxQueueLength < 1:
		return fmt.Errorf("%w: MaxQueueLength %d, expected at least 1", ErrInvalidConfig, c.MaxQueueLength)
	case c.BatchSize < 1 || c.BatchSize > MaxBatchSize:
		return fmt.Errorf("%w: BatchSize %d, expected 1 to %d", ErrInvalidConfig, c.BatchSize, MaxBatchSize)
	case c.FullMinBackoff < 0 || c.FullMaxBackoff < c.FullMinBackoff:
		return fmt.Errorf("%w: FullMinBackoff %s and FullMaxBackoff %s, expected 0 < min <= max",
			ErrInvalidConfig, c.FullMinBackoff, c.FullMaxBackoff)
	case c.ErrorMinBackoff < 0 || c.ErrorMaxBackoff < c.ErrorMinBackoff:
		return fmt.Errorf("%w: ErrorMinBackoff %s and ErrorMaxBackoff %s, expected 0 < min <= max",
			ErrInvalidConfig, c.ErrorMinBackoff, c.ErrorMaxBackoff)
	case c.LogInterval < 0:
		return fmt.Errorf("%w: LogInterval %s, expected at least 0", ErrInvalidConfig, c.LogInterval)
	}
	return nil
}
