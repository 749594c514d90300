package emulator_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// waitTimeout only stops a hung test; no test asserts on elapsed time.
const waitTimeout = 20 * time.Second

func newREST(tb testing.TB, emu *emulatortest.Instance, extra ...ably.ClientOption) *ably.REST {
	tb.Helper()
	client, err := ably.NewREST(emu.ClientOptions(extra...)...)
	if err != nil {
		tb.Fatalf("create ably REST client: %v", err)
	}
	return client
}

// newRealtime creates a realtime client with opts, waits until it is
// connected and closes it when the test ends.
func newRealtime(tb testing.TB, opts ...ably.ClientOption) *ably.Realtime {
	tb.Helper()
	client, err := ably.NewRealtime(append(opts, ably.WithAutoConnect(false))...)
	if err != nil {
		tb.Fatalf("create ably realtime client: %v", err)
	}
	tb.Cleanup(func() { closeRealtime(tb, client) })
	connected := make(chan struct{}, 1)
	off := client.Connection.On(ably.ConnectionEventConnected, func(ably.ConnectionStateChange) {
		select {
		case connected <- struct{}{}:
		default:
		}
	})
	defer off()
	client.Connect()
	select {
	case <-connected:
	case <-time.After(waitTimeout):
		tb.Fatalf("realtime client did not connect; state %s, reason %v",
			client.Connection.State(), client.Connection.ErrorReason())
	}
	return client
}

// errorInfo returns err as *ably.ErrorInfo or fails the test.
func errorInfo(tb testing.TB, err error) *ably.ErrorInfo {
	tb.Helper()
	if err == nil {
		tb.Fatalf("expected an Ably error, got nil")
	}
	var info *ably.ErrorInfo
	if !errors.As(err, &info) {
		tb.Fatalf("expected *ably.ErrorInfo, got %T: %v", err, err)
	}
	return info
}

func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), waitTimeout)
	tb.Cleanup(cancel)
	return ctx
}

// closeRealtime closes a client and waits until it is closed, so that the
// emulator shutting down next does not race with the client's CLOSE.
func closeRealtime(tb testing.TB, client *ably.Realtime) {
	tb.Helper()
	closed := make(chan struct{})
	var once sync.Once
	off := client.Connection.OnAll(func(change ably.ConnectionStateChange) {
		if change.Current == ably.ConnectionStateClosed || change.Current == ably.ConnectionStateFailed {
			once.Do(func() { close(closed) })
		}
	})
	defer off()
	client.Close()
	switch client.Connection.State() {
	case ably.ConnectionStateClosed, ably.ConnectionStateFailed:
		return
	}
	select {
	case <-closed:
	case <-time.After(waitTimeout):
		tb.Errorf("realtime client did not close; state %s", client.Connection.State())
	}
}
