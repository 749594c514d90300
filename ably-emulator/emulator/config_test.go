package emulator

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfig_Validate(t *testing.T) {
	valid := Config{Keys: []string{"app.key:secret"}}.WithDefaults()
	cases := []struct {
		name      string
		change    func(*Config)
		wantField string
	}{
		{"valid", func(*Config) {}, ""},
		{"no keys", func(c *Config) { c.Keys = nil }, "Keys"},
		{"bad key", func(c *Config) { c.Keys = []string{"nope"} }, "Keys[0]"},
		{"zero rate", func(c *Config) { c.ChannelRate = 0 }, "ChannelRate"},
		{"negative size", func(c *Config) { c.MaxMessageSize = -1 }, "MaxMessageSize"},
		{"zero record limit", func(c *Config) { c.RecordLimit = 0 }, "RecordLimit"},
		{"negative history limit", func(c *Config) { c.HistoryLimit = -1 }, "HistoryLimit"},
		{"zero replay limit", func(c *Config) { c.ReplayLimit = 0 }, "ReplayLimit"},
		{"zero state ttl", func(c *Config) { c.ConnectionStateTTL = 0 }, "ConnectionStateTTL"},
		{"negative window", func(c *Config) { c.IdempotencyWindow = -time.Second }, "IdempotencyWindow"},
		{"nil clock", func(c *Config) { c.Now = nil }, "Now"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.change(&cfg)
			err := cfg.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate error = %v, want ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.wantField) {
				t.Errorf("error %q does not name %s", err, tc.wantField)
			}
		})
	}
}

func TestConfig_WithDefaults(t *testing.T) {
	cfg := Config{}.WithDefaults()
	if cfg.ChannelRate != 50 || cfg.MaxMessageSize != 65536 || cfg.IdempotencyWindow != 2*time.Minute ||
		cfg.RecordLimit != 100000 || cfg.HistoryLimit != 1000 || cfg.ReplayLimit != 100 || cfg.Now == nil {
		t.Errorf("defaults = %+v", cfg)
	}
	custom := Config{ChannelRate: 7}.WithDefaults()
	if custom.ChannelRate != 7 {
		t.Errorf("WithDefaults replaced ChannelRate 7 with %d", custom.ChannelRate)
	}
}
