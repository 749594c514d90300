package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
	"github.com/ably-fanout/lib/trade"
)

// buildPublisher compiles this program into a temporary folder.
func buildPublisher(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "ably-publishing-server")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startPublisher runs the program with env and stops it at the end of the
// test.
func startPublisher(tb testing.TB, bin string, env map[string]string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = tb.Output(), tb.Output()
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start publisher: %v", err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	return cmd
}

// TestBatchKill_EachTradeOnce kills batched replicas with SIGKILL while
// they publish, restarts one and lets the other take over the second's
// trades, and checks that every trade reaches the emulator exactly once,
// counted by the trade id in the message data.
func TestBatchKill_EachTradeOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the publisher as processes")
	}
	const trades = 3000
	bin := buildPublisher(t)
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t, emulatortest.WithConfig(func(c *emulator.Config) { c.ChannelRate = 100000 }))
	rdb := srv.Client()
	const queueKey = "{kill}"
	ids := make(map[string]bool, trades)
	for i := range trades {
		tr := trade.Trade{ID: fmt.Sprintf("k-%d", i), Symbol: "AAPL", Price: "1.5", Size: 1, Side: trade.Buy,
			Seq: int64(i + 1), Time: trade.FormatTime(time.Now())}
		payload, err := json.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := rdb.RPush(t.Context(), keys.Queue(queueKey), payload).Err(); err != nil {
			t.Fatalf("RPUSH: %v", err)
		}
		ids[tr.ID] = true
	}
	env := func(id string) map[string]string {
		return map[string]string{
			"REDIS_URL": srv.URL(), "QUEUE_KEY": queueKey, "ABLY_KEY": emu.Key, "ABLY_ENDPOINT": emu.URL,
			"CHANNEL_NAME": "trades", "RATE_LIMIT": "1000", "BATCH_SIZE": "50", "REPLICA_ID": id,
			"HTTP_ADDR": "127.0.0.1:0", "LEASE_TTL": "1s", "LOG_LEVEL": "warn",
		}
	}
	accepted := func() int64 { return emu.Server.Stats().Channels["trades"].Accepted }
	waitAccepted := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for accepted() < n {
			if time.Now().After(deadline) {
				t.Fatalf("emulator accepted %d trades, expected at least %d", accepted(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	a := startPublisher(t, bin, env("kill-a"))
	b := startPublisher(t, bin, env("kill-b"))
	// Kill each replica at a different point of the stream, so that some
	// kills fall between a publish and its ack.
	waitAccepted(500)
	_ = a.Process.Signal(syscall.SIGKILL)
	_ = a.Wait()
	startPublisher(t, bin, env("kill-a"))
	waitAccepted(1500)
	_ = b.Process.Signal(syscall.SIGKILL)
	_ = b.Wait()
	waitAccepted(trades)

	counts := map[string]int{}
	for _, m := range emu.Server.Messages("trades") {
		var tr trade.Trade
		if err := json.Unmarshal(m.Data, &tr); err != nil {
			t.Fatalf("message %s: %v", m.ID, err)
		}
		counts[tr.ID]++
	}
	for id := range ids {
		if counts[id] != 1 {
			t.Errorf("trade %s accepted %d times, expected 1", id, counts[id])
		}
	}
	if len(counts) != trades {
		t.Errorf("%d distinct trades accepted, expected %d", len(counts), trades)
	}
	stats := emu.Server.Stats().Channels["trades"]
	t.Logf("accepted %d, duplicates dropped %d", stats.Accepted, stats.Duplicates)
	for _, key := range []string{keys.Processing(queueKey, "kill-a"), keys.Processing(queueKey, "kill-b"), keys.BatchPlans(queueKey)} {
		deadline := time.Now().Add(30 * time.Second)
		for rdb.Exists(t.Context(), key).Val() != 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := rdb.Exists(t.Context(), key).Val(); n != 0 {
			t.Errorf("%s still exists after every trade was accepted", key)
		}
	}
}
