package stacktest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
)

// Start starts a stack with opts, its process logs in a folder of tb's
// temporary directory, and stops it when the test ends. A failed stop
// fails the test, and a failed test logs where the process logs are.
func Start(tb testing.TB, opts stack.Options) *stack.Stack {
	tb.Helper()
	opts.RunDir = filepath.Join(tb.TempDir(), "run")
	ctx, cancel := context.WithTimeout(tb.Context(), 2*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, opts)
	if err != nil {
		tb.Fatalf("start stack: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("stop stack: %v", err)
		}
		if tb.Failed() {
			tb.Logf("process logs are in %s", opts.RunDir)
		}
	})
	return s
}
