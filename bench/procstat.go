package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuSeconds returns the user plus system CPU time of process pid.
func cpuSeconds(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name in field 2 may contain spaces, so fields are counted
	// from after its closing parenthesis: utime and stime are fields 14
	// and 15 of the line, 12 and 13 of this slice (0-based).
	text := string(raw)
	fields := strings.Fields(text[strings.LastIndexByte(text, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	utime, err := strconv.ParseFloat(fields[11], 64)
	if err != nil {
		return 0, err
	}
	stime, err := strconv.ParseFloat(fields[12], 64)
	if err != nil {
		return 0, err
	}
	return (utime + stime) / clockTicks, nil
}

// residentBytes returns VmRSS of process pid.
func residentBytes(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// cpuSnapshot is the CPU time of each measured process at one moment.
type cpuSnapshot map[string]float64

// pids names the processes of an env: "redis", "emulator", "consumers".
func (e *env) pids() map[string][]int {
	out := map[string][]int{
		"redis":    {e.redis.Pid()},
		"emulator": {e.emulator.Pid()},
	}
	for _, c := range e.consumers {
		out["consumers"] = append(out["consumers"], c.Pid())
	}
	return out
}

func (e *env) cpu() cpuSnapshot {
	snap := cpuSnapshot{}
	for group, pids := range e.pids() {
		for _, pid := range pids {
			seconds, err := cpuSeconds(pid)
			if err == nil {
				snap[group] += seconds
			}
		}
	}
	return snap
}

// sub returns the CPU seconds used per group between two snapshots.
func (s cpuSnapshot) sub(earlier cpuSnapshot) cpuSnapshot {
	out := cpuSnapshot{}
	for k, v := range s {
		out[k] = v - earlier[k]
	}
	return out
}
