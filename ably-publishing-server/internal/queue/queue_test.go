package queue_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redisconn"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

const queueKey = "trades-test"

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

func push(tb testing.TB, client *redis.Client, payloads ...string) {
	tb.Helper()
	for _, p := range payloads {
		if err := client.RPush(tb.Context(), keys.Queue(queueKey), p).Err(); err != nil {
			tb.Fatalf("RPUSH: %v", err)
		}
	}
}

func listContents(tb testing.TB, client *redis.Client, key string) []string {
	tb.Helper()
	items, err := client.LRange(tb.Context(), key, 0, -1).Result()
	if err != nil {
		tb.Fatalf("LRANGE %s: %v", key, err)
	}
	return items
}

func TestQueue_TakeAndAck(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	q := queue.New(client, queueKey, "replica-a")
	ctx := t.Context()
	push(t, client, "first", "second")

	payload, ok, err := q.Take(ctx, time.Second)
	if err != nil || !ok {
		t.Fatalf("Take: ok=%v, %v", ok, err)
	}
	if payload != "first" {
		t.Errorf("took %q, want the oldest %q", payload, "first")
	}
	if got := listContents(t, client, q.ProcessingKey()); len(got) != 1 || got[0] != "first" {
		t.Errorf("processing list %q, want [first]", got)
	}
	if got := listContents(t, client, keys.Queue(queueKey)); len(got) != 1 || got[0] != "second" {
		t.Errorf("queue %q, want [second]", got)
	}

	acked, err := q.Ack(ctx, payload)
	if err != nil || !acked {
		t.Fatalf("Ack: acked=%v, %v", acked, err)
	}
	if got := listContents(t, client, q.ProcessingKey()); len(got) != 0 {
		t.Errorf("processing list %q after ack, want empty", got)
	}
	if acked, err := q.Ack(ctx, payload); err != nil || acked {
		t.Errorf("second Ack: acked=%v, %v; want false", acked, err)
	}
}

func TestQueue_TakeTimesOutOnEmptyQueue(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	q := queue.New(newClient(t, srv), queueKey, "replica-a")

	payload, ok, err := q.Take(t.Context(), 100*time.Millisecond)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	if ok {
		t.Errorf("Take returned %q from an empty queue", payload)
	}
}

func TestQueue_PendingReturnsOwnUnfinishedTrades(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	push(t, client, "left-over")
	earlier := queue.New(client, queueKey, "replica-a")
	if _, ok, err := earlier.Take(t.Context(), time.Second); err != nil || !ok {
		t.Fatalf("Take: ok=%v, %v", ok, err)
	}

	restarted := queue.New(client, queueKey, "replica-a")
	payload, ok, err := restarted.Pending(t.Context())
	if err != nil || !ok {
		t.Fatalf("Pending after restart: ok=%v, %v", ok, err)
	}
	if payload != "left-over" {
		t.Errorf("Pending returned %q, want %q", payload, "left-over")
	}

	other := queue.New(client, queueKey, "replica-b")
	if payload, ok, err := other.Pending(t.Context()); err != nil || ok {
		t.Errorf("another replica's Pending returned %q, ok=%v, %v; want nothing", payload, ok, err)
	}
}

func TestQueue_DeadLetter(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		encoding string
	}{
		{name: "not json", payload: "not json"},
		{name: "empty string", payload: ""},
		{name: "one megabyte", payload: strings.Repeat("x", 1<<20)},
		{name: "binary", payload: "\xff\x00\xfe trade", encoding: queue.EncodingBase64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			client := newClient(t, srv)
			q := queue.New(client, queueKey, "replica-a")
			ctx := t.Context()
			push(t, client, tt.payload)
			payload, ok, err := q.Take(ctx, time.Second)
			if err != nil || !ok {
				t.Fatalf("Take: ok=%v, %v", ok, err)
			}
			if payload != tt.payload {
				t.Fatalf("took %d bytes, want the %d bytes pushed", len(payload), len(tt.payload))
			}

			at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
			moved, err := q.DeadLetter(ctx, payload, "invalid trade", 40013, at)
			if err != nil || !moved {
				t.Fatalf("DeadLetter: moved=%v, %v", moved, err)
			}
			if got := listContents(t, client, q.ProcessingKey()); len(got) != 0 {
				t.Errorf("processing list has %d items, want 0", len(got))
			}
			dead := listContents(t, client, q.DeadKey())
			if len(dead) != 1 {
				t.Fatalf("dead-letter list has %d entries, want 1", len(dead))
			}
			var entry queue.DeadLetterEntry
			if err := json.Unmarshal([]byte(dead[0]), &entry); err != nil {
				t.Fatalf("decode entry: %v", err)
			}
			raw, err := entry.RawPayload()
			if err != nil {
				t.Fatalf("decode payload: %v", err)
			}
			if raw != tt.payload {
				t.Errorf("entry payload has %d bytes, want the %d bytes taken", len(raw), len(tt.payload))
			}
			if entry.Encoding != tt.encoding {
				t.Errorf("encoding %q, want %q", entry.Encoding, tt.encoding)
			}
			if entry.Reason != "invalid trade" {
				t.Errorf("reason %q, want %q", entry.Reason, "invalid trade")
			}
			if entry.Code != 40013 {
				t.Errorf("code %d, want 40013", entry.Code)
			}
			if entry.Replica != "replica-a" {
				t.Errorf("replica %q, want replica-a", entry.Replica)
			}
			if entry.At != "2026-01-02T03:04:05.006Z" {
				t.Errorf("at %q, want 2026-01-02T03:04:05.006Z", entry.At)
			}

			moved, err = q.DeadLetter(ctx, payload, "again", 0, at)
			if err != nil || moved {
				t.Errorf("second DeadLetter: moved=%v, %v; want false", moved, err)
			}
			if got := listContents(t, client, q.DeadKey()); len(got) != 1 {
				t.Errorf("dead-letter list has %d entries after a repeat, want 1", len(got))
			}
		})
	}
}

func TestQueue_DeadLetterKeepsOtherCopies(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	q := queue.New(client, queueKey, "replica-a")
	ctx := t.Context()
	push(t, client, "same", "same")
	for range 2 {
		if _, ok, err := q.Take(ctx, time.Second); err != nil || !ok {
			t.Fatalf("Take: ok=%v, %v", ok, err)
		}
	}

	if moved, err := q.DeadLetter(ctx, "same", "bad", 0, time.Now()); err != nil || !moved {
		t.Fatalf("DeadLetter: moved=%v, %v", moved, err)
	}
	if got := listContents(t, client, q.ProcessingKey()); len(got) != 1 {
		t.Errorf("processing list has %d copies, want 1", len(got))
	}
}
