// Command bench measures the pipeline against its comparisons in one run.
// It compares the limiter script with redis_rate and the publisher with a
// baseline consumer built like the original demo. It also measures latency
// on a quiet queue, the peak and the use of a rate limit with 1 to 8
// replicas, memory, and many channels under an account limit. Every
// process it starts listens on loopback only, with a private redis-server
// per scenario. It writes a Markdown report, the source of BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ably-fanout/devstack/stack"
)

// settings are the command-line options of one benchmark run.
type settings struct {
	Runs            int
	AccuracyRuns    int
	Trades          int
	BaselineTrades  int
	UnbatchedTrades int
	RoundTripTrades int
	LimiterTime     time.Duration
	LatencyCount    int
	AccuracyTime    time.Duration
	BatchSize       int
	Suites          map[string]bool
	Out             string
	WorkDir         string
}

func parseSettings(args []string) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&s.Runs, "runs", 5, "runs of each measurement; the report gives the median")
	fs.IntVar(&s.AccuracyRuns, "accuracy-runs", 3, "runs of each limit-accuracy configuration")
	fs.IntVar(&s.Trades, "trades", 100000, "trades per publisher throughput run")
	fs.IntVar(&s.BaselineTrades, "baseline-trades", 5000, "trades per baseline throughput run")
	fs.IntVar(&s.UnbatchedTrades, "unbatched-trades", 5000, "trades per throughput run of the publisher with BATCH_SIZE=1")
	fs.IntVar(&s.RoundTripTrades, "round-trip-trades", 5000, "trades per Redis round-trip count under MONITOR")
	fs.DurationVar(&s.LimiterTime, "limiter-time", 2*time.Second, "duration of each limiter variant per run")
	fs.IntVar(&s.LatencyCount, "latency-count", 200, "trades pushed one at a time per latency run")
	fs.DurationVar(&s.AccuracyTime, "accuracy-time", 6*time.Second, "duration of each limit-accuracy run, at least 3s")
	fs.IntVar(&s.BatchSize, "batch-size", 100, "BATCH_SIZE of the batched publisher rows and of the accuracy, memory and channels suites, the publisher's default 100; 0 leaves the batched rows out and runs those suites with BATCH_SIZE=1")
	suites := fs.String("suites", "limiter,pipeline,latency,accuracy,memory,channels", "comma-separated suites to run")
	fs.StringVar(&s.Out, "out", "", "file the Markdown report is written to; default standard output")
	fs.StringVar(&s.WorkDir, "work-dir", "", "folder for binaries, logs and Redis data; default a new temporary folder")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	s.Suites = map[string]bool{}
	for name := range strings.SplitSeq(*suites, ",") {
		s.Suites[strings.TrimSpace(name)] = true
	}
	if s.Runs < 1 || s.AccuracyRuns < 1 || s.AccuracyTime < 3*time.Second {
		return s, fmt.Errorf("invalid settings: -runs and -accuracy-runs must be at least 1 and -accuracy-time at least 3s")
	}
	return s, nil
}

func main() {
	s, err := parseSettings(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	report, err := run(ctx, s, logger)
	if err != nil {
		logger.Error("benchmark failed", "error", err)
		os.Exit(1)
	}
	if s.Out == "" {
		fmt.Print(report)
		return
	}
	if err := os.WriteFile(s.Out, []byte(report), 0o644); err != nil {
		logger.Error("write report", "error", err, "path", s.Out)
		os.Exit(1)
	}
	logger.Info("report written", "path", s.Out)
}

// run builds the programs, runs the selected suites and returns the report.
func run(ctx context.Context, s settings, logger *slog.Logger) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	repoRoot, err := stack.FindRepoRoot(wd)
	if err != nil {
		return "", err
	}
	workDir := s.WorkDir
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "bench-"); err != nil {
			return "", err
		}
		defer os.RemoveAll(workDir)
	}
	logger.Info("building", "work_dir", workDir)
	bin, err := build(ctx, repoRoot, filepath.Join(workDir, "bin"))
	if err != nil {
		return "", err
	}
	r := &reporter{settings: s}
	r.header()
	b := &bench{s: s, bin: bin, repoRoot: repoRoot, workDir: workDir, logger: logger, r: r}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"limiter", b.limiter},
		{"pipeline", b.pipeline},
		{"latency", b.latency},
		{"accuracy", b.accuracy},
		{"memory", b.memory},
		{"channels", b.channels},
	}
	for _, step := range steps {
		if !s.Suites[step.name] {
			continue
		}
		logger.Info("suite started", "suite", step.name)
		if err := step.run(ctx); err != nil {
			return "", fmt.Errorf("%s: %w", step.name, err)
		}
	}
	return r.String(), nil
}

// build compiles the services with devstack's Build and the baseline
// consumer next to them.
func build(ctx context.Context, repoRoot, outDir string) (binaries, error) {
	services, err := stack.Build(ctx, repoRoot, outDir)
	if err != nil {
		return binaries{}, err
	}
	bin := binaries{Binaries: services, Baseline: filepath.Join(outDir, "baseline")}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin.Baseline, "./cmd/baseline")
	cmd.Dir = filepath.Join(repoRoot, "bench")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if output, err := cmd.CombinedOutput(); err != nil {
		return binaries{}, fmt.Errorf("build baseline: %w\n%s", err, output)
	}
	return bin, nil
}

// bench runs the suites and adds their tables to the report.
type bench struct {
	s        settings
	bin      binaries
	repoRoot string
	workDir  string
	logger   *slog.Logger
	r        *reporter
	scenario int
}

// dir returns a new folder for one scenario's processes.
func (b *bench) dir(name string) string {
	b.scenario++
	return filepath.Join(b.workDir, strconv.Itoa(b.scenario)+"-"+name)
}
