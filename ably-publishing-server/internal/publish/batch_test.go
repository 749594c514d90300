package publish_test

import (
	"encoding/json"
	"testing"

	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/lib/trade"
)

// encodeAll returns the JSON payloads of trades, as the trading server
// pushes them.
func encodeAll(tb testing.TB, trades []trade.Trade) []string {
	tb.Helper()
	payloads := make([]string, len(trades))
	for i, t := range trades {
		data, err := json.Marshal(t)
		if err != nil {
			tb.Fatal(err)
		}
		payloads[i] = string(data)
	}
	return payloads
}

func TestPublishBatch_SendsPayloadsAsJSON(t *testing.T) {
	emu := emulatortest.Start(t)
	client, err := publish.NewClient(publish.ClientConfig{Key: emu.Key, Endpoint: emu.URL})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	trades := []trade.Trade{sampleTrade("batch-1"), sampleTrade("batch-2"), sampleTrade("batch-3")}
	payloads := encodeAll(t, trades)
	// A payload with invalid UTF-8 is sent as the encoded trade.
	payloads[2] = `{"id":"batch-3","symbol":"AAPL","price":"187.25","size":100,"side":"buy","seq":1,"ts":"` + trades[2].Time + `","x":"` + "\xff" + `"}`

	if err := publish.NewBatchPublisher(client).PublishBatch(t.Context(), channelName, "batch-1", trades, payloads); err != nil {
		t.Fatalf("PublishBatch: %v", err)
	}

	msgs := emu.Server.Messages(channelName)
	if len(msgs) != len(trades) {
		t.Fatalf("emulator recorded %d messages, want %d", len(msgs), len(trades))
	}
	for i, msg := range msgs {
		if want := publish.BatchMessageID("batch-1", i); msg.ID != want {
			t.Errorf("message %d has id %q, want %q", i, msg.ID, want)
		}
		if msg.Encoding != "" {
			t.Errorf("message %d left encoding %q on the data, want none (a JSON object)", i, msg.Encoding)
		}
		var got trade.Trade
		if err := json.Unmarshal(msg.Data, &got); err != nil {
			t.Fatalf("message %d data %s is not a trade object: %v", i, msg.Data, err)
		}
		if got != trades[i] {
			t.Errorf("message %d data %+v, want %+v", i, got, trades[i])
		}
	}
}

func TestPublishBatch_PayloadCountMismatch(t *testing.T) {
	emu := emulatortest.Start(t)
	client, err := publish.NewClient(publish.ClientConfig{Key: emu.Key, Endpoint: emu.URL})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	trades := []trade.Trade{sampleTrade("batch-1"), sampleTrade("batch-2")}
	err = publish.NewBatchPublisher(client).PublishBatch(t.Context(), channelName, "batch-1", trades, encodeAll(t, trades[:1]))
	if err == nil {
		t.Fatal("PublishBatch with 1 payload for 2 trades returned no error")
	}
	if n := len(emu.Server.Messages(channelName)); n != 0 {
		t.Errorf("emulator recorded %d messages, want none", n)
	}
}

func TestFitPrefix_CutsAtMaxBytes(t *testing.T) {
	payloads := []string{"aaaa", "bbbb", "cccc"}
	size := publish.MessageSize("aaaa")
	tests := []struct {
		maxBytes int
		want     int
	}{
		{maxBytes: 3 * size, want: 3},
		{maxBytes: 3*size - 1, want: 2},
		{maxBytes: size, want: 1},
		{maxBytes: 1, want: 1},
	}
	for _, tt := range tests {
		if got := publish.FitPrefix(payloads, tt.maxBytes); got != tt.want {
			t.Errorf("FitPrefix(3 payloads of %d bytes, %d) = %d, want %d", size, tt.maxBytes, got, tt.want)
		}
	}
	if got := publish.FitPrefix(nil, 10); got != 0 {
		t.Errorf("FitPrefix(nil) = %d, want 0", got)
	}
}
