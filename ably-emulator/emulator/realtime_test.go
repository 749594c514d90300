package emulator_test

import (
	"bytes"
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// subscribe attaches to a channel and returns the received messages.
func subscribe(tb testing.TB, client *ably.Realtime, name string) (*ably.RealtimeChannel, <-chan *ably.Message) {
	tb.Helper()
	channel := client.Channels.Get(name)
	received := make(chan *ably.Message, 100)
	_, err := channel.SubscribeAll(testContext(tb), func(m *ably.Message) {
		received <- m
	})
	if err != nil {
		tb.Fatalf("subscribe to %s: %v", name, err)
	}
	return channel, received
}

func receive(tb testing.TB, received <-chan *ably.Message) *ably.Message {
	tb.Helper()
	select {
	case m := <-received:
		return m
	case <-time.After(waitTimeout):
		tb.Fatalf("no message received")
		return nil
	}
}

func TestRealtime_ReceivesRESTPublishes(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			subscriber := newRealtime(t, emu.ClientOptions(ably.WithUseBinaryProtocol(protocol.binary))...)
			channel, received := subscribe(t, subscriber, "trades")
			if got := emu.Server.Stats().Channels["trades"].Subscribers; got != 1 {
				t.Errorf("subscribers = %d, want 1", got)
			}

			// Publish with the other protocol, so data crosses formats.
			publisher := newREST(t, emu, ably.WithUseBinaryProtocol(!protocol.binary))
			err := publisher.Channels.Get("trades").PublishMultiple(testContext(t), []*ably.Message{
				{Name: "object", Data: map[string]any{"price": 101.5}},
				{Name: "text", Data: "hello"},
				{Name: "bytes", Data: []byte{0, 1, 2, 255}},
			})
			if err != nil {
				t.Fatalf("publish: %v", err)
			}

			// ably-go v1.4.1 decodes the data of realtime messages only when
			// delta compression is enabled, so a subscriber receives the wire
			// form: JSON data as a string with encoding "json", and binary
			// data as bytes over MessagePack or base64 over JSON.
			object := receive(t, received)
			if object.Name != "object" {
				t.Fatalf("first message name = %q, want object", object.Name)
			}
			if object.Data != `{"price":101.5}` || object.Encoding != "json" {
				t.Errorf("object data = %#v encoding %q, want the JSON text with encoding json", object.Data, object.Encoding)
			}
			if object.ID == "" || object.Timestamp == 0 {
				t.Errorf("object message lacks id or timestamp: %+v", object)
			}
			if text := receive(t, received); text.Data != "hello" || text.Encoding != "" {
				t.Errorf("text data = %#v encoding %q, want hello without encoding", text.Data, text.Encoding)
			}
			binary := receive(t, received)
			if protocol.binary {
				if !bytes.Equal(asBytes(binary.Data), []byte{0, 1, 2, 255}) || binary.Encoding != "" {
					t.Errorf("bytes data = %#v (%T) encoding %q, want 00 01 02 ff", binary.Data, binary.Data, binary.Encoding)
				}
			} else if binary.Data != "AAEC/w==" || binary.Encoding != "base64" {
				t.Errorf("bytes data = %#v encoding %q, want AAEC/w== with encoding base64", binary.Data, binary.Encoding)
			}

			if err := channel.Detach(testContext(t)); err != nil {
				t.Fatalf("detach: %v", err)
			}
			if got := emu.Server.Stats().Channels["trades"].Subscribers; got != 0 {
				t.Errorf("subscribers after detach = %d, want 0", got)
			}
			closed := make(chan struct{})
			subscriber.Connection.Once(ably.ConnectionEventClosed, func(ably.ConnectionStateChange) { close(closed) })
			subscriber.Close()
			select {
			case <-closed:
			case <-time.After(waitTimeout):
				t.Fatalf("connection did not reach CLOSED; state %s", subscriber.Connection.State())
			}
		})
	}
}

func TestRealtime_PublishIsAcknowledgedAndDelivered(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			subscriber := newRealtime(t, emu.ClientOptions(ably.WithUseBinaryProtocol(!protocol.binary))...)
			_, received := subscribe(t, subscriber, "chat")
			publisher := newRealtime(t, emu.ClientOptions(
				ably.WithUseBinaryProtocol(protocol.binary), ably.WithClientID("alice"))...)

			result, err := publisher.Channels.Get("chat").PublishWithResult(testContext(t), "greeting",
				map[string]any{"text": "hi"})
			if err != nil {
				t.Fatalf("realtime publish: %v", err)
			}
			if result.Serial == nil || *result.Serial == "" {
				t.Errorf("ACK carried no serial: %+v", result)
			}
			m := receive(t, received)
			if m.Name != "greeting" || m.Data != `{"text":"hi"}` || m.Encoding != "json" {
				t.Errorf("received %q %#v encoding %q, want greeting {\"text\":\"hi\"} json", m.Name, m.Data, m.Encoding)
			}
			if m.ClientID != "alice" {
				t.Errorf("clientId = %q, want alice", m.ClientID)
			}
			if m.ConnectionID != publisher.Connection.ID() {
				t.Errorf("connectionId = %q, want the publisher's %q", m.ConnectionID, publisher.Connection.ID())
			}
		})
	}
}

func TestRealtime_RejectedPublishIsNacked(t *testing.T) {
	emu := emulatortest.Start(t)
	keyClient := newREST(t, emu)
	authCallback := func(ctx context.Context, params ably.TokenParams) (ably.Tokener, error) {
		params.Capability = `{"trades":["subscribe"]}`
		return keyClient.Auth.CreateTokenRequest(&params)
	}
	client := newRealtime(t, emu.EndpointOptions(ably.WithAuthCallback(authCallback))...)
	channel, _ := subscribe(t, client, "trades")
	if channel.State() != ably.ChannelStateAttached {
		t.Fatalf("channel state = %s, want attached", channel.State())
	}
	info := errorInfo(t, channel.Publish(testContext(t), "t", "denied"))
	if info.Code != 40160 || info.StatusCode != http.StatusUnauthorized {
		t.Errorf("NACK: code %d status %d, want 40160 401", info.Code, info.StatusCode)
	}

	other := client.Channels.Get("elsewhere")
	attachErr := errorInfo(t, other.Attach(testContext(t)))
	if attachErr.Code != 40160 {
		t.Errorf("attach without capability: code %d, want 40160", attachErr.Code)
	}
}

func TestRealtime_TokenAuthRenewsExpiredToken(t *testing.T) {
	clock := emulatortest.NewClock(time.Now())
	emu := emulatortest.Start(t, emulatortest.WithClock(clock))
	keyClient := newREST(t, emu)
	var tokenRequests atomic.Int32
	authCallback := func(ctx context.Context, params ably.TokenParams) (ably.Tokener, error) {
		tokenRequests.Add(1)
		params.TTL = time.Minute.Milliseconds()
		return keyClient.Auth.CreateTokenRequest(&params)
	}
	client := newRealtime(t, emu.EndpointOptions(ably.WithAuthCallback(authCallback))...)
	_, received := subscribe(t, client, "trades")
	firstConnection := client.Connection.ID()

	// Expire the token on the emulator clock only, so the client still
	// believes it is valid, and drop the connection: the client reconnects
	// with the old token, gets ERROR 40142 and must renew it. The renewed
	// token is for the same key, so the connection resumes.
	clock.Advance(2 * time.Minute)
	emu.Server.DisconnectAll()
	waitFor(t, "a second token request and the connection resumed", func() bool {
		return tokenRequests.Load() >= 2 &&
			client.Connection.State() == ably.ConnectionStateConnected &&
			emu.Server.Stats().Connections.Resumed == 1
	})
	if got := client.Connection.ID(); got != firstConnection {
		t.Errorf("connection id after renewal = %q, want the resumed %q", got, firstConnection)
	}
	waitFor(t, "the channel to be reattached", func() bool {
		return emu.Server.Stats().Channels["trades"].Subscribers == 1
	})
	if err := newREST(t, emu).Channels.Get("trades").Publish(testContext(t), "t", "after renewal"); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if m := receive(t, received); m.Data != "after renewal" {
		t.Errorf("received %#v, want after renewal", m.Data)
	}
}

func TestRealtime_ResumesAfterForcedDisconnect(t *testing.T) {
	emu := emulatortest.Start(t)
	client := newRealtime(t, emu.ClientOptions(ably.WithDisconnectedRetryTimeout(100*time.Millisecond))...)
	_, received := subscribe(t, client, "trades")
	firstConnection := client.Connection.ID()

	if got := emu.Server.DisconnectAll(); got != 1 {
		t.Fatalf("disconnected %d connections, want 1", got)
	}
	waitFor(t, "the connection resumed with the channel reattached", func() bool {
		return emu.Server.Stats().Connections.Resumed == 1 &&
			client.Connection.State() == ably.ConnectionStateConnected &&
			emu.Server.Stats().Channels["trades"].Subscribers == 1
	})
	if got := client.Connection.ID(); got != firstConnection {
		t.Errorf("connection id = %q, want the resumed %q", got, firstConnection)
	}
	if err := newREST(t, emu).Channels.Get("trades").Publish(testContext(t), "t", "after reconnect"); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if m := receive(t, received); m.Data != "after reconnect" {
		t.Errorf("received %#v, want after reconnect", m.Data)
	}
	if got := emu.Server.Stats().Connections.Opened; got != 2 {
		t.Errorf("connections opened = %d, want 2", got)
	}
}

func TestRealtime_EchoFalseSkipsOwnMessages(t *testing.T) {
	emu := emulatortest.Start(t)
	client := newRealtime(t, emu.ClientOptions(ably.WithEchoMessages(false))...)
	channel, received := subscribe(t, client, "trades")
	if err := channel.Publish(testContext(t), "own", "not echoed"); err != nil {
		t.Fatalf("publish own: %v", err)
	}
	if err := newREST(t, emu).Channels.Get("trades").Publish(testContext(t), "rest", "delivered"); err != nil {
		t.Fatalf("publish rest: %v", err)
	}
	if m := receive(t, received); m.Name != "rest" {
		t.Errorf("first message = %q, want the REST one (own message must not echo)", m.Name)
	}
}

// asBytes returns binary message data. ably-go v1.4.1 decodes MessagePack
// bin into a string (its codec sets RawToString), so both forms occur.
func asBytes(data any) []byte {
	switch v := data.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	default:
		return nil
	}
}

func TestRealtime_TokenExpiryDisconnectsAndRenews(t *testing.T) {
	emu := emulatortest.Start(t)
	keyClient := newREST(t, emu)
	var tokenRequests atomic.Int32
	authCallback := func(ctx context.Context, params ably.TokenParams) (ably.Tokener, error) {
		// The first token lives long enough to connect and attach; later
		// ones live an hour.
		params.TTL = time.Hour.Milliseconds()
		if tokenRequests.Add(1) == 1 {
			params.TTL = 3000
		}
		return keyClient.Auth.CreateTokenRequest(&params)
	}
	expired := make(chan ably.ConnectionStateChange, 1)
	client := newRealtime(t, emu.EndpointOptions(ably.WithAuthCallback(authCallback))...)
	client.Connection.On(ably.ConnectionEventDisconnected, func(change ably.ConnectionStateChange) {
		if change.Reason != nil && change.Reason.Code == 40142 {
			select {
			case expired <- change:
			default:
			}
		}
	})
	_, received := subscribe(t, client, "trades")

	select {
	case <-expired:
	case <-time.After(waitTimeout):
		t.Fatalf("no DISCONNECTED with 40142 at token expiry; state %s", client.Connection.State())
	}
	waitFor(t, "a renewed token and the channel reattached", func() bool {
		return tokenRequests.Load() >= 2 &&
			client.Connection.State() == ably.ConnectionStateConnected &&
			emu.Server.Stats().Channels["trades"].Subscribers == 1
	})
	if err := newREST(t, emu).Channels.Get("trades").Publish(testContext(t), "t", "after expiry"); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if m := receive(t, received); m.Data != "after expiry" {
		t.Errorf("received %#v, want after expiry", m.Data)
	}
}
