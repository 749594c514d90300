package deadletter_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/deadletter"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redisconn"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

const queueKey = "dead-test"

func newClient(tb testing.TB, srv *redistest.Server) *redis.Client {
	tb.Helper()
	opts, err := redisconn.Config{URL: srv.URL(), QueueKey: queueKey}.Options()
	if err != nil {
		tb.Fatalf("redis options: %v", err)
	}
	client := redis.NewClient(opts)
	tb.Cleanup(func() { _ = client.Close() })
	return client
}

// deadLetter puts each payload on the dead-letter list the way a replica
// does: taken from the queue, then moved with a reason.
func deadLetter(tb testing.TB, client *redis.Client, payloads ...string) {
	tb.Helper()
	q := queue.New(client, queueKey, "replica-a")
	for _, p := range payloads {
		if err := client.RPush(tb.Context(), keys.Queue(queueKey), p).Err(); err != nil {
			tb.Fatalf("RPUSH: %v", err)
		}
		taken, ok, err := q.Take(tb.Context(), time.Second)
		if err != nil || !ok || taken != p {
			tb.Fatalf("Take: ok=%v, %v", ok, err)
		}
		if moved, err := q.DeadLetter(tb.Context(), p, "reason of "+tradeLabel(p), 40013, time.Now()); err != nil || !moved {
			tb.Fatalf("DeadLetter: moved=%v, %v", moved, err)
		}
	}
}

func tradeLabel(payload string) string {
	if len(payload) > 20 {
		return payload[:20]
	}
	return payload
}

func tradePayload(id string) string {
	return fmt.Sprintf(`{"id":%q,"symbol":"AAPL","price":"1.5","size":1,"side":"buy","seq":1,"ts":"2026-01-02T03:04:05.000Z"}`, id)
}

func list(tb testing.TB, client *redis.Client, key string) []string {
	tb.Helper()
	items, err := client.LRange(tb.Context(), key, 0, -1).Result()
	if err != nil {
		tb.Fatalf("LRANGE %s: %v", key, err)
	}
	return items
}

func TestStore_FindByIndexAndTradeID(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	deadLetter(t, client, tradePayload("t-1"), "not json", tradePayload("123"), tradePayload("t-1"))
	store := deadletter.New(client, queueKey)

	tests := []struct {
		ref         string
		wantIndexes []int64
		wantErr     error
	}{
		{ref: "1", wantIndexes: []int64{1}},
		{ref: "t-1", wantIndexes: []int64{0, 3}},
		{ref: "id:123", wantIndexes: []int64{2}},
		{ref: "123", wantErr: deadletter.ErrNotFound},
		{ref: "9", wantErr: deadletter.ErrNotFound},
		{ref: "t-9", wantErr: deadletter.ErrNotFound},
		{ref: "", wantErr: deadletter.ErrInvalidReference},
		{ref: "id:", wantErr: deadletter.ErrInvalidReference},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			found, err := store.Find(t.Context(), tt.ref)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Find(%q) error %v, want %v", tt.ref, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Find(%q): %v", tt.ref, err)
			}
			var indexes []int64
			for _, e := range found {
				indexes = append(indexes, e.Index)
			}
			if !slices.Equal(indexes, tt.wantIndexes) {
				t.Errorf("Find(%q) indexes %v, want %v", tt.ref, indexes, tt.wantIndexes)
			}
		})
	}
}

func TestStore_EachDecodesEntries(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	payloads := []string{tradePayload("t-1"), "\xff\xfe binary", ""}
	deadLetter(t, client, payloads...)
	if err := client.RPush(t.Context(), keys.Dead(queueKey), "{broken").Err(); err != nil {
		t.Fatal(err)
	}
	store := deadletter.New(client, queueKey)

	var entries []deadletter.Entry
	if err := store.Each(t.Context(), func(e deadletter.Entry) error { entries = append(entries, e); return nil }); err != nil {
		t.Fatalf("Each: %v", err)
	}
	if len(entries) != 4 {
		t.Fatalf("Each returned %d entries, want 4", len(entries))
	}
	for i, p := range payloads {
		raw, err := entries[i].RawPayload()
		if err != nil || raw != p {
			t.Errorf("entry %d payload %q (%v), want %q", i, raw, err, p)
		}
		if entries[i].Code != 40013 {
			t.Errorf("entry %d code %d, want 40013", i, entries[i].Code)
		}
	}
	if entries[0].TradeID != "t-1" {
		t.Errorf("entry 0 trade id %q, want t-1", entries[0].TradeID)
	}
	if entries[3].DecodeError == "" {
		t.Error("entry 3 is not JSON but has no decode error")
	}
	if n, err := store.Count(t.Context()); err != nil || n != 4 {
		t.Errorf("Count = %d, %v; want 4", n, err)
	}
}

func TestStore_RequeueMovesOnce(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	payloads := []string{tradePayload("t-1"), "\xff\xfe binary"}
	deadLetter(t, client, payloads...)
	if err := client.RPush(t.Context(), keys.Queue(queueKey), "newer").Err(); err != nil {
		t.Fatal(err)
	}
	store := deadletter.New(client, queueKey)

	for _, ref := range []string{"t-1", "0"} {
		found, err := store.Find(t.Context(), ref)
		if err != nil || len(found) != 1 {
			t.Fatalf("Find(%q): %d entries, %v", ref, len(found), err)
		}
		moved, err := store.Requeue(t.Context(), found[0])
		if err != nil || !moved {
			t.Fatalf("Requeue(%q): moved=%v, %v", ref, moved, err)
		}
		again, err := store.Requeue(t.Context(), found[0])
		if err != nil || again {
			t.Errorf("second Requeue(%q): moved=%v, %v; want false", ref, again, err)
		}
	}

	if got, want := list(t, client, keys.Queue(queueKey)), []string{"newer", payloads[0], payloads[1]}; !slices.Equal(got, want) {
		t.Errorf("queue %q, want %q (requeued payloads at the tail, bytes unchanged)", got, want)
	}
	if got := list(t, client, keys.Dead(queueKey)); len(got) != 0 {
		t.Errorf("dead-letter list has %d entries, want 0", len(got))
	}
}

// failAfter fails every script run after the first n successful ones, as
// a connection that breaks in the middle of a requeue would.
type failAfter struct {
	n  int64
	ok atomic.Int64
}

func (f *failAfter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f *failAfter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := cmd.Name()
		if name != "evalsha" && name != "eval" {
			return next(ctx, cmd)
		}
		if f.ok.Load() >= f.n {
			return errors.New("connection reset by peer")
		}
		err := next(ctx, cmd)
		if err == nil {
			f.ok.Add(1)
		}
		return err
	}
}

func (f *failAfter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func TestStore_RequeueAllInterruptedLosesNothing(t *testing.T) {
	const entries = 10
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	var want []string
	for i := range entries {
		want = append(want, tradePayload(fmt.Sprintf("t-%d", i)))
	}
	deadLetter(t, client, want...)

	broken := newClient(t, srv)
	broken.AddHook(&failAfter{n: 4})
	moved, err := deadletter.New(broken, queueKey).RequeueAll(t.Context())
	if err == nil {
		t.Fatal("RequeueAll succeeded through a broken connection")
	}
	if moved != 4 {
		t.Errorf("interrupted RequeueAll moved %d, want 4", moved)
	}
	queued, dead := list(t, client, keys.Queue(queueKey)), list(t, client, keys.Dead(queueKey))
	if len(queued)+len(dead) != entries {
		t.Errorf("after the interruption %d queued + %d dead, want %d in all", len(queued), len(dead), entries)
	}

	moved, err = deadletter.New(client, queueKey).RequeueAll(t.Context())
	if err != nil {
		t.Fatalf("second RequeueAll: %v", err)
	}
	if moved != entries-4 {
		t.Errorf("second RequeueAll moved %d, want %d", moved, entries-4)
	}
	if got := list(t, client, keys.Queue(queueKey)); !slices.Equal(got, want) {
		t.Errorf("queue holds %d payloads, want each of the %d once, in order", len(got), entries)
	}
}

func TestStore_ConcurrentRequeueAllMovesEachOnce(t *testing.T) {
	const entries, runs = 200, 4
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	var want []string
	for i := range entries {
		want = append(want, tradePayload(fmt.Sprintf("t-%d", i)))
	}
	deadLetter(t, client, want...)

	var total atomic.Int64
	var wg sync.WaitGroup
	for range runs {
		store := deadletter.New(newClient(t, srv), queueKey)
		wg.Go(func() {
			moved, err := store.RequeueAll(t.Context())
			if err != nil {
				t.Errorf("RequeueAll: %v", err)
			}
			total.Add(int64(moved))
		})
	}
	wg.Wait()

	if n := total.Load(); n != entries {
		t.Errorf("runs moved %d in all, want %d", n, entries)
	}
	got := list(t, client, keys.Queue(queueKey))
	slices.Sort(got)
	sorted := slices.Clone(want)
	slices.Sort(sorted)
	if !slices.Equal(got, sorted) {
		t.Errorf("queue holds %d payloads, want each of the %d exactly once", len(got), entries)
	}
	if strings.Join(list(t, client, keys.Dead(queueKey)), "") != "" {
		t.Error("dead-letter list is not empty")
	}
}
