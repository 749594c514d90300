package faults

import (
	"context"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably/ably-go/ably"
)

// subscriber is a real ably-go realtime client subscribed to the trades
// channel of the stack's emulator, counting the messages per trade id in
// their data.
type subscriber struct {
	mu     sync.Mutex
	counts map[string]int
}

// subscribe connects a realtime client with the stack's key and attaches
// to the channel before it returns, so it receives every later publish.
func subscribe(tb testing.TB, s *stack.Stack) *subscriber {
	tb.Helper()
	u, err := url.Parse(s.EmulatorURL)
	if err != nil {
		tb.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		tb.Fatal(err)
	}
	client, err := ably.NewRealtime(
		ably.WithKey(s.Key()),
		ably.WithEndpoint(u.Hostname()),
		ably.WithPort(port),
		ably.WithTLS(false),
		ably.WithInsecureAllowBasicAuthWithoutTLS(),
		// ably-go's log lines about connection attempts contain the URL
		// with the key.
		ably.WithLogLevel(ably.LogNone),
		ably.WithAutoConnect(false),
	)
	if err != nil {
		tb.Fatalf("create realtime client: %v", err)
	}
	tb.Cleanup(client.Close)
	client.Connect()

	sub := &subscriber{counts: map[string]int{}}
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	_, err = client.Channels.Get(channelName).Subscribe(ctx, "trade", func(m *ably.Message) {
		id := stack.TradeIDOf(m.Data)
		if id == "" {
			// assertEachOnce reports this key as an unexpected message.
			id = "message " + m.ID + " without a trade id"
		}
		sub.mu.Lock()
		sub.counts[id]++
		sub.mu.Unlock()
	})
	if err != nil {
		tb.Fatalf("subscribe to %s: %v", channelName, err)
	}
	return sub
}

// snapshot returns a copy of the counts.
func (s *subscriber) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for id, n := range s.counts {
		out[id] = n
	}
	return out
}

// waitDistinct waits until the subscriber has received n distinct ids.
func (s *subscriber) waitDistinct(tb testing.TB, n int) {
	tb.Helper()
	waitFor(tb, time.Minute, "the realtime subscriber to receive every trade", func() (bool, string) {
		got := len(s.snapshot())
		return got >= n, strconv.Itoa(got) + " distinct ids received"
	})
}
