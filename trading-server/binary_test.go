package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ably-fanout/lib/redistest"
)

// buildBinary builds the server into a temporary folder.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "trading-server")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// command returns a command for bin that runs in an empty folder, so no
// .env file is read, with only env and PATH in its environment.
func command(tb testing.TB, bin string, env map[string]string, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = tb.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// exitStatus waits for cmd up to a minute and returns its exit status.
func exitStatus(tb testing.TB, cmd *exec.Cmd) int {
	tb.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitErr.ExitCode()
		}
		if err != nil {
			tb.Fatalf("wait: %v", err)
		}
		return 0
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		tb.Fatal("trading-server did not exit within a minute")
		return -1
	}
}

func TestBinary_InvalidSettingsExitWithUsageStatus(t *testing.T) {
	bin := buildBinary(t)
	cases := []struct {
		name     string
		env      map[string]string
		wantText []string
	}{
		{"unknown mode", map[string]string{"MODE": "sideways"}, []string{"MODE", "sideways", "burst, steady, replay"}},
		{"rate not a number", map[string]string{"PUBLISH_RATE": "abc"}, []string{"PUBLISH_RATE", "abc", "integer"}},
		{"rate empty", map[string]string{"PUBLISH_RATE": ""}, []string{"PUBLISH_RATE", "integer"}},
		{"zero queue length", map[string]string{"MAX_QUEUE_LENGTH": "0"}, []string{"MAX_QUEUE_LENGTH", `"0"`, "from 1"}},
		{"negative steady rate", map[string]string{"STEADY_RATE": "-5"}, []string{"STEADY_RATE", "-5"}},
		{"interval without unit", map[string]string{"BURST_INTERVAL": "5"}, []string{"BURST_INTERVAL", `"5"`, "duration"}},
		{"fractional limit", map[string]string{"TRADE_LIMIT": "1.5"}, []string{"TRADE_LIMIT", "1.5"}},
		{"batch too large", map[string]string{"PUSH_BATCH": "5000"}, []string{"PUSH_BATCH", "5000", "1 to 1000"}},
		{"lowercase symbol", map[string]string{"SYMBOLS": "AAPL,msft"}, []string{"SYMBOLS", "msft"}},
		{"empty symbol", map[string]string{"SYMBOLS": "AAPL,,MSFT"}, []string{"SYMBOLS", "empty"}},
		{"producer id with colon", map[string]string{"PRODUCER_ID": "a:b"}, []string{"PRODUCER_ID", "a:b"}},
		{"replay without file", map[string]string{"MODE": "replay"}, []string{"REPLAY_FILE", "MODE=replay"}},
		{"replay file missing", map[string]string{"MODE": "replay", "REPLAY_FILE": "/nonexistent/trades.ndjson"}, []string{"REPLAY_FILE", "/nonexistent/trades.ndjson"}},
		{"http address without port", map[string]string{"HTTP_ADDR": "localhost"}, []string{"HTTP_ADDR", "localhost"}},
		{"unknown log level", map[string]string{"LOG_LEVEL": "loud"}, []string{"LOG_LEVEL", "loud"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := command(t, bin, tc.env)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatalf("start: %v", err)
			}
			if got := exitStatus(t, cmd); got != exitUsage {
				t.Errorf("exit status = %d, want %d; stderr: %s", got, exitUsage, stderr.String())
			}
			for _, want := range tc.wantText {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q does not contain %q", stderr.String(), want)
				}
			}
		})
	}
}

func TestBinary_HelpListsEverySetting(t *testing.T) {
	bin := buildBinary(t)
	cmd := command(t, bin, nil, "-h")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	if got := exitStatus(t, cmd); got != exitOK {
		t.Errorf("exit status = %d, want 0", got)
	}
	names := []string{
		"REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "QUEUE_KEY", "MODE", "PUBLISH_RATE",
		"BURST_INTERVAL", "STEADY_RATE", "SYMBOLS", "REPLAY_FILE", "REPLAY_RATE", "MAX_QUEUE_LENGTH",
		"TRADE_LIMIT", "PUSH_BATCH", "PRODUCER_ID", "HTTP_ADDR", "LOG_FORMAT", "LOG_LEVEL",
	}
	for _, name := range names {
		if !strings.Contains(out.String(), name+" (default") {
			t.Errorf("-h output does not list %s", name)
		}
	}
}

func TestBinary_TradeLimitExitsZero(t *testing.T) {
	bin := buildBinary(t)
	srv := redistest.Start(t, redistest.Options{})
	cmd := command(t, bin, map[string]string{
		"REDIS_URL": srv.URL(), "QUEUE_KEY": testQueue, "HTTP_ADDR": "127.0.0.1:0", "LOG_FORMAT": "json",
		"MODE": "burst", "PUBLISH_RATE": "10", "BURST_INTERVAL": "10ms", "TRADE_LIMIT": "95",
		"PRODUCER_ID": "bin",
	})
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	if got := exitStatus(t, cmd); got != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s; stdout: %s", got, stderr.String(), stdout.String())
	}
	trades := queueTrades(t, srv.Client())
	if len(trades) != 95 {
		t.Fatalf("queue holds %d trades, want exactly 95", len(trades))
	}
	checkGenerated(t, trades, "bin")
	summary := lastRecord(t, stdout.Bytes(), "trading server stopped")
	if n := intField(t, summary, "pushed"); n != 95 {
		t.Errorf("summary pushed = %d, want 95", n)
	}
}

func TestBinary_SIGTERMPushesGeneratedTrades(t *testing.T) {
	bin := buildBinary(t)
	srv := redistest.Start(t, redistest.Options{})
	client := srv.Client()
	cmd := command(t, bin, map[string]string{
		"REDIS_URL": srv.URL(), "QUEUE_KEY": testQueue, "HTTP_ADDR": "", "LOG_FORMAT": "json",
		"MODE": "steady", "STEADY_RATE": "2000", "PRODUCER_ID": "term",
	})
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	waitFor(t, "200 trades in the queue", func() bool {
		n, err := client.LLen(t.Context(), testQueue).Result()
		return err == nil && n >= 200
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	if got := exitStatus(t, cmd); got != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", got, stderr.String())
	}

	summary := lastRecord(t, stdout.Bytes(), "trading server stopped")
	produced := intField(t, summary, "produced")
	if pushed := intField(t, summary, "pushed"); pushed != produced {
		t.Errorf("summary pushed = %d, want all %d produced", pushed, produced)
	}
	if summary["reason"] != "signal" {
		t.Errorf("summary reason = %v, want %q", summary["reason"], "signal")
	}
	trades := queueTrades(t, client)
	if int64(len(trades)) != produced {
		t.Errorf("queue holds %d trades, want the %d produced", len(trades), produced)
	}
	checkGenerated(t, trades, "term")
}
