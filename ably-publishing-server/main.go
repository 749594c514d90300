// Command ably-publishing-server takes trades from the Redis queue and
// publishes them to an Ably channel. Run any number of replicas: a
// sliding-window limiter in Redis keeps all of them together under
// RATE_LIMIT messages per RATE_WINDOW, and a trade leaves Redis only after
// Ably accepted it or it went to the dead-letter list. Run with -h for the
// settings.
//
// "ably-publishing-server deadletter" lists, shows and requeues the
// entries of the dead-letter list; run it with -h for its actions.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ably-fanout/lib/envconfig"
	"github.com/ably-fanout/lib/logging"
	"github.com/redis/go-redis/v9"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == deadLetterCommand {
		os.Exit(runDeadLetterProcess())
	}
	os.Exit(run())
}

// run returns the exit status: 0 after a clean shutdown, 1 when the service
// failed or overran SHUTDOWN_GRACE, 2 for invalid settings.
func run() int {
	var cfg Config
	hostname, _ := os.Hostname()
	set := envconfig.New(programName, programSummary)
	registerSettings(set, &cfg, hostname)
	if err := set.ParseProcess(); err != nil {
		if errors.Is(err, envconfig.ErrHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", programName, err)
		return 2
	}
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", programName, err)
		return 2
	}

	logger := logging.New(cfg.Log, os.Stderr)
	logger.Info("starting", set.LogAttrs()...)
	redis.SetLogger(logging.NewRedisLogger(logger, 10*time.Second))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := newApp(cfg, logger)
	if err != nil {
		logger.Error("start failed", "error", err)
		return 1
	}
	if err := a.run(ctx); err != nil {
		logger.Error("stopped with an error", "error", err)
		return 1
	}
	return 0
}
