package stack

import "testing"

func TestChannelTotals_Template(t *testing.T) {
	stats := map[string]ChannelStats{
		"trades:AAPL": {Accepted: 30, Duplicates: 1, MaxInAnySecond: 20, Rejected: map[string]int64{"rate_limit": 2}},
		"trades:MSFT": {Accepted: 12, MaxInAnySecond: 41, Rejected: map[string]int64{"rate_limit": 1, "too_large": 1}},
		"other":       {Accepted: 500, MaxInAnySecond: 50},
		"trades:":     {Accepted: 7},
	}

	got := channelTotals(stats, "trades:{symbol}")
	if got.Accepted != 42 {
		t.Errorf("accepted = %d, want 30 + 12 from the routed channels", got.Accepted)
	}
	if got.Duplicates != 1 {
		t.Errorf("duplicates = %d, want 1", got.Duplicates)
	}
	if got.MaxInAnySecond != 41 {
		t.Errorf("max in any second = %d, want the busiest channel's 41", got.MaxInAnySecond)
	}
	if got.Rejected["rate_limit"] != 3 || got.Rejected["too_large"] != 1 {
		t.Errorf("rejected = %v, want rate_limit 3 and too_large 1", got.Rejected)
	}

	if plain := channelTotals(stats, "other"); plain.Accepted != 500 {
		t.Errorf("accepted of a plain channel = %d, want 500", plain.Accepted)
	}
}
