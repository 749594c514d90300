package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
)

// runDeadLetterCLI runs "ably-publishing-server deadletter args..." against
// the stack's Redis and returns its standard output.
func runDeadLetterCLI(tb testing.TB, s *stack.Stack, args ...string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin.Publisher, append([]string{"deadletter"}, args...)...)
	cmd.Env = append(os.Environ(), "REDIS_URL="+s.Redis.URL, "QUEUE_KEY="+queueKey)
	cmd.Dir = tb.TempDir() // no .env file
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("deadletter %s: %v; stderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func TestDeadLetterCLI_RequeuePublishesOnce(t *testing.T) {
	s := startStack(t, stack.Options{Replicas: 1})
	rdb := redisClient(t, s)
	addFault(t, s, stack.EmulatorFault{Status: 400, Code: 40013, Message: "invalid message data", Count: 1})
	ids := pushTrades(t, rdb, "requeue", 1)
	push(t, rdb, "not json")
	waitFor(t, time.Minute, "both entries to be dead-lettered", func() (bool, string) {
		n := len(deadEntries(t, rdb))
		return n == 2, fmt.Sprintf("%d dead-lettered", n)
	})

	if got := strings.TrimSpace(runDeadLetterCLI(t, s, "count")); got != "2" {
		t.Errorf("count printed %q, want 2", got)
	}
	list := runDeadLetterCLI(t, s, "list")
	if !strings.Contains(list, ids[0]) || !strings.Contains(list, "40013") || !strings.Contains(list, "not a JSON object") {
		t.Errorf("list printed:\n%s\nwant the trade id, Ably's code and the parse error", list)
	}
	if show := runDeadLetterCLI(t, s, "show", ids[0]); !strings.Contains(show, `"reason": "rejected by Ably: invalid message data"`) {
		t.Errorf("show printed:\n%s\nwant the reason with Ably's message", show)
	}

	runDeadLetterCLI(t, s, "requeue", ids[0])
	waitDelivered(t, s, rdb, 1)
	assertEachOnce(t, "emulator", receivedCounts(t, s), ids)
	if got := strings.TrimSpace(runDeadLetterCLI(t, s, "count")); got != "1" {
		t.Errorf("count printed %q after the requeue, want 1 (the malformed entry)", got)
	}
	logFigures(t, 2, len(receivedCounts(t, s)), channelStats(t, s).Duplicates, int64(len(deadEntries(t, rdb))),
		"requeued=1")
}
