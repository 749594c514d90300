package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

func TestApp_ShutdownHandsBackUnfinishedTrades(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	// Ably rejects the key for every publish, so the replica holds its
	// trade in the processing list and retries.
	if err := emu.Server.AddFault(emulator.Fault{Channel: "trades", Status: 401, Code: 40101}); err != nil {
		t.Fatalf("AddFault: %v", err)
	}
	cfg := testConfig(t, srv, emu, emu.URL)
	rdb := srv.Client()
	processing := keys.Processing(cfg.Redis.QueueKey, cfg.ReplicaID)
	app := startApp(t, cfg)
	for i := range 3 {
		pushTrade(t, rdb, cfg.Redis.QueueKey, fmt.Sprintf("held-%d", i+1))
	}
	waitFor(t, "the replica to report the rejected key", func() bool {
		status, body, err := readyzStatus(cfg.HTTPAddr)
		return err == nil && status == http.StatusServiceUnavailable && strings.Contains(body, "rejected the key")
	})
	if n := rdb.LLen(t.Context(), processing).Val(); n != 1 {
		t.Fatalf("processing list has %d trades before the shutdown, want 1", n)
	}

	if err := app.stop(t); err != nil {
		t.Errorf("run returned %v, want nil", err)
	}

	queued, err := rdb.LRange(t.Context(), keys.Queue(cfg.Redis.QueueKey), 0, -1).Result()
	if err != nil {
		t.Fatalf("LRANGE: %v", err)
	}
	var ids []string
	for _, payload := range queued {
		var fields struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(payload), &fields); err != nil {
			t.Fatalf("queued payload %q: %v", payload, err)
		}
		ids = append(ids, fields.ID)
	}
	if want := []string{"held-1", "held-2", "held-3"}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("queue after shutdown %q, want %q (the held trade back at the head)", ids, want)
	}
	if n := rdb.LLen(t.Context(), processing).Val(); n != 0 {
		t.Errorf("processing list has %d trades after shutdown, want 0", n)
	}
	if err := rdb.ZScore(t.Context(), keys.Replicas(cfg.Redis.QueueKey), cfg.ReplicaID).Err(); err != redis.Nil {
		t.Errorf("lease after shutdown: %v, want none", err)
	}
	if n := emu.Server.Stats().Channels["trades"].Accepted; n != 0 {
		t.Errorf("emulator accepted %d messages, want 0", n)
	}
}

func TestApp_StatsReportsCounters(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	cfg := testConfig(t, srv, emu, emu.URL)
	startApp(t, cfg)
	pushTrade(t, srv.Client(), cfg.Redis.QueueKey, "counted-1")
	waitFor(t, "the trade to be accepted", func() bool {
		return emu.Server.Stats().Channels["trades"].Accepted >= 1
	})

	var body stats
	waitFor(t, "/stats to count the trade", func() bool {
		resp, err := http.Get("http://" + cfg.HTTPAddr + "/stats")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body = stats{}
		return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&body) == nil &&
			body.Worker.Published == 1
	})
	if body.ReplicaID != cfg.ReplicaID {
		t.Errorf("replica_id %q, want %q", body.ReplicaID, cfg.ReplicaID)
	}
}
