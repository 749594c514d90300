package main

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ably-fanout/lib/envconfig"
	"github.com/ably-fanout/lib/logging"
	"github.com/ably-fanout/lib/redisconn"
	"github.com/ably-fanout/lib/trade"
	"github.com/ably-fanout/trading-server/internal/generate"
	"github.com/ably-fanout/trading-server/internal/push"
)

// Modes of trade generation.
const (
	modeBurst  = "burst"
	modeSteady = "steady"
	modeReplay = "replay"
)

// config is every setting of the trading server.
type config struct {
	Redis redisconn.Config
	Log   logging.Config
	// Mode is burst, steady or replay. Default burst.
	Mode string
	// PublishRate is the number of trades per burst in burst mode. Default 10.
	PublishRate int
	// BurstInterval is the time between the starts of two bursts. Default 5s.
	BurstInterval time.Duration
	// SteadyRate is the number of trades per second in steady mode. Default 20.
	SteadyRate int
	// Symbols are the instruments traded. Default AAPL,MSFT,GOOG,AMZN,TSLA.
	Symbols []string
	// ReplayFile is the NDJSON file that replay mode reads. Required in
	// replay mode.
	ReplayFile string
	// ReplayRate is the maximum number of trades per second in replay mode,
	// or 0 for as fast as the queue bound allows. Default 0.
	ReplayRate int
	// MaxQueueLength is the length the queue never grows past. Default 10000.
	MaxQueueLength int
	// TradeLimit is the number of trades after which the server stops, or
	// 0 for no limit. Default 0.
	TradeLimit int
	// PushBatch is the maximum number of trades per round trip to Redis.
	// Default 100.
	PushBatch int
	// ProducerID is the first part of every trade id. Default a random
	// 8-character hexadecimal id per run.
	ProducerID string
	// HTTPAddr is the listen address of /healthz, /readyz and /metrics.
	// Empty turns the HTTP server off. Default :8090.
	HTTPAddr string

	// ShutdownTimeout bounds the pushing of generated trades after SIGTERM
	// or SIGINT. Default 5s, and no setting changes it.
	ShutdownTimeout time.Duration
	// ProgressInterval is the time between two progress log lines.
	// Default 10s, and no setting changes it.
	ProgressInterval time.Duration
}

// newSettings returns the settings of the trading server, bound to the
// fields of the returned config.
func newSettings() (*envconfig.Set, *config) {
	set := envconfig.New("trading-server",
		"generates trades and pushes them as JSON onto a Redis list, never past its maximum length")
	c := &config{
		ShutdownTimeout:  5 * time.Second,
		ProgressInterval: 10 * time.Second,
	}
	redisconn.Register(set, &c.Redis)

	set.Enum(&c.Mode, "MODE", modeBurst, []string{modeBurst, modeSteady, modeReplay},
		"how trades are made: burst (PUBLISH_RATE trades every BURST_INTERVAL), steady (STEADY_RATE trades per second) or replay (the lines of REPLAY_FILE)")
	set.Int(&c.PublishRate, "PUBLISH_RATE", 10, 1, 100_000,
		"trades per burst in burst mode")
	set.Duration(&c.BurstInterval, "BURST_INTERVAL", 5*time.Second, time.Millisecond, 24*time.Hour,
		"time between the starts of two bursts in burst mode, such as 5s or 250ms (the first burst starts at once)")
	set.Int(&c.SteadyRate, "STEADY_RATE", 20, 1, 100_000,
		"trades per second in steady mode")

	set.List(&c.Symbols, "SYMBOLS", trade.DefaultSymbols,
		"comma-separated symbols to trade, each 1 to 16 characters of A-Z 0-9 . _ -")
	set.String(&c.ReplayFile, "REPLAY_FILE", "",
		"path of the NDJSON file of trades, one per line, that replay mode reads (required in replay mode)")
	set.Int(&c.ReplayRate, "REPLAY_RATE", 0, 0, 100_000,
		"maximum trades per second in replay mode, or 0 to send them as fast as the queue bound allows")

	set.Int(&c.MaxQueueLength, "MAX_QUEUE_LENGTH", push.DefaultMaxQueueLength, 1, 100_000_000,
		"maximum number of trades in the Redis list (the server waits while the list is full)")
	set.Int(&c.TradeLimit, "TRADE_LIMIT", 0, 0, math.MaxInt,
		"number of trades after which the server pushes what is left and exits, or 0 to run until stopped")
	set.Int(&c.PushBatch, "PUSH_BATCH", push.DefaultBatchSize, 1, push.MaxBatchSize,
		"maximum number of trades sent to Redis in one round trip")

	set.String(&c.ProducerID, "PRODUCER_ID", "",
		fmt.Sprintf("first part of every trade id, 1 to %d characters of A-Z a-z 0-9 _ . - (when empty, each run makes a random 8-character hexadecimal id)", generate.MaxProducerIDLength))
	set.String(&c.HTTPAddr, "HTTP_ADDR", ":8090",
		"listen address of /healthz, /readyz and /metrics, or empty to turn them off")
	logging.Register(set, &c.Log)

	return set, c
}

// complete fills the settings whose default is chosen at run time and
// validates the combination. Each error names the variable and the value.
func (c *config) complete() error {
	if c.ProducerID == "" {
		c.ProducerID = generate.RandomProducerID()
	}
	if err := c.Redis.Validate(); err != nil {
		return err
	}
	if err := generate.ValidateProducerID(c.ProducerID); err != nil {
		return fmt.Errorf("invalid PRODUCER_ID=%q: expected 1 to %d characters of A-Z a-z 0-9 _ . -",
			c.ProducerID, generate.MaxProducerIDLength)
	}
	if err := generate.ValidateSymbols(c.Symbols); err != nil {
		return fmt.Errorf("invalid SYMBOLS=%q: %w", strings.Join(c.Symbols, ","), err)
	}
	if err := validateHTTPAddr(c.HTTPAddr); err != nil {
		return fmt.Errorf("invalid HTTP_ADDR=%q: %w", c.HTTPAddr, err)
	}
	if c.Mode == modeReplay {
		if c.ReplayFile == "" {
			return errors.New("missing REPLAY_FILE: it is required when MODE=replay")
		}
		f, err := os.Open(c.ReplayFile)
		if err != nil {
			return fmt.Errorf("invalid REPLAY_FILE=%q: %w", c.ReplayFile, err)
		}
		_ = f.Close()
	}
	return nil
}

func validateHTTPAddr(addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("expected host:port or :port, such as :8090")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("expected a port from 0 to 65535, such as :8090")
	}
	return nil
}
