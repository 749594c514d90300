// Package health keeps the readiness conditions that the worker and main
// set and the /readyz endpoint reads. Redis reachability is not stored
// here: /readyz checks it with a PING on every request.
package health

import "sync/atomic"

// State is safe for concurrent use. The zero value is ready.
type State struct {
	shuttingDown atomic.Bool
	// ablyFailure is the reason Ably rejected the key or the channel, or nil.
	ablyFailure atomic.Pointer[string]
}

// SetShuttingDown marks the process as stopping; it never becomes ready
// again.
func (s *State) SetShuttingDown() { s.shuttingDown.Store(true) }

// ShuttingDown reports whether SetShuttingDown was called.
func (s *State) ShuttingDown() bool { return s.shuttingDown.Load() }

// SetAblyFailure records that Ably rejected the key or the channel, with the
// reason to show on /readyz.
func (s *State) SetAblyFailure(reason string) { s.ablyFailure.Store(&reason) }

// ClearAblyFailure records that Ably accepted a publish again.
func (s *State) ClearAblyFailure() { s.ablyFailure.Store(nil) }

// AblyFailure returns the reason Ably rejected the key or the channel and
// true, or "" and false while neither is known to be bad.
func (s *State) AblyFailure() (string, bool) {
	reason := s.ablyFailure.Load()
	if reason == nil {
		return "", false
	}
	return *reason, true
}
