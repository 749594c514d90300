package e2e

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/trade"
)

func TestPipeline_DeliversBurstOnceWithinLimit(t *testing.T) {
	const (
		trades    = 1000
		rateLimit = 50
		replicas  = 3
		// margin must exceed how much the delay from admission in Redis to
		// arrival at the emulator varies. On a shared 2-core machine that
		// runs six processes of the stack, stalls of over 50 ms (the
		// default) were seen to put a 51st message into one second.
		margin = 150 * time.Millisecond
	)
	s := startStack(t, stack.Options{
		Replicas:        replicas,
		RateLimit:       rateLimit,
		NoTradingServer: true,
		EmulatorEnv:     map[string]string{"EMULATOR_CHANNEL_RATE": strconv.Itoa(rateLimit)},
		PublisherEnv:    map[string]string{"RATE_MARGIN": margin.String()},
	})
	start := time.Now()
	err := s.StartTradingServer(map[string]string{
		"MODE":         "burst",
		"PUBLISH_RATE": strconv.Itoa(trades),
		"TRADE_LIMIT":  strconv.Itoa(trades),
		"PRODUCER_ID":  "e2e",
	})
	if err != nil {
		t.Fatal(err)
	}
	// The limiter spaces admissions by RATE_WINDOW plus RATE_MARGIN, and the
	// first window's admissions go out at once.
	window := time.Second + margin
	required := time.Duration(trades/rateLimit-1) * window
	waitFor(t, 3*required+time.Minute, "every trade to reach the emulator", func() (bool, string) {
		st := channelStats(t, s, "trades")
		return st.Accepted >= trades, "accepted " + strconv.FormatInt(st.Accepted, 10)
	})
	elapsed := time.Since(start)

	msgs := receivedMessages(t, s, "trades")
	seen := map[string]int{}
	for _, m := range msgs {
		var tr trade.Trade
		if err := json.Unmarshal(m.Data, &tr); err != nil {
			t.Fatalf("message %s has data %s, want a trade object: %v", m.ID, m.Data, err)
		}
		if m.Name != "trade" {
			t.Errorf("message %s has name %q, want trade", m.ID, m.Name)
		}
		seen[tr.ID]++
	}
	for _, id := range tradeIDs("e2e", trades) {
		switch seen[id] {
		case 0:
			t.Errorf("trade %s never reached the emulator", id)
		case 1:
		default:
			t.Errorf("trade %s reached the emulator %d times", id, seen[id])
		}
	}
	if len(seen) != trades {
		t.Errorf("emulator received %d distinct trades, want %d", len(seen), trades)
	}

	st := channelStats(t, s, "trades")
	if st.MaxInAnySecond > rateLimit {
		t.Errorf("max messages in any 1 s window = %d, want at most %d", st.MaxInAnySecond, rateLimit)
	}
	if st.Rejected["rate_limit"] != 0 {
		t.Errorf("emulator rejected %d publishes for rate, want 0", st.Rejected["rate_limit"])
	}
	if st.Duplicates != 0 {
		t.Errorf("emulator dropped %d duplicate ids, want 0 in a run without faults", st.Duplicates)
	}
	// A generous bound that still catches a limiter running far below its
	// limit; the exact figure is measured by make bench.
	limit := time.Duration(math.Ceil(1.25*required.Seconds()))*time.Second + 10*time.Second
	if elapsed > limit {
		t.Errorf("delivering %d trades at %d/s took %s, want at most %s", trades, rateLimit, elapsed, limit)
	}
	t.Logf("delivered %d trades in %s (the limit requires about %s); max in any second %d",
		trades, elapsed.Round(time.Millisecond), required, st.MaxInAnySecond)

	rdb := redisClient(t, s)
	for _, key := range []string{keys.Queue("myJobQueue"), keys.Dead("myJobQueue")} {
		if n := rdb.LLen(t.Context(), key).Val(); n != 0 {
			t.Errorf("%s holds %d entries after the run, want 0", key, n)
		}
	}
	for _, p := range s.Publishers {
		key := keys.Processing("myJobQueue", p.ID)
		if n := rdb.LLen(t.Context(), key).Val(); n != 0 {
			t.Errorf("%s holds %d entries after the run, want 0", key, n)
		}
	}
}
