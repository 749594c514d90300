package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// consumer names what moves trades in a scenario.
type consumer struct {
	// Name labels the row of the report.
	Name string
	// Baseline selects the baseline consumer instead of the publisher.
	Baseline bool
	// Replicas is the number of processes.
	Replicas int
	// Settings are added to each publisher's environment.
	Settings map[string]string
}

// pipelineResult is one run of one consumer over a backlog.
type pipelineResult struct {
	TradesPerSecond float64
	// CPUPer100k is the CPU seconds per 100,000 trades of each group:
	// "consumers", "redis" and "emulator".
	CPUPer100k cpuSnapshot
	// EmulatorShare is the emulator's part of all CPU time used.
	EmulatorShare float64
}

// highLimit is the publisher's largest RATE_LIMIT, so the limiter admits
// everything and the pipeline runs at its own speed.
const highLimit = 100000

// runPipeline moves trades through a fresh env with c and measures the
// rate from the first push to the emulator's last acceptance.
func runPipeline(ctx context.Context, dir string, bin binaries, c consumer, trades int) (pipelineResult, error) {
	e, err := startEnv(ctx, dir, bin, 10*highLimit)
	if err != nil {
		return pipelineResult{}, err
	}
	defer e.stop()
	if err := e.startConsumers(ctx, c, highLimit); err != nil {
		return pipelineResult{}, err
	}
	payloads, err := encodeBacklog("t", trades)
	if err != nil {
		return pipelineResult{}, err
	}
	cpuBefore := e.cpu()
	start := time.Now()
	if err := pushPayloads(ctx, e.rdb, payloads); err != nil {
		return pipelineResult{}, err
	}
	end, err := e.waitAccepted(ctx, int64(trades), 5*time.Minute)
	if err != nil {
		return pipelineResult{}, err
	}
	used := e.cpu().sub(cpuBefore)
	total := 0.0
	per100k := cpuSnapshot{}
	for group, seconds := range used {
		total += seconds
		per100k[group] = seconds * 100000 / float64(trades)
	}
	res := pipelineResult{
		TradesPerSecond: float64(trades) / end.Sub(start).Seconds(),
		CPUPer100k:      per100k,
	}
	if total > 0 {
		res.EmulatorShare = used["emulator"] / total
	}
	return res, nil
}

func (e *env) startConsumers(ctx context.Context, c consumer, rateLimit int) error {
	if c.Baseline {
		return e.startBaseline(c.Replicas, rateLimit)
	}
	settings := map[string]string{"RATE_LIMIT": strconv.Itoa(rateLimit)}
	for k, v := range c.Settings {
		settings[k] = v
	}
	return e.startPublishers(ctx, c.Replicas, settings)
}

// roundTripsPerTrade moves trades with c while redis-cli MONITOR records
// every command, and returns the commands that clients sent per trade.
// Commands run inside a Lua script appear in MONITOR with the source "lua"
// and are not counted, nor are the benchmark's own RPUSH calls. MONITOR
// slows Redis down, so this runs apart from the throughput measurement.
func roundTripsPerTrade(ctx context.Context, dir string, bin binaries, c consumer, trades int) (float64, error) {
	e, err := startEnv(ctx, dir, bin, 10*highLimit)
	if err != nil {
		return 0, err
	}
	defer e.stop()
	if err := e.startConsumers(ctx, c, highLimit); err != nil {
		return 0, err
	}
	monitorPath := filepath.Join(dir, "monitor.log")
	out, err := os.Create(monitorPath)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	monitorCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	monitor := exec.CommandContext(monitorCtx, "redis-cli", "-p", strconv.Itoa(e.redis.Port()), "monitor")
	monitor.Stdout = out
	if err := monitor.Start(); err != nil {
		return 0, fmt.Errorf("start redis-cli monitor: %w", err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := pushBacklog(ctx, e.rdb, "r", trades); err != nil {
		return 0, err
	}
	if _, err := e.waitAccepted(ctx, int64(trades), 5*time.Minute); err != nil {
		return 0, err
	}
	cancel()
	_ = monitor.Wait()
	commands, err := countClientCommands(monitorPath)
	if err != nil {
		return 0, err
	}
	return float64(commands) / float64(trades), nil
}

// countClientCommands counts the MONITOR lines of commands that a client
// sent, leaving out those run by scripts and RPUSH.
func countClientCommands(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	count := 0
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	for scanner.Scan() {
		line := scanner.Text()
		// 1733333333.123456 [0 127.0.0.1:41234] "blmove" "..."
		open := strings.IndexByte(line, '[')
		closing := strings.IndexByte(line, ']')
		if open < 0 || closing < open {
			continue
		}
		source := line[open+1 : closing]
		if strings.HasSuffix(source, " lua") {
			continue
		}
		command := strings.ToLower(strings.Trim(strings.Fields(line[closing+1:] + " x")[0], `"`))
		if command == "rpush" {
			continue
		}
		count++
	}
	return count, scanner.Err()
}
