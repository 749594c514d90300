package publish_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/lib/trade"
)

const channelName = "trades"

func newPublisher(tb testing.TB, emu *emulatortest.Instance, key string) *publish.Publisher {
	tb.Helper()
	client, err := publish.NewClient(publish.ClientConfig{Key: key, Endpoint: emu.URL, RequestTimeout: 5 * time.Second})
	if err != nil {
		tb.Fatalf("NewClient: %v", err)
	}
	return publish.New(client, channelName)
}

func sampleTrade(id string) trade.Trade {
	return trade.Trade{ID: id, Symbol: "AAPL", Price: "187.25", Size: 100, Side: trade.Buy, Seq: 1,
		Time: trade.FormatTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
}

func TestPublisher_SendsTradeAsJSONObject(t *testing.T) {
	emu := emulatortest.Start(t)
	p := newPublisher(t, emu, emu.Key)
	want := sampleTrade("t-1")

	if err := p.Publish(t.Context(), want); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	msgs := emu.Server.Messages(channelName)
	if len(msgs) != 1 {
		t.Fatalf("emulator recorded %d messages, want 1", len(msgs))
	}
	msg := msgs[0]
	if msg.ID != want.ID {
		t.Errorf("message id %q, want the trade id %q", msg.ID, want.ID)
	}
	if msg.Name != publish.EventName {
		t.Errorf("message name %q, want %q", msg.Name, publish.EventName)
	}
	if msg.Encoding != "" {
		t.Errorf("encoding left on the data %q, want none (a JSON object)", msg.Encoding)
	}
	var got trade.Trade
	if err := json.Unmarshal(msg.Data, &got); err != nil {
		t.Fatalf("data %s is not a trade object: %v", msg.Data, err)
	}
	if got != want {
		t.Errorf("data %+v, want %+v", got, want)
	}
}

func TestPublisher_RepeatedTradeDroppedByAbly(t *testing.T) {
	emu := emulatortest.Start(t)
	p := newPublisher(t, emu, emu.Key)
	tr := sampleTrade("t-repeat")

	for attempt := range 2 {
		if err := p.Publish(t.Context(), tr); err != nil {
			t.Fatalf("publish %d: %v", attempt, err)
		}
	}

	stats := emu.Server.Stats().Channels[channelName]
	if stats.Accepted != 1 {
		t.Errorf("accepted %d, want 1", stats.Accepted)
	}
	if stats.Duplicates != 1 {
		t.Errorf("duplicates %d, want 1 (same message id)", stats.Duplicates)
	}
}

func TestPublisher_ErrorsClassified(t *testing.T) {
	tests := []struct {
		name     string
		fault    emulator.Fault
		wantCode int
		want     publish.Outcome
	}{
		{name: "rate limit", fault: emulator.Fault{Status: 429, Code: 42910}, wantCode: 42910, want: publish.Retry},
		{name: "server error", fault: emulator.Fault{Status: 500, Code: 50000}, wantCode: 50000, want: publish.Retry},
		{name: "too large", fault: emulator.Fault{Status: 400, Code: 40009}, wantCode: 40009, want: publish.Reject},
		{name: "invalid data", fault: emulator.Fault{Status: 400, Code: 40013}, wantCode: 40013, want: publish.Reject},
		{name: "key revoked", fault: emulator.Fault{Status: 401, Code: 40131}, wantCode: 40131, want: publish.ConfigError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			p := newPublisher(t, emu, emu.Key)
			fault := tt.fault
			fault.Channel, fault.Count = channelName, 1
			if err := emu.Server.AddFault(fault); err != nil {
				t.Fatalf("AddFault: %v", err)
			}

			err := p.Publish(t.Context(), sampleTrade("t-fault"))
			if got := publish.Classify(err); got != tt.want {
				t.Errorf("Classify(%v) = %s, want %s", err, got, tt.want)
			}
			if got := publish.Code(err); got != tt.wantCode {
				t.Errorf("Code = %d, want %d", got, tt.wantCode)
			}
		})
	}
}

func TestPublisher_WrongKeyIsConfigError(t *testing.T) {
	emu := emulatortest.Start(t)
	p := newPublisher(t, emu, emulator.GenerateKey())

	err := p.Publish(t.Context(), sampleTrade("t-key"))
	if err == nil {
		t.Fatal("publish with an unknown key succeeded")
	}
	if got := publish.Classify(err); got != publish.ConfigError {
		t.Errorf("Classify(%v) = %s, want %s", err, got, publish.ConfigError)
	}
	if n := emu.Server.Stats().Channels[channelName].Accepted; n != 0 {
		t.Errorf("accepted %d messages, want 0", n)
	}
}

func TestNewClient_RejectsInvalidEndpoint(t *testing.T) {
	_, err := publish.NewClient(publish.ClientConfig{Key: "app.key:secret", Endpoint: "ftp://127.0.0.1"})
	if !errors.Is(err, publish.ErrInvalidEndpoint) {
		t.Errorf("NewClient error = %v, want ErrInvalidEndpoint", err)
	}
}
