package queue_test

import (
	"slices"
	"testing"

	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
)

func TestWindow_FillsAndReturnsHead(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	q := queue.New(client, queueKey, "replica-a")
	ctx := t.Context()
	push(t, client, "a", "b", "c", "d", "e")

	head, err := q.Window(ctx, 3)
	if err != nil {
		t.Fatalf("Window: %v", err)
	}
	got := head.Payloads
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Window(3) = %v, expected %v", got, want)
	}
	if rest := listContents(t, client, keys.Queue(queueKey)); !slices.Equal(rest, []string{"d", "e"}) {
		t.Errorf("queue holds %v after the window, expected [d e]", rest)
	}
	if head.Moved != 3 {
		t.Errorf("Moved = %d, expected 3", head.Moved)
	}

	t.Run("same window again", func(t *testing.T) {
		again, err := q.Window(ctx, 3)
		if err != nil {
			t.Fatalf("Window: %v", err)
		}
		if !slices.Equal(again.Payloads, got) {
			t.Errorf("second Window(3) = %v, expected the unchanged %v", again, got)
		}
		if again.Moved != 0 {
			t.Errorf("Moved = %d on a full processing list, expected 0", again.Moved)
		}
	})

	t.Run("ack then refill", func(t *testing.T) {
		removed, err := q.AckMany(ctx, []string{"a", "c"})
		if err != nil {
			t.Fatalf("AckMany: %v", err)
		}
		if removed != 2 {
			t.Errorf("AckMany removed %d, expected 2", removed)
		}
		next, err := q.Window(ctx, 3)
		if err != nil {
			t.Fatalf("Window: %v", err)
		}
		if want := []string{"b", "d", "e"}; !slices.Equal(next.Payloads, want) {
			t.Errorf("Window(3) after ack = %v, expected %v", next, want)
		}
		if next.Moved != 2 {
			t.Errorf("Moved = %d after two acks, expected 2", next.Moved)
		}
	})

	t.Run("ack of a missing payload", func(t *testing.T) {
		removed, err := q.AckMany(ctx, []string{"b", "not-there"})
		if err != nil {
			t.Fatalf("AckMany: %v", err)
		}
		if removed != 1 {
			t.Errorf("AckMany removed %d, expected 1", removed)
		}
	})
}

func TestAckMany_HeadAndDuplicates(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	q := queue.New(client, queueKey, "replica-a")
	ctx := t.Context()
	// The same payload twice, as after a trade was pushed twice.
	push(t, client, "a", "b", "a", "c", "d")
	if _, err := q.Window(ctx, 5); err != nil {
		t.Fatalf("Window: %v", err)
	}
	processing := keys.Processing(queueKey, "replica-a")

	removed, err := q.AckMany(ctx, []string{"a", "b"})
	if err != nil {
		t.Fatalf("AckMany(a, b): %v", err)
	}
	if removed != 2 {
		t.Errorf("AckMany(a, b) removed %d, expected 2", removed)
	}
	if got := listContents(t, client, processing); !slices.Equal(got, []string{"a", "c", "d"}) {
		t.Errorf("processing list %v after acking the head, expected [a c d]", got)
	}

	removed, err = q.AckMany(ctx, []string{"a", "d"})
	if err != nil {
		t.Fatalf("AckMany(a, d): %v", err)
	}
	if removed != 2 {
		t.Errorf("AckMany(a, d) removed %d, expected 2", removed)
	}
	if got := listContents(t, client, processing); !slices.Equal(got, []string{"c"}) {
		t.Errorf("processing list %v after acking a and d, expected [c]", got)
	}

	removed, err = q.AckMany(ctx, []string{"c", "c"})
	if err != nil {
		t.Fatalf("AckMany(c, c): %v", err)
	}
	if removed != 1 {
		t.Errorf("AckMany(c, c) removed %d, expected the 1 copy in the list", removed)
	}
}

func TestWindow_EmptyQueue(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	q := queue.New(newClient(t, srv), queueKey, "replica-a")
	got, err := q.Window(t.Context(), 10)
	if err != nil {
		t.Fatalf("Window: %v", err)
	}
	if len(got.Payloads) != 0 || got.Plan != 0 {
		t.Errorf("Window on empty lists = %+v, expected no payload and no plan", got)
	}
	if _, err := q.Window(t.Context(), 0); err == nil {
		t.Error("Window(0) returned no error")
	}
}

func TestWindow_PlanFollowsFirstPayload(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	ctx := t.Context()
	push(t, client, "a", "b", "c")

	// Another replica's queue sees the plan too, because it is keyed by
	// the payload, not by the replica.
	q := queue.New(client, queueKey, "replica-a")
	if _, err := q.Window(ctx, 3); err != nil {
		t.Fatalf("Window: %v", err)
	}
	if err := q.SavePlan(ctx, "a", 2); err != nil {
		t.Fatalf("SavePlan: %v", err)
	}
	head, err := q.Window(ctx, 3)
	if err != nil {
		t.Fatalf("Window: %v", err)
	}
	if head.Plan != 2 {
		t.Errorf("Plan = %d after SavePlan(a, 2), expected 2", head.Plan)
	}

	if _, err := q.AckMany(ctx, []string{"a", "b"}); err != nil {
		t.Fatalf("AckMany: %v", err)
	}
	head, err = q.Window(ctx, 3)
	if err != nil {
		t.Fatalf("Window: %v", err)
	}
	if head.Plan != 0 || !slices.Equal(head.Payloads, []string{"c"}) {
		t.Errorf("Window after the ack = %+v, expected [c] and no plan", head)
	}
	if n := client.HLen(ctx, keys.BatchPlans(queueKey)).Val(); n != 0 {
		t.Errorf("%d plans left after the ack, expected 0", n)
	}
}

func TestWindowAt_SkipsTradesInFlight(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	q := queue.New(client, queueKey, "replica-a")
	ctx := t.Context()
	push(t, client, "a", "b", "c", "d", "e", "f")

	first, err := q.WindowAt(ctx, 0, 2)
	if err != nil {
		t.Fatalf("WindowAt(0, 2): %v", err)
	}
	if !slices.Equal(first.Payloads, []string{"a", "b"}) || first.Moved != 2 {
		t.Errorf("WindowAt(0, 2) = %v with %d moved, expected [a b] with 2", first.Payloads, first.Moved)
	}
	if err := q.SavePlan(ctx, "c", 3); err != nil {
		t.Fatalf("SavePlan: %v", err)
	}

	next, err := q.WindowAt(ctx, 2, 3)
	if err != nil {
		t.Fatalf("WindowAt(2, 3): %v", err)
	}
	if !slices.Equal(next.Payloads, []string{"c", "d", "e"}) {
		t.Errorf("WindowAt(2, 3) = %v, expected [c d e]", next.Payloads)
	}
	if next.Moved != 3 {
		t.Errorf("Moved = %d, expected 3", next.Moved)
	}
	if next.Plan != 3 {
		t.Errorf("Plan = %d, expected the plan of c (3)", next.Plan)
	}
	if next.NextPlan != 0 {
		t.Errorf("NextPlan = %d with no plan after c, expected 0", next.NextPlan)
	}
	if err := q.SavePlan(ctx, "e", 1); err != nil {
		t.Fatalf("SavePlan: %v", err)
	}
	again, err := q.WindowAt(ctx, 2, 3)
	if err != nil {
		t.Fatalf("WindowAt(2, 3): %v", err)
	}
	if again.NextPlan != 2 {
		t.Errorf("NextPlan = %d with a plan for e in [c d e], expected 2", again.NextPlan)
	}
	if got := listContents(t, client, keys.Processing(queueKey, "replica-a")); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("processing list %v, expected [a b c d e]", got)
	}

	if _, err := q.WindowAt(ctx, -1, 3); err == nil {
		t.Error("WindowAt(-1, 3) returned no error")
	}
}

func TestAckAndWindowAt_OneCall(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := newClient(t, srv)
	q := queue.New(client, queueKey, "replica-a")
	ctx := t.Context()
	push(t, client, "a", "b", "c", "d", "e", "f", "g")
	if _, err := q.WindowAt(ctx, 0, 4); err != nil {
		t.Fatalf("WindowAt: %v", err)
	}
	if err := q.SavePlan(ctx, "a", 2); err != nil {
		t.Fatalf("SavePlan: %v", err)
	}

	// Batch [a b] is acknowledged while [c d] is in flight.
	next, removed, err := q.AckAndWindowAt(ctx, []string{"a", "b"}, 2, 3)
	if err != nil {
		t.Fatalf("AckAndWindowAt: %v", err)
	}
	if removed != 2 {
		t.Errorf("removed %d, expected 2", removed)
	}
	if !slices.Equal(next.Payloads, []string{"e", "f", "g"}) {
		t.Errorf("window %v, expected [e f g] behind [c d]", next.Payloads)
	}
	if next.Moved != 3 {
		t.Errorf("Moved = %d, expected 3", next.Moved)
	}
	if n := client.HLen(ctx, keys.BatchPlans(queueKey)).Val(); n != 0 {
		t.Errorf("%d plans left, expected the acknowledged batch's plan deleted", n)
	}
	if got := listContents(t, client, keys.Processing(queueKey, "replica-a")); !slices.Equal(got, []string{"c", "d", "e", "f", "g"}) {
		t.Errorf("processing list %v, expected [c d e f g]", got)
	}

	t.Run("ack only", func(t *testing.T) {
		empty, removed, err := q.AckAndWindowAt(ctx, []string{"e", "c"}, 0, 0)
		if err != nil {
			t.Fatalf("AckAndWindowAt: %v", err)
		}
		if removed != 2 || len(empty.Payloads) != 0 || empty.Moved != 0 {
			t.Errorf("removed %d, window %v, moved %d; expected 2 removed and no window", removed, empty.Payloads, empty.Moved)
		}
		if got := listContents(t, client, keys.Processing(queueKey, "replica-a")); !slices.Equal(got, []string{"d", "f", "g"}) {
			t.Errorf("processing list %v, expected [d f g]", got)
		}
	})
}
