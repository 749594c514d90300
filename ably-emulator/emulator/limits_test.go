package emulator_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
)

func TestChannelRate_RejectsOverLimit(t *testing.T) {
	const rate = 5
	clock := emulatortest.NewClock(time.Now())
	emu := emulatortest.Start(t, emulatortest.WithClock(clock),
		emulatortest.WithConfig(func(cfg *emulator.Config) { cfg.ChannelRate = rate }))
	channel := newREST(t, emu).Channels.Get("trades")
	ctx := testContext(t)

	for i := range rate {
		if err := channel.Publish(ctx, "t", fmt.Sprint(i)); err != nil {
			t.Fatalf("publish %d within the limit: %v", i, err)
		}
	}
	info := errorInfo(t, channel.Publish(ctx, "t", "over"))
	if info.Code != 42913 {
		t.Errorf("code = %d, want 42913", info.Code)
	}
	if info.StatusCode != http.StatusTooManyRequests {
		t.Errorf("status = %d, want 429", info.StatusCode)
	}

	// The window is (now-1s, now]: just under a second later the first
	// messages still count, exactly a second later they do not.
	clock.Advance(time.Second - time.Millisecond)
	errorInfo(t, channel.Publish(ctx, "t", "still over"))
	clock.Advance(time.Millisecond)
	if err := channel.Publish(ctx, "t", "next window"); err != nil {
		t.Fatalf("publish one second later: %v", err)
	}

	stats := emu.Server.Stats().Channels["trades"]
	if stats.Accepted != rate+1 {
		t.Errorf("accepted = %d, want %d", stats.Accepted, rate+1)
	}
	if stats.Rejected.RateLimit != 2 {
		t.Errorf("rejected.rate_limit = %d, want 2", stats.Rejected.RateLimit)
	}
	if stats.MaxInAnySecond != rate {
		t.Errorf("maxInAnySecond = %d, want %d", stats.MaxInAnySecond, rate)
	}
}

func TestChannelRate_RejectsWholeBatch(t *testing.T) {
	clock := emulatortest.NewClock(time.Now())
	emu := emulatortest.Start(t, emulatortest.WithClock(clock),
		emulatortest.WithConfig(func(cfg *emulator.Config) { cfg.ChannelRate = 10 }))
	channel := newREST(t, emu).Channels.Get("trades")
	ctx := testContext(t)

	if err := channel.PublishMultiple(ctx, batch("a", 7)); err != nil {
		t.Fatalf("publish 7: %v", err)
	}
	info := errorInfo(t, channel.PublishMultiple(ctx, batch("b", 4)))
	if info.Code != 42913 {
		t.Errorf("code = %d, want 42913", info.Code)
	}
	if err := channel.PublishMultiple(ctx, batch("c", 3)); err != nil {
		t.Fatalf("publish 3 up to the limit: %v", err)
	}
	stats := emu.Server.Stats().Channels["trades"]
	if stats.Accepted != 10 {
		t.Errorf("accepted = %d, want 10", stats.Accepted)
	}
	if stats.Rejected.RateLimit != 4 {
		t.Errorf("rejected.rate_limit = %d, want 4 (the whole batch)", stats.Rejected.RateLimit)
	}
	if got := len(emu.Server.Messages("trades")); got != 10 {
		t.Errorf("recorded %d messages, want 10", got)
	}
}

func TestMaxInAnySecond_SlidingNotBucketed(t *testing.T) {
	// 3 messages at 0.6s and 3 at 1.2s share the window (0.2s, 1.2s], which
	// fixed one-second buckets would split.
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := emulatortest.NewClock(start)
	emu := emulatortest.Start(t, emulatortest.WithClock(clock))
	channel := newREST(t, emu).Channels.Get("trades")
	ctx := testContext(t)

	clock.Advance(600 * time.Millisecond)
	if err := channel.PublishMultiple(ctx, batch("a", 3)); err != nil {
		t.Fatalf("publish: %v", err)
	}
	clock.Advance(600 * time.Millisecond)
	if err := channel.PublishMultiple(ctx, batch("b", 3)); err != nil {
		t.Fatalf("publish: %v", err)
	}
	clock.Advance(1000 * time.Millisecond)
	if err := channel.PublishMultiple(ctx, batch("c", 2)); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if got := emu.Server.Stats().Channels["trades"].MaxInAnySecond; got != 6 {
		t.Errorf("maxInAnySecond = %d, want 6", got)
	}
}

func TestMessageSize_RejectsOverLimit(t *testing.T) {
	emu := emulatortest.Start(t, emulatortest.WithConfig(func(cfg *emulator.Config) {
		cfg.MaxMessageSize = 1000
	}))
	channel := newREST(t, emu).Channels.Get("trades")
	ctx := testContext(t)

	// name (1 byte) + data (999 bytes) is exactly the limit.
	if err := channel.Publish(ctx, "n", strings.Repeat("x", 999)); err != nil {
		t.Fatalf("publish at the limit: %v", err)
	}
	info := errorInfo(t, channel.Publish(ctx, "n", strings.Repeat("x", 1000)))
	if info.Code != 40009 {
		t.Errorf("code = %d, want 40009", info.Code)
	}
	if info.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", info.StatusCode)
	}
	// The limit applies to the total of a batch.
	errorInfo(t, channel.PublishMultiple(ctx, []*ably.Message{
		{Name: "a", Data: strings.Repeat("x", 600)},
		{Name: "b", Data: strings.Repeat("x", 600)},
	}))
	stats := emu.Server.Stats().Channels["trades"]
	if stats.Accepted != 1 {
		t.Errorf("accepted = %d, want 1", stats.Accepted)
	}
	if stats.Rejected.TooLarge != 3 {
		t.Errorf("rejected.too_large = %d, want 3 messages", stats.Rejected.TooLarge)
	}
}

func TestIdempotency_DropsDuplicates(t *testing.T) {
	clock := emulatortest.NewClock(time.Now())
	emu := emulatortest.Start(t, emulatortest.WithClock(clock), emulatortest.WithConfig(func(cfg *emulator.Config) {
		cfg.IdempotencyWindow = time.Minute
	}))
	channel := newREST(t, emu).Channels.Get("trades")
	ctx := testContext(t)

	single := []*ably.Message{{ID: "trade-1", Name: "t", Data: "first"}}
	if err := channel.PublishMultiple(ctx, single); err != nil {
		t.Fatalf("publish: %v", err)
	}
	retry := []*ably.Message{{ID: "trade-1", Name: "t", Data: "retry"}}
	if err := channel.PublishMultiple(ctx, retry); err != nil {
		t.Fatalf("duplicate publish must succeed: %v", err)
	}

	// A batch with ids base:index, retried whole, is dropped whole; a batch
	// that repeats only some ids keeps the new ones.
	batchIDs := []*ably.Message{
		{ID: "base:0", Data: "a"}, {ID: "base:1", Data: "b"}, {ID: "base:2", Data: "c"},
	}
	if err := channel.PublishMultiple(ctx, batchIDs); err != nil {
		t.Fatalf("publish batch: %v", err)
	}
	if err := channel.PublishMultiple(ctx, batchIDs); err != nil {
		t.Fatalf("retry batch: %v", err)
	}
	partial := append(batchIDs, &ably.Message{ID: "base:3", Data: "d"})
	if err := channel.PublishMultiple(ctx, partial); err != nil {
		t.Fatalf("publish partial overlap: %v", err)
	}

	stats := emu.Server.Stats().Channels["trades"]
	if stats.Accepted != 5 {
		t.Errorf("accepted = %d, want 5", stats.Accepted)
	}
	if stats.Duplicates != 7 {
		t.Errorf("duplicates = %d, want 7", stats.Duplicates)
	}
	messages := emu.Server.Messages("trades")
	if string(messages[0].Data) != `"first"` {
		t.Errorf("kept data %s, want the first publish", messages[0].Data)
	}

	// After the window the id is accepted again.
	clock.Advance(time.Minute)
	if err := channel.PublishMultiple(ctx, retry); err != nil {
		t.Fatalf("publish after the window: %v", err)
	}
	if got := emu.Server.Stats().Channels["trades"].Accepted; got != 6 {
		t.Errorf("accepted after the window = %d, want 6", got)
	}
}

func TestIdempotency_DuplicatesDoNotUseRate(t *testing.T) {
	clock := emulatortest.NewClock(time.Now())
	emu := emulatortest.Start(t, emulatortest.WithClock(clock),
		emulatortest.WithConfig(func(cfg *emulator.Config) { cfg.ChannelRate = 3 }))
	channel := newREST(t, emu).Channels.Get("trades")
	ctx := testContext(t)

	messages := []*ably.Message{{ID: "x:0", Data: "a"}, {ID: "x:1", Data: "b"}, {ID: "x:2", Data: "c"}}
	if err := channel.PublishMultiple(ctx, messages); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if err := channel.PublishMultiple(ctx, messages); err != nil {
		t.Fatalf("a retry of an accepted batch at the rate limit must succeed: %v", err)
	}
	stats := emu.Server.Stats().Channels["trades"]
	if stats.Duplicates != 3 || stats.Rejected.RateLimit != 0 {
		t.Errorf("stats = %+v, want 3 duplicates and no rate rejection", stats)
	}
}

func TestFaults_InjectedErrorsReachClient(t *testing.T) {
	emu := emulatortest.Start(t)
	channel := newREST(t, emu).Channels.Get("trades")
	ctx := testContext(t)

	err := emu.Server.AddFault(emulator.Fault{Channel: "trades", Status: 429, Code: 42910, Message: "slow down", Count: 2})
	if err != nil {
		t.Fatalf("add fault: %v", err)
	}
	for i := range 2 {
		info := errorInfo(t, channel.Publish(ctx, "t", fmt.Sprint(i)))
		if info.Code != 42910 || info.StatusCode != 429 {
			t.Errorf("publish %d: code %d status %d, want 42910 429", i, info.Code, info.StatusCode)
		}
		if !strings.Contains(info.Error(), "slow down") {
			t.Errorf("publish %d: message %q lacks the injected text", i, info.Error())
		}
	}
	if err := channel.Publish(ctx, "t", "after"); err != nil {
		t.Fatalf("publish after the fault is used up: %v", err)
	}

	// A fault for another channel does not apply.
	if err := emu.Server.AddFault(emulator.Fault{Channel: "other", Status: 500, Count: 1}); err != nil {
		t.Fatalf("add fault: %v", err)
	}
	if err := channel.Publish(ctx, "t", "unaffected"); err != nil {
		t.Fatalf("publish to a channel without a fault: %v", err)
	}
	stats := emu.Server.Stats().Channels["trades"]
	if stats.Rejected.Injected != 2 || stats.Accepted != 2 {
		t.Errorf("stats = %+v, want 2 injected and 2 accepted", stats)
	}
	if faults := emu.Server.Faults(); len(faults) != 1 || faults[0].Channel != "other" {
		t.Errorf("remaining faults = %+v, want the one for channel other", faults)
	}
}

func TestFaults_DataContainsRejectsEveryCarrier(t *testing.T) {
	emu := emulatortest.Start(t)
	channel := newREST(t, emu).Channels.Get("trades")
	ctx := testContext(t)

	err := emu.Server.AddFault(emulator.Fault{Channel: "trades", Status: 400, Code: 40013, DataContains: `"bad-1"`})
	if err != nil {
		t.Fatalf("add fault: %v", err)
	}
	batch := []*ably.Message{
		{ID: "b:0", Name: "t", Data: map[string]string{"id": "ok-1"}},
		{ID: "b:1", Name: "t", Data: map[string]string{"id": "bad-1"}},
	}
	if info := errorInfo(t, channel.PublishMultiple(ctx, batch)); info.Code != 40013 {
		t.Errorf("batch carrying bad-1: code %d, want 40013", info.Code)
	}
	if err := channel.Publish(ctx, "t", map[string]string{"id": "ok-1"}); err != nil {
		t.Errorf("publish without bad-1: %v", err)
	}
	if info := errorInfo(t, channel.Publish(ctx, "t", map[string]string{"id": "bad-1"})); info.Code != 40013 {
		t.Errorf("publish of bad-1 alone: code %d, want 40013", info.Code)
	}
	stats := emu.Server.Stats().Channels["trades"]
	if stats.Rejected.Injected != 3 || stats.Accepted != 1 {
		t.Errorf("stats = %+v, want 3 injected (2 + 1 messages) and 1 accepted", stats)
	}
	if faults := emu.Server.Faults(); len(faults) != 1 {
		t.Errorf("remaining faults = %+v, want the fault without a count to stay", faults)
	}
}

func TestFaults_DelayedPublishIsProcessedAfterTimeout(t *testing.T) {
	// A client that gives up before the delayed response still has its
	// message accepted, and its idempotent retry is dropped as a duplicate:
	// the case idempotent publishing exists for.
	emu := emulatortest.Start(t)
	err := emu.Server.AddFault(emulator.Fault{Channel: "trades", DelayMs: 1500, Count: 1})
	if err != nil {
		t.Fatalf("add fault: %v", err)
	}
	impatient := newREST(t, emu, ably.WithHTTPRequestTimeout(200*time.Millisecond))
	message := []*ably.Message{{ID: "slow:0", Name: "t", Data: "once"}}
	if err := impatient.Channels.Get("trades").PublishMultiple(testContext(t), message); err == nil {
		t.Fatalf("expected a timeout from the delayed publish")
	}
	waitFor(t, "the delayed publish to be accepted", func() bool {
		return emu.Server.Stats().Channels["trades"].Accepted == 1
	})
	if err := newREST(t, emu).Channels.Get("trades").PublishMultiple(testContext(t), message); err != nil {
		t.Fatalf("retry: %v", err)
	}
	stats := emu.Server.Stats().Channels["trades"]
	if stats.Accepted != 1 || stats.Duplicates != 1 {
		t.Errorf("stats = %+v, want 1 accepted and 1 duplicate", stats)
	}
}

func batch(prefix string, n int) []*ably.Message {
	messages := make([]*ably.Message, n)
	for i := range messages {
		messages[i] = &ably.Message{Name: prefix, Data: fmt.Sprintf("%s-%d", prefix, i)}
	}
	return messages
}

// waitFor polls condition until it holds, failing the test after
// waitTimeout.
func waitFor(tb testing.TB, what string, condition func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !condition() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
