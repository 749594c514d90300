package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/health"
	"github.com/ably-fanout/ably-publishing-server/internal/httpapi"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/lib/redisconn"
	"github.com/ably-fanout/lib/redistest"
	"github.com/ably/ably-go/ably"
	"github.com/redis/go-redis/v9"
)

const channelName = "trades"

type fixture struct {
	url   string
	emu   *emulatortest.Instance
	redis *redistest.Server
	state *health.State
}

func start(tb testing.TB) *fixture {
	tb.Helper()
	emu := emulatortest.Start(tb)
	srv := redistest.Start(tb, redistest.Options{})
	opts, err := redisconn.Config{URL: srv.URL(), QueueKey: "q"}.Options()
	if err != nil {
		tb.Fatalf("redis options: %v", err)
	}
	rdb := redis.NewClient(opts)
	tb.Cleanup(func() { _ = rdb.Close() })
	client, err := publish.NewClient(publish.ClientConfig{Key: emu.Key, Endpoint: emu.URL})
	if err != nil {
		tb.Fatalf("publish.NewClient: %v", err)
	}
	state := &health.State{}
	logger := slog.New(slog.NewTextHandler(tb.Output(), nil))
	api, err := httpapi.New(httpapi.Config{Channel: channelName, ClientAblyEndpoint: emu.URL},
		client.Auth, rdb, state, logger)
	if err != nil {
		tb.Fatalf("httpapi.New: %v", err)
	}
	ts := httptest.NewServer(api.Handler())
	tb.Cleanup(ts.Close)
	return &fixture{url: ts.URL, emu: emu, redis: srv, state: state}
}

func get(tb testing.TB, url string) (*http.Response, []byte) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read %s: %v", url, err)
	}
	return resp, body
}

func assertCORS(tb testing.TB, resp *http.Response) {
	tb.Helper()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		tb.Errorf("Access-Control-Allow-Origin %q, want *", got)
	}
}

func TestToken_ReturnsSubscribeOnlyRequest(t *testing.T) {
	f := start(t)
	resp, body := get(t, f.url+"/token")

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", resp.StatusCode, body)
	}
	assertCORS(t, resp)
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q, want application/json", got)
	}
	secret := f.emu.Key[strings.Index(f.emu.Key, ":")+1:]
	if strings.Contains(string(body), secret) {
		t.Fatal("token response contains the key secret")
	}
	var req ably.TokenRequest
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if want := f.emu.Key[:strings.Index(f.emu.Key, ":")]; req.KeyName != want {
		t.Errorf("keyName %q, want %q", req.KeyName, want)
	}
	if want := (15 * time.Minute).Milliseconds(); req.TTL != want {
		t.Errorf("ttl %d, want %d", req.TTL, want)
	}
	assertSubscribeOnly(t, req.Capability)
	if req.MAC == "" || req.Nonce == "" || req.Timestamp == 0 {
		t.Errorf("token request is not signed: %+v", req)
	}
}

func TestToken_AcceptedByAblyAndCannotPublish(t *testing.T) {
	f := start(t)
	client, err := ably.NewREST(f.emu.EndpointOptions(ably.WithAuthURL(f.url + "/token"))...)
	if err != nil {
		t.Fatalf("ably.NewREST: %v", err)
	}

	details, err := client.Auth.RequestToken(t.Context(), nil)
	if err != nil {
		t.Fatalf("RequestToken with the token request from /token: %v", err)
	}
	if details.Token == "" {
		t.Error("token is empty")
	}
	assertSubscribeOnly(t, details.Capability)

	err = client.Channels.Get(channelName).Publish(t.Context(), "trade", map[string]string{"id": "x"})
	if err == nil {
		t.Fatal("publish with the browser's token succeeded, want a capability error")
	}
	if got := publish.Classify(err); got != publish.ConfigError {
		t.Errorf("publish error %v classified %s, want %s", err, got, publish.ConfigError)
	}
	if n := f.emu.Server.Stats().Channels[channelName].Accepted; n != 0 {
		t.Errorf("emulator accepted %d messages, want 0", n)
	}
}

func assertSubscribeOnly(tb testing.TB, capability string) {
	tb.Helper()
	var got map[string][]string
	if err := json.Unmarshal([]byte(capability), &got); err != nil {
		tb.Fatalf("capability %q is not JSON: %v", capability, err)
	}
	ops := got[channelName]
	if len(got) != 1 || len(ops) != 2 || !contains(ops, "subscribe") || !contains(ops, "history") {
		tb.Errorf("capability %s, want only subscribe and history on %s", capability, channelName)
	}
}

func contains(items []string, want string) bool {
	for _, item := range items {
		if item == want {
			return true
		}
	}
	return false
}

func TestToken_AnswersPreflight(t *testing.T) {
	f := start(t)
	for _, path := range []string{"/token", "/config"} {
		t.Run(path, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodOptions, f.url+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", "null")
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "x-ably-version")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("OPTIONS %s: %v", path, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("status %d, want 204", resp.StatusCode)
			}
			assertCORS(t, resp)
			if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "x-ably-version" {
				t.Errorf("Access-Control-Allow-Headers %q, want the requested x-ably-version", got)
			}
			if got := resp.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "GET") {
				t.Errorf("Access-Control-Allow-Methods %q, want GET", got)
			}
		})
	}
}

func TestConfig_ReturnsChannelAndEndpoint(t *testing.T) {
	f := start(t)
	resp, body := get(t, f.url+"/config")

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	assertCORS(t, resp)
	var got struct {
		Channel      string `json:"channel"`
		AblyEndpoint string `json:"ablyEndpoint"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if got.Channel != channelName {
		t.Errorf("channel %q, want %q", got.Channel, channelName)
	}
	if got.AblyEndpoint != f.emu.URL {
		t.Errorf("ablyEndpoint %q, want %q", got.AblyEndpoint, f.emu.URL)
	}
}

func TestHealthz_AlwaysOK(t *testing.T) {
	f := start(t)
	f.state.SetShuttingDown()
	f.redis.Kill()

	if resp, body := get(t, f.url+"/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200: %s", resp.StatusCode, body)
	}
}

func TestReadyz_ReflectsConditions(t *testing.T) {
	f := start(t)
	check := func(t *testing.T, wantStatus int, wantReason string) {
		t.Helper()
		resp, body := get(t, f.url+"/readyz")
		if resp.StatusCode != wantStatus {
			t.Errorf("status %d, want %d: %s", resp.StatusCode, wantStatus, body)
		}
		var got struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		if !strings.Contains(got.Reason, wantReason) {
			t.Errorf("reason %q, want it to contain %q", got.Reason, wantReason)
		}
	}

	t.Run("ready", func(t *testing.T) { check(t, http.StatusOK, "") })
	t.Run("ably key rejected", func(t *testing.T) {
		f.state.SetAblyFailure("Ably rejected the key or the channel: invalid key")
		check(t, http.StatusServiceUnavailable, "invalid key")
		f.state.ClearAblyFailure()
		check(t, http.StatusOK, "")
	})
	t.Run("redis down", func(t *testing.T) {
		f.redis.Kill()
		check(t, http.StatusServiceUnavailable, "redis unreachable")
		f.redis.Restart()
		// The pool may hand out a connection that broke with the restart,
		// and the client does not retry, so allow a few probes.
		waitReady(t, f.url)
	})
	t.Run("shutting down", func(t *testing.T) {
		f.state.SetShuttingDown()
		check(t, http.StatusServiceUnavailable, "shutting down")
	})
}

func waitReady(tb testing.TB, url string) {
	tb.Helper()
	for range 10 {
		if resp, _ := get(tb, url+"/readyz"); resp.StatusCode == http.StatusOK {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Errorf("/readyz did not return 200 after Redis came back")
}
