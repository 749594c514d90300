package lease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

func TestKeeper_RegistersAndRenews(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	k := newKeeper(t, client, "replica-a", 300*time.Millisecond)
	k.start(t)

	select {
	case <-k.Registered():
	case <-time.After(hangTimeout):
		t.Fatal("keeper never registered")
	}
	first, ok := leaseOf(t, client, "replica-a")
	if !ok {
		t.Fatal("no lease after registration")
	}
	if now := redisMillis(t, client); first <= float64(now) {
		t.Errorf("lease expires at %.0f, not after now %d", first, now)
	}
	waitFor(t, "a renewal to extend the lease", func() bool {
		score, ok := leaseOf(t, client, "replica-a")
		return ok && score > first
	})
}

func TestKeeper_TakesOverExpiredReplica(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	addLease(t, client, "gone", redisMillis(t, client)-1)
	push(t, client, keys.Processing(queueKey, "gone"), "t-1", "t-2", "t-3")
	push(t, client, keys.Processing(queueKey, "live"), "t-0")

	k := newKeeper(t, client, "live", 300*time.Millisecond)
	k.start(t)
	waitFor(t, "the expired replica's trades to be taken over", func() bool { return k.Stats().ClaimedTrades == 3 })
	if n := k.notified.Load(); n != 1 {
		t.Errorf("onClaim called %d times, want 1", n)
	}

	if got, want := list(t, client, keys.Processing(queueKey, "live")), []string{"t-0", "t-1", "t-2", "t-3"}; !slices.Equal(got, want) {
		t.Errorf("own processing list %q, want %q (taken-over trades appended in order)", got, want)
	}
	if got := list(t, client, keys.Processing(queueKey, "gone")); len(got) != 0 {
		t.Errorf("stopped replica's list %q, want empty", got)
	}
	if _, ok := leaseOf(t, client, "gone"); ok {
		t.Error("stopped replica still has a lease")
	}
	stats := k.Stats()
	if stats.Claims != 1 {
		t.Errorf("claims %d, want 1", stats.Claims)
	}
	if stats.ClaimedTrades != 3 {
		t.Errorf("claimed trades %d, want 3", stats.ClaimedTrades)
	}
}

func TestKeeper_TakesOverListWithoutLease(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	push(t, client, keys.Processing(queueKey, "orphan"), "t-1")

	k := newKeeper(t, client, "live", 300*time.Millisecond)
	k.start(t)
	waitFor(t, "the list without a lease to be taken over", func() bool { return k.Stats().ClaimedTrades == 1 })

	if got := list(t, client, keys.Processing(queueKey, "live")); !slices.Equal(got, []string{"t-1"}) {
		t.Errorf("own processing list %q, want [t-1]", got)
	}
}

func TestKeeper_OneClaimerPerStoppedReplica(t *testing.T) {
	const trades, claimers = 50, 4
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	var want []string
	for i := range trades {
		want = append(want, fmt.Sprintf("t-%d", i))
	}
	addLease(t, client, "gone", redisMillis(t, client)-1)
	push(t, client, keys.Processing(queueKey, "gone"), want...)

	ks := make([]*testKeeper, claimers)
	for i := range ks {
		ks[i] = newKeeper(t, newClient(t, srv), fmt.Sprintf("live-%d", i), 300*time.Millisecond)
		ks[i].start(t)
	}
	waitFor(t, "the stopped replica's list to be taken over", func() bool {
		return len(list(t, client, keys.Processing(queueKey, "gone"))) == 0
	})

	var got []string
	var claims int64
	for i, k := range ks {
		got = append(got, list(t, client, keys.Processing(queueKey, fmt.Sprintf("live-%d", i)))...)
		claims += k.Stats().Claims
	}
	if claims != 1 {
		t.Errorf("%d keepers took over the replica, want 1", claims)
	}
	if !slices.Equal(got, want) {
		t.Errorf("live lists hold %d trades, want each of the %d exactly once and in order", len(got), trades)
	}
}

func TestKeeper_LeavesLiveReplicaAlone(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	other := newKeeper(t, client, "other", 300*time.Millisecond)
	other.start(t)
	<-other.Registered()
	push(t, client, keys.Processing(queueKey, "other"), "t-1")

	k := newKeeper(t, client, "live", 300*time.Millisecond)
	k.renewOnce(t.Context())
	k.claim(t.Context(), "other")

	if got := list(t, client, keys.Processing(queueKey, "other")); !slices.Equal(got, []string{"t-1"}) {
		t.Errorf("live replica's list %q, want its [t-1] untouched", got)
	}
	if n := k.Stats().Claims; n != 0 {
		t.Errorf("claims %d, want 0", n)
	}
}

func TestKeeper_NoClaimWithoutOwnLease(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	addLease(t, client, "gone", redisMillis(t, client)-1)
	push(t, client, keys.Processing(queueKey, "gone"), "t-1")

	// The keeper never renewed, as one cut off from Redis would not.
	k := newKeeper(t, client, "live", 300*time.Millisecond)
	k.claim(t.Context(), "gone")

	if got := list(t, client, keys.Processing(queueKey, "gone")); !slices.Equal(got, []string{"t-1"}) {
		t.Errorf("stopped replica's list %q, want [t-1] left for a replica with a live lease", got)
	}
	if _, ok := leaseOf(t, client, "gone"); !ok {
		t.Error("stopped replica's lease was removed")
	}
}

func TestKeeper_WaitsOneTTLBeforeClaiming(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	const ttl = time.Minute
	k := newKeeper(t, client, "live", ttl)

	if !k.renewOnce(t.Context()) {
		t.Fatal("renewal failed")
	}
	if k.mayClaim() {
		t.Error("may claim right after the first renewal, want a wait of one TTL")
	}
	k.healthySince = time.Now().Add(-ttl)
	if !k.mayClaim() {
		t.Error("may not claim after a TTL of renewals")
	}

	srv.Kill()
	if k.renewOnce(t.Context()) {
		t.Fatal("renewal succeeded with Redis down")
	}
	if k.mayClaim() {
		t.Error("may claim after a failed renewal")
	}
}

func TestKeeper_ReleaseHandsBackInOrder(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	k := newKeeper(t, client, "replica-a", time.Minute)
	if !k.renewOnce(t.Context()) {
		t.Fatal("renewal failed")
	}
	push(t, client, keys.Processing(queueKey, "replica-a"), "t-1", "t-2", "t-3")
	push(t, client, keys.Queue(queueKey), "t-4")

	moved, err := k.Release(t.Context())
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	if moved != 3 {
		t.Errorf("handed back %d trades, want 3", moved)
	}
	if got, want := list(t, client, keys.Queue(queueKey)), []string{"t-1", "t-2", "t-3", "t-4"}; !slices.Equal(got, want) {
		t.Errorf("queue %q, want %q (handed-back trades first, in order)", got, want)
	}
	if got := list(t, client, keys.Processing(queueKey, "replica-a")); len(got) != 0 {
		t.Errorf("processing list %q, want empty", got)
	}
	if _, ok := leaseOf(t, client, "replica-a"); ok {
		t.Error("lease still present after Release")
	}
	if n := k.Stats().HandedBack; n != 3 {
		t.Errorf("handed back counter %d, want 3", n)
	}
}

func TestKeeper_RenewsAfterScriptFlushAndRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	client := newClient(t, srv)
	k := newKeeper(t, client, "replica-a", time.Minute)
	if !k.renewOnce(t.Context()) {
		t.Fatal("first renewal failed")
	}

	if err := client.ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	if !k.renewOnce(t.Context()) {
		t.Error("renewal failed after SCRIPT FLUSH, want the script loaded again")
	}

	srv.Restart()
	// The pool's connections broke with the restart, and the client does
	// not retry by itself, so the first renewals may fail.
	renewed := false
	for range 5 {
		if renewed = k.renewOnce(t.Context()); renewed {
			break
		}
	}
	if !renewed {
		t.Error("renewal failed after a Redis restart")
	}
	if n := k.Stats().LeaseLosses; n != 0 {
		t.Errorf("lease losses %d, want 0 (the append-only file kept the lease)", n)
	}
}

func TestKeeper_ReportsLostLease(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	k := newKeeper(t, client, "replica-a", time.Minute)
	if !k.renewOnce(t.Context()) {
		t.Fatal("first renewal failed")
	}
	// Another replica took the lease over, as after a long partition.
	if err := client.ZRem(t.Context(), keys.Replicas(queueKey), "replica-a").Err(); err != nil {
		t.Fatalf("ZREM: %v", err)
	}

	if !k.renewOnce(t.Context()) {
		t.Fatal("renewal failed")
	}
	if n := k.Stats().LeaseLosses; n != 1 {
		t.Errorf("lease losses %d, want 1", n)
	}
	if _, ok := leaseOf(t, client, "replica-a"); !ok {
		t.Error("no lease after the renewal, want the replica registered again")
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{name: "defaults", cfg: Config{}},
		{name: "short ttl", cfg: Config{TTL: 100 * time.Millisecond}},
		{name: "ttl too short", cfg: Config{TTL: time.Millisecond}, wantErr: true},
		{name: "renewal as long as ttl", cfg: Config{TTL: time.Second, RenewInterval: time.Second}, wantErr: true},
		{name: "negative scan interval", cfg: Config{ScanInterval: -time.Second}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if got := err != nil; got != tt.wantErr {
				t.Errorf("Validate() = %v, want an error: %v", err, tt.wantErr)
			}
		})
	}
}

// loseReplyOnce runs the first script call whose keys contain key and
// then reports it as failed, as when the connection breaks after Redis
// ran the script.
type loseReplyOnce struct {
	key  string
	lost atomic.Bool
}

func (h *loseReplyOnce) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *loseReplyOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && slices.Contains(cmd.Args(), any(h.key)) && h.lost.CompareAndSwap(false, true) {
			return errors.New("read tcp: connection reset by peer")
		}
		return err
	}
}

func (h *loseReplyOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func TestKeeper_NotifiesAfterLostClaimReply(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	addLease(t, client, "gone", redisMillis(t, client)-1)
	push(t, client, keys.Processing(queueKey, "gone"), "t-1")

	keeperClient := newClient(t, srv)
	hook := &loseReplyOnce{key: keys.Processing(queueKey, "gone")}
	keeperClient.AddHook(hook)
	k := newKeeper(t, keeperClient, "live", time.Minute)
	if !k.renewOnce(t.Context()) {
		t.Fatal("renewal failed")
	}
	k.claim(t.Context(), "gone")

	if !hook.lost.Load() {
		t.Fatal("no claim reply was lost; the test did not run its case")
	}
	if got := list(t, client, keys.Processing(queueKey, "live")); !slices.Equal(got, []string{"t-1"}) {
		t.Errorf("own processing list %q, want [t-1] moved by the script", got)
	}
	if n := k.notified.Load(); n != 1 {
		t.Errorf("onClaim called %d times, want 1 so the worker looks at its list", n)
	}
}
