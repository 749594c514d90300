package deployments

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Programs whose images the manifests run, by the image repository that
// make docker-build gives them.
var programsByImage = map[string]string{
	"ably-fanout/trading-server":         "trading-server",
	"ably-fanout/ably-publishing-server": "ably-publishing-server",
	"ably-fanout/ably-emulator":          "ably-emulator",
}

// builtPrograms compiles the programs once per test binary.
var builtPrograms struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtPrograms.dir != "" {
		_ = os.RemoveAll(builtPrograms.dir)
	}
	os.Exit(code)
}

// programPath returns the path of the compiled program, building all of
// them on the first call, as the Dockerfiles do: CGO_ENABLED=0, -trimpath.
func programPath(tb testing.TB, program string) string {
	tb.Helper()
	builtPrograms.once.Do(func() {
		dir, err := os.MkdirTemp("", "deployments-bin-")
		if err != nil {
			builtPrograms.err = err
			return
		}
		builtPrograms.dir = dir
		args := []string{"build", "-trimpath", "-o", dir + string(filepath.Separator)}
		for _, p := range programsByImage {
			args = append(args, "./"+p)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = repoRoot(tb)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			builtPrograms.err = fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	})
	if builtPrograms.err != nil {
		tb.Fatalf("build the programs: %v", builtPrograms.err)
	}
	return filepath.Join(builtPrograms.dir, program)
}

// settingLine matches a setting in the -h output of every program: the
// services print "  -flag-name, ENV_NAME (default ...)" and the emulator
// prints a table row "  -flag-name   ENV_NAME   default   meaning".
var settingLine = regexp.MustCompile(`(?m)^\s+-([a-z0-9][a-z0-9-]*),?\s+([A-Z][A-Z0-9_]*)\b`)

// programSettings returns the environment variables that program lists in
// its -h output, mapped to their flags.
func programSettings(tb testing.TB, program string) map[string]string {
	tb.Helper()
	cmd := exec.CommandContext(tb.Context(), programPath(tb, program), "-h")
	// An empty working directory, so that no .env file is read.
	cmd.Dir = tb.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("%s -h: %v\n%s", program, err, out)
	}
	settings := map[string]string{}
	for _, m := range settingLine.FindAllStringSubmatch(string(out), -1) {
		settings[m[2]] = m[1]
	}
	if len(settings) < 5 {
		tb.Fatalf("%s -h lists %d settings, want at least 5; output:\n%s", program, len(settings), out)
	}
	return settings
}

func TestPrograms_ListSettings(t *testing.T) {
	cases := []struct {
		program string
		want    []string
	}{
		{"trading-server", []string{"REDIS_HOST", "REDIS_PASSWORD", "QUEUE_KEY", "MODE", "HTTP_ADDR", "LOG_FORMAT"}},
		{"ably-publishing-server", []string{"REDIS_HOST", "ABLY_KEY", "ABLY_ENDPOINT", "SHUTDOWN_GRACE", "HTTP_ADDR", "REPLICA_ID"}},
		{"ably-emulator", []string{"EMULATOR_ADDR", "EMULATOR_KEYS", "LOG_FORMAT"}},
	}
	for _, tc := range cases {
		t.Run(tc.program, func(t *testing.T) {
			settings := programSettings(t, tc.program)
			for _, name := range tc.want {
				if _, ok := settings[name]; !ok {
					t.Errorf("%s -h does not list %s; it lists %v", tc.program, name, settings)
				}
			}
		})
	}
}
