// Package stacktest holds helpers shared by the tests that run the whole
// stack.
package stacktest

import (
	"testing"
	"time"
)

// WaitFor polls cond every 50 ms until it returns true, and fails the test
// after timeout, which only stops a hang. cond also returns a description
// of the state it saw, which the failure message repeats.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("timed out after %s waiting for %s; last state: %s", timeout, what, last)
}
