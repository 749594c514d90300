package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// rawMessage is the part of a JSON protocol message the raw tests read.
type rawMessage struct {
	Action            int                 `json:"action"`
	ID                string              `json:"id"`
	Channel           string              `json:"channel"`
	ChannelSerial     string              `json:"channelSerial"`
	ConnectionID      string              `json:"connectionId"`
	ConnectionKey     string              `json:"connectionKey"`
	Flags             int64               `json:"flags"`
	Error             *emulator.ErrorInfo `json:"error"`
	ConnectionDetails json.RawMessage     `json:"connectionDetails"`
	Params            map[string]string   `json:"params"`
	Messages          []rawChannelMessage `json:"messages"`
}

// rawChannelMessage is the part of a message the raw tests read.
type rawChannelMessage struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Serial string `json:"serial"`
}

// dialRaw opens a JSON WebSocket connection with the given query parameters
// added to the key.
func dialRaw(tb testing.TB, emu *emulatortest.Instance, params url.Values) *websocket.Conn {
	tb.Helper()
	query := url.Values{"key": {emu.Key}, "format": {"json"}, "v": {"5"}}
	for name, values := range params {
		query[name] = values
	}
	u := fmt.Sprintf("ws://%s:%d/?%s", emu.Host, emu.Port, query.Encode())
	conn, _, err := websocket.Dial(testContext(tb), u, nil)
	if err != nil {
		tb.Fatalf("dial emulator: %v", err)
	}
	tb.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

func readRaw(tb testing.TB, conn *websocket.Conn) rawMessage {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, data, err := conn.Read(ctx)
	if err != nil {
		tb.Fatalf("read protocol message: %v", err)
	}
	var m rawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		tb.Fatalf("decode protocol message %s: %v", data, err)
	}
	return m
}

// readUntil reads protocol messages until one has the wanted action, at
// most limit messages.
func readUntil(tb testing.TB, conn *websocket.Conn, action, limit int) rawMessage {
	tb.Helper()
	for range limit {
		if m := readRaw(tb, conn); m.Action == action {
			return m
		}
	}
	tb.Fatalf("no protocol message with action %d in %d messages", action, limit)
	return rawMessage{}
}

func writeRaw(tb testing.TB, conn *websocket.Conn, message string) {
	tb.Helper()
	if err := conn.Write(testContext(tb), websocket.MessageText, []byte(message)); err != nil {
		tb.Fatalf("write protocol message: %v", err)
	}
}

func TestRealtimeProtocol_ConnectedDetails(t *testing.T) {
	emu := emulatortest.Start(t)
	conn := dialRaw(t, emu, url.Values{"clientId": {"viewer"}})
	connected := readRaw(t, conn)
	if connected.Action != 4 {
		t.Fatalf("first action = %d, want CONNECTED (4)", connected.Action)
	}
	if connected.ConnectionID == "" {
		t.Errorf("CONNECTED has no connectionId")
	}
	var details map[string]any
	if err := json.Unmarshal(connected.ConnectionDetails, &details); err != nil {
		t.Fatalf("decode connectionDetails: %v", err)
	}
	wantDetails := map[string]any{
		"clientId":           "viewer",
		"maxMessageSize":     float64(65536),
		"maxFrameSize":       float64(524288),
		"maxInboundRate":     float64(50),
		"connectionStateTtl": float64(120000),
		"maxIdleInterval":    float64(15000),
	}
	for name, want := range wantDetails {
		if details[name] != want {
			t.Errorf("connectionDetails.%s = %v, want %v", name, details[name], want)
		}
	}
	for _, name := range []string{"connectionKey", "serverId"} {
		if s, _ := details[name].(string); s == "" {
			t.Errorf("connectionDetails.%s is empty", name)
		}
	}
}

func TestRealtimeProtocol_Heartbeats(t *testing.T) {
	emu := emulatortest.Start(t, emulatortest.WithConfig(func(cfg *emulator.Config) {
		cfg.HeartbeatInterval = 50 * time.Millisecond
	}))
	conn := dialRaw(t, emu, url.Values{"heartbeats": {"true"}})
	readUntil(t, conn, 4, 1)
	readUntil(t, conn, 0, 1)

	// A client HEARTBEAT with an id is a ping, and the reply carries the id.
	writeRaw(t, conn, `{"action":0,"id":"ping-1"}`)
	for range 10 {
		m := readUntil(t, conn, 0, 10)
		if m.ID == "ping-1" {
			return
		}
	}
	t.Fatalf("no HEARTBEAT answered the ping")
}

func TestRealtimeProtocol_ResumeFailsWithNewConnection(t *testing.T) {
	emu := emulatortest.Start(t)
	conn := dialRaw(t, emu, url.Values{"resume": {"old-connection-key"}})
	connected := readUntil(t, conn, 4, 1)
	if connected.Error == nil || connected.Error.Code != 80008 {
		t.Fatalf("CONNECTED error = %+v, want code 80008", connected.Error)
	}
}

func TestRealtimeProtocol_BadCredentialsGetError(t *testing.T) {
	emu := emulatortest.Start(t)
	cases := []struct {
		name     string
		params   url.Values
		wantCode int
	}{
		{"unknown token", url.Values{"key": nil, "access_token": {"no-such-token"}}, 40143},
		{"wrong secret", url.Values{"key": {strings.Split(emu.Key, ":")[0] + ":wrong"}}, 40101},
		{"no credentials", url.Values{"key": nil}, 40101},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			query := url.Values{"format": {"json"}}
			for name, values := range tc.params {
				if values != nil {
					query[name] = values
				}
			}
			u := fmt.Sprintf("ws://%s:%d/?%s", emu.Host, emu.Port, query.Encode())
			conn, _, err := websocket.Dial(testContext(t), u, nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.CloseNow()
			m := readRaw(t, conn)
			if m.Action != 9 || m.Error == nil || m.Error.Code != tc.wantCode {
				t.Fatalf("got action %d error %+v, want ERROR (9) with code %d", m.Action, m.Error, tc.wantCode)
			}
		})
	}
}

func TestRealtimeProtocol_InvalidMessageEndsConnection(t *testing.T) {
	emu := emulatortest.Start(t)
	conn := dialRaw(t, emu, nil)
	readUntil(t, conn, 4, 1)
	writeRaw(t, conn, `{"action":"not a number"}`)
	m := readUntil(t, conn, 9, 5)
	if m.Error == nil || m.Error.Code != 80013 {
		t.Fatalf("ERROR = %+v, want code 80013", m.Error)
	}
}

func TestSlowSubscriber_IsDisconnectedNotBlocking(t *testing.T) {
	emu := emulatortest.Start(t, emulatortest.WithConfig(func(cfg *emulator.Config) {
		cfg.SendQueueSize = 4
		cfg.ChannelRate = 1_000_000
	}))
	conn := dialRaw(t, emu, nil)
	readUntil(t, conn, 4, 1)
	writeRaw(t, conn, `{"action":10,"channel":"trades"}`)
	readUntil(t, conn, 11, 5)
	// From here on the subscriber reads nothing. Once the socket buffers
	// fill, its queue of 4 overflows and the emulator drops it.

	channel := newREST(t, emu).Channels.Get("trades")
	payload := strings.Repeat("x", 60_000)
	const maxPublishes = 2000
	published := 0
	for published < maxPublishes && emu.Server.Stats().Connections.SlowConsumerDisconnects == 0 {
		if err := channel.Publish(testContext(t), "big", payload); err != nil {
			t.Fatalf("publish %d: %v", published, err)
		}
		published++
	}
	stats := emu.Server.Stats()
	if stats.Connections.SlowConsumerDisconnects != 1 {
		t.Fatalf("slowConsumerDisconnects = %d after %d publishes, want 1", stats.Connections.SlowConsumerDisconnects, published)
	}
	if got := stats.Channels["trades"].Accepted; got != int64(published) {
		t.Errorf("accepted = %d, want every one of the %d publishes", got, published)
	}
	waitFor(t, "the slow subscriber to leave the channel", func() bool {
		return emu.Server.Stats().Channels["trades"].Subscribers == 0
	})
}
