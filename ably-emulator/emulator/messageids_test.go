package emulator_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// messageIDCase is one multi-message publish with client-supplied ids.
type messageIDCase struct {
	name string
	ids  []string
	// valid is true when Ably accepts the ids.
	valid bool
}

var messageIDCases = []messageIDCase{
	{"indexes in order", []string{"trading-1-42:0", "trading-1-42:1", "trading-1-42:2"}, true},
	{"base with colons", []string{"a:b:c:0", "a:b:c:1"}, true},
	{"no ids", []string{"", "", ""}, true},
	{"indexes out of order", []string{"base:1", "base:0", "base:2"}, false},
	{"indexes from one", []string{"base:1", "base:2"}, false},
	{"index with leading zero", []string{"base:0", "base:01"}, false},
	{"mixed bases", []string{"first:0", "second:1"}, false},
	{"id missing on one message", []string{"base:0", "", "base:2"}, false},
	{"id missing on the first message", []string{"", "base:1"}, false},
	{"ids without index", []string{"trade-1", "trade-2"}, false},
	{"empty base", []string{":0", ":1"}, false},
	{"same id twice", []string{"base:0", "base:0"}, false},
}

func messagesWithIDs(ids []string) []*ably.Message {
	messages := make([]*ably.Message, len(ids))
	for i, id := range ids {
		messages[i] = &ably.Message{ID: id, Name: "t", Data: "data " + id}
	}
	return messages
}

// checkMessageIDResult checks the outcome of one publish of c.ids and the
// channel's counters after it.
func checkMessageIDResult(t *testing.T, emu *emulatortest.Instance, channel string, c messageIDCase, err error) {
	t.Helper()
	stats := emu.Server.Stats().Channels[channel]
	if c.valid {
		if err != nil {
			t.Fatalf("publish of ids %q: %v", c.ids, err)
		}
		if stats.Accepted != int64(len(c.ids)) {
			t.Errorf("accepted = %d, want %d", stats.Accepted, len(c.ids))
		}
		if stats.Rejected.InvalidID != 0 {
			t.Errorf("rejected.invalid_id = %d, want 0", stats.Rejected.InvalidID)
		}
		return
	}
	info := errorInfo(t, err)
	if info.Code != 40031 {
		t.Errorf("code = %d, want 40031", info.Code)
	}
	if info.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", info.StatusCode)
	}
	if !strings.Contains(info.Message(), "Client-specified message id") {
		t.Errorf("message %q does not name the client-specified message id", info.Message())
	}
	if stats.Accepted != 0 {
		t.Errorf("accepted = %d, want 0: the whole publish is rejected", stats.Accepted)
	}
	if stats.Rejected.InvalidID != int64(len(c.ids)) {
		t.Errorf("rejected.invalid_id = %d, want %d", stats.Rejected.InvalidID, len(c.ids))
	}
}

func TestMessageIDs_RESTMultiplePublish(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			client := newREST(t, emu, ably.WithUseBinaryProtocol(protocol.binary))
			for _, c := range messageIDCases {
				t.Run(c.name, func(t *testing.T) {
					// One channel per case keeps the counters apart.
					channel := "ids-" + strings.ReplaceAll(c.name, " ", "-")
					err := client.Channels.Get(channel).PublishMultiple(testContext(t), messagesWithIDs(c.ids))
					checkMessageIDResult(t, emu, channel, c, err)
				})
			}
		})
	}
}

func TestMessageIDs_RealtimeMultiplePublish(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			client := newRealtime(t, emu.ClientOptions(ably.WithUseBinaryProtocol(protocol.binary))...)
			for _, c := range messageIDCases {
				t.Run(c.name, func(t *testing.T) {
					channel := "ids-" + strings.ReplaceAll(c.name, " ", "-")
					err := client.Channels.Get(channel).PublishMultiple(testContext(t), messagesWithIDs(c.ids))
					checkMessageIDResult(t, emu, channel, c, err)
				})
			}
			if state := client.Connection.State(); state != ably.ConnectionStateConnected {
				t.Errorf("connection state after the rejected publishes = %s, want connected", state)
			}
		})
	}
}

func TestMessageIDs_SingleMessageTakesAnyID(t *testing.T) {
	emu := emulatortest.Start(t)
	channel := newREST(t, emu).Channels.Get("trades")
	for _, id := range []string{"trading-1-42", "base:7", "a:b", ":"} {
		if err := channel.PublishMultiple(testContext(t), messagesWithIDs([]string{id})); err != nil {
			t.Errorf("publish of one message with id %q: %v", id, err)
		}
	}
	stats := emu.Server.Stats().Channels["trades"]
	if stats.Accepted != 4 {
		t.Errorf("accepted = %d, want 4", stats.Accepted)
	}
	if stats.Rejected.InvalidID != 0 {
		t.Errorf("rejected.invalid_id = %d, want 0", stats.Rejected.InvalidID)
	}
}

// A retried batch with valid ids is still dropped as a duplicate, so the
// rule does not get in the way of idempotent retries.
func TestMessageIDs_RetriedBatchIsDuplicate(t *testing.T) {
	emu := emulatortest.Start(t)
	channel := newREST(t, emu).Channels.Get("trades")
	ids := []string{"trading-1-42:0", "trading-1-42:1"}
	for attempt := range 2 {
		if err := channel.PublishMultiple(testContext(t), messagesWithIDs(ids)); err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	stats := emu.Server.Stats().Channels["trades"]
	if stats.Accepted != 2 {
		t.Errorf("accepted = %d, want 2", stats.Accepted)
	}
	if stats.Duplicates != 2 {
		t.Errorf("duplicates = %d, want 2", stats.Duplicates)
	}
}
