package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/health"
	"github.com/ably-fanout/ably-publishing-server/internal/httpapi"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/lib/redisconn"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

func TestConfig_RoutedListsChannels(t *testing.T) {
	emu := emulatortest.Start(t)
	srv := redistest.Start(t, redistest.Options{})
	opts, err := redisconn.Config{URL: srv.URL(), QueueKey: "q"}.Options()
	if err != nil {
		t.Fatalf("redis options: %v", err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	client, err := publish.NewClient(publish.ClientConfig{Key: emu.Key, Endpoint: emu.URL})
	if err != nil {
		t.Fatalf("publish.NewClient: %v", err)
	}
	channels := []string{"trades:AAPL", "trades:MSFT"}
	api, err := httpapi.New(httpapi.Config{Channel: "trades:*", Routed: true, Channels: channels, ClientAblyEndpoint: emu.URL},
		client.Auth, rdb, &health.State{}, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatalf("httpapi.New: %v", err)
	}
	ts := httptest.NewServer(api.Handler())
	t.Cleanup(ts.Close)

	resp, body := get(t, ts.URL+"/config")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, expected 200", resp.StatusCode)
	}
	var got struct {
		Channel        *string  `json:"channel"`
		ChannelPattern string   `json:"channelPattern"`
		Channels       []string `json:"channels"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if got.Channel == nil || *got.Channel != "" {
		t.Errorf("channel = %v, expected an empty string, because a pattern cannot be subscribed to", got.Channel)
	}
	if got.ChannelPattern != "trades:*" {
		t.Errorf("channelPattern %q, expected trades:*", got.ChannelPattern)
	}
	if !slices.Equal(got.Channels, channels) {
		t.Errorf("channels %v, expected %v", got.Channels, channels)
	}

	resp, body = get(t, ts.URL+"/token")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/token status %d, expected 200: %s", resp.StatusCode, body)
	}
	var token struct {
		Capability string `json:"capability"`
	}
	if err := json.Unmarshal(body, &token); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if !strings.HasPrefix(token.Capability, `{"trades:*":["subscribe"`) {
		t.Errorf("token capability %s, expected subscribe on trades:*", token.Capability)
	}
}

func TestConfig_SingleChannelHasNoList(t *testing.T) {
	f := start(t)
	_, body := get(t, f.url+"/config")
	for _, field := range []string{"channelPattern", "channels"} {
		if strings.Contains(string(body), field) {
			t.Errorf("/config of one channel contains %q: %s", field, body)
		}
	}
}
