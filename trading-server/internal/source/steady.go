package source

import (
	"context"
	"fmt"

	"github.com/ably-fanout/trading-server/internal/generate"
)

// Steady generates trades at an even rate.
type Steady struct {
	gen  *generate.Generator
	rate int
}

// NewSteady returns a Steady source that makes rate trades per second.
func NewSteady(gen *generate.Generator, rate int) (*Steady, error) {
	if rate < 1 {
		return nil, fmt.Errorf("steady source: invalid rate %d, expected at least 1 trade per second", rate)
	}
	return &Steady{gen: gen, rate: rate}, nil
}

// Run implements Source.
func (s *Steady) Run(ctx context.Context, emit Emit) error {
	p := newPacer(s.rate)
	defer p.stop()
	for p.take(ctx) {
		if err := emit(s.gen.Next()); err != nil {
			return err
		}
	}
	return nil
}
