// Command ably-emulator runs a local stand-in for Ably's REST and realtime
// APIs that the real ably-go and ably-js clients accept. Run it with -h for
// its settings; see README.md for the endpoints.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
)

// shutdownTimeout bounds each step of the graceful shutdown.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stderr))
}

// run serves the emulator until ctx is done and returns the exit status:
// 0 after a clean shutdown, 1 when serving fails, 2 for an invalid setting.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := parseSettings(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ably-emulator: %v\n", err)
		return 2
	}
	logger := newLogger(cfg, stderr)

	srv, err := emulator.New(cfg.config, logger)
	if err != nil {
		logger.Error("invalid emulator settings", "error", err)
		return 2
	}
	listener, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		logger.Error("failed to listen", "addr", cfg.addr, "error", err)
		return 1
	}
	httpServer := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() {
		serveErr <- httpServer.Serve(listener)
	}()
	logger.Info("ably emulator listening",
		"addr", listener.Addr().String(),
		"key_names", srv.KeyNames(),
		"channel_rate", cfg.config.ChannelRate,
		"max_message_size", cfg.config.MaxMessageSize,
		"idempotency_window", cfg.config.IdempotencyWindow.String(),
		"record_limit", cfg.config.RecordLimit,
		"history_limit", cfg.config.HistoryLimit,
		"connection_state_ttl", cfg.config.ConnectionStateTTL.String())

	status := 0
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-serveErr:
		logger.Error("http server failed", "error", err)
		status = 1
	}

	// Shutdown order: first stop the listener and finish the REST requests
	// in flight, so that no new realtime connection arrives. Then send
	// DISCONNECTED to the realtime connections and wait for them to close,
	// because http.Server.Shutdown does not track hijacked connections.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		logger.Warn("http server did not shut down cleanly", "error", err)
	}
	closeCtx, cancelClose := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancelClose()
	if err := srv.Close(closeCtx); err != nil {
		logger.Warn("realtime connections did not close cleanly", "error", err)
	}
	logger.Info("stopped")
	return status
}

func newLogger(cfg settings, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
