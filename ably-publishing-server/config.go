package main

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/lib/envconfig"
	"github.com/ably-fanout/lib/logging"
	"github.com/ably-fanout/lib/redisconn"
)

const (
	programName    = "ably-publishing-server"
	programSummary = "takes trades from the Redis queue and publishes them to an Ably channel under a rate limit that all replicas share"
)

// errInvalidConfig is wrapped by every error of Config.Validate.
var errInvalidConfig = errors.New("invalid configuration")

// Config is the publisher's configuration, read from flags, environment
// variables and .env by registerSettings.
type Config struct {
	// Redis locates the server and the queue (REDIS_URL, REDIS_HOST,
	// REDIS_PORT, REDIS_PASSWORD, QUEUE_KEY).
	Redis redisconn.Config
	// Log selects the log format and level (LOG_FORMAT, LOG_LEVEL).
	Log logging.Config
	// AblyKey is the Ably API key, appId.keyId:secret. Required.
	AblyKey string
	// AblyEndpoint is empty for Ably itself, or http://host:port of an
	// Ably-compatible server such as the emulator. Default empty.
	AblyEndpoint string
	// ChannelName is the Ably channel the trades go to. Default trades.
	ChannelName string
	// RateLimit is the maximum number of messages all replicas together
	// publish per RateWindow. Default 50.
	RateLimit int
	// RateWindow is the length of the sliding window. Default 1s.
	RateWindow time.Duration
	// RateMargin widens the window the limiter enforces to
	// RateWindow+RateMargin. The limiter counts each admission from the
	// end of its publish, after Ably received it, so the margin only
	// covers rounding and the drift between Redis's and Ably's clocks.
	// Default 10ms.
	RateMargin time.Duration
	// HTTPAddr is the listen address of the HTTP endpoints. Default :8080.
	HTTPAddr string
	// ReplicaID names this replica's processing list and must be unique per
	// replica. Default the host name, which is the pod name on Kubernetes.
	ReplicaID string
	// TokenTTL is the lifetime of the browser's token. Default 15m.
	TokenTTL time.Duration
	// ClientAblyEndpoint is the endpoint /config gives the browser. Default
	// AblyEndpoint.
	ClientAblyEndpoint string
	// ShutdownGrace is the time from SIGTERM to exit. Default 25s, under
	// the 30s that Kubernetes waits by default before SIGKILL.
	ShutdownGrace time.Duration
	// LeaseTTL is how long a replica's lease lasts without renewal. The
	// trades of a replica that stopped renewing, such as one killed with
	// SIGKILL, are taken over by another replica about 4/3 LeaseTTL after
	// its last renewal. Default 10s.
	LeaseTTL time.Duration
	// MaxRecoveries is how many times a trade may be taken over after the
	// replica handling it stopped before it goes to the dead-letter list.
	// Default 5.
	MaxRecoveries int
	// Fanout holds batching and routing to many channels (BATCH_SIZE,
	// CHANNEL_RATE_LIMIT, ACCOUNT_RATE_LIMIT, SYMBOLS).
	Fanout fanoutConfig
}

var (
	ablyKeyPattern   = regexp.MustCompile(`^[^.:\s]+\.[^.:\s]+:\S+$`)
	replicaIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)
)

// registerSettings adds every setting of cfg to set. hostname is the
// default REPLICA_ID.
func registerSettings(set *envconfig.Set, cfg *Config, hostname string) {
	redisconn.Register(set, &cfg.Redis)
	set.Secret(&cfg.AblyKey, "ABLY_KEY",
		"Ably API key in the form appId.keyId:secret (required; never logged)")
	set.URL(&cfg.AblyEndpoint, "ABLY_ENDPOINT", []string{"http", "https"},
		"Ably REST endpoint: empty for Ably itself, or http://host:port of the local emulator (plain HTTP, no fallback hosts)")
	set.String(&cfg.ChannelName, "CHANNEL_NAME", "trades", "Ably channel the trades are published to")
	set.Int(&cfg.RateLimit, "RATE_LIMIT", 50, 1, 100000,
		"maximum messages all replicas together publish per RATE_WINDOW, from 1 to 100000")
	set.Duration(&cfg.RateWindow, "RATE_WINDOW", time.Second, 10*time.Millisecond, time.Hour,
		"length of the limiter's sliding window, such as 1s")
	set.Duration(&cfg.RateMargin, "RATE_MARGIN", 10*time.Millisecond, 0, 10*time.Second,
		"added to RATE_WINDOW when spacing admissions, such as 10ms; admissions count from the end of their publish, so this only covers rounding and clock drift between Redis and Ably")
	set.String(&cfg.HTTPAddr, "HTTP_ADDR", ":8080", "listen address of /token, /config, /healthz, /readyz, /stats and /metrics, host:port")
	set.String(&cfg.ReplicaID, "REPLICA_ID", hostname,
		"unique id of this replica; names its processing list (default the host name, the pod name on Kubernetes)")
	set.Duration(&cfg.TokenTTL, "TOKEN_TTL", 15*time.Minute, time.Minute, 24*time.Hour,
		"lifetime of the subscribe-only token that /token issues, from 1m to 24h")
	set.URL(&cfg.ClientAblyEndpoint, "CLIENT_ABLY_ENDPOINT", []string{"http", "https"},
		"Ably endpoint that /config gives the browser (default ABLY_ENDPOINT)")
	set.Duration(&cfg.ShutdownGrace, "SHUTDOWN_GRACE", 25*time.Second, 2*time.Second, 10*time.Minute,
		"maximum time from SIGTERM or SIGINT to exit; keep it under the pod's termination grace period (30s by default)")
	set.Duration(&cfg.LeaseTTL, "LEASE_TTL", 10*time.Second, time.Second, 10*time.Minute,
		"lifetime of a replica's lease in Redis, renewed every third of it; the trades of a replica that stops renewing are published by another replica about 4/3 of it later")
	set.Int(&cfg.MaxRecoveries, "MAX_RECOVERIES", 5, 1, 1000,
		"number of times a trade may be taken over after the replica handling it stopped; the next time it goes to the dead-letter list")
	registerFanoutSettings(set, &cfg.Fanout)
	logging.Register(set, &cfg.Log)
}

// applyDefaults fills the settings whose default is another setting.
func (c *Config) applyDefaults() {
	if c.ClientAblyEndpoint == "" {
		c.ClientAblyEndpoint = c.AblyEndpoint
	}
}

// Validate checks what the settings cannot check one by one. The error
// names the variable, the value (masked for the key) and the accepted form.
func (c Config) Validate() error {
	if err := c.Redis.Validate(); err != nil {
		return fmt.Errorf("%w: %w", errInvalidConfig, err)
	}
	switch {
	case c.AblyKey == "":
		return fmt.Errorf("%w: missing ABLY_KEY: set it to an Ably API key in the form appId.keyId:secret", errInvalidConfig)
	case !ablyKeyPattern.MatchString(c.AblyKey):
		return fmt.Errorf("%w: invalid ABLY_KEY=%q: expected the form appId.keyId:secret",
			errInvalidConfig, envconfig.Mask(c.AblyKey))
	case c.ReplicaID == "":
		return fmt.Errorf("%w: missing REPLICA_ID: the host name is empty, so set it", errInvalidConfig)
	case !replicaIDPattern.MatchString(c.ReplicaID):
		return fmt.Errorf("%w: invalid REPLICA_ID=%q: expected 1 to 128 characters of A-Z a-z 0-9 _ . : - starting with a letter or digit",
			errInvalidConfig, c.ReplicaID)
	}
	if err := validateChannel(c.ChannelName); err != nil {
		return err
	}
	if err := validateFanout(c); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("%w: invalid HTTP_ADDR=%q: expected host:port such as :8080", errInvalidConfig, c.HTTPAddr)
	}
	for name, value := range map[string]string{"ABLY_ENDPOINT": c.AblyEndpoint, "CLIENT_ABLY_ENDPOINT": c.ClientAblyEndpoint} {
		if value == "" {
			continue
		}
		if _, err := publish.ParseEndpoint(value); err != nil {
			return fmt.Errorf("%w: invalid %s=%q: expected http://host:port or https://host:port with no path",
				errInvalidConfig, name, value)
		}
	}
	return nil
}

// validateChannel applies Ably's channel naming rules: not empty, no line
// breaks, and no leading "[" (channel parameters) or ":".
func validateChannel(name string) error {
	if name == "" || strings.HasPrefix(name, "[") || strings.HasPrefix(name, ":") ||
		strings.ContainsAny(name, "\r\n") {
		return fmt.Errorf("%w: invalid CHANNEL_NAME=%q: expected a non-empty name without line breaks, not starting with [ or :",
			errInvalidConfig, name)
	}
	return nil
}

// publishTimeout bounds one publish attempt and one final Redis write. The
// shutdown sequence can run one take, one publish and one ack, so each gets
// at most a third of the grace, capped at ably-go's default request
// timeout of 10s.
func (c Config) publishTimeout() time.Duration {
	return min(10*time.Second, c.ShutdownGrace/3)
}

// limiterHold is how long an admission counts as the end of its publish
// until the worker records the real end: longer than one publish can
// take, which publishTimeout bounds.
func (c Config) limiterHold() time.Duration {
	return c.publishTimeout() + time.Second
}
