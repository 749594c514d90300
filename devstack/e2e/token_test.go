package e2e

import (
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably/ably-go/ably"
)

// tokenClientOptions connects ably-go to the stack's emulator with the
// publisher's token endpoint, as the browser does.
func tokenClientOptions(tb testing.TB, s *stack.Stack) []ably.ClientOption {
	tb.Helper()
	u, err := url.Parse(s.EmulatorURL)
	if err != nil {
		tb.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		tb.Fatal(err)
	}
	return []ably.ClientOption{
		ably.WithEndpoint(u.Hostname()),
		ably.WithPort(port),
		ably.WithTLS(false),
		ably.WithAuthURL(s.Publishers[0].URL + "/token"),
		ably.WithLogLevel(ably.LogNone),
	}
}

func TestToken_SubscribesButCannotPublish(t *testing.T) {
	s := startStack(t, stack.Options{Replicas: 1, NoTradingServer: true})
	client, err := ably.NewRealtime(append(tokenClientOptions(t, s), ably.WithAutoConnect(false))...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.Connect()
	channel := client.Channels.Get("trades")
	received := make(chan *ably.Message, 10)
	if _, err := channel.Subscribe(t.Context(), "trade", func(m *ably.Message) { received <- m }); err != nil {
		t.Fatalf("subscribe with the publisher's token: %v", err)
	}

	rdb := redisClient(t, s)
	payload := `{"id":"token-test-1","symbol":"MSFT","price":"410.5","size":3,"side":"sell","seq":1,"ts":"2026-12-04T10:00:00.000Z"}`
	if err := rdb.RPush(t.Context(), keys.Queue("myJobQueue"), payload).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-received:
		if stack.TradeIDOf(m.Data) != "token-test-1" {
			t.Errorf("received message %s with data %v, want the trade token-test-1", m.ID, m.Data)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no trade reached the subscriber within 30s")
	}

	err = channel.Publish(t.Context(), "trade", "from the browser")
	var info *ably.ErrorInfo
	if !errors.As(err, &info) {
		t.Fatalf("publish with a subscribe-only token returned %v, want an Ably error", err)
	}
	if info.Code != 40160 {
		t.Errorf("publish with a subscribe-only token failed with code %d, want 40160", info.Code)
	}
}
