package emulator_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// Protocol actions and flags the raw tests use.
const (
	actionConnected = 4
	actionClosed    = 8
	actionError     = 9
	actionAttach    = 10
	actionAttached  = 11
	actionMessage   = 15
	flagHasBacklog  = 1 << 1
	flagResumed     = 1 << 2
)

// attachRaw sends ATTACH for channel with the channelSerial and params, and
// returns the reply: ATTACHED, or a channel ERROR.
func attachRaw(tb testing.TB, conn *websocket.Conn, channel, channelSerial string, params map[string]string) rawMessage {
	tb.Helper()
	attach := map[string]any{"action": actionAttach, "channel": channel}
	if channelSerial != "" {
		attach["channelSerial"] = channelSerial
	}
	if params != nil {
		attach["params"] = params
	}
	encoded, err := json.Marshal(attach)
	if err != nil {
		tb.Fatal(err)
	}
	writeRaw(tb, conn, string(encoded))
	for range 10 {
		m := readRaw(tb, conn)
		if m.Action == actionAttached || m.Action == actionError {
			return m
		}
	}
	tb.Fatalf("no ATTACHED or ERROR for %s in 10 messages", channel)
	return rawMessage{}
}

// readMessageNames reads n MESSAGE protocol messages and returns the names
// of the messages in them and the channelSerial of the last one.
func readMessageNames(tb testing.TB, conn *websocket.Conn, n int) ([]string, string) {
	tb.Helper()
	var names []string
	serial := ""
	for len(names) < n {
		m := readUntil(tb, conn, actionMessage, 10)
		for _, message := range m.Messages {
			names = append(names, message.Name)
		}
		serial = m.ChannelSerial
	}
	return names, serial
}

// waitClosed waits until the server has closed conn, and returns the close
// status the client saw: -1 when no close frame arrived.
func waitClosed(tb testing.TB, conn *websocket.Conn) websocket.StatusCode {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if ctx.Err() != nil {
				tb.Fatalf("connection still open after %s", waitTimeout)
			}
			return websocket.CloseStatus(err)
		}
	}
}

// connectRaw dials and returns the connection with its CONNECTED message.
func connectRaw(tb testing.TB, emu *emulatortest.Instance, params url.Values) (*websocket.Conn, rawMessage) {
	tb.Helper()
	conn := dialRaw(tb, emu, params)
	return conn, readUntil(tb, conn, actionConnected, 1)
}

func TestResume_ReplaysMissedMessages(t *testing.T) {
	emu := emulatortest.Start(t)
	channel := newREST(t, emu).Channels.Get("trades")
	conn, connected := connectRaw(t, emu, nil)
	if attached := attachRaw(t, conn, "trades", "", nil); attached.Flags&flagResumed != 0 {
		t.Errorf("first ATTACHED has RESUMED")
	}
	publishNumbered(t, channel, 1, 2)
	names, lastSerial := readMessageNames(t, conn, 2)
	if !slices.Equal(names, []string{"m1", "m2"}) {
		t.Fatalf("received %v, want m1 m2", names)
	}

	if dropped := emu.Server.DropAll(); dropped != 1 {
		t.Fatalf("dropped %d connections, want 1", dropped)
	}
	if status := waitClosed(t, conn); status != -1 {
		t.Errorf("dropped connection got close status %d, want none", status)
	}
	publishNumbered(t, channel, 3, 3)

	resumed, reconnected := connectRaw(t, emu, url.Values{"resume": {connected.ConnectionKey}})
	if reconnected.Error != nil {
		t.Fatalf("resume CONNECTED error = %+v, want none", reconnected.Error)
	}
	if reconnected.ConnectionID != connected.ConnectionID {
		t.Errorf("resumed connection id = %q, want %q", reconnected.ConnectionID, connected.ConnectionID)
	}
	attached := attachRaw(t, resumed, "trades", lastSerial, nil)
	if attached.Flags&flagResumed == 0 {
		t.Errorf("ATTACHED flags %b lack RESUMED", attached.Flags)
	}
	missed, _ := readMessageNames(t, resumed, 3)
	if !slices.Equal(missed, []string{"m3", "m4", "m5"}) {
		t.Errorf("replayed %v, want m3 m4 m5", missed)
	}
	publishNumbered(t, channel, 6, 1)
	if live, _ := readMessageNames(t, resumed, 1); !slices.Equal(live, []string{"m6"}) {
		t.Errorf("after the replay received %v, want m6 only", live)
	}
	stats := emu.Server.Stats().Connections
	if stats.Resumed != 1 || stats.Dropped != 1 || stats.ResumeFailed != 0 {
		t.Errorf("connection stats = %+v, want 1 resumed, 1 dropped, 0 failed", stats)
	}
}

func TestResume_WithoutSerialReplaysSinceAttach(t *testing.T) {
	emu := emulatortest.Start(t)
	channel := newREST(t, emu).Channels.Get("trades")
	publishNumbered(t, channel, 1, 2) // before the attachment: not missed
	conn, connected := connectRaw(t, emu, nil)
	attachRaw(t, conn, "trades", "", nil)
	emu.Server.DropAll()
	waitClosed(t, conn)
	publishNumbered(t, channel, 3, 2)

	resumed, _ := connectRaw(t, emu, url.Values{"resume": {connected.ConnectionKey}})
	attached := attachRaw(t, resumed, "trades", "", nil)
	if attached.Flags&flagResumed == 0 {
		t.Errorf("ATTACHED flags %b lack RESUMED", attached.Flags)
	}
	if missed, _ := readMessageNames(t, resumed, 2); !slices.Equal(missed, []string{"m3", "m4"}) {
		t.Errorf("replayed %v, want m3 m4", missed)
	}
}

func TestResume_LosesContinuity(t *testing.T) {
	cases := []struct {
		name       string
		config     func(*emulator.Config)
		expire     bool // advance the clock past the connection state TTL
		published  int
		wantError  int // code in CONNECTED
		wantAttach int // code in ATTACHED
		wantReplay []string
	}{
		{
			name:      "state expired",
			expire:    true,
			published: 3,
			wantError: 80008,
		},
		{
			name:       "more missed than one replay",
			config:     func(cfg *emulator.Config) { cfg.ReplayLimit = 2 },
			published:  3,
			wantAttach: 90004,
			wantReplay: []string{"m4", "m5"},
		},
		{
			name:      "missed messages no longer in history",
			config:    func(cfg *emulator.Config) { cfg.HistoryLimit = 2 },
			published: 3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := emulatortest.NewClock(time.Now())
			opts := []emulatortest.Option{emulatortest.WithClock(clock)}
			if tc.config != nil {
				opts = append(opts, emulatortest.WithConfig(tc.config))
			}
			emu := emulatortest.Start(t, opts...)
			channel := newREST(t, emu).Channels.Get("trades")
			conn, connected := connectRaw(t, emu, nil)
			attachRaw(t, conn, "trades", "", nil)
			publishNumbered(t, channel, 1, 2)
			_, lastSerial := readMessageNames(t, conn, 2)
			emu.Server.DropAll()
			waitClosed(t, conn)
			publishNumbered(t, channel, 3, tc.published)
			if tc.expire {
				clock.Advance(emulator.DefaultConnectionStateTTL)
			}

			resumed, reconnected := connectRaw(t, emu, url.Values{"resume": {connected.ConnectionKey}})
			gotError := 0
			if reconnected.Error != nil {
				gotError = reconnected.Error.Code
			}
			if gotError != tc.wantError {
				t.Errorf("CONNECTED error code = %d, want %d", gotError, tc.wantError)
			}
			if sameID := reconnected.ConnectionID == connected.ConnectionID; sameID != (tc.wantError == 0) {
				t.Errorf("connection id %q after resume of %q: same id = %v, want %v",
					reconnected.ConnectionID, connected.ConnectionID, sameID, tc.wantError == 0)
			}
			attached := attachRaw(t, resumed, "trades", lastSerial, nil)
			if attached.Action != actionAttached {
				t.Fatalf("reply to ATTACH = %+v, want ATTACHED", attached)
			}
			if attached.Flags&flagResumed != 0 {
				t.Errorf("ATTACHED has RESUMED, want continuity lost")
			}
			gotAttach := 0
			if attached.Error != nil {
				gotAttach = attached.Error.Code
			}
			if gotAttach != tc.wantAttach {
				t.Errorf("ATTACHED error code = %d, want %d", gotAttach, tc.wantAttach)
			}
			// A live message marks the end of any replay.
			publishNumbered(t, channel, 100, 1)
			want := append(slices.Clone(tc.wantReplay), "m100")
			if got, _ := readMessageNames(t, resumed, len(want)); !slices.Equal(got, want) {
				t.Errorf("received %v after ATTACHED, want %v", got, want)
			}
		})
	}
}

func TestResume_ReplacesOpenConnection(t *testing.T) {
	emu := emulatortest.Start(t)
	conn, connected := connectRaw(t, emu, nil)
	attachRaw(t, conn, "trades", "", nil)

	// The client resumes before the server has seen the old transport fail.
	resumed, reconnected := connectRaw(t, emu, url.Values{"resume": {connected.ConnectionKey}})
	if reconnected.Error != nil || reconnected.ConnectionID != connected.ConnectionID {
		t.Fatalf("CONNECTED id %q error %+v, want id %q and no error", reconnected.ConnectionID, reconnected.Error, connected.ConnectionID)
	}
	waitClosed(t, conn)
	if attached := attachRaw(t, resumed, "trades", "", nil); attached.Flags&flagResumed == 0 {
		t.Errorf("ATTACHED flags %b lack RESUMED", attached.Flags)
	}
	if active := emu.Server.Stats().Connections.Active; active != 1 {
		t.Errorf("active connections = %d, want 1", active)
	}
}

func TestResume_AfterCloseFails(t *testing.T) {
	emu := emulatortest.Start(t)
	conn, connected := connectRaw(t, emu, nil)
	writeRaw(t, conn, `{"action":7}`)
	readUntil(t, conn, actionClosed, 5)
	waitClosed(t, conn)

	_, reconnected := connectRaw(t, emu, url.Values{"resume": {connected.ConnectionKey}})
	if reconnected.Error == nil || reconnected.Error.Code != 80008 {
		t.Fatalf("CONNECTED error = %+v, want 80008 after CLOSE", reconnected.Error)
	}
	if got := emu.Server.Stats().Connections.ResumeFailed; got != 1 {
		t.Errorf("resumeFailed = %d, want 1", got)
	}
}

func TestRecover_KeepsIDButNotAttachments(t *testing.T) {
	emu := emulatortest.Start(t)
	channel := newREST(t, emu).Channels.Get("trades")
	conn, connected := connectRaw(t, emu, nil)
	attachRaw(t, conn, "trades", "", nil)
	publishNumbered(t, channel, 1, 1)
	_, lastSerial := readMessageNames(t, conn, 1)
	emu.Server.DropAll()
	waitClosed(t, conn)
	publishNumbered(t, channel, 2, 1)

	recovered, reconnected := connectRaw(t, emu, url.Values{"recover": {connected.ConnectionKey}})
	if reconnected.Error != nil || reconnected.ConnectionID != connected.ConnectionID {
		t.Fatalf("CONNECTED id %q error %+v, want id %q and no error", reconnected.ConnectionID, reconnected.Error, connected.ConnectionID)
	}
	if attached := attachRaw(t, recovered, "trades", lastSerial, nil); attached.Flags&flagResumed != 0 {
		t.Errorf("ATTACHED after recover has RESUMED, want a fresh attachment")
	}
}

func TestRewind_RawAttach(t *testing.T) {
	emu := emulatortest.Start(t)
	channel := newREST(t, emu).Channels.Get("trades")
	publishNumbered(t, channel, 1, 5)

	t.Run("last messages after ATTACHED", func(t *testing.T) {
		conn, _ := connectRaw(t, emu, nil)
		attached := attachRaw(t, conn, "trades", "", map[string]string{"rewind": "3"})
		if attached.Flags&flagHasBacklog == 0 {
			t.Errorf("ATTACHED flags %b lack HAS_BACKLOG", attached.Flags)
		}
		if attached.Params["rewind"] != "3" {
			t.Errorf("ATTACHED params = %v, want rewind 3 echoed", attached.Params)
		}
		if names, _ := readMessageNames(t, conn, 3); !slices.Equal(names, []string{"m3", "m4", "m5"}) {
			t.Errorf("rewind delivered %v, want m3 m4 m5", names)
		}
	})

	t.Run("invalid value fails the channel", func(t *testing.T) {
		conn, _ := connectRaw(t, emu, nil)
		reply := attachRaw(t, conn, "trades", "", map[string]string{"rewind": "yesterday"})
		if reply.Action != actionError || reply.Error == nil || reply.Error.Code != 40003 {
			t.Fatalf("reply = %+v, want channel ERROR 40003", reply)
		}
		if reply.Channel != "trades" {
			t.Errorf("ERROR channel = %q, want trades", reply.Channel)
		}
	})

	t.Run("not on a second attach of the connection", func(t *testing.T) {
		conn, _ := connectRaw(t, emu, nil)
		attachRaw(t, conn, "trades", "", nil)
		attached := attachRaw(t, conn, "trades", "", map[string]string{"rewind": "3"})
		if attached.Flags&flagResumed == 0 || attached.Flags&flagHasBacklog != 0 {
			t.Errorf("second ATTACHED flags %b, want RESUMED without HAS_BACKLOG", attached.Flags)
		}
		publishNumbered(t, channel, 6, 1)
		if names, _ := readMessageNames(t, conn, 1); !slices.Equal(names, []string{"m6"}) {
			t.Errorf("received %v, want only the live m6", names)
		}
	})
}
