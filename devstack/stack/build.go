package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Binaries are the paths of the programs the stack runs.
type Binaries struct {
	TradingServer string
	Publisher     string
	Emulator      string
}

// Build compiles the three programs of the stack into outDir. repoRoot is
// the folder that holds go.work.
func Build(ctx context.Context, repoRoot, outDir string) (Binaries, error) {
	b := Binaries{
		TradingServer: filepath.Join(outDir, "trading-server"),
		Publisher:     filepath.Join(outDir, "ably-publishing-server"),
		Emulator:      filepath.Join(outDir, "ably-emulator"),
	}
	targets := map[string]string{
		"trading-server":         b.TradingServer,
		"ably-publishing-server": b.Publisher,
		"ably-emulator":          b.Emulator,
	}
	for dir, out := range targets {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, ".")
		cmd.Dir = filepath.Join(repoRoot, dir)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if output, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("build %s: %w\n%s", dir, err, output)
		}
	}
	return b, nil
}

// FindRepoRoot walks up from dir to the folder that holds go.work.
func FindRepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.work found above %s", dir)
		}
		dir = parent
	}
}

// BuildInTemp finds the repository root above the working directory and
// builds the stack's programs into a new temporary folder named after
// pattern. The caller runs cleanup to remove the folder.
func BuildInTemp(ctx context.Context, pattern string) (root string, bin Binaries, cleanup func(), err error) {
	root, err = FindRepoRoot(".")
	if err != nil {
		return "", Binaries{}, nil, err
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", Binaries{}, nil, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	bin, err = Build(ctx, root, dir)
	if err != nil {
		cleanup()
		return "", Binaries{}, nil, err
	}
	return root, bin, cleanup, nil
}
