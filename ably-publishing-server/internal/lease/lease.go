// Package lease keeps each publisher replica's lease in Redis and takes
// over the trades of replicas that stopped without handing them back.
//
// Every replica renews its entry in the sorted set keys.Replicas, scored by
// the lease's expiry on the Redis clock, every RenewInterval. A replica
// whose lease has expired is taken to be dead: the first live replica to
// notice moves the trades of its processing list into its own processing
// list, in one Lua script, and publishes them. A replica that shuts down
// cleanly hands its trades back to the queue and removes its lease.
package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/logging"
	"github.com/ably-fanout/lib/metrics"
	"github.com/redis/go-redis/v9"
)

// ErrInvalidConfig means a Config field is out of range.
var ErrInvalidConfig = errors.New("invalid lease config")

// Config tunes the Keeper. Zero fields take the defaults below.
type Config struct {
	// TTL is how long a lease lasts without renewal. A replica whose lease
	// expired is taken to be dead, so its trades are published by another
	// replica about TTL+RenewInterval after its last renewal. Default 10s.
	TTL time.Duration
	// RenewInterval is the time between two renewals, and between two
	// checks for expired leases. Default TTL/3.
	RenewInterval time.Duration
	// ScanInterval is the time between two scans for processing lists that
	// have no lease at all. Default TTL.
	ScanInterval time.Duration
	// CallTimeout bounds one Redis call. Default RenewInterval, at most 3s.
	CallTimeout time.Duration
	// LogInterval is the minimum time between two log lines of one kind of
	// repeated failure. Default 10s.
	LogInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.TTL == 0 {
		c.TTL = 10 * time.Second
	}
	if c.RenewInterval == 0 {
		c.RenewInterval = c.TTL / 3
	}
	if c.ScanInterval == 0 {
		c.ScanInterval = c.TTL
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = min(c.RenewInterval, 3*time.Second)
	}
	if c.LogInterval == 0 {
		c.LogInterval = 10 * time.Second
	}
	return c
}

// Validate returns an error that names the first invalid field. It checks
// the config after the defaults are filled in.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.TTL < 10*time.Millisecond:
		return fmt.Errorf("%w: TTL %s, expected at least 10ms", ErrInvalidConfig, c.TTL)
	case c.RenewInterval <= 0 || c.RenewInterval >= c.TTL:
		return fmt.Errorf("%w: RenewInterval %s, expected more than 0 and less than TTL %s",
			ErrInvalidConfig, c.RenewInterval, c.TTL)
	case c.ScanInterval < 0:
		return fmt.Errorf("%w: ScanInterval %s, expected 0 for the default or more", ErrInvalidConfig, c.ScanInterval)
	case c.CallTimeout < 0:
		return fmt.Errorf("%w: CallTimeout %s, expected 0 for the default or more", ErrInvalidConfig, c.CallTimeout)
	}
	return nil
}

// Stats are the Keeper's counters since it started.
type Stats struct {
	// Claims counts the stopped replicas whose processing list this replica
	// took over.
	Claims int64 `json:"claims"`
	// ClaimedTrades counts the trades moved into this replica's processing
	// list by those take-overs.
	ClaimedTrades int64 `json:"claimed_trades"`
	// LeaseLosses counts renewals that found the lease taken over by
	// another replica, after this replica could not renew it for a TTL.
	LeaseLosses int64 `json:"lease_losses"`
	// HandedBack counts the trades moved back to the queue at shutdown.
	HandedBack int64 `json:"handed_back"`
}

// Keeper renews one replica's lease and takes over the trades of stopped
// replicas. Run it from one goroutine; Stats and Registered are safe for
// concurrent use.
type Keeper struct {
	cfg        Config
	client     redis.Cmdable
	queueKey   string
	replicaID  string
	replicas   string
	queue      string
	processing string
	// processingPrefix is the processing list key without the replica id.
	processingPrefix string
	onClaim          func()
	metrics          *metrics.Publisher
	logger           *slog.Logger
	throttle         *logging.Throttle

	registered     chan struct{}
	registeredOnce sync.Once
	// healthySince is when the current run of successful renewals began,
	// zero after a failed one. Only Run's goroutine uses it.
	healthySince time.Time
	lastScan     time.Time

	claims, claimedTrades, leaseLosses, handedBack atomic.Int64
}

// New returns a Keeper for replica replicaID of the queue queueKey.
// onClaim is called from Run's goroutine after a take-over moved trades
// into this replica's processing list, and after a take-over whose reply
// was lost, which may have moved some. m.LeaseTakeovers counts the
// take-overs. It returns an error when cfg is invalid.
func New(cfg Config, client redis.Cmdable, queueKey, replicaID string, onClaim func(), m *metrics.Publisher, logger *slog.Logger) (*Keeper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if onClaim == nil {
		onClaim = func() {}
	}
	return &Keeper{
		cfg:              cfg,
		client:           client,
		queueKey:         queueKey,
		replicaID:        replicaID,
		replicas:         keys.Replicas(queueKey),
		queue:            keys.Queue(queueKey),
		processing:       keys.Processing(queueKey, replicaID),
		processingPrefix: keys.Processing(queueKey, ""),
		onClaim:          onClaim,
		metrics:          m,
		logger:           logger,
		throttle:         logging.NewThrottle(cfg.LogInterval),
		registered:       make(chan struct{}),
	}, nil
}

// Registered is closed after the first successful renewal. The replica must
// not take trades before, so that every processing list has a lease.
func (k *Keeper) Registered() <-chan struct{} { return k.registered }

// Stats returns the current counters.
func (k *Keeper) Stats() Stats {
	return Stats{
		Claims:        k.claims.Load(),
		ClaimedTrades: k.claimedTrades.Load(),
		LeaseLosses:   k.leaseLosses.Load(),
		HandedBack:    k.handedBack.Load(),
	}
}

// Run renews the lease every RenewInterval and, once its renewals have
// succeeded without a gap for a whole TTL, takes over the processing lists
// of replicas whose lease expired. It returns when ctx ends.
//
// The wait of one TTL matters after an outage of Redis: every lease
// expired during it, and the live replicas must renew theirs before any of
// them takes over another's trades.
func (k *Keeper) Run(ctx context.Context) {
	ticker := time.NewTicker(k.cfg.RenewInterval)
	defer ticker.Stop()
	for {
		if k.renewOnce(ctx) && k.mayClaim() {
			k.claimExpired(ctx)
			if time.Since(k.lastScan) >= k.cfg.ScanInterval {
				k.claimOrphans(ctx)
				k.lastScan = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Release hands this replica's trades back to the head of the queue and
// removes its lease. Call it after the worker and Run have stopped, so that
// nothing adds to the processing list afterwards. It returns the number of
// trades handed back.
func (k *Keeper) Release(ctx context.Context) (int, error) {
	moved, err := releaseScript.Run(ctx, k.client, []string{k.processing, k.queue, k.replicas}, k.replicaID).Int()
	if err != nil {
		return 0, fmt.Errorf("hand back %s: %w", k.processing, err)
	}
	k.handedBack.Add(int64(moved))
	return moved, nil
}

// mayClaim reports whether renewals have succeeded without a gap for a
// whole TTL.
func (k *Keeper) mayClaim() bool {
	return !k.healthySince.IsZero() && time.Since(k.healthySince) >= k.cfg.TTL
}
