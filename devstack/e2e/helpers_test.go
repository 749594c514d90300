package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/devstack/stacktest"
	"github.com/redis/go-redis/v9"
)

// startStack starts a stack for tb with a private redis-server and the
// emulator, and stops it when the test ends.
func startStack(tb testing.TB, opts stack.Options) *stack.Stack {
	tb.Helper()
	opts.RepoRoot = repoRoot
	opts.Bin = bin
	return stacktest.Start(tb, opts)
}

func redisClient(tb testing.TB, s *stack.Stack) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(s.Redis.URL)
	if err != nil {
		tb.Fatal(err)
	}
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// receivedMessage is one message as the emulator recorded it.
type receivedMessage struct {
	ID   string          `json:"id"`
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
}

func receivedMessages(tb testing.TB, s *stack.Stack, channel string) []receivedMessage {
	tb.Helper()
	resp, err := http.Get(s.EmulatorURL + "/_emulator/channels/" + channel + "/messages")
	if err != nil {
		tb.Fatalf("read received messages: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("read received messages: status %s", resp.Status)
	}
	var msgs []receivedMessage
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		tb.Fatalf("decode received messages: %v", err)
	}
	return msgs
}

func channelStats(tb testing.TB, s *stack.Stack, channel string) stack.ChannelStats {
	tb.Helper()
	stats, err := stack.EmulatorStats(tb.Context(), s.EmulatorURL)
	if err != nil {
		tb.Fatal(err)
	}
	return stats[channel]
}

// tradeIDs returns the ids the trading server gives its first n trades.
func tradeIDs(producerID string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", producerID, i+1)
	}
	return ids
}
