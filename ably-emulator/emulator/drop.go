package emulator

import (
	"fmt"
	"sync"
	"time"
)

// maxPause bounds a pause of new connections so that a typo cannot hang a
// test run.
const maxPause = 10 * time.Minute

// pauseGate rejects new realtime connections until a time. It reads the
// wall clock, not Config.Now, because it controls when real clients can
// reconnect.
type pauseGate struct {
	mu    sync.Mutex
	until time.Time
}

func (g *pauseGate) set(until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.until = until
}

// remaining returns how long new connections stay rejected, 0 when they
// are accepted.
func (g *pauseGate) remaining() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return max(time.Until(g.until), 0)
}

// DropAll closes every realtime connection abruptly, with no protocol
// message and no WebSocket close frame, as a network fault would. Clients
// see the transport fail and reconnect, resuming their connection if they
// do so within Config.ConnectionStateTTL. It returns the number of
// connections closed.
func (s *Server) DropAll() int {
	conns := s.connections()
	for _, c := range conns {
		c.abort()
	}
	s.dropped.Add(int64(len(conns)))
	if len(conns) > 0 {
		s.log.Info("dropped realtime connections", "count", len(conns))
	}
	return len(conns)
}

// PauseConnections rejects new realtime connections for d, so that a test
// can keep clients disconnected: the WebSocket upgrade fails with HTTP 503.
// Open connections are not affected, and a later call replaces the pause.
// The error wraps ErrInvalidPause when d is not in (0, 10m].
func (s *Server) PauseConnections(d time.Duration) error {
	if d <= 0 || d > maxPause {
		return fmt.Errorf("%w: duration %s is outside (0, %s]", ErrInvalidPause, d, maxPause)
	}
	s.pause.set(time.Now().Add(d))
	s.log.Info("new realtime connections paused", "duration", d.String())
	return nil
}

// EndPause accepts new realtime connections again.
func (s *Server) EndPause() {
	s.pause.set(time.Time{})
	s.log.Info("new realtime connections accepted again")
}
