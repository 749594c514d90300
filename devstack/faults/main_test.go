package faults

import (
	"os"
	"testing"

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
	os.Exit(stacktest.RunBuilt(m, "faults-bin-", func(root string, built stack.Binaries) {
		repoRoot, bin = root, built
	}))
}
