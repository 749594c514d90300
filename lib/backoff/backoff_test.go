package backoff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ably-fanout/lib/backoff"
)

func TestPolicy_DelayGrowsWithinBounds(t *testing.T) {
	p := backoff.Policy{Min: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		attempt int
		base    time.Duration
	}{
		{attempt: 0, base: 100 * time.Millisecond},
		{attempt: 1, base: 200 * time.Millisecond},
		{attempt: 3, base: 800 * time.Millisecond},
		{attempt: 4, base: time.Second},
		{attempt: 1000, base: time.Second},
	}
	for _, tt := range tests {
		for range 50 {
			d := p.Delay(tt.attempt)
			if d < tt.base/2 || d > tt.base {
				t.Fatalf("Delay(%d) = %s, want within [%s, %s]", tt.attempt, d, tt.base/2, tt.base)
			}
		}
	}
}

func TestSleep_ReturnsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := backoff.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v, want context.Canceled", err)
	}
	if err := backoff.Sleep(t.Context(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v, want nil", err)
	}
}
