package main

import (
	"log/slog"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/lib/redisproc"
)

// TestBench_Smoke runs the limiter, pipeline and latency suites with tiny
// counts, so that a change that breaks the benchmark program shows up in
// make test. The figures of such a run mean nothing.
func TestBench_Smoke(t *testing.T) {
	if !redisproc.Installed() {
		t.Skip(redisproc.ErrNotInstalled)
	}
	s := settings{
		Runs:            1,
		AccuracyRuns:    1,
		Trades:          200,
		BaselineTrades:  100,
		UnbatchedTrades: 100,
		RoundTripTrades: 50,
		LimiterTime:     200 * time.Millisecond,
		LatencyCount:    5,
		BatchSize:       10,
		AccuracyTime:    3 * time.Second,
		Suites:          map[string]bool{"limiter": true, "pipeline": true, "latency": true},
		WorkDir:         t.TempDir(),
	}
	report, err := run(t.Context(), s, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, want := range []string{
		"## Limiter: admissions per second",
		"| redis_rate v10 Allow (GCRA), n=1 |",
		"## Pipeline: trades per second",
		"| baseline, 1 process |",
		"| publisher, 3 replicas, BATCH_SIZE=1 |",
		"| publisher, 1 replica, BATCH_SIZE=10 |",
		"## Latency on a quiet queue",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report does not contain %q:\n%s", want, report)
		}
	}
}

func TestMaxInWindow_Cases(t *testing.T) {
	tests := []struct {
		name  string
		times []int64
		want  int
	}{
		{"empty", nil, 0},
		{"one", []int64{5}, 1},
		{"edge excluded", []int64{0, 1000}, 1},
		{"inside", []int64{0, 999}, 2},
		{"unsorted", []int64{2500, 0, 1500, 1600, 1700}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maxInWindow(tt.times, 1000); got != tt.want {
				t.Errorf("maxInWindow(%v) = %d, expected %d", tt.times, got, tt.want)
			}
		})
	}
}

func TestSteadyUse_Cases(t *testing.T) {
	// bursts returns count bursts of limit arrivals, period microseconds
	// apart.
	bursts := func(limit, count int, period int64) []int64 {
		var out []int64
		for b := range count {
			for range limit {
				out = append(out, int64(b)*period)
			}
		}
		return out
	}
	// spread returns n arrivals evenly spaced at limit per second.
	spread := func(limit, n int) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(i) * 1_000_000 / int64(limit)
		}
		return out
	}
	tests := []struct {
		name     string
		arrivals []int64
		limit    int
		want     float64
	}{
		{"bursts one window apart", bursts(50, 6, 1_000_000), 50, 1},
		{"bursts 50ms late", bursts(50, 6, 1_050_000), 50, 1 / 1.05},
		{"spread at the limit", spread(500, 3000), 500, 1},
		{"spread at half the limit", spread(250, 3000), 500, 0.5},
		{"fewer than the limit", bursts(50, 1, 1_000_000), 50, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := steadyUse(tt.arrivals, tt.limit)
			if math.Abs(got-tt.want) > 0.001 {
				t.Errorf("steadyUse = %.4f, expected %.4f", got, tt.want)
			}
		})
	}
}

func TestCountClientCommands_SkipsScriptsAndPushes(t *testing.T) {
	path := t.TempDir() + "/monitor.log"
	lines := `OK
1733333333.000001 [0 127.0.0.1:5000] "evalsha" "abc" "1" "k"
1733333333.000002 [0 lua] "zadd" "k" "1" "m"
1733333333.000003 [0 127.0.0.1:5001] "rpush" "q" "x"
1733333333.000004 [0 127.0.0.1:5000] "blmove" "q" "p" "LEFT" "RIGHT" "1"
`
	if err := writeFile(path, lines); err != nil {
		t.Fatal(err)
	}
	got, err := countClientCommands(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != 2 {
		t.Errorf("counted %d commands, expected 2 (evalsha, blmove)", got)
	}
}

func writeFile(path, text string) error {
	return os.WriteFile(path, []byte(text), 0o644)
}
