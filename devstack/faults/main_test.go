package faults

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
)

// bin holds the programs built once for every test in the package.
var (
	bin      stack.Binaries
	repoRoot string
)

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	var err error
	repoRoot, err = stack.FindRepoRoot(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err = stack.Build(ctx, repoRoot, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
