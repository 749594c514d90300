package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// summaryInput contains the data of one run that the summary shows.
type summaryInput struct {
	record    runRecord
	rateLimit int
	// emulator is true when the run published to the local emulator,
	// which counts rejections, duplicates and the exact maximum per
	// second. Real Ably reports none of them to the runner.
	emulator bool
}

// writeSummary prints the totals of a run as a table that fits 80
// columns. The counters come from the services' /metrics and are totals
// since the services started, which is when the run started.
func writeSummary(w io.Writer, in summaryInput) {
	last := in.record.last
	row := func(name string, value int64, note string) {
		line := fmt.Sprintf("  %-22s %10d", name, value)
		if note != "" {
			line += "   " + note
		}
		fmt.Fprintln(w, line)
	}

	duration := last.At.Sub(in.record.started).Round(time.Second)
	fmt.Fprintf(w, "\nsummary of a run of %s\n", duration)
	row("produced", last.Produced, "by the trading server")
	row("published", last.Published, publishedNote(in))
	if in.emulator {
		row("max in any second", last.Channel.MaxInAnySecond, fmt.Sprintf("limit %d", in.rateLimit))
	} else {
		row("max in one sample", int64(in.record.maxPerSecond+0.5), fmt.Sprintf("per second, limit %d", in.rateLimit))
	}
	row("retries", last.Retries, "")
	row("dead-lettered", last.DeadLettered, fmt.Sprintf("%d in the dead-letter list", last.Dead))
	row("still queued", last.Queued, fmt.Sprintf("and %d in the publishers' processing lists", last.Processing))
	if in.emulator {
		row("rejected by Ably", last.Channel.RejectedTotal(), rejectedNote(last.Channel.Rejected))
		row("duplicates dropped", last.Channel.Duplicates, "by Ably's idempotent publishing")
	}
	if len(last.PublishedBy) > 0 {
		fmt.Fprintln(w, "  published by replica")
		for _, id := range slices.Sorted(maps.Keys(last.PublishedBy)) {
			fmt.Fprintf(w, "    %-20s %10d\n", id, last.PublishedBy[id])
		}
	}
	if len(last.Unreachable) > 0 {
		fmt.Fprintf(w, "  not reachable at the end, last values shown: %s\n", strings.Join(last.Unreachable, ", "))
	}
}

func publishedNote(in summaryInput) string {
	if !in.emulator {
		return ""
	}
	return fmt.Sprintf("%d accepted by the emulator", in.record.last.Channel.Accepted)
}

// rejectedNote lists the nonzero rejection reasons, such as
// "rate_limit 3, injected 1".
func rejectedNote(byReason map[string]int64) string {
	var parts []string
	for _, reason := range slices.Sorted(maps.Keys(byReason)) {
		if n := byReason[reason]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", reason, n))
		}
	}
	return strings.Join(parts, ", ")
}
