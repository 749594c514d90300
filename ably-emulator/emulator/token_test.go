package emulator_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulatortest"
)

func TestRequestToken_SignedRequest(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			keyClient := newREST(t, emu, ably.WithUseBinaryProtocol(protocol.binary))
			request, err := keyClient.Auth.CreateTokenRequest(&ably.TokenParams{
				ClientID:   "browser-1",
				Capability: `{"trades":["publish","subscribe"]}`,
				TTL:        time.Minute.Milliseconds(),
			})
			if err != nil {
				t.Fatalf("create token request: %v", err)
			}
			details, err := keyClient.Auth.RequestToken(testContext(t), nil, ably.AuthWithCallback(func(_ context.Context, _ ably.TokenParams) (ably.Tokener, error) {
				return request, nil
			}))
			if err != nil {
				t.Fatalf("request token: %v", err)
			}
			if details.Token == "" {
				t.Fatalf("empty token in %+v", details)
			}
			if details.ClientID != "browser-1" {
				t.Errorf("clientId = %q, want browser-1", details.ClientID)
			}
			if details.Capability != `{"trades":["publish","subscribe"]}` {
				t.Errorf("capability = %q", details.Capability)
			}
			if got := details.Expires - details.Issued; got != time.Minute.Milliseconds() {
				t.Errorf("expires - issued = %dms, want %dms", got, time.Minute.Milliseconds())
			}

			tokenClient, err := ably.NewREST(emu.EndpointOptions(
				ably.WithToken(details.Token), ably.WithUseBinaryProtocol(protocol.binary))...)
			if err != nil {
				t.Fatalf("create token client: %v", err)
			}
			if err := tokenClient.Channels.Get("trades").Publish(testContext(t), "t", "with token"); err != nil {
				t.Fatalf("publish with token: %v", err)
			}
			messages := emu.Server.Messages("trades")
			if len(messages) != 1 {
				t.Fatalf("recorded %d messages, want 1", len(messages))
			}
			if messages[0].ClientID != "browser-1" {
				t.Errorf("message clientId = %q, want the token's browser-1", messages[0].ClientID)
			}
		})
	}
}

func TestRequestToken_RejectsReplayedAndForgedRequests(t *testing.T) {
	emu := emulatortest.Start(t)
	keyClient := newREST(t, emu)
	request, err := keyClient.Auth.CreateTokenRequest(nil)
	if err != nil {
		t.Fatalf("create token request: %v", err)
	}
	useRequest := func(req *ably.TokenRequest) error {
		_, err := keyClient.Auth.RequestToken(testContext(t), nil,
			ably.AuthWithCallback(func(context.Context, ably.TokenParams) (ably.Tokener, error) {
				return req, nil
			}))
		return err
	}
	if err := useRequest(request); err != nil {
		t.Fatalf("first use of the token request: %v", err)
	}

	replayed := errorInfo(t, useRequest(request))
	if replayed.Code != 40105 || replayed.StatusCode != http.StatusUnauthorized {
		t.Errorf("replayed request: code %d status %d, want 40105 401", replayed.Code, replayed.StatusCode)
	}

	forged, err := keyClient.Auth.CreateTokenRequest(&ably.TokenParams{Capability: `{"a":["subscribe"]}`})
	if err != nil {
		t.Fatalf("create token request: %v", err)
	}
	forged.Capability = `{"*":["*"]}`
	forgedErr := errorInfo(t, useRequest(forged))
	if forgedErr.Code != 40101 || forgedErr.StatusCode != http.StatusUnauthorized {
		t.Errorf("altered request: code %d status %d, want 40101 401", forgedErr.Code, forgedErr.StatusCode)
	}
}

func TestRequestToken_RejectsStaleTimestamp(t *testing.T) {
	clock := emulatortest.NewClock(time.Now())
	emu := emulatortest.Start(t, emulatortest.WithClock(clock))
	keyClient := newREST(t, emu)
	request, err := keyClient.Auth.CreateTokenRequest(nil)
	if err != nil {
		t.Fatalf("create token request: %v", err)
	}
	clock.Advance(time.Hour)
	_, err = keyClient.Auth.RequestToken(testContext(t), nil,
		ably.AuthWithCallback(func(context.Context, ably.TokenParams) (ably.Tokener, error) {
			return request, nil
		}))
	info := errorInfo(t, err)
	if info.Code != 40104 || info.StatusCode != http.StatusUnauthorized {
		t.Errorf("stale request: code %d status %d, want 40104 401", info.Code, info.StatusCode)
	}
}

func TestTokenAuth_ExpiredToken(t *testing.T) {
	clock := emulatortest.NewClock(time.Now())
	emu := emulatortest.Start(t, emulatortest.WithClock(clock))
	keyClient := newREST(t, emu)
	details, err := keyClient.Auth.RequestToken(testContext(t), &ably.TokenParams{TTL: time.Minute.Milliseconds()})
	if err != nil {
		t.Fatalf("request token: %v", err)
	}
	clock.Advance(2 * time.Minute)

	// A bare token string cannot be renewed, so the error reaches the caller.
	tokenClient, err := ably.NewREST(emu.EndpointOptions(ably.WithToken(details.Token))...)
	if err != nil {
		t.Fatalf("create token client: %v", err)
	}
	err = tokenClient.Channels.Get("trades").Publish(testContext(t), "t", "late")
	info := errorInfo(t, err)
	if info.Code != 40142 || info.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired token: code %d status %d, want 40142 401", info.Code, info.StatusCode)
	}
}

func TestTokenAuth_CapabilityDeniesPublish(t *testing.T) {
	emu := emulatortest.Start(t)
	keyClient := newREST(t, emu)
	details, err := keyClient.Auth.RequestToken(testContext(t), &ably.TokenParams{
		Capability: `{"trades":["subscribe"]}`,
	})
	if err != nil {
		t.Fatalf("request token: %v", err)
	}
	tokenClient, err := ably.NewREST(emu.EndpointOptions(ably.WithToken(details.Token))...)
	if err != nil {
		t.Fatalf("create token client: %v", err)
	}
	err = tokenClient.Channels.Get("trades").Publish(testContext(t), "t", "denied")
	info := errorInfo(t, err)
	if info.Code != 40160 || info.StatusCode != http.StatusUnauthorized {
		t.Errorf("subscribe-only token: code %d status %d, want 40160 401", info.Code, info.StatusCode)
	}
	stats := emu.Server.Stats().Channels["trades"]
	if stats.Rejected.Unauthorized != 1 || stats.Accepted != 0 {
		t.Errorf("stats = %+v, want 1 unauthorized and 0 accepted", stats)
	}
}
