package emulator

import (
	"testing"
	"time"
)

func TestIdempotencyIndex_ExpiresAfterWindow(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	x := newIdempotencyIndex(time.Minute)
	x.add("a", start)
	x.add("b", start.Add(30*time.Second))

	if !x.contains("a", start.Add(59*time.Second)) {
		t.Errorf("a forgotten before its window ended")
	}
	if x.contains("a", start.Add(time.Minute)) {
		t.Errorf("a still remembered when its window ended")
	}
	if !x.contains("b", start.Add(time.Minute)) {
		t.Errorf("b forgotten before its window ended")
	}
	if x.contains("c", start) {
		t.Errorf("c was never added")
	}
}

func TestIdempotencyIndex_ReAddedIDKeepsNewExpiry(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	x := newIdempotencyIndex(time.Minute)
	x.add("a", start)
	x.add("a", start.Add(time.Minute))
	if !x.contains("a", start.Add(90*time.Second)) {
		t.Errorf("re-added id expired with its first entry")
	}
}

func TestIdempotencyIndex_StaysBounded(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	x := newIdempotencyIndex(time.Second)
	for i := range 100_000 {
		now := start.Add(time.Duration(i) * time.Millisecond)
		x.contains("probe", now)
		x.add(string(rune('a'+i%26))+string(rune(i)), now)
	}
	if x.size() > 1001 {
		t.Errorf("index holds %d ids, want at most the 1001 of the last second", x.size())
	}
	if len(x.queue) > 2*1001+1 {
		t.Errorf("queue holds %d entries, want it compacted", len(x.queue))
	}
}
