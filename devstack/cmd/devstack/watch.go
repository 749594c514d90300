package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ably-fanout/devstack/stack"
)

// finalSampleTimeout bounds the last sample, taken after Ctrl-C.
const finalSampleTimeout = 5 * time.Second

// runRecord contains the samples of one run that the summary uses.
type runRecord struct {
	started time.Time
	first   stack.Status
	last    stack.Status
	// maxPerSecond is the highest published rate between two samples,
	// for the summary when no emulator counts the exact maximum.
	maxPerSecond float64
}

func (r *runRecord) add(prev, cur stack.Status) {
	r.maxPerSecond = max(r.maxPerSecond, stack.PerSecond(prev, cur))
	r.last = cur
}

// watch prints a status line every second until ctx ends, then takes a
// last sample and returns the record of the run.
func watch(ctx context.Context, s *stack.Stack, sampler *stack.Sampler, out *statusWriter) runRecord {
	rec := runRecord{started: time.Now()}
	prev, err := sampler.Sample(ctx)
	if err != nil && ctx.Err() == nil {
		out.Note("status unavailable: " + err.Error())
	}
	rec.first, rec.last = prev, prev
	exits := exitReporter{reported: map[string]bool{}}

	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			rec.add(prev, finalSample(sampler, prev))
			out.Finish()
			return rec
		case <-ticker.C:
		}
		cur, err := sampler.Sample(ctx)
		if err != nil {
			if ctx.Err() == nil {
				out.Note("status unavailable: " + err.Error())
			}
			continue
		}
		out.Update(sampler.Line(prev, cur))
		exits.report(s, out)
		if !slices.Equal(cur.Unreachable, prev.Unreachable) && len(cur.Unreachable) > 0 {
			out.Note("metrics not reachable, counts may lag: " + strings.Join(cur.Unreachable, ", "))
		}
		rec.add(prev, cur)
		prev = cur
	}
}

// finalSample samples once more after ctx ended, before the stack stops,
// and returns prev when that fails.
func finalSample(sampler *stack.Sampler, prev stack.Status) stack.Status {
	ctx, cancel := context.WithTimeout(context.Background(), finalSampleTimeout)
	defer cancel()
	cur, err := sampler.Sample(ctx)
	if err != nil {
		return prev
	}
	return cur
}

// exitReporter warns once about each publisher replica that exited.
type exitReporter struct {
	reported map[string]bool
}

func (e exitReporter) report(s *stack.Stack, out *statusWriter) {
	for _, p := range s.Publishers {
		if p.Running() || e.reported[p.ID] {
			continue
		}
		e.reported[p.ID] = true
		out.Note(fmt.Sprintf("warning: %s exited (%v); see %s", p.ID, p.ExitErr(), s.LogPath(p.ID)))
	}
}

// statusWriter prints status lines. On a terminal it redraws one line in
// place. Otherwise, such as when the output goes to a file or a CI log, it
// prints one line per update.
type statusWriter struct {
	w    io.Writer
	live bool
	// shown is the status line on screen in live mode, or "".
	shown string
}

func newStatusWriter(f *os.File) *statusWriter {
	return &statusWriter{w: f, live: isTerminal(f)}
}

// clearLine moves the cursor to the start of the line and erases it
// (ANSI CR and EL).
const clearLine = "\r\x1b[K"

// Update shows line as the current status.
func (sw *statusWriter) Update(line string) {
	if !sw.live {
		fmt.Fprintln(sw.w, line)
		return
	}
	fmt.Fprint(sw.w, clearLine+line)
	sw.shown = line
}

// Note prints msg on a line of its own, above the live status line.
func (sw *statusWriter) Note(msg string) {
	if !sw.live {
		fmt.Fprintln(sw.w, msg)
		return
	}
	fmt.Fprint(sw.w, clearLine+msg+"\n"+sw.shown)
}

// Finish ends the live status line, so that what follows starts on a new
// line.
func (sw *statusWriter) Finish() {
	if sw.live && sw.shown != "" {
		fmt.Fprintln(sw.w)
		sw.shown = ""
	}
}

// isTerminal reports whether f is a character device other than a dumb
// terminal, which cannot move the cursor.
func isTerminal(f *os.File) bool {
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
