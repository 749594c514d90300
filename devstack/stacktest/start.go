package stacktest

import (
	"context"
	"fmt"
	"os"
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

// RunBuilt builds the services into a new temporary folder named with
// prefix, passes the repository root and the binaries to use, runs the
// package's tests and removes the folder. It returns the exit code for
// os.Exit in TestMain.
func RunBuilt(m *testing.M, prefix string, use func(root string, bin stack.Binaries)) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, built, cleanup, err := stack.BuildInTemp(ctx, prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	use(root, built)
	return m.Run()
}
