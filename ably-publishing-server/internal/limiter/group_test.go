package limiter_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

func newGroup(tb testing.TB, srv *redistest.Server) *limiter.Group {
	tb.Helper()
	g, err := limiter.NewGroup(newClient(tb, srv), time.Minute)
	if err != nil {
		tb.Fatalf("limiter.NewGroup: %v", err)
	}
	return g
}

// scope returns a Scope over the log key with its counts hash next to it.
func scope(key string, limit int) limiter.Scope {
	return limiter.Scope{Key: key, Counts: key + ":counts", Limit: limit}
}

// admissionsIn returns the admissions that s's log holds.
func admissionsIn(tb testing.TB, srv *redistest.Server, s limiter.Scope) int {
	tb.Helper()
	total, err := srv.Client().HGet(tb.Context(), s.Counts, "total").Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		tb.Fatalf("read %s: %v", s.Counts, err)
	}
	return total
}

func TestGroup_AdmitsUnderEveryScope(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	g := newGroup(t, srv)
	ctx := t.Context()
	channelA := scope("{t}:log:a", 5)
	channelB := scope("{t}:log:b", 5)
	account := scope("{t}:log", 8)

	tests := []struct {
		name         string
		scopes       []limiter.Scope
		n, minimum   int
		wantAdmitted int
	}{
		{"channel limit cuts", []limiter.Scope{channelA, account}, 7, 1, 5},
		{"channel full", []limiter.Scope{channelA, account}, 1, 1, 0},
		{"account limit cuts", []limiter.Scope{channelB, account}, 5, 1, 3},
		{"account full", []limiter.Scope{channelB, account}, 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admitted, wait, err := g.AdmitRequest(ctx, g.NewRequestID(), tt.n, tt.minimum, tt.scopes...)
			if err != nil {
				t.Fatalf("AdmitRequest: %v", err)
			}
			if admitted != tt.wantAdmitted {
				t.Errorf("admitted %d, expected %d", admitted, tt.wantAdmitted)
			}
			if admitted < tt.n && wait <= 0 {
				t.Errorf("wait %s after a partial admission, expected more than 0", wait)
			}
		})
	}
	for _, s := range []limiter.Scope{channelA, channelB, account} {
		n := admissionsIn(t, srv, s)
		if n > s.Limit {
			t.Errorf("%s holds %d entries, over its limit of %d", s.Key, n, s.Limit)
		}
	}
}

func TestGroup_MinimumAdmitsAllOrNothing(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	g := newGroup(t, srv)
	ctx := t.Context()
	sc := scope("{t}:log", 10)
	if admitted, _, err := g.AdmitRequest(ctx, g.NewRequestID(), 6, 1, sc); err != nil || admitted != 6 {
		t.Fatalf("first call admitted %d, %v; expected 6", admitted, err)
	}
	admitted, wait, err := g.AdmitRequest(ctx, g.NewRequestID(), 5, 5, sc)
	if err != nil {
		t.Fatalf("AdmitRequest: %v", err)
	}
	if admitted != 0 {
		t.Errorf("admitted %d of 5 with minimum 5 and 4 free, expected 0", admitted)
	}
	if wait <= 0 {
		t.Errorf("wait %s after a denial, expected more than 0", wait)
	}
	t.Run("minimum above the limit", func(t *testing.T) {
		// The minimum is lowered to the limit, so the call still admits
		// what fits once the log has room for a whole limit.
		fresh := scope("{t}:log:fresh", 3)
		admitted, _, err := g.AdmitRequest(ctx, g.NewRequestID(), 5, 5, fresh)
		if err != nil {
			t.Fatalf("AdmitRequest: %v", err)
		}
		if admitted != 3 {
			t.Errorf("admitted %d with limit 3, expected 3", admitted)
		}
	})
}

func TestGroup_RetryReturnsEarlierResult(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	g := newGroup(t, srv)
	ctx := t.Context()
	sc := scope("{t}:log", 10)
	id := g.NewRequestID()
	first, _, err := g.AdmitRequest(ctx, id, 4, 1, sc)
	if err != nil || first != 4 {
		t.Fatalf("first call admitted %d, %v; expected 4", first, err)
	}
	again, _, err := g.AdmitRequest(ctx, id, 4, 1, sc)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if again != 4 {
		t.Errorf("retry returned %d, expected the earlier 4", again)
	}
	if n := admissionsIn(t, srv, sc); n != 4 {
		t.Errorf("log holds %d admissions after the retry, expected 4", n)
	}
	if n := srv.Client().ZCard(ctx, sc.Key).Val(); n != 1 {
		t.Errorf("log holds %d entries after the retry, expected the 1 of the call", n)
	}
}

func TestGroup_ConcurrentCallersStayUnderLimits(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := t.Context()
	account := scope("{t}:log", 25)
	channels := []limiter.Scope{scope("{t}:log:a", 10), scope("{t}:log:b", 10), scope("{t}:log:c", 10)}
	var wg sync.WaitGroup
	for i := range 6 {
		g := newGroup(t, srv)
		wg.Go(func() {
			for range 20 {
				_, _, err := g.AdmitRequest(ctx, g.NewRequestID(), 3, 1, channels[i%3], account)
				if err != nil {
					t.Errorf("AdmitRequest: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, c := range channels {
		n := admissionsIn(t, srv, c)
		total += n
		if n > c.Limit {
			t.Errorf("%s holds %d entries, over its limit of %d", c.Key, n, c.Limit)
		}
	}
	if n := admissionsIn(t, srv, account); n != account.Limit || total != n {
		t.Errorf("account log holds %d entries and the channels %d, expected both %d", n, total, account.Limit)
	}
}
