package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/trade"
)

func TestPipeline_DeadLettersMalformedAndGoesOn(t *testing.T) {
	s := startStack(t, stack.Options{Replicas: 1, NoTradingServer: true})
	rdb := redisClient(t, s)
	valid := trade.Trade{
		ID: "after-bad-1", Symbol: "AAPL", Price: "187.25", Size: 10,
		Side: trade.Buy, Seq: 1, Time: trade.FormatTime(time.Now()),
	}
	validJSON, err := json.Marshal(valid)
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{"not json", `{"price":"abc"}`, "", strings.Repeat("x", 1<<20)}
	entries := append(append([]any{}, toAny(bad)...), string(validJSON))
	if err := rdb.RPush(t.Context(), keys.Queue("myJobQueue"), entries...).Err(); err != nil {
		t.Fatal(err)
	}

	waitFor(t, time.Minute, "the valid trade to be published", func() (bool, string) {
		st := channelStats(t, s, "trades")
		return st.Accepted >= 1, "nothing accepted yet"
	})
	msgs := receivedMessages(t, s, "trades")
	if len(msgs) != 1 {
		t.Fatalf("emulator received %d messages, want 1", len(msgs))
	}
	var got trade.Trade
	if err := json.Unmarshal(msgs[0].Data, &got); err != nil {
		t.Fatalf("decode published trade: %v", err)
	}
	if got != valid {
		t.Errorf("published trade = %+v, want %+v", got, valid)
	}

	dead, err := rdb.LRange(t.Context(), keys.Dead("myJobQueue"), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != len(bad) {
		t.Fatalf("dead-letter list holds %d entries, want %d", len(dead), len(bad))
	}
	for i, raw := range dead {
		var entry struct {
			Payload string `json:"payload"`
			Reason  string `json:"reason"`
		}
		if err := json.Unmarshal([]byte(raw), &entry); err != nil {
			t.Fatalf("dead-letter entry %d is not JSON: %v", i, err)
		}
		if entry.Payload != bad[i] {
			t.Errorf("dead-letter entry %d holds a payload of %d bytes, want the original %d bytes",
				i, len(entry.Payload), len(bad[i]))
		}
		if entry.Reason == "" {
			t.Errorf("dead-letter entry %d has no reason", i)
		}
	}
	if !s.Publishers[0].Running() {
		t.Errorf("publisher exited: %v", s.Publishers[0].ExitErr())
	}
}

func toAny(items []string) []any {
	out := make([]any, len(items))
	for i, s := range items {
		out[i] = s
	}
	return out
}
