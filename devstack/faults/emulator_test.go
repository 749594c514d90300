package faults

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/lib/keys"
	"github.com/redis/go-redis/v9"
)

func channelStats(tb testing.TB, s *stack.Stack) stack.ChannelStats {
	tb.Helper()
	stats, err := stack.EmulatorStats(tb.Context(), s.EmulatorURL)
	if err != nil {
		tb.Fatal(err)
	}
	return stats[channelName]
}

func addFault(tb testing.TB, s *stack.Stack, fault stack.EmulatorFault) {
	tb.Helper()
	fault.Channel = channelName
	if err := stack.AddEmulatorFault(tb.Context(), s.EmulatorURL, fault); err != nil {
		tb.Fatal(err)
	}
}

// receivedCounts returns how many times the emulator accepted each trade
// on the channel, by the trade id in the message data. A batched publisher
// gives messages ids of the form <first trade id>:<index>, so the message
// id alone does not name the trade, and a trade sent twice under two
// message ids counts twice here.
func receivedCounts(tb testing.TB, s *stack.Stack) map[string]int {
	tb.Helper()
	msgs, err := stack.EmulatorMessages(tb.Context(), s.EmulatorURL, channelName)
	if err != nil {
		tb.Fatal(err)
	}
	counts := map[string]int{}
	for _, m := range msgs {
		var data struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(m.Data, &data); err != nil || data.ID == "" {
			tb.Fatalf("message %s has data %s, want a trade with an id (%v)", m.ID, m.Data, err)
		}
		counts[data.ID]++
	}
	return counts
}

// assertEachOnce checks that counts holds every id in want exactly once
// and no other id. source names where the counts come from.
func assertEachOnce(tb testing.TB, source string, counts map[string]int, want []string) {
	tb.Helper()
	missing, twice := 0, 0
	wanted := make(map[string]bool, len(want))
	for _, id := range want {
		wanted[id] = true
		switch n := counts[id]; {
		case n == 0:
			missing++
			if missing <= 10 {
				tb.Errorf("%s: trade %s never received", source, id)
			}
		case n > 1:
			twice++
			tb.Errorf("%s: trade %s received %d times", source, id, n)
		}
	}
	if missing > 10 {
		tb.Errorf("%s: %d trades never received in all", source, missing)
	}
	for id, n := range counts {
		if !wanted[id] {
			tb.Errorf("%s: unexpected message %s received %d times", source, id, n)
		}
	}
}

// tightestSpan returns the shortest time in which the emulator accepted
// limit+1 messages. Above one second, no second held more than limit.
func tightestSpan(tb testing.TB, s *stack.Stack, limit int) time.Duration {
	tb.Helper()
	msgs, err := stack.EmulatorMessages(tb.Context(), s.EmulatorURL, channelName)
	if err != nil {
		tb.Fatal(err)
	}
	times := make([]int64, len(msgs))
	for i, m := range msgs {
		times[i] = m.Timestamp
	}
	slices.Sort(times)
	tightest := time.Duration(math.MaxInt64)
	for i := 0; i+limit < len(times); i++ {
		tightest = min(tightest, time.Duration(times[i+limit]-times[i])*time.Millisecond)
	}
	return tightest
}

// limitFigures returns the figures of the rate for logFigures.
func limitFigures(tb testing.TB, s *stack.Stack, limit int) string {
	tb.Helper()
	return fmt.Sprintf("max_in_any_second=%d tightest_%d_messages=%s",
		channelStats(tb, s).MaxInAnySecond, limit+1, tightestSpan(tb, s, limit))
}

// assertWithinLimit checks that the emulator never saw more than limit
// messages in a second, and rejected none for its rate.
func assertWithinLimit(tb testing.TB, st stack.ChannelStats, limit int) {
	tb.Helper()
	if st.MaxInAnySecond > int64(limit) {
		tb.Errorf("emulator saw %d messages in one second, want at most %d", st.MaxInAnySecond, limit)
	}
	if n := st.Rejected["rate_limit"]; n != 0 {
		tb.Errorf("emulator rejected %d messages over its rate, want 0", n)
	}
}

// assertDrained checks that the queue and every replica's processing list
// are empty.
func assertDrained(tb testing.TB, s *stack.Stack, rdb *redis.Client) {
	tb.Helper()
	if n := listLen(tb, rdb, keys.Queue(queueKey)); n != 0 {
		tb.Errorf("queue holds %d trades after the run, want 0", n)
	}
	for _, p := range s.Publishers {
		if n := listLen(tb, rdb, processingKey(p)); n != 0 {
			tb.Errorf("processing list of %s holds %d trades after the run, want 0", p.ID, n)
		}
	}
}

// waitDelivered waits until the emulator accepted n distinct messages and
// the queue and the running replicas' processing lists are empty.
func waitDelivered(tb testing.TB, s *stack.Stack, rdb *redis.Client, n int) {
	tb.Helper()
	waitFor(tb, 3*time.Minute, "every trade to be published", func() (bool, string) {
		st := channelStats(tb, s)
		if st.Accepted < int64(n) {
			return false, fmt.Sprintf("accepted %d of %d", st.Accepted, n)
		}
		left := listLen(tb, rdb, keys.Queue(queueKey))
		for _, p := range s.Publishers {
			left += listLen(tb, rdb, processingKey(p))
		}
		return left == 0, fmt.Sprintf("%d trades still in Redis", left)
	})
}

// deadEntry is one dead-letter entry as the publisher writes it.
type deadEntry struct {
	Payload  string `json:"payload"`
	Encoding string `json:"encoding"`
	Reason   string `json:"reason"`
	Code     int    `json:"code"`
	Replica  string `json:"replica"`
}

func deadEntries(tb testing.TB, rdb *redis.Client) []deadEntry {
	tb.Helper()
	raws, err := rdb.LRange(tb.Context(), keys.Dead(queueKey), 0, -1).Result()
	if err != nil {
		tb.Fatalf("LRANGE dead-letter list: %v", err)
	}
	entries := make([]deadEntry, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal([]byte(raw), &entries[i]); err != nil {
			tb.Fatalf("dead-letter entry %d is not JSON: %v", i, err)
		}
	}
	return entries
}
