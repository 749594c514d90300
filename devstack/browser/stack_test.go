package browser_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/devstack/stacktest"
	"github.com/ably-fanout/lib/trade"
	"github.com/redis/go-redis/v9"
)

// The programs of the stack, built by the first test that needs them and
// removed by TestMain.
var (
	buildOnce sync.Once
	buildDir  string
	built     stack.Binaries
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// stackBinaries builds the trading server, the publisher and the emulator
// once for the test binary and returns their paths.
func stackBinaries(tb testing.TB, root string) stack.Binaries {
	tb.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "browser-bin-")
		if buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		built, buildErr = stack.Build(ctx, root, buildDir)
	})
	if buildErr != nil {
		tb.Fatalf("build the stack: %v", buildErr)
	}
	return built
}

// startStack starts the publishers, the emulator and the web server of
// the page with a private redis-server and no trading server, and stops
// them when the test ends.
func startStack(tb testing.TB, root string, opts stack.Options) *stack.Stack {
	tb.Helper()
	opts.RepoRoot = root
	opts.Bin = stackBinaries(tb, root)
	opts.NoTradingServer = true
	return stacktest.Start(tb, opts)
}

// pushTrades appends the trades to the stack's queue, in order, as the
// trading server does.
func pushTrades(tb testing.TB, s *stack.Stack, trades []trade.Trade) {
	tb.Helper()
	opts, err := redis.ParseURL(s.Redis.URL)
	if err != nil {
		tb.Fatalf("parse Redis URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	values := make([]any, len(trades))
	for i, t := range trades {
		payload, err := json.Marshal(t)
		if err != nil {
			tb.Fatalf("encode trade %s: %v", t.ID, err)
		}
		values[i] = payload
	}
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	if err := rdb.RPush(ctx, s.Options().QueueKey, values...).Err(); err != nil {
		tb.Fatalf("push %d trades: %v", len(trades), err)
	}
}

// getJSON decodes the JSON body of a GET of target into out.
func getJSON(tb testing.TB, target string, out any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: status %s", target, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		tb.Fatalf("decode GET %s: %v", target, err)
	}
}

// emulatorControl sends one request to a test endpoint of the emulator,
// such as POST /_emulator/drop, and returns the response body.
func emulatorControl(tb testing.TB, s *stack.Stack, method, path, body string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.EmulatorURL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		tb.Fatalf("%s %s: read response: %v", method, path, err)
	}
	if resp.StatusCode >= 300 {
		tb.Fatalf("%s %s: status %s: %s", method, path, resp.Status, text)
	}
	return string(text)
}
