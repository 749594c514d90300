package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/lib/envconfig"
)

const validKey = "appId.keyId:generated-in-test"

// loadConfig parses env as the process environment would be, then applies
// defaults and validates, as main does.
func loadConfig(tb testing.TB, env map[string]string, args ...string) (Config, error) {
	tb.Helper()
	var cfg Config
	set := envconfig.New(programName, programSummary)
	registerSettings(set, &cfg, "host-1")
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	if err := set.Parse(args, lookup, io.Discard); err != nil {
		return cfg, err
	}
	cfg.applyDefaults()
	return cfg, cfg.Validate()
}

func TestConfig_Defaults(t *testing.T) {
	cfg, err := loadConfig(t, map[string]string{"ABLY_KEY": validKey})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ChannelName", cfg.ChannelName, "trades"},
		{"RateLimit", cfg.RateLimit, 50},
		{"RateWindow", cfg.RateWindow, time.Second},
		{"RateMargin", cfg.RateMargin, 10 * time.Millisecond},
		{"HTTPAddr", cfg.HTTPAddr, ":8080"},
		{"ReplicaID", cfg.ReplicaID, "host-1"},
		{"TokenTTL", cfg.TokenTTL, 15 * time.Minute},
		{"ShutdownGrace", cfg.ShutdownGrace, 25 * time.Second},
		{"LeaseTTL", cfg.LeaseTTL, 10 * time.Second},
		{"MaxRecoveries", cfg.MaxRecoveries, 5},
		{"AblyEndpoint", cfg.AblyEndpoint, ""},
		{"ClientAblyEndpoint", cfg.ClientAblyEndpoint, ""},
		{"QueueKey", cfg.Redis.QueueKey, "myJobQueue"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestConfig_ClientEndpointDefaultsToAblyEndpoint(t *testing.T) {
	cfg, err := loadConfig(t, map[string]string{"ABLY_KEY": validKey, "ABLY_ENDPOINT": "http://127.0.0.1:8081"})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if cfg.ClientAblyEndpoint != "http://127.0.0.1:8081" {
		t.Errorf("ClientAblyEndpoint %q, want ABLY_ENDPOINT", cfg.ClientAblyEndpoint)
	}
}

func TestConfig_FlagWinsOverEnvironment(t *testing.T) {
	cfg, err := loadConfig(t, map[string]string{"ABLY_KEY": validKey, "RATE_LIMIT": "20"}, "-rate-limit", "30")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if cfg.RateLimit != 30 {
		t.Errorf("RateLimit %d, want the flag's 30", cfg.RateLimit)
	}
}

func TestConfig_InvalidValuesNamed(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		contains []string
	}{
		{name: "missing key", env: map[string]string{},
			contains: []string{"ABLY_KEY", "appId.keyId:secret"}},
		{name: "key without secret", env: map[string]string{"ABLY_KEY": "appId.keyId"},
			contains: []string{"ABLY_KEY", `"***"`, "appId.keyId:secret"}},
		{name: "rate limit not a number", env: map[string]string{"ABLY_KEY": validKey, "RATE_LIMIT": "abc"},
			contains: []string{"RATE_LIMIT", `"abc"`, "1 to 100000"}},
		{name: "rate limit too high", env: map[string]string{"ABLY_KEY": validKey, "RATE_LIMIT": "100001"},
			contains: []string{"RATE_LIMIT", `"100001"`}},
		{name: "zero window", env: map[string]string{"ABLY_KEY": validKey, "RATE_WINDOW": "0"},
			contains: []string{"RATE_WINDOW", `"0"`, "duration"}},
		{name: "negative margin", env: map[string]string{"ABLY_KEY": validKey, "RATE_MARGIN": "-1ms"},
			contains: []string{"RATE_MARGIN", `"-1ms"`}},
		{name: "short token ttl", env: map[string]string{"ABLY_KEY": validKey, "TOKEN_TTL": "30s"},
			contains: []string{"TOKEN_TTL", `"30s"`, "1m0s"}},
		{name: "endpoint scheme", env: map[string]string{"ABLY_KEY": validKey, "ABLY_ENDPOINT": "ftp://127.0.0.1:8081"},
			contains: []string{"ABLY_ENDPOINT", "ftp://127.0.0.1:8081"}},
		{name: "endpoint path", env: map[string]string{"ABLY_KEY": validKey, "ABLY_ENDPOINT": "http://127.0.0.1:8081/x"},
			contains: []string{"ABLY_ENDPOINT", "http://127.0.0.1:8081/x", "no path"}},
		{name: "client endpoint", env: map[string]string{"ABLY_KEY": validKey, "CLIENT_ABLY_ENDPOINT": "ws://x"},
			contains: []string{"CLIENT_ABLY_ENDPOINT", "ws://x"}},
		{name: "replica id", env: map[string]string{"ABLY_KEY": validKey, "REPLICA_ID": "a b"},
			contains: []string{"REPLICA_ID", `"a b"`}},
		{name: "channel", env: map[string]string{"ABLY_KEY": validKey, "CHANNEL_NAME": "[meta]x"},
			contains: []string{"CHANNEL_NAME", `"[meta]x"`}},
		{name: "http addr", env: map[string]string{"ABLY_KEY": validKey, "HTTP_ADDR": "8080"},
			contains: []string{"HTTP_ADDR", `"8080"`, "host:port"}},
		{name: "shutdown grace", env: map[string]string{"ABLY_KEY": validKey, "SHUTDOWN_GRACE": "forever"},
			contains: []string{"SHUTDOWN_GRACE", `"forever"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(t, tt.env)
			if err == nil {
				t.Fatal("load succeeded, want an error")
			}
			for _, want := range tt.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestConfig_KeyNeverInError(t *testing.T) {
	const secret = "do-not-print-this-secret"
	_, err := loadConfig(t, map[string]string{"ABLY_KEY": "no-dot:" + secret})
	if err == nil {
		t.Fatal("load succeeded, want an error")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the key secret", err)
	}
}

func TestConfig_HelpListsSettings(t *testing.T) {
	var cfg Config
	set := envconfig.New(programName, programSummary)
	registerSettings(set, &cfg, "host-1")
	var out strings.Builder
	err := set.Parse([]string{"-h"}, func(string) (string, bool) { return "", false }, &out)
	if !errors.Is(err, envconfig.ErrHelp) {
		t.Fatalf("Parse(-h) = %v, want ErrHelp", err)
	}
	for _, name := range []string{"ABLY_KEY", "ABLY_ENDPOINT", "CHANNEL_NAME", "RATE_LIMIT", "RATE_WINDOW",
		"RATE_MARGIN", "HTTP_ADDR", "REPLICA_ID", "TOKEN_TTL", "CLIENT_ABLY_ENDPOINT", "SHUTDOWN_GRACE",
		"REDIS_URL", "QUEUE_KEY", "LOG_LEVEL"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("help does not list %s", name)
		}
	}
}

func TestConfig_PublishTimeoutFitsGrace(t *testing.T) {
	tests := []struct {
		grace, want time.Duration
	}{
		{grace: 25 * time.Second, want: 8333333333},
		{grace: 60 * time.Second, want: 10 * time.Second},
		{grace: 3 * time.Second, want: time.Second},
	}
	for _, tt := range tests {
		cfg := Config{ShutdownGrace: tt.grace}
		if got := cfg.publishTimeout(); got != tt.want {
			t.Errorf("grace %s: publish timeout %s, want %s", tt.grace, got, tt.want)
		}
	}
}
