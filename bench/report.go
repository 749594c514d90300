package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// reporter collects the Markdown report.
type reporter struct {
	settings settings
	b        strings.Builder
}

func (r *reporter) printf(format string, args ...any) {
	fmt.Fprintf(&r.b, format, args...)
}

func (r *reporter) String() string { return r.b.String() }

// header writes the machine and the command.
func (r *reporter) header() {
	r.printf("# Benchmark results\n\n")
	r.printf("- Date: %s\n", time.Now().UTC().Format(time.RFC3339))
	r.printf("- Command: `bench %s`\n", strings.Join(os.Args[1:], " "))
	r.printf("- CPUs (nproc): %d\n", runtime.NumCPU())
	r.printf("- CPU model: %s\n", cpuModel())
	r.printf("- Memory: %s\n", memTotal())
	r.printf("- Go: %s\n", runtime.Version())
	r.printf("- Redis: %s\n", redisVersion())
	r.printf("- Runs per figure: %d (median reported), limit accuracy: %d\n\n", r.settings.Runs, r.settings.AccuracyRuns)
}

func cpuModel() string {
	return procField("/proc/cpuinfo", "model name")
}

func memTotal() string {
	return procField("/proc/meminfo", "MemTotal")
}

func procField(path, name string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if key, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(key) == name {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

func redisVersion() string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// median returns the median of values, or 0 for none.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	middle := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[middle]
	}
	return (sorted[middle-1] + sorted[middle]) / 2
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// size formats a byte count in KiB below 1 MiB and in MiB above.
func size(bytes float64) string {
	if bytes < 1<<20 {
		return fmt.Sprintf("%.1f KiB", bytes/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", bytes/(1<<20))
}
