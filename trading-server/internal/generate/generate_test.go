package generate

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/lib/trade"
)

var testSymbols = []string{"AAPL", "MSFT", "GOOG", "AMZN", "TSLA"}

func fixedClock() time.Time { return time.Date(2025, 3, 14, 9, 30, 0, 123_000_000, time.UTC) }

func newTestGenerator(tb testing.TB, cfg Config, seed uint64) *Generator {
	tb.Helper()
	g, err := New(cfg, rand.New(rand.NewPCG(seed, seed)), fixedClock)
	if err != nil {
		tb.Fatalf("new generator: %v", err)
	}
	return g
}

func TestFormatTicks_ExactDecimal(t *testing.T) {
	cases := []struct {
		ticks int64
		want  string
	}{
		{1, "0.01"},
		{9, "0.09"},
		{10, "0.10"},
		{100, "1.00"},
		{18725, "187.25"},
		{100000000000, "1000000000.00"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := FormatTicks(tc.ticks); got != tc.want {
				t.Errorf("FormatTicks(%d) = %q, want %q", tc.ticks, got, tc.want)
			}
		})
	}
}

func TestGenerator_SameSeedSameTrades(t *testing.T) {
	cfg := Config{ProducerID: "p1", Symbols: testSymbols}
	a := newTestGenerator(t, cfg, 42)
	b := newTestGenerator(t, cfg, 42)
	c := newTestGenerator(t, cfg, 43)
	differs := false
	for i := range 1000 {
		ta, tb, tc := a.Next(), b.Next(), c.Next()
		if ta != tb {
			t.Fatalf("trade %d differs with the same seed:\n%+v\n%+v", i, ta, tb)
		}
		if ta != tc {
			differs = true
		}
	}
	if !differs {
		t.Error("seeds 42 and 43 produced the same 1000 trades")
	}
}

func TestGenerator_TradesAreValid(t *testing.T) {
	g := newTestGenerator(t, Config{ProducerID: "run-7.a_b", Symbols: testSymbols}, 1)
	pricePattern := regexp.MustCompile(`^(0|[1-9][0-9]*)\.[0-9]{2}$`)
	seen := map[string]bool{}
	lastSeq := map[string]int64{}
	for i := range 5000 {
		tr := g.Next()
		if err := tr.Validate(); err != nil {
			t.Fatalf("trade %d invalid: %v (%+v)", i, err, tr)
		}
		if !pricePattern.MatchString(tr.Price) {
			t.Fatalf("trade %d price %q is not a two-decimal string", i, tr.Price)
		}
		if want := "run-7.a_b-" + strconv.Itoa(i+1); tr.ID != want {
			t.Fatalf("trade %d id = %q, want %q", i, tr.ID, want)
		}
		if strings.Contains(tr.ID, ":") {
			t.Fatalf("trade %d id %q contains ':'", i, tr.ID)
		}
		if seen[tr.ID] {
			t.Fatalf("trade %d repeats id %q", i, tr.ID)
		}
		seen[tr.ID] = true
		if tr.Seq != lastSeq[tr.Symbol]+1 {
			t.Fatalf("trade %d %s seq = %d, want %d", i, tr.Symbol, tr.Seq, lastSeq[tr.Symbol]+1)
		}
		lastSeq[tr.Symbol] = tr.Seq
		if tr.Time != "2025-03-14T09:30:00.123Z" {
			t.Fatalf("trade %d ts = %q, want the injected clock", i, tr.Time)
		}
		if tr.Size < 1 || tr.Size > DefaultMaxSize {
			t.Fatalf("trade %d size = %d, want 1 to %d", i, tr.Size, DefaultMaxSize)
		}
	}
	if len(lastSeq) != len(testSymbols) {
		t.Errorf("trades used %d symbols, want all %d", len(lastSeq), len(testSymbols))
	}
}

func TestGenerator_JSONRoundTrip(t *testing.T) {
	g := newTestGenerator(t, Config{ProducerID: "p", Symbols: testSymbols}, 3)
	for range 100 {
		tr := g.Next()
		data, err := json.Marshal(tr)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := trade.Parse(data)
		if err != nil {
			t.Fatalf("parse %s: %v", data, err)
		}
		if back != tr {
			t.Fatalf("round trip changed the trade:\n%+v\n%+v", tr, back)
		}
	}
}

func TestGenerator_PriceNeverBelowOneTick(t *testing.T) {
	cfg := Config{ProducerID: "p", Symbols: []string{"PENNY"}, MinStartTicks: 1, MaxStartTicks: 3}
	g := newTestGenerator(t, cfg, 9)
	atFloor := 0
	for i := range 20000 {
		tr := g.Next()
		if tr.Price == "0.00" || strings.HasPrefix(tr.Price, "-") {
			t.Fatalf("trade %d price = %q, want at least 0.01", i, tr.Price)
		}
		if tr.Price == "0.01" {
			atFloor++
		}
	}
	if atFloor == 0 {
		t.Error("the walk never reached one tick, so the floor was not exercised")
	}
}

func TestGenerator_WalkMovesInSmallSteps(t *testing.T) {
	g := newTestGenerator(t, Config{ProducerID: "p", Symbols: []string{"ONE"}}, 5)
	prev := g.states[0].ticks
	for i := range 2000 {
		g.Next()
		cur := g.states[0].ticks
		if limit := max(prev/1000, 1); cur-prev > limit || prev-cur > limit {
			t.Fatalf("step %d moved from %d to %d ticks, more than %d", i, prev, cur, limit)
		}
		prev = cur
	}
}

func TestConfig_ValidateRejects(t *testing.T) {
	long := strings.Repeat("a", MaxProducerIDLength+1)
	cases := []struct {
		name string
		cfg  Config
		want error
	}{
		{"empty producer id", Config{Symbols: testSymbols}, ErrInvalidProducerID},
		{"producer id with colon", Config{ProducerID: "a:b", Symbols: testSymbols}, ErrInvalidProducerID},
		{"producer id with space", Config{ProducerID: "a b", Symbols: testSymbols}, ErrInvalidProducerID},
		{"producer id too long", Config{ProducerID: long, Symbols: testSymbols}, ErrInvalidProducerID},
		{"no symbols", Config{ProducerID: "p"}, ErrInvalidSymbols},
		{"lowercase symbol", Config{ProducerID: "p", Symbols: []string{"aapl"}}, ErrInvalidSymbols},
		{"repeated symbol", Config{ProducerID: "p", Symbols: []string{"A", "B", "A"}}, ErrInvalidSymbols},
		{"zero start ticks", Config{ProducerID: "p", Symbols: testSymbols, MinStartTicks: 0, MaxStartTicks: 5}, ErrInvalidRange},
		{"inverted start range", Config{ProducerID: "p", Symbols: testSymbols, MinStartTicks: 9, MaxStartTicks: 5}, ErrInvalidRange},
		{"negative max size", Config{ProducerID: "p", Symbols: testSymbols, MaxSize: -1}, ErrInvalidRange},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if !errors.Is(err, tc.want) {
				t.Errorf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestConfig_ValidateAcceptsLongestProducerID(t *testing.T) {
	cfg := Config{ProducerID: strings.Repeat("z", MaxProducerIDLength), Symbols: testSymbols}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
}

func TestRandomProducerID_Valid(t *testing.T) {
	id := RandomProducerID()
	if !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(id) {
		t.Errorf("RandomProducerID() = %q, want 8 hexadecimal characters", id)
	}
	if err := ValidateProducerID(id); err != nil {
		t.Errorf("ValidateProducerID(%q) = %v", id, err)
	}
}
