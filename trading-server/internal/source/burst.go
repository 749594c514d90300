package source

import (
	"context"
	"fmt"
	"time"

	"github.com/ably-fanout/trading-server/internal/generate"
)

// Burst generates a batch of trades at once, then again every interval,
// the traffic shape of Ably's original Redis broadcasting demo.
type Burst struct {
	gen      *generate.Generator
	size     int
	interval time.Duration
}

// NewBurst returns a Burst source that makes size trades at once and then
// every interval.
func NewBurst(gen *generate.Generator, size int, interval time.Duration) (*Burst, error) {
	if size < 1 {
		return nil, fmt.Errorf("burst source: invalid size %d, expected at least 1 trade", size)
	}
	if interval <= 0 {
		return nil, fmt.Errorf("burst source: invalid interval %s, expected more than 0", interval)
	}
	return &Burst{gen: gen, size: size, interval: interval}, nil
}

// Run implements Source. A burst that takes longer than the interval,
// because the queue is full, delays the next one instead of overlapping it.
func (b *Burst) Run(ctx context.Context, emit Emit) error {
	ticker := time.NewTicker(b.interval)
	defer ticker.Stop()
	for {
		for range b.size {
			if ctx.Err() != nil {
				return nil
			}
			if err := emit(b.gen.Next()); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}
