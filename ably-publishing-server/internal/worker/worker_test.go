package worker_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
	"github.com/ably-fanout/lib/trade"
)

func TestWorker_PublishesEachTradeOnce(t *testing.T) {
	const limit, trades, replicas = 10, 35, 3
	srv := redistest.Start(t, redistest.Options{})
	// The emulator rejects anything over the limit in any sliding second,
	// so a breach of the limiter shows as a rejected publish.
	emu := emulatortest.Start(t, emulatortest.WithConfig(func(c *emulator.Config) { c.ChannelRate = limit }))
	rdb := newRedisClient(t, srv)
	ids := pushTrades(t, rdb, "burst", trades)

	for i := range replicas {
		newReplica(t, srv, emu, "replica-"+string(rune('a'+i)), replicaOptions{limit: limit}).start(t)
	}
	waitFor(t, "every trade to be accepted", func() bool { return accepted(emu) >= trades })
	waitFor(t, "the processing lists to empty", func() bool {
		for i := range replicas {
			if listLen(t, rdb, keys.Processing(queueKey, "replica-"+string(rune('a'+i)))) != 0 {
				return false
			}
		}
		return true
	})

	assertEachOnce(t, emu, ids)
	stats := emu.Server.Stats().Channels[channelName]
	if stats.MaxInAnySecond > limit {
		t.Errorf("emulator saw %d messages in one second, want at most %d", stats.MaxInAnySecond, limit)
	}
	if stats.Rejected.RateLimit != 0 {
		t.Errorf("emulator rejected %d messages over its rate, want 0", stats.Rejected.RateLimit)
	}
	if stats.Duplicates != 0 {
		t.Errorf("emulator dropped %d duplicates, want 0", stats.Duplicates)
	}
	if n := listLen(t, rdb, keys.Queue(queueKey)); n != 0 {
		t.Errorf("queue has %d trades, want 0", n)
	}
	if n := listLen(t, rdb, keys.Dead(queueKey)); n != 0 {
		t.Errorf("dead-letter list has %d entries, want 0", n)
	}

	for _, m := range emu.Server.Messages(channelName) {
		var got trade.Trade
		if err := json.Unmarshal(m.Data, &got); err != nil {
			t.Errorf("message %s data %s is not a trade object: %v", m.ID, m.Data, err)
			continue
		}
		if got.ID != m.ID {
			t.Errorf("message id %s carries trade %s", m.ID, got.ID)
		}
		if m.Name != "trade" {
			t.Errorf("message %s has name %q, want trade", m.ID, m.Name)
		}
	}
}

func TestWorker_DeadLettersInvalidAndGoesOn(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	bad := []struct {
		payload string
		reason  string
	}{
		{payload: "not json", reason: "not a JSON object"},
		{payload: `{"price":"abc"}`, reason: "missing field"},
		{payload: "", reason: "not a JSON object"},
		{payload: strings.Repeat("x", 1<<20), reason: "larger than the 65536-byte maximum"},
		{payload: "\xff\xfe\x00binary", reason: "not a JSON object"},
		{payload: `{"id":"t-1","symbol":"AAPL","price":"1.5","size":1,"side":"buy","seq":1,"ts":"2026-01-02T03:04:05.000Z","extra":1}`,
			reason: "unknown field"},
	}
	for _, b := range bad {
		push(t, rdb, keys.Queue(queueKey), b.payload)
	}
	valid := newTrade("valid-after-bad", 1)
	push(t, rdb, keys.Queue(queueKey), tradeJSON(t, valid))

	r := newReplica(t, srv, emu, "replica-a", replicaOptions{})
	r.start(t)
	waitFor(t, "the valid trade to be accepted", func() bool { return accepted(emu) >= 1 })
	waitFor(t, "the processing list to empty", func() bool {
		return listLen(t, rdb, keys.Processing(queueKey, "replica-a")) == 0
	})

	assertEachOnce(t, emu, []string{valid.ID})
	dead, err := rdb.LRange(t.Context(), keys.Dead(queueKey), 0, -1).Result()
	if err != nil {
		t.Fatalf("read dead-letter list: %v", err)
	}
	if len(dead) != len(bad) {
		t.Fatalf("dead-letter list has %d entries, want %d", len(dead), len(bad))
	}
	for i, raw := range dead {
		var entry queue.DeadLetterEntry
		if err := json.Unmarshal([]byte(raw), &entry); err != nil {
			t.Fatalf("entry %d is not JSON: %v", i, err)
		}
		payload, err := entry.RawPayload()
		if err != nil {
			t.Fatalf("entry %d payload: %v", i, err)
		}
		if payload != bad[i].payload {
			t.Errorf("entry %d has %d payload bytes, want the original %d", i, len(payload), len(bad[i].payload))
		}
		if !strings.Contains(entry.Reason, bad[i].reason) {
			t.Errorf("entry %d reason %q, want it to contain %q", i, entry.Reason, bad[i].reason)
		}
		if entry.Code != 0 {
			t.Errorf("entry %d code %d, want 0 (Ably not involved)", i, entry.Code)
		}
		if entry.Replica != "replica-a" {
			t.Errorf("entry %d replica %q, want replica-a", i, entry.Replica)
		}
		if _, err := time.Parse(trade.TimeLayout, entry.At); err != nil {
			t.Errorf("entry %d time %q is not UTC with milliseconds: %v", i, entry.At, err)
		}
	}
	if got := r.worker.Stats().DeadLettered; got != int64(len(bad)) {
		t.Errorf("worker counted %d dead letters, want %d", got, len(bad))
	}
}

func TestWorker_DeadLettersTradeAblyRejects(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	if err := emu.Server.AddFault(emulator.Fault{Channel: channelName, Status: 400, Code: 40009,
		Message: "message too large", Count: 1}); err != nil {
		t.Fatalf("AddFault: %v", err)
	}
	ids := pushTrades(t, rdb, "rejected", 2)

	newReplica(t, srv, emu, "replica-a", replicaOptions{}).start(t)
	waitFor(t, "the second trade to be accepted", func() bool { return accepted(emu) >= 1 })
	waitFor(t, "the processing list to empty", func() bool {
		return listLen(t, rdb, keys.Processing(queueKey, "replica-a")) == 0
	})

	assertEachOnce(t, emu, ids[1:])
	dead, err := rdb.LRange(t.Context(), keys.Dead(queueKey), 0, -1).Result()
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead-letter list %d entries (%v), want 1", len(dead), err)
	}
	var entry queue.DeadLetterEntry
	if err := json.Unmarshal([]byte(dead[0]), &entry); err != nil {
		t.Fatalf("entry is not JSON: %v", err)
	}
	if entry.Code != 40009 {
		t.Errorf("entry code %d, want 40009", entry.Code)
	}
	if !strings.Contains(entry.Reason, "message too large") {
		t.Errorf("entry reason %q, want Ably's message", entry.Reason)
	}
	var payload trade.Trade
	if err := json.Unmarshal([]byte(entry.Payload), &payload); err != nil || payload.ID != ids[0] {
		t.Errorf("entry payload is not trade %s: %v", ids[0], err)
	}
}

func TestWorker_RetriesInjectedFaults(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	faults := []emulator.Fault{
		{Channel: channelName, Status: 429, Code: 42910, Count: 2},
		{Channel: channelName, Status: 500, Code: 50000, Count: 3},
	}
	for _, f := range faults {
		if err := emu.Server.AddFault(f); err != nil {
			t.Fatalf("AddFault: %v", err)
		}
	}
	ids := pushTrades(t, rdb, "faulty", 4)

	r := newReplica(t, srv, emu, "replica-a", replicaOptions{})
	r.start(t)
	waitFor(t, "every trade to be accepted", func() bool { return accepted(emu) >= int64(len(ids)) })
	waitFor(t, "the processing list to empty", func() bool {
		return listLen(t, rdb, keys.Processing(queueKey, "replica-a")) == 0
	})

	assertEachOnce(t, emu, ids)
	stats := emu.Server.Stats().Channels[channelName]
	if stats.Rejected.Injected != 5 {
		t.Errorf("emulator injected %d failures, want 5", stats.Rejected.Injected)
	}
	if got := r.worker.Stats().PublishRetries; got != 5 {
		t.Errorf("worker retried %d times, want 5", got)
	}
	if n := listLen(t, rdb, keys.Dead(queueKey)); n != 0 {
		t.Errorf("dead-letter list has %d entries, want 0", n)
	}
	if msgs := emu.Server.Messages(channelName); len(msgs) > 0 && msgs[0].ID != ids[0] {
		t.Errorf("first accepted trade %s, want %s (order kept through retries)", msgs[0].ID, ids[0])
	}
}

func TestWorker_LostResponseNotShownTwice(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	// The emulator accepts the delayed publish after the client gave up, as
	// Ably may when a response is lost, so the retry carries the same id.
	if err := emu.Server.AddFault(emulator.Fault{Channel: channelName, DelayMs: 1500, Count: 1}); err != nil {
		t.Fatalf("AddFault: %v", err)
	}
	ids := pushTrades(t, rdb, "slow", 2)
	cfg := fastRetries
	cfg.PublishTimeout = 300 * time.Millisecond

	r := newReplica(t, srv, emu, "replica-a", replicaOptions{config: cfg})
	r.start(t)
	waitFor(t, "both trades accepted and the delayed copy processed", func() bool {
		s := emu.Server.Stats().Channels[channelName]
		return s.Accepted+s.Duplicates >= 3
	})

	assertEachOnce(t, emu, ids)
	if got := emu.Server.Stats().Channels[channelName].Duplicates; got != 1 {
		t.Errorf("emulator dropped %d duplicates, want 1", got)
	}
	if got := r.worker.Stats().PublishRetries; got < 1 {
		t.Errorf("worker retried %d times, want at least 1", got)
	}
}

func TestWorker_UnknownKeyKeepsTrade(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	rdb := newRedisClient(t, srv)
	ids := pushTrades(t, rdb, "auth", 1)

	r := newReplica(t, srv, emu, "replica-a", replicaOptions{key: emulator.GenerateKey()})
	r.start(t)
	waitFor(t, "the credential failure to be reported", func() bool {
		_, failed := r.health.AblyFailure()
		return failed
	})
	r.stop(t)

	processing, err := rdb.LRange(t.Context(), keys.Processing(queueKey, "replica-a"), 0, -1).Result()
	if err != nil {
		t.Fatalf("read processing list: %v", err)
	}
	if len(processing) != 1 || !strings.Contains(processing[0], ids[0]) {
		t.Errorf("processing list %q, want trade %s kept", processing, ids[0])
	}
	if n := listLen(t, rdb, keys.Dead(queueKey)); n != 0 {
		t.Errorf("dead-letter list has %d entries, want 0", n)
	}
	if n := accepted(emu); n != 0 {
		t.Errorf("emulator accepted %d messages, want 0", n)
	}
}
