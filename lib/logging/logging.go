// Package logging builds the slog logger both services use and throttles
// repeated errors so that an outage does not flood the log.
package logging

import (
	"io"
	"log/slog"
	"strings"

	"github.com/ably-fanout/lib/envconfig"
)

// Config selects the log format and level.
type Config struct {
	// Format is text or json. Default text.
	Format string
	// Level is debug, info, warn or error. Default info.
	Level string
}

// Register adds LOG_FORMAT and LOG_LEVEL to set.
func Register(set *envconfig.Set, c *Config) {
	set.Enum(&c.Format, "LOG_FORMAT", "text", []string{"text", "json"}, "log format: text or json")
	set.Enum(&c.Level, "LOG_LEVEL", "info", []string{"debug", "info", "warn", "error"}, "lowest level logged")
}

// New returns a logger that writes to w in the format and from the level
// that c sets.
func New(c Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(c.Level)))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
