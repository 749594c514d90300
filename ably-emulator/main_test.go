package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
)

func envFrom(values map[string]string) func(string) string {
	return func(name string) string { return values[name] }
}

func TestRun_InvalidSettingsExitTwo(t *testing.T) {
	key := emulator.GenerateKey()
	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		wantText []string
	}{
		{"missing keys", nil, nil, []string{"EMULATOR_KEYS"}},
		{"bad rate", nil, map[string]string{"EMULATOR_KEYS": key, "EMULATOR_CHANNEL_RATE": "fast"},
			[]string{"EMULATOR_CHANNEL_RATE", `"fast"`, "positive integer"}},
		{"bad window", nil, map[string]string{"EMULATOR_KEYS": key, "EMULATOR_IDEMPOTENCY_WINDOW": "-1s"},
			[]string{"EMULATOR_IDEMPOTENCY_WINDOW", `"-1s"`, "duration"}},
		{"bad size flag", []string{"-max-message-size", "0"}, map[string]string{"EMULATOR_KEYS": key},
			[]string{"-max-message-size", `"0"`, "bytes"}},
		{"bad history limit", nil, map[string]string{"EMULATOR_KEYS": key, "EMULATOR_HISTORY_LIMIT": "-5"},
			[]string{"EMULATOR_HISTORY_LIMIT", `"-5"`, "positive integer"}},
		{"bad state ttl flag", []string{"-connection-state-ttl", "soon"}, map[string]string{"EMULATOR_KEYS": key},
			[]string{"-connection-state-ttl", `"soon"`, "duration"}},
		{"bad log format", nil, map[string]string{"EMULATOR_KEYS": key, "LOG_FORMAT": "xml"},
			[]string{"LOG_FORMAT", `"xml"`, "text or json"}},
		{"bad key", nil, map[string]string{"EMULATOR_KEYS": "app.key:ok,broken:topsecret"},
			[]string{"EMULATOR_KEYS", "key 2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			status := run(t.Context(), tc.args, envFrom(tc.env), &stderr)
			if status != 2 {
				t.Errorf("exit status = %d, want 2", status)
			}
			for _, want := range tc.wantText {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("message %q does not contain %q", stderr.String(), want)
				}
			}
			if strings.Contains(stderr.String(), "topsecret") {
				t.Errorf("message %q contains a key secret", stderr.String())
			}
		})
	}
}

func TestRun_HelpListsVariables(t *testing.T) {
	var stderr strings.Builder
	if status := run(t.Context(), []string{"-h"}, envFrom(nil), &stderr); status != 0 {
		t.Errorf("exit status = %d, want 0", status)
	}
	for _, s := range settingList {
		if !strings.Contains(stderr.String(), s.env) {
			t.Errorf("usage does not list %s", s.env)
		}
	}
}

// logPipe carries the log of run to the test line by line.
type logPipe struct {
	writer *io.PipeWriter
	lines  chan string
}

func newLogPipe() *logPipe {
	reader, writer := io.Pipe()
	b := &logPipe{writer: writer, lines: make(chan string, 100)}
	go func() {
		scanner := bufio.NewScanner(reader)
		for scanner.Scan() {
			b.lines <- scanner.Text()
		}
		close(b.lines)
	}()
	return b
}

func TestRun_ServesUntilCancelled(t *testing.T) {
	key := emulator.GenerateKey()
	logs := newLogPipe()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, envFrom(map[string]string{
			"EMULATOR_KEYS": key, "LOG_FORMAT": "json",
		}), logs.writer)
		_ = logs.writer.Close()
	}()

	var addr string
	timeout := time.After(20 * time.Second)
	for addr == "" {
		select {
		case line := <-logs.lines:
			if strings.Contains(line, key[strings.Index(key, ":")+1:]) {
				t.Errorf("log line contains the key secret: %s", line)
			}
			var entry map[string]any
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatalf("log line %q is not JSON: %v", line, err)
			}
			if entry["msg"] == "ably emulator listening" {
				addr, _ = entry["addr"].(string)
			}
		case <-timeout:
			t.Fatalf("no listening log line")
		}
	}

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("healthz: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz status = %d, want 200", resp.StatusCode)
	}

	cancel()
	go func() {
		for range logs.lines {
		}
	}()
	select {
	case status := <-done:
		if status != 0 {
			t.Errorf("exit status = %d, want 0", status)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not return after cancel")
	}
}

func TestParseSettings_ContinuitySettings(t *testing.T) {
	key := emulator.GenerateKey()
	cases := []struct {
		name        string
		args        []string
		env         map[string]string
		wantHistory int
		wantTTL     time.Duration
	}{
		{"defaults", nil, nil, emulator.DefaultHistoryLimit, emulator.DefaultConnectionStateTTL},
		{"from the environment", nil, map[string]string{"EMULATOR_HISTORY_LIMIT": "50", "EMULATOR_CONNECTION_STATE_TTL": "5s"}, 50, 5 * time.Second},
		{"flags win", []string{"-history-limit", "7", "-connection-state-ttl", "1m"}, map[string]string{"EMULATOR_HISTORY_LIMIT": "50"}, 7, time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"EMULATOR_KEYS": key}
			for name, value := range tc.env {
				env[name] = value
			}
			got, err := parseSettings(tc.args, envFrom(env), io.Discard)
			if err != nil {
				t.Fatalf("parse settings: %v", err)
			}
			if got.config.HistoryLimit != tc.wantHistory {
				t.Errorf("HistoryLimit = %d, want %d", got.config.HistoryLimit, tc.wantHistory)
			}
			if got.config.ConnectionStateTTL != tc.wantTTL {
				t.Errorf("ConnectionStateTTL = %s, want %s", got.config.ConnectionStateTTL, tc.wantTTL)
			}
		})
	}
}
