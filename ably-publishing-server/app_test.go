package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/logging"
	"github.com/ably-fanout/lib/redisconn"
	"github.com/ably-fanout/lib/redistest"
	"github.com/ably-fanout/lib/trade"
	"github.com/redis/go-redis/v9"
)

const hangTimeout = 60 * time.Second

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func testConfig(tb testing.TB, srv *redistest.Server, emu *emulatortest.Instance, ablyEndpoint string) Config {
	tb.Helper()
	cfg := Config{
		Redis:         redisconn.Config{URL: srv.URL(), QueueKey: "app-queue"},
		Log:           logging.Config{Format: "text", Level: "info"},
		AblyKey:       emu.Key,
		AblyEndpoint:  ablyEndpoint,
		ChannelName:   "trades",
		RateLimit:     50,
		RateWindow:    time.Second,
		RateMargin:    50 * time.Millisecond,
		HTTPAddr:      freeAddr(tb),
		ReplicaID:     "app-test",
		TokenTTL:      15 * time.Minute,
		ShutdownGrace: 15 * time.Second,
	}
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("test config: %v", err)
	}
	return cfg
}

// runningApp is an app running in a goroutine, as main runs it.
type runningApp struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// startApp runs the app until stop or the end of the test.
func startApp(tb testing.TB, cfg Config) *runningApp {
	tb.Helper()
	logger := slog.New(slog.NewTextHandler(tb.Output(), nil))
	a, err := newApp(cfg, logger)
	if err != nil {
		tb.Fatalf("newApp: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningApp{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = a.run(ctx)
	}()
	tb.Cleanup(func() { _ = r.stop(tb) })
	return r
}

// stop ends the app as SIGTERM does and returns run's result.
func (r *runningApp) stop(tb testing.TB) error {
	tb.Helper()
	r.cancel()
	return r.wait(tb)
}

func (r *runningApp) wait(tb testing.TB) error {
	tb.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(hangTimeout):
		tb.Fatal("app did not stop after its context ended")
		return nil
	}
}

func readyzStatus(addr string) (int, string, error) {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(hangTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pushTrade(tb testing.TB, rdb *redis.Client, queueKey, id string) {
	tb.Helper()
	b, err := json.Marshal(trade.Trade{ID: id, Symbol: "MSFT", Price: "410.5", Size: 3, Side: trade.Sell, Seq: 1,
		Time: trade.FormatTime(time.Now())})
	if err != nil {
		tb.Fatal(err)
	}
	if err := rdb.RPush(tb.Context(), keys.Queue(queueKey), b).Err(); err != nil {
		tb.Fatalf("RPUSH: %v", err)
	}
}

func TestApp_PublishesAndStops(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	cfg := testConfig(t, srv, emu, emu.URL)
	rdb := srv.Client()
	app := startApp(t, cfg)

	waitFor(t, "/readyz to return 200", func() bool {
		status, _, err := readyzStatus(cfg.HTTPAddr)
		return err == nil && status == http.StatusOK
	})
	for i := range 3 {
		pushTrade(t, rdb, cfg.Redis.QueueKey, fmt.Sprintf("app-%d", i+1))
	}
	waitFor(t, "3 trades to be accepted", func() bool {
		return emu.Server.Stats().Channels["trades"].Accepted >= 3
	})
	resp, err := http.Get("http://" + cfg.HTTPAddr + "/token")
	if err != nil {
		t.Fatalf("GET /token: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/token status %d, want 200", resp.StatusCode)
	}

	if err := app.stop(t); err != nil {
		t.Errorf("run returned %v, want nil after a clean shutdown", err)
	}
	if _, _, err := readyzStatus(cfg.HTTPAddr); err == nil {
		t.Error("HTTP server still responds after shutdown")
	}
}

func TestApp_ShutdownFinishesInFlightPublish(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	// The emulator holds the publish for a while, and a proxy in front of it
	// reports when the publish is in flight, so the shutdown starts then.
	if err := emu.Server.AddFault(emulator.Fault{Channel: "trades", DelayMs: 3000, Count: 1}); err != nil {
		t.Fatalf("AddFault: %v", err)
	}
	inFlight := make(chan struct{}, 1)
	target, err := url.Parse(emu.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/channels/") {
			select {
			case inFlight <- struct{}{}:
			default:
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	cfg := testConfig(t, srv, emu, front.URL)
	rdb := srv.Client()
	app := startApp(t, cfg)
	pushTrade(t, rdb, cfg.Redis.QueueKey, "in-flight-1")
	select {
	case <-inFlight:
	case <-time.After(hangTimeout):
		t.Fatal("the publish never reached Ably")
	}

	app.cancel()
	waitFor(t, "/readyz to report the shutdown", func() bool {
		status, body, err := readyzStatus(cfg.HTTPAddr)
		return err == nil && status == http.StatusServiceUnavailable && strings.Contains(body, "shutting down")
	})
	if err := app.wait(t); err != nil {
		t.Errorf("run returned %v, want nil", err)
	}

	if n := emu.Server.Stats().Channels["trades"].Accepted; n != 1 {
		t.Errorf("emulator accepted %d messages, want the in-flight 1", n)
	}
	processing, err := rdb.LLen(t.Context(), keys.Processing(cfg.Redis.QueueKey, cfg.ReplicaID)).Result()
	if err != nil {
		t.Fatalf("LLEN: %v", err)
	}
	if processing != 0 {
		t.Errorf("processing list has %d trades, want 0 (the published trade acknowledged)", processing)
	}
}
