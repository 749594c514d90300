package limiter_test

import (
	"testing"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/limiter"
	"github.com/ably-fanout/lib/redistest"
)

// redisMicros returns the Redis server's clock in microseconds.
func redisMicros(tb testing.TB, srv *redistest.Server) float64 {
	tb.Helper()
	now, err := srv.Client().Time(tb.Context()).Result()
	if err != nil {
		tb.Fatal(err)
	}
	return float64(now.UnixMicro())
}

func TestGroup_HoldScoresUntilComplete(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	const hold = time.Hour
	g, err := limiter.NewGroup(newClient(t, srv), time.Second, limiter.WithHold(hold))
	if err != nil {
		t.Fatalf("NewGroup: %v", err)
	}
	ctx := t.Context()
	sc := scope("{t}:log", 10)
	id := g.NewRequestID()

	before := redisMicros(t, srv)
	if admitted, _, err := g.AdmitRequest(ctx, id, 3, 1, sc); err != nil || admitted != 3 {
		t.Fatalf("AdmitRequest admitted %d, %v; expected 3", admitted, err)
	}
	after := redisMicros(t, srv)
	held := srv.Client().ZScore(ctx, sc.Key, id).Val()
	if held < before+float64(hold.Microseconds()) || held > after+float64(hold.Microseconds()) {
		t.Errorf("held score %.0f, expected the admission time plus %s (%.0f to %.0f)",
			held, hold, before+float64(hold.Microseconds()), after+float64(hold.Microseconds()))
	}

	before = redisMicros(t, srv)
	if err := g.Complete(ctx, id, sc); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	after = redisMicros(t, srv)
	done := srv.Client().ZScore(ctx, sc.Key, id).Val()
	if done < before || done > after {
		t.Errorf("score after Complete %.0f, expected the completion time (%.0f to %.0f)", done, before, after)
	}

	if err := g.Complete(ctx, id, sc); err != nil {
		t.Fatalf("second Complete: %v", err)
	}
	if again := srv.Client().ZScore(ctx, sc.Key, id).Val(); again != done {
		t.Errorf("score after a second Complete %.0f, expected the first completion time %.0f", again, done)
	}
	if n := admissionsIn(t, srv, sc); n != 3 {
		t.Errorf("log holds %d admissions, expected 3", n)
	}
}

func TestGroup_HeldEntryKeepsLogFull(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	const window = 50 * time.Millisecond
	g, err := limiter.NewGroup(newClient(t, srv), window, limiter.WithHold(time.Hour))
	if err != nil {
		t.Fatalf("NewGroup: %v", err)
	}
	ctx := t.Context()
	sc := scope("{t}:log", 4)
	id := g.NewRequestID()
	if admitted, _, err := g.AdmitRequest(ctx, id, 4, 1, sc); err != nil || admitted != 4 {
		t.Fatalf("AdmitRequest admitted %d, %v; expected 4", admitted, err)
	}

	time.Sleep(3 * window)
	admitted, wait, err := g.AdmitRequest(ctx, g.NewRequestID(), 1, 1, sc)
	if err != nil {
		t.Fatalf("AdmitRequest: %v", err)
	}
	if admitted != 0 {
		t.Errorf("admitted %d while the full log's publish has not ended, expected 0", admitted)
	}
	if wait <= 0 || wait > window {
		t.Errorf("wait %s behind a held entry, expected more than 0 and at most one window (%s)", wait, window)
	}

	if err := g.Complete(ctx, id, sc); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	time.Sleep(3 * window)
	admitted, _, err = g.AdmitRequest(ctx, g.NewRequestID(), 4, 1, sc)
	if err != nil {
		t.Fatalf("AdmitRequest: %v", err)
	}
	if admitted != 4 {
		t.Errorf("admitted %d one window after the publish ended, expected 4", admitted)
	}
	if n := srv.Client().ZCard(ctx, sc.Key).Val(); n != 1 {
		t.Errorf("log holds %d entries, expected only the last call's", n)
	}
}

func TestLimiter_HoldScoresUntilComplete(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	const hold = time.Hour
	const key = "{t}:single"
	l, err := limiter.New(newClient(t, srv), key, 5, time.Second, limiter.WithHold(hold))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := t.Context()
	id := l.NewRequestID()
	before := redisMicros(t, srv)
	if admitted, _, err := l.AdmitRequest(ctx, id, 2); err != nil || admitted != 2 {
		t.Fatalf("AdmitRequest admitted %d, %v; expected 2", admitted, err)
	}
	for _, member := range []string{id + ":1", id + ":2"} {
		if held := srv.Client().ZScore(ctx, key, member).Val(); held < before+float64(hold.Microseconds()) {
			t.Errorf("held score of %s %.0f, expected at least the admission time plus %s", member, held, hold)
		}
	}

	before = redisMicros(t, srv)
	if err := l.Complete(ctx, id, 2); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	after := redisMicros(t, srv)
	for _, member := range []string{id + ":1", id + ":2"} {
		if done := srv.Client().ZScore(ctx, key, member).Val(); done < before || done > after {
			t.Errorf("score of %s after Complete %.0f, expected the completion time (%.0f to %.0f)", member, done, before, after)
		}
	}
}

func TestGroup_AdmitSetsRecord(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	g := newGroup(t, srv)
	ctx := t.Context()
	sc := scope("{t}:log", 10)
	const record = "{t}:plans"

	req := limiter.Request{ID: g.NewRequestID(), N: 15, Minimum: 1, RecordKey: record, RecordField: "batch-a"}
	admitted, _, err := g.Admit(ctx, req, sc)
	if err != nil || admitted != 10 {
		t.Fatalf("Admit admitted %d, %v; expected 10", admitted, err)
	}
	if got := srv.Client().HGet(ctx, record, "batch-a").Val(); got != "10" {
		t.Errorf("record field = %q after admitting 10, expected \"10\"", got)
	}

	denied := limiter.Request{ID: g.NewRequestID(), N: 5, Minimum: 1, RecordKey: record, RecordField: "batch-b"}
	if admitted, _, err := g.Admit(ctx, denied, sc); err != nil || admitted != 0 {
		t.Fatalf("Admit on a full log admitted %d, %v; expected 0", admitted, err)
	}
	if n := srv.Client().HExists(ctx, record, "batch-b").Val(); n {
		t.Error("a denied call set its record field, expected none")
	}

	if _, _, err := g.Admit(ctx, req, sc); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := srv.Client().HGet(ctx, record, "batch-a").Val(); got != "10" {
		t.Errorf("record field = %q after a retry, expected the first call's \"10\"", got)
	}
}
