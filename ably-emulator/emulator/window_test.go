package emulator

import (
	"testing"
	"time"
)

func TestSlidingWindow_Admit(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		atMillis int
		n        int
		want     bool
	}
	cases := []struct {
		name    string
		limit   int
		steps   []step
		wantMax int
	}{
		{"fills up to the limit", 3, []step{{0, 1, true}, {10, 1, true}, {20, 1, true}, {30, 1, false}}, 3},
		{"a batch over the rest is rejected whole", 3, []step{{0, 2, true}, {1, 2, false}, {2, 1, true}}, 3},
		{"a batch over the limit is never admitted", 3, []step{{0, 4, false}}, 0},
		{"an entry leaves exactly one second later", 2, []step{{0, 2, true}, {999, 1, false}, {1000, 2, true}}, 2},
		{"the window slides instead of resetting", 4, []step{{600, 3, true}, {1200, 1, true}, {1300, 1, false}, {1600, 3, true}}, 4},
		{"max counts a window that spans two seconds", 10, []step{{600, 3, true}, {1200, 3, true}, {2200, 2, true}}, 6},
		{"zero messages are always admitted", 1, []step{{0, 1, true}, {1, 0, true}}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newSlidingWindow(tc.limit)
			for i, s := range tc.steps {
				if got := w.admit(at(s.atMillis), s.n); got != s.want {
					t.Errorf("step %d: admit(%dms, %d) = %v, want %v", i, s.atMillis, s.n, got, s.want)
				}
			}
			if w.maxInAnySecond != tc.wantMax {
				t.Errorf("maxInAnySecond = %d, want %d", w.maxInAnySecond, tc.wantMax)
			}
		})
	}
}

func TestSlidingWindow_StaysBounded(t *testing.T) {
	w := newSlidingWindow(5)
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		w.admit(start.Add(time.Duration(i)*100*time.Millisecond), 1)
	}
	if len(w.times) != 5 {
		t.Errorf("ring buffer has %d slots, want 5", len(w.times))
	}
	if w.maxInAnySecond != 5 {
		t.Errorf("maxInAnySecond = %d, want 5", w.maxInAnySecond)
	}
}
