package limiter_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/lib/redistest"
)

// TestLimiter_TenPerSecondBurstFromFourReplicas sends 50 concurrent calls
// from each of 4 replicas, each with its own Redis client, at one instant,
// against a limit of 10 per second.
func TestLimiter_TenPerSecondBurstFromFourReplicas(t *testing.T) {
	const replicas, callers, limit, window = 4, 50, 10, time.Second
	srv := redistest.Start(t, redistest.Options{})
	limiters := make([]*limiter.Limiter, replicas)
	for i := range limiters {
		limiters[i] = newLimiter(t, newClient(t, srv), limit, window,
			limiter.WithRequestPrefix("replica-"+strconv.Itoa(i)))
	}
	probe := newClient(t, srv)

	var admittedTotal, errCount atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, l := range limiters {
		for range callers {
			wg.Go(func() {
				<-start
				admitted, _, err := l.Admit(t.Context(), 1)
				if err != nil {
					errCount.Add(1)
					return
				}
				admittedTotal.Add(int64(admitted))
			})
		}
	}
	before := redisTime(t, probe)
	close(start)
	wg.Wait()
	span := time.Duration(redisTime(t, probe)-before) * time.Microsecond

	if n := errCount.Load(); n != 0 {
		t.Fatalf("%d calls failed", n)
	}
	admitted := admittedTotal.Load()
	if span < window {
		if admitted != limit {
			t.Errorf("admitted %d of %d calls made within %s, want exactly %d", admitted, replicas*callers, span, limit)
		}
	} else {
		// A machine too busy to make 200 calls within one window: every
		// window may then admit its own 10.
		t.Logf("the calls took %s, longer than the window", span)
		if maxAdmitted := int64(limit) * (int64(span/window) + 1); admitted < limit || admitted > maxAdmitted {
			t.Errorf("admitted %d over %s, want from %d to %d", admitted, span, limit, maxAdmitted)
		}
	}

	entries, err := probe.ZRangeWithScores(t.Context(), logKey, 0, -1).Result()
	if err != nil {
		t.Fatalf("ZRANGE: %v", err)
	}
	if int64(len(entries)) != admitted {
		t.Errorf("log has %d entries, want one per admission (%d)", len(entries), admitted)
	}
	for i, e := range entries {
		inWindow := 0
		for _, other := range entries[:i+1] {
			if e.Score-other.Score < float64(window.Microseconds()) {
				inWindow++
			}
		}
		if inWindow > limit {
			t.Errorf("the window ending at entry %d holds %d admissions, want at most %d", i, inWindow, limit)
		}
	}
}
