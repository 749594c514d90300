// Package emulatortest runs an Ably emulator inside a test and gives the
// ably-go options that point a client at it.
//
// A test starts an emulator on 127.0.0.1 with a fresh random key:
//
//	emu := emulatortest.Start(t)
//	rest, err := ably.NewREST(emu.ClientOptions()...)
//
// ClientOptions returns, for ably-go v1.4.1:
//
//	ably.WithKey(emu.Key)
//	ably.WithEndpoint("127.0.0.1")               // a hostname endpoint has no fallback hosts
//	ably.WithPort(emu.Port)                      // the port for non-TLS connections
//	ably.WithTLS(false)                          // http:// and ws://
//	ably.WithInsecureAllowBasicAuthWithoutTLS()  // ably-go refuses a key over plain HTTP otherwise
//	ably.WithLogLevel(ably.LogNone)              // ably-go logs connection URLs, key included
//
// WithEndpoint is used instead of the deprecated WithRESTHost and
// WithRealtimeHost, which ably-go forbids in combination with it. For token
// auth, use EndpointOptions, which leaves out the key, with
// ably.WithAuthCallback, ably.WithAuthURL or ably.WithToken.
package emulatortest

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulator"
)

// Instance is an emulator serving on a loopback port for one test.
type Instance struct {
	// URL is the base URL, http://127.0.0.1:PORT.
	URL string
	// Host is the listening address without the port, 127.0.0.1.
	Host string
	// Port is the listening port.
	Port int
	// Key is the API key the emulator accepts, appId.keyId:secret.
	Key string
	// Server is the emulator, for Stats, Messages, AddFault and the like.
	Server *emulator.Server
}

// Option changes the emulator config before the emulator starts.
type Option func(*emulator.Config)

// WithConfig lets a test change any config field, for example a lower
// ChannelRate or a fake clock in Now. Keys is always the generated key.
func WithConfig(change func(*emulator.Config)) Option {
	return Option(change)
}

// Start runs an emulator on 127.0.0.1 with a fresh random key and stops it
// when the test ends. Warnings and errors of the emulator go to the test log.
func Start(tb testing.TB, opts ...Option) *Instance {
	tb.Helper()
	key := emulator.GenerateKey()
	cfg := emulator.Config{}
	for _, opt := range opts {
		opt(&cfg)
	}
	cfg.Keys = []string{key}
	logger := slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := emulator.New(cfg, logger)
	if err != nil {
		tb.Fatalf("emulatortest: create emulator: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	// Cleanup order: end the realtime connections first, because
	// httptest.Server.Close does not wait for hijacked WebSocket
	// connections, then stop the HTTP server.
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			tb.Errorf("emulatortest: close emulator: %v", err)
		}
		ts.Close()
	})

	parsed, err := url.Parse(ts.URL)
	if err != nil {
		tb.Fatalf("emulatortest: parse server URL %q: %v", ts.URL, err)
	}
	host, portText, err := net.SplitHostPort(parsed.Host)
	if err != nil {
		tb.Fatalf("emulatortest: split host and port of %q: %v", parsed.Host, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		tb.Fatalf("emulatortest: parse port %q: %v", portText, err)
	}
	return &Instance{URL: ts.URL, Host: host, Port: port, Key: key, Server: srv}
}

// EndpointOptions returns the ably-go options that reach the emulator,
// without credentials.
func (in *Instance) EndpointOptions(extra ...ably.ClientOption) []ably.ClientOption {
	opts := []ably.ClientOption{
		ably.WithEndpoint(in.Host),
		ably.WithPort(in.Port),
		ably.WithTLS(false),
		// ably-go logs at error level by default, and its lines about a
		// failed connection attempt contain the URL with the key.
		ably.WithLogLevel(ably.LogNone),
	}
	return append(opts, extra...)
}

// ClientOptions returns EndpointOptions with the emulator key (Basic auth)
// and extra appended.
func (in *Instance) ClientOptions(extra ...ably.ClientOption) []ably.ClientOption {
	opts := in.EndpointOptions(
		ably.WithKey(in.Key),
		ably.WithInsecureAllowBasicAuthWithoutTLS(),
	)
	return append(opts, extra...)
}
