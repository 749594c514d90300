package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
)

// TestPipeline_DeadLettersTooLargeForAbly checks the path where the
// trade is valid but Ably rejects it with 40009 and status 413.
func TestPipeline_DeadLettersTooLargeForAbly(t *testing.T) {
	s := startStack(t, stack.Options{
		Replicas:        1,
		NoTradingServer: true,
		EmulatorEnv:     map[string]string{"EMULATOR_MAX_MESSAGE_SIZE": "100"},
	})
	rdb := redisClient(t, s)
	payload := `{"id":"too-large-1","symbol":"AAPL","price":"187.25","size":10,"side":"buy","seq":1,"ts":"2026-12-04T10:00:00.000Z"}`
	if err := rdb.RPush(t.Context(), keys.Queue("myJobQueue"), payload).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the trade to reach the dead-letter list", func() (bool, string) {
		n := rdb.LLen(t.Context(), keys.Dead("myJobQueue")).Val()
		return n == 1, fmt.Sprintf("dead-letter list length %d", n)
	})
	raw, err := rdb.LIndex(t.Context(), keys.Dead("myJobQueue"), 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	var entry struct {
		Payload string `json:"payload"`
		Code    int    `json:"code"`
	}
	if err := json.Unmarshal([]byte(raw), &entry); err != nil {
		t.Fatalf("dead-letter entry is not JSON: %v", err)
	}
	if entry.Code != 40009 {
		t.Errorf("dead-letter entry has code %d, want 40009", entry.Code)
	}
	if entry.Payload != payload {
		t.Errorf("dead-letter entry holds %q, want the original payload", entry.Payload)
	}
	if st := channelStats(t, s, "trades"); st.Accepted != 0 {
		t.Errorf("emulator accepted %d messages, want 0", st.Accepted)
	}
}
