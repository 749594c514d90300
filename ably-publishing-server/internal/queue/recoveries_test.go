package queue_test

import (
	"testing"

	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
)

func TestQueue_RecoveryCounts(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	q := queue.New(client, queueKey, "replica-a")
	ctx := t.Context()

	for want := int64(1); want <= 3; want++ {
		got, err := q.CountRecovery(ctx, "\xff binary payload")
		if err != nil {
			t.Fatalf("CountRecovery: %v", err)
		}
		if got != want {
			t.Errorf("count %d, want %d", got, want)
		}
	}
	if got, err := q.CountRecovery(ctx, "other"); err != nil || got != 1 {
		t.Errorf("another payload's count = %d, %v; want its own 1", got, err)
	}
	if ttl := client.TTL(ctx, keys.Recoveries(queueKey)).Val(); ttl <= 0 {
		t.Errorf("recovery counts have TTL %s, want an expiry", ttl)
	}

	if err := q.ForgetRecovery(ctx, "\xff binary payload"); err != nil {
		t.Fatalf("ForgetRecovery: %v", err)
	}
	if got, err := q.CountRecovery(ctx, "\xff binary payload"); err != nil || got != 1 {
		t.Errorf("count after ForgetRecovery = %d, %v; want 1", got, err)
	}
	if n := client.HLen(ctx, keys.Recoveries(queueKey)).Val(); n != 2 {
		t.Errorf("recovery counts hold %d payloads, want 2", n)
	}
}
