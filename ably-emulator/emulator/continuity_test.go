package emulator_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// subscribeHistoryCapability is what the publisher's /token grants a browser.
const subscribeHistoryCapability = `{"trades":["subscribe","history"]}`

// pauseLong keeps new connections rejected until the test ends the pause.
const pauseLong = 5 * time.Minute

// messageNames returns the names of message events.
func messageNames(events []jsClientEvent) []string {
	names := make([]string, len(events))
	for i, e := range events {
		names[i] = e.Name
	}
	return names
}

// recordedIDs returns the ids of the messages the emulator accepted on the
// channel, newest first.
func recordedIDs(emu *emulatortest.Instance, channel string) []string {
	messages := emu.Server.Messages(channel)
	out := make([]string, len(messages))
	for i, m := range messages {
		out[len(messages)-1-i] = m.ID
	}
	return out
}

func TestAblyJS_HistoryPages(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			publishNumbered(t, newREST(t, emu).Channels.Get("trades"), 1, 25)
			client := startJSClient(t, emu, startTokenURL(t, emu, subscribeHistoryCapability),
				jsClientConfig{Channel: "trades", Binary: protocol.binary})
			client.next("channel attached", isChannelState("attached"))
			want := recordedIDs(emu, "trades")

			client.send(`history {"limit": 10}`)
			var got []string
			for page := 1; page <= 3; page++ {
				event := client.next("history page", isEvent("history"))
				if wantNext := page < 3; event.HasNext != wantNext {
					t.Errorf("page %d hasNext = %v, want %v", page, event.HasNext, wantNext)
				}
				if wantSize := min(10, 25-(page-1)*10); len(event.IDs) != wantSize {
					t.Errorf("page %d has %d messages, want %d", page, len(event.IDs), wantSize)
				}
				got = append(got, event.IDs...)
			}
			if !slices.Equal(got, want) {
				t.Errorf("history ids = %v, want newest first %v", got, want)
			}

			client.send(`history {"limit": 100, "direction": "forwards"}`)
			forwards := client.next("forwards history page", isEvent("history"))
			slices.Reverse(want)
			if !slices.Equal(forwards.IDs, want) || forwards.HasNext {
				t.Errorf("forwards ids = %v hasNext %v, want %v and no next", forwards.IDs, forwards.HasNext, want)
			}
		})
	}
}

func TestAblyJS_HistoryUntilAttach(t *testing.T) {
	emu := emulatortest.Start(t)
	channel := newREST(t, emu).Channels.Get("trades")
	publishNumbered(t, channel, 1, 3)
	client := startJSClient(t, emu, startTokenURL(t, emu, subscribeHistoryCapability), jsClientConfig{Channel: "trades"})
	client.next("channel attached", isChannelState("attached"))
	publishNumbered(t, channel, 4, 2)
	client.collectMessages(2)

	// untilAttach sends from_serial, the channelSerial of ATTACHED, so the
	// messages published after the attach are left out.
	client.send(`history {"untilAttach": true}`)
	page := client.next("history page", isEvent("history"))
	if want := recordedIDs(emu, "trades")[2:]; !slices.Equal(page.IDs, want) {
		t.Errorf("history until attach = %v, want %v", page.IDs, want)
	}
}

func TestAblyJS_RewindDeliversRecent(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			channel := newREST(t, emu).Channels.Get("trades")
			names := publishNumbered(t, channel, 1, 30)
			client := startJSClient(t, emu, startTokenURL(t, emu, subscribeHistoryCapability),
				jsClientConfig{Channel: "trades", Binary: protocol.binary, Params: map[string]string{"rewind": "20"}})

			attached := client.next("channel attached", isChannelState("attached"))
			if !attached.Backlog {
				t.Errorf("attached without hasBacklog")
			}
			if got := messageNames(client.collectMessages(20)); !slices.Equal(got, names[10:]) {
				t.Errorf("rewind delivered %v, want %v", got, names[10:])
			}
			publishNumbered(t, channel, 31, 1)
			if got := messageNames(client.collectMessages(1)); !slices.Equal(got, []string{"m31"}) {
				t.Errorf("after the rewind received %v, want m31", got)
			}
		})
	}
}

func TestAblyJS_RewindInterval(t *testing.T) {
	clock := emulatortest.NewClock(time.Now())
	emu := emulatortest.Start(t, emulatortest.WithClock(clock))
	channel := newREST(t, emu).Channels.Get("trades")
	publishNumbered(t, channel, 1, 3)
	clock.Advance(2 * time.Minute)
	publishNumbered(t, channel, 4, 2)
	clock.Advance(10 * time.Second)

	client := startJSClient(t, emu, startTokenURL(t, emu, subscribeHistoryCapability),
		jsClientConfig{Channel: "trades", Params: map[string]string{"rewind": "1m"}})
	client.next("channel attached", isChannelState("attached"))
	publishNumbered(t, channel, 6, 1)
	if got := messageNames(client.collectMessages(3)); !slices.Equal(got, []string{"m4", "m5", "m6"}) {
		t.Errorf("received %v, want the last minute m4 m5 and then the live m6", got)
	}
}

func TestAblyJS_RewindInvalidFailsChannel(t *testing.T) {
	emu := emulatortest.Start(t)
	client := startJSClient(t, emu, startTokenURL(t, emu, subscribeHistoryCapability),
		jsClientConfig{Channel: "trades", Params: map[string]string{"rewind": "lots"}})
	failed := client.next("channel failed", isChannelState("failed"))
	if failed.Reason == nil || failed.Reason.Code != 40003 {
		t.Errorf("failed reason = %+v, want code 40003", failed.Reason)
	}
}

// dropAndPublish drops every connection while new ones are paused, waits
// until the client reports it is disconnected, and publishes n messages
// starting at m<first> that the client cannot receive. The caller ends the
// pause.
func dropAndPublish(t *testing.T, emu *emulatortest.Instance, client *jsClient, first, n int) []string {
	t.Helper()
	if err := emu.Server.PauseConnections(pauseLong); err != nil {
		t.Fatal(err)
	}
	if dropped := emu.Server.DropAll(); dropped != 1 {
		t.Fatalf("dropped %d connections, want 1", dropped)
	}
	client.next("connection disconnected", isConnectionState("disconnected"))
	return publishNumbered(t, newREST(t, emu).Channels.Get("trades"), first, n)
}

func TestAblyJS_ResumesAfterDrop(t *testing.T) {
	t.Run("nothing missed", func(t *testing.T) {
		emu := emulatortest.Start(t)
		client := startJSClient(t, emu, startTokenURL(t, emu, subscribeHistoryCapability),
			jsClientConfig{Channel: "trades", RetryMs: 200})
		connected := client.next("connected", isConnectionState("connected"))
		client.next("channel attached", isChannelState("attached"))

		emu.Server.DropAll()
		client.next("connection disconnected", isConnectionState("disconnected"))
		reconnected := client.next("connected again", isConnectionState("connected"))
		if reconnected.ID != connected.ID {
			t.Errorf("connection id after resume = %q, want %q", reconnected.ID, connected.ID)
		}
		if reconnected.Reason != nil {
			t.Errorf("resumed connection reason = %+v, want none", reconnected.Reason)
		}
		reattached := client.next("channel attached again", isChannelState("attached"))
		if !reattached.Resumed {
			t.Errorf("channel reattached with resumed false, want true")
		}
		if got := emu.Server.Stats().Connections.Resumed; got != 1 {
			t.Errorf("resumed connections = %d, want 1", got)
		}
	})

	for _, protocol := range protocols {
		t.Run("missed messages replayed "+protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			client := startJSClient(t, emu, startTokenURL(t, emu, subscribeHistoryCapability),
				jsClientConfig{Channel: "trades", Binary: protocol.binary, RetryMs: 200})
			connected := client.next("connected", isConnectionState("connected"))
			client.next("channel attached", isChannelState("attached"))
			publishNumbered(t, newREST(t, emu).Channels.Get("trades"), 1, 2)
			client.collectMessages(2)

			missed := dropAndPublish(t, emu, client, 3, 5)
			emu.Server.EndPause()
			reconnected := client.next("connected again", isConnectionState("connected"))
			if reconnected.ID != connected.ID {
				t.Errorf("connection id after resume = %q, want %q", reconnected.ID, connected.ID)
			}
			reattached := client.next("channel attached again", isChannelState("attached"))
			if !reattached.Resumed {
				t.Errorf("channel reattached with resumed false, want true")
			}
			publishNumbered(t, newREST(t, emu).Channels.Get("trades"), 8, 1)
			want := append(missed, "m8")
			if got := messageNames(client.collectMessages(len(want))); !slices.Equal(got, want) {
				t.Errorf("received %v after the resume, want each of %v once in order", got, want)
			}
		})
	}

	t.Run("state expired", func(t *testing.T) {
		clock := emulatortest.NewClock(time.Now())
		emu := emulatortest.Start(t, emulatortest.WithClock(clock))
		client := startJSClient(t, emu, startTokenURL(t, emu, subscribeHistoryCapability),
			jsClientConfig{Channel: "trades", RetryMs: 200})
		connected := client.next("connected", isConnectionState("connected"))
		client.next("channel attached", isChannelState("attached"))

		dropAndPublish(t, emu, client, 1, 3)
		clock.Advance(emulator.DefaultConnectionStateTTL + time.Second)
		emu.Server.EndPause()
		reconnected := client.next("connected again", isConnectionState("connected"))
		if reconnected.ID == connected.ID {
			t.Errorf("connection id %q kept after the state expired, want a new one", reconnected.ID)
		}
		if reconnected.Reason == nil || reconnected.Reason.Code != 80008 {
			t.Errorf("reconnected reason = %+v, want code 80008", reconnected.Reason)
		}
		reattached := client.next("channel attached again", isChannelState("attached"))
		if reattached.Resumed {
			t.Errorf("channel reattached with resumed true, want false: messages were missed")
		}
		publishNumbered(t, newREST(t, emu).Channels.Get("trades"), 4, 1)
		if got := messageNames(client.collectMessages(1)); !slices.Equal(got, []string{"m4"}) {
			t.Errorf("received %v, want only the live m4", got)
		}
	})

	t.Run("more missed than one replay", func(t *testing.T) {
		emu := emulatortest.Start(t, emulatortest.WithConfig(func(cfg *emulator.Config) {
			cfg.ReplayLimit = 3
		}))
		client := startJSClient(t, emu, startTokenURL(t, emu, subscribeHistoryCapability),
			jsClientConfig{Channel: "trades", RetryMs: 200})
		client.next("channel attached", isChannelState("attached"))

		missed := dropAndPublish(t, emu, client, 1, 5)
		emu.Server.EndPause()
		reattached := client.next("channel attached again", isChannelState("attached"))
		if reattached.Resumed {
			t.Errorf("channel reattached with resumed true, want false")
		}
		if reattached.Reason == nil || reattached.Reason.Code != 90004 {
			t.Errorf("reattached reason = %+v, want code 90004", reattached.Reason)
		}
		if got := messageNames(client.collectMessages(3)); !slices.Equal(got, missed[2:]) {
			t.Errorf("replayed %v, want the last three %v", got, missed[2:])
		}
	})
}

func TestAblyGo_ResumeReplaysMissedMessages(t *testing.T) {
	emu := emulatortest.Start(t)
	client := newRealtime(t, emu.ClientOptions(ably.WithDisconnectedRetryTimeout(100*time.Millisecond))...)
	channel, received := subscribe(t, client, "trades")
	firstConnection := client.Connection.ID()
	reattached := make(chan ably.ChannelStateChange, 10)
	channel.On(ably.ChannelEventAttached, func(change ably.ChannelStateChange) { reattached <- change })

	if err := emu.Server.PauseConnections(pauseLong); err != nil {
		t.Fatal(err)
	}
	emu.Server.DropAll()
	waitFor(t, "the client to notice the drop", func() bool {
		return client.Connection.State() != ably.ConnectionStateConnected
	})
	missed := publishNumbered(t, newREST(t, emu).Channels.Get("trades"), 1, 3)
	emu.Server.EndPause()

	select {
	case change := <-reattached:
		if !change.Resumed {
			t.Errorf("channel reattached with Resumed false, want true")
		}
	case <-time.After(waitTimeout):
		t.Fatalf("channel not reattached; connection %s", client.Connection.State())
	}
	if got := client.Connection.ID(); got != firstConnection {
		t.Errorf("connection id = %q, want the resumed %q", got, firstConnection)
	}
	for _, want := range missed {
		if m := receive(t, received); m.Name != want {
			t.Errorf("received %q, want %q", m.Name, want)
		}
	}
}
