package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/health"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/lib/backoff"
	"github.com/ably-fanout/lib/redistest"
	"github.com/ably/ably-go/ably"
)

func TestApp_ReadyzReportsRejectedKey(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	emu := emulatortest.Start(t)
	cfg := testConfig(t, srv, emu, emu.URL)
	// A well-formed key that the emulator does not know, as a revoked or
	// mistyped key looks to Ably.
	cfg.AblyKey = emulator.GenerateKey()
	startApp(t, cfg)

	var status int
	var body string
	waitFor(t, "/readyz to report the rejected key", func() bool {
		var err error
		status, body, err = readyzStatus(cfg.HTTPAddr)
		return err == nil && status == http.StatusServiceUnavailable
	})
	if !strings.Contains(body, "Ably rejected the key") {
		t.Errorf("/readyz body %q does not name the rejected key", body)
	}
	resp, err := http.Get("http://" + cfg.HTTPAddr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz with a rejected key = %d, want 200: the process is alive", resp.StatusCode)
	}
}

// rejectionFromEmulator returns the error ably-go returns when the
// emulator rejects an unknown key's token request.
func rejectionFromEmulator(tb testing.TB) error {
	tb.Helper()
	emu := emulatortest.Start(tb)
	client, err := publish.NewClient(publish.ClientConfig{Key: emulator.GenerateKey(), Endpoint: emu.URL})
	if err != nil {
		tb.Fatal(err)
	}
	_, err = client.Auth.RequestToken(tb.Context(), nil)
	if publish.Classify(err) != publish.ConfigError {
		tb.Fatalf("token request with an unknown key: error %v, want a rejection of the key", err)
	}
	var info *ably.ErrorInfo
	if !errors.As(err, &info) {
		tb.Fatalf("rejection %v is no Ably error", err)
	}
	return err
}

func TestCheckAblyKey_FollowsOutcomes(t *testing.T) {
	rejection := rejectionFromEmulator(t)
	timeout := context.DeadlineExceeded
	cases := []struct {
		name string
		// replies are the results of the token requests, in order; the
		// check stops after the first nil.
		replies []error
		// wantFailedBefore is whether /readyz reports a failure when each
		// request starts.
		wantFailedBefore []bool
	}{
		{"accepted at once", []error{nil}, []bool{false}},
		{"timeout then accepted", []error{timeout, nil}, []bool{false, false}},
		{"rejected then accepted", []error{rejection, rejection, nil}, []bool{false, true, true}},
		{"timeout keeps a rejection", []error{rejection, timeout, nil}, []bool{false, true, true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := &health.State{}
			var failedBefore []bool
			calls := 0
			a := &app{
				cfg:    Config{ReplicaID: "key-check"},
				logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				health: state,
				requestToken: func(context.Context) error {
					_, failed := state.AblyFailure()
					failedBefore = append(failedBefore, failed)
					reply := tc.replies[min(calls, len(tc.replies)-1)]
					calls++
					return reply
				},
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				a.checkAblyKey(t.Context(), backoff.Policy{Min: time.Millisecond, Max: 2 * time.Millisecond})
			}()
			select {
			case <-done:
			case <-time.After(hangTimeout):
				t.Fatal("checkAblyKey did not return after the key was accepted")
			}

			if calls != len(tc.replies) {
				t.Errorf("token requests = %d, want %d", calls, len(tc.replies))
			}
			for i, want := range tc.wantFailedBefore {
				if i < len(failedBefore) && failedBefore[i] != want {
					t.Errorf("request %d: failure reported before it = %v, want %v", i+1, failedBefore[i], want)
				}
			}
			if reason, failed := state.AblyFailure(); failed {
				t.Errorf("failure %q still reported after the key was accepted", reason)
			}
		})
	}
}

func TestCheckAblyKey_StopsWithContext(t *testing.T) {
	rejection := rejectionFromEmulator(t)
	state := &health.State{}
	a := &app{
		cfg:          Config{ReplicaID: "key-check"},
		logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		health:       state,
		requestToken: func(context.Context) error { return rejection },
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.checkAblyKey(ctx, backoff.Policy{Min: time.Millisecond, Max: 2 * time.Millisecond})
	}()
	waitFor(t, "the rejection to be reported", func() bool {
		_, failed := state.AblyFailure()
		return failed
	})
	cancel()
	select {
	case <-done:
	case <-time.After(hangTimeout):
		t.Fatal("checkAblyKey did not return after its context ended")
	}
}
