package emulator

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestParseSerial_ReadsBackPosition(t *testing.T) {
	cases := []position{{1, 0}, {42, 7}, {1_234_567, 999}, {0, 0}}
	for _, want := range cases {
		serial := formatSerial(1_700_000_000_000, "emulator-abc", want)
		got, ok := parseSerial(serial, "emulator-abc")
		if !ok || got != want {
			t.Errorf("parseSerial(%q) = %+v, %v; want %+v, true", serial, got, ok, want)
		}
	}
}

func TestParseSerial_RejectsForeignSerials(t *testing.T) {
	cases := []string{
		"",
		"abc",
		formatSerial(1, "emulator-other", position{3, 0}),
		"00000000000001-000003@emulator-abc",
		"00000000000001-x@emulator-abc:000",
		"00000000000001-000003@emulator-abc:-1",
		"000003@emulator-abc:000",
	}
	for _, serial := range cases {
		if got, ok := parseSerial(serial, "emulator-abc"); ok {
			t.Errorf("parseSerial(%q) = %+v, true; want false", serial, got)
		}
	}
}

// filledHistory returns a buffer of limit that was given n messages, the
// i-th (from 1) with id "m<i>", timestamp i*1000 and position (i, 0).
func filledHistory(limit, n int) *historyBuffer {
	b := newHistoryBuffer(limit)
	for i := 1; i <= n; i++ {
		b.add(&Message{ID: "m" + strconv.Itoa(i), Timestamp: int64(i) * 1000}, position{sequence: uint64(i)})
	}
	return b
}

func ids(entries []historyEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.message.ID
	}
	return out
}

func TestHistoryBuffer_AfterReportsGap(t *testing.T) {
	b := filledHistory(3, 5) // keeps m3, m4, m5; m2 was the last dropped
	cases := []struct {
		name         string
		from         position
		wantIDs      []string
		wantComplete bool
	}{
		{"nothing missed", position{5, 0}, []string{}, true},
		{"two missed", position{3, 0}, []string{"m4", "m5"}, true},
		{"from the last dropped", position{2, 0}, []string{"m3", "m4", "m5"}, true},
		{"dropped message missed", position{1, 0}, []string{"m3", "m4", "m5"}, false},
		{"from the start", position{}, []string{"m3", "m4", "m5"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, complete := b.after(tc.from)
			if got := ids(entries); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("after(%+v) ids = %v, want %v", tc.from, got, tc.wantIDs)
			}
			if complete != tc.wantComplete {
				t.Errorf("after(%+v) complete = %v, want %v", tc.from, complete, tc.wantComplete)
			}
		})
	}
}

func TestHistoryBuffer_Query(t *testing.T) {
	b := filledHistory(10, 12) // keeps m3..m12
	cursor := position{sequence: 8}
	until := position{sequence: 6}
	cases := []struct {
		name     string
		query    historyQuery
		wantIDs  []string
		wantMore bool
	}{
		{"newest first", historyQuery{limit: 3}, []string{"m12", "m11", "m10"}, true},
		{"forwards", historyQuery{limit: 3, forwards: true}, []string{"m3", "m4", "m5"}, true},
		{"whole buffer", historyQuery{limit: 100}, []string{"m12", "m11", "m10", "m9", "m8", "m7", "m6", "m5", "m4", "m3"}, false},
		{"exact fit has no more", historyQuery{limit: 10}, []string{"m12", "m11", "m10", "m9", "m8", "m7", "m6", "m5", "m4", "m3"}, false},
		{"time bounds inclusive", historyQuery{limit: 100, start: 5000, end: 7000}, []string{"m7", "m6", "m5"}, false},
		{"start only", historyQuery{limit: 100, start: 11000}, []string{"m12", "m11"}, false},
		{"until serial", historyQuery{limit: 2, until: &until}, []string{"m6", "m5"}, true},
		{"next page backwards", historyQuery{limit: 2, cursor: &cursor}, []string{"m7", "m6"}, true},
		{"next page forwards", historyQuery{limit: 3, forwards: true, cursor: &cursor}, []string{"m9", "m10", "m11"}, true},
		{"empty range", historyQuery{limit: 5, start: 20000}, []string{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, more := b.query(tc.query)
			if got := ids(entries); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("ids = %v, want %v", got, tc.wantIDs)
			}
			if more != tc.wantMore {
				t.Errorf("more = %v, want %v", more, tc.wantMore)
			}
		})
	}
}

func TestParseRewind_Values(t *testing.T) {
	cases := []struct {
		raw          string
		wantCount    int
		wantInterval time.Duration
		wantErr      bool
	}{
		{"20", 20, 0, false},
		{"0", 0, 0, false},
		{"10s", 0, 10 * time.Second, false},
		{"2m", 0, 2 * time.Minute, false},
		{"soon", 0, 0, true},
		{"-1", 0, 0, true},
		{"+5", 0, 0, true},
		{"05", 0, 0, true},
		{"1.5s", 0, 0, true},
		{"10h", 0, 0, true},
		{"s", 0, 0, true},
		{"99999999999999999999m", 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			got, errInfo := parseRewind(tc.raw)
			if tc.wantErr {
				if errInfo == nil || errInfo.Code != codeInvalidParameterValue {
					t.Fatalf("parseRewind(%q) error = %+v, want code %d", tc.raw, errInfo, codeInvalidParameterValue)
				}
				return
			}
			if errInfo != nil {
				t.Fatalf("parseRewind(%q) error = %v", tc.raw, errInfo)
			}
			if got.count != tc.wantCount || got.interval != tc.wantInterval || got.raw != tc.raw {
				t.Errorf("parseRewind(%q) = %+v, want count %d interval %s", tc.raw, got, tc.wantCount, tc.wantInterval)
			}
		})
	}
	if got, errInfo := parseRewind(""); got != nil || errInfo != nil {
		t.Errorf("parseRewind(\"\") = %+v, %v; want nil, nil", got, errInfo)
	}
}

func TestRewind_SelectsMostRecent(t *testing.T) {
	b := filledHistory(10, 12) // keeps m3..m12, timestamps 3s..12s
	now := time.UnixMilli(12_500)
	cases := []struct {
		name          string
		rewind        rewind
		limit         int
		wantIDs       []string
		wantTruncated bool
	}{
		{"count", rewind{count: 3}, 100, []string{"m10", "m11", "m12"}, false},
		{"count over the kept messages", rewind{count: 50}, 100, []string{"m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11", "m12"}, false},
		{"count over the limit", rewind{count: 5}, 2, []string{"m11", "m12"}, true},
		{"zero count", rewind{count: 0}, 100, []string{}, false},
		{"interval", rewind{interval: 2 * time.Second}, 100, []string{"m11", "m12"}, false},
		{"interval over the limit", rewind{interval: time.Minute}, 4, []string{"m9", "m10", "m11", "m12"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, truncated := tc.rewind.selectFrom(b, now, tc.limit)
			if got := ids(entries); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("ids = %v, want %v", got, tc.wantIDs)
			}
			if truncated != tc.wantTruncated {
				t.Errorf("truncated = %v, want %v", truncated, tc.wantTruncated)
			}
		})
	}
}
