// Package e2e runs the compiled services together against a private
// redis-server and the Ably emulator, and checks what reaches Ably.
package e2e

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
	os.Exit(stacktest.RunBuilt(m, "e2e-bin-", func(root string, built stack.Binaries) {
		repoRoot, bin = root, built
	}))
}
