package emulator

import (
	"log/slog"
	"sync"
	"time"
)

// logRepeatInterval is the least time between two log lines of one kind.
const logRepeatInterval = 5 * time.Second

// logLimiter rate-limits warnings that can repeat in a hot path, such as
// write errors to many connections: at most one line per kind every
// logRepeatInterval, with the number of lines suppressed since the last.
type logLimiter struct {
	mu    sync.Mutex
	kinds map[string]*logKind
}

type logKind struct {
	last       time.Time
	suppressed int
}

func newLogLimiter() *logLimiter {
	return &logLimiter{kinds: make(map[string]*logKind)}
}

// warn logs msg at warning level unless a line of the same kind was logged
// within logRepeatInterval.
func (l *logLimiter) warn(logger *slog.Logger, kind, msg string, args ...any) {
	now := time.Now()
	l.mu.Lock()
	state, ok := l.kinds[kind]
	if !ok {
		state = &logKind{}
		l.kinds[kind] = state
	}
	if now.Sub(state.last) < logRepeatInterval {
		state.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := state.suppressed
	state.last = now
	state.suppressed = 0
	l.mu.Unlock()
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	logger.Warn(msg, args...)
}
