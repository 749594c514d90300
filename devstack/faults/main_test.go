package faults

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/devstack/stacktest"
)

// bin holds the programs built once for every test in the package.
var (
	bin      stack.Binaries
	repoRoot string
)

// waitFor is the shared polling helper under the name the tests use.
var waitFor = stacktest.WaitFor

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, built, cleanup, err := stack.BuildInTemp(ctx, "faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	repoRoot, bin = root, built
	return m.Run()
}
