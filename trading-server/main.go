// Command trading-server generates trades and pushes them as JSON onto a
// Redis list for the Ably publishing servers to take from the left. Run it
// with -h to list its settings.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ably-fanout/lib/envconfig"
	"github.com/ably-fanout/lib/logging"
	"github.com/redis/go-redis/v9"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	os.Exit(runMain())
}

func runMain() int {
	set, cfg := newSettings()
	if err := set.ParseProcess(); err != nil {
		if errors.Is(err, envconfig.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(os.Stderr, "trading-server: %v\n", err)
		return exitUsage
	}
	if err := cfg.complete(); err != nil {
		fmt.Fprintf(os.Stderr, "trading-server: %v\n", err)
		return exitUsage
	}
	logger := logging.New(cfg.Log, os.Stdout)
	logger.Info("settings", set.LogAttrs()...)
	// go-redis reports dial failures and dropped connections through its
	// own logger; send them to slog, at most one line per 10s.
	redis.SetLogger(logging.NewRedisLogger(logger, 10*time.Second))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, *cfg, logger); err != nil {
		logger.Error("trading server failed", slog.Any("error", err))
		return exitFailure
	}
	return exitOK
}
