package emulator

import (
	"fmt"
	"time"
)

// Config holds the settings of a Server. The zero value of a field means its
// default, which WithDefaults fills in.
type Config struct {
	// Keys lists the API keys, each of the form appId.keyId:secret, that the
	// emulator accepts. Required: the emulator never invents a secret.
	Keys []string

	// ChannelRate is the maximum number of messages accepted on one channel
	// in any sliding one-second window. Default 50, Ably's default limit.
	ChannelRate int

	// MaxMessageSize is the maximum total size in bytes of the messages in one
	// publish, counting data, name, clientId and extras. Default 65536.
	MaxMessageSize int

	// IdempotencyWindow is how long the id of an accepted message is
	// remembered per channel, so that a publish with the same id is dropped
	// as a duplicate. Default 2m.
	IdempotencyWindow time.Duration

	// RecordLimit is the maximum number of accepted messages kept per channel
	// for inspection; the oldest are dropped first. Default 100000.
	RecordLimit int

	// HistoryLimit is the maximum number of accepted messages kept per
	// channel for history, rewind and resume; the oldest are dropped first.
	// Default 1000. Ably keeps messages by age instead (2 minutes unless
	// persistence is on), so a busy channel keeps fewer here.
	HistoryLimit int

	// ReplayLimit is the maximum number of messages sent after one ATTACHED,
	// for rewind or for a resume. Default 100, the most that Ably's rewind
	// returns.
	ReplayLimit int

	// SendQueueSize is the maximum number of protocol messages queued for one
	// realtime connection. A connection whose queue overflows is closed as a
	// slow consumer so that it never blocks publishers. Default 1024.
	SendQueueSize int

	// HeartbeatInterval is the maxIdleInterval sent to realtime clients: the
	// emulator sends a HEARTBEAT after this long without other output.
	// Default 15s, as Ably.
	HeartbeatInterval time.Duration

	// ConnectionStateTTL is how long the state of a connection whose
	// transport ended is kept so that the client can resume it, and the
	// connectionStateTtl sent to realtime clients, which suspend after
	// being disconnected this long. Default 2m, as Ably.
	ConnectionStateTTL time.Duration

	// TokenRequestMaxSkew is the maximum difference, in either direction,
	// between the timestamp of a signed token request and the emulator clock.
	// Default 10m.
	TokenRequestMaxSkew time.Duration

	// MaxTokenTTL is the longest token lifetime a token request may ask for.
	// Default 24h, as Ably.
	MaxTokenTTL time.Duration

	// Now returns the current time. Default time.Now. Tests set a fake clock
	// to control rate windows, idempotency expiry, token expiry, the expiry
	// of connection state and rewind intervals.
	Now func() time.Time
}

// Defaults of the Config fields.
const (
	DefaultChannelRate         = 50
	DefaultMaxMessageSize      = 65536
	DefaultIdempotencyWindow   = 2 * time.Minute
	DefaultRecordLimit         = 100000
	DefaultHistoryLimit        = 1000
	DefaultReplayLimit         = 100
	DefaultSendQueueSize       = 1024
	DefaultHeartbeatInterval   = 15 * time.Second
	DefaultConnectionStateTTL  = 2 * time.Minute
	DefaultTokenRequestMaxSkew = 10 * time.Minute
	DefaultMaxTokenTTL         = 24 * time.Hour
)

// WithDefaults returns a copy of c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.ChannelRate == 0 {
		c.ChannelRate = DefaultChannelRate
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.IdempotencyWindow == 0 {
		c.IdempotencyWindow = DefaultIdempotencyWindow
	}
	if c.RecordLimit == 0 {
		c.RecordLimit = DefaultRecordLimit
	}
	if c.HistoryLimit == 0 {
		c.HistoryLimit = DefaultHistoryLimit
	}
	if c.ReplayLimit == 0 {
		c.ReplayLimit = DefaultReplayLimit
	}
	if c.SendQueueSize == 0 {
		c.SendQueueSize = DefaultSendQueueSize
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.ConnectionStateTTL == 0 {
		c.ConnectionStateTTL = DefaultConnectionStateTTL
	}
	if c.TokenRequestMaxSkew == 0 {
		c.TokenRequestMaxSkew = DefaultTokenRequestMaxSkew
	}
	if c.MaxTokenTTL == 0 {
		c.MaxTokenTTL = DefaultMaxTokenTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate returns an error wrapping ErrInvalidConfig that names the first
// invalid field and its value. It does not fill in defaults, so call it on
// the result of WithDefaults.
func (c Config) Validate() error {
	if len(c.Keys) == 0 {
		return fmt.Errorf("%w: Keys is empty; give at least one API key of the form appId.keyId:secret", ErrInvalidConfig)
	}
	for i, raw := range c.Keys {
		if _, err := ParseKey(raw); err != nil {
			return fmt.Errorf("%w: Keys[%d]: %w", ErrInvalidConfig, i, err)
		}
	}
	positiveInts := []struct {
		name  string
		value int
	}{
		{"ChannelRate", c.ChannelRate},
		{"MaxMessageSize", c.MaxMessageSize},
		{"RecordLimit", c.RecordLimit},
		{"HistoryLimit", c.HistoryLimit},
		{"ReplayLimit", c.ReplayLimit},
		{"SendQueueSize", c.SendQueueSize},
	}
	for _, field := range positiveInts {
		if field.value <= 0 {
			return fmt.Errorf("%w: %s is %d; it must be positive", ErrInvalidConfig, field.name, field.value)
		}
	}
	positiveDurations := []struct {
		name  string
		value time.Duration
	}{
		{"IdempotencyWindow", c.IdempotencyWindow},
		{"HeartbeatInterval", c.HeartbeatInterval},
		{"ConnectionStateTTL", c.ConnectionStateTTL},
		{"TokenRequestMaxSkew", c.TokenRequestMaxSkew},
		{"MaxTokenTTL", c.MaxTokenTTL},
	}
	for _, field := range positiveDurations {
		if field.value <= 0 {
			return fmt.Errorf("%w: %s is %s; it must be positive", ErrInvalidConfig, field.name, field.value)
		}
	}
	if c.Now == nil {
		return fmt.Errorf("%w: Now is nil", ErrInvalidConfig)
	}
	return nil
}
