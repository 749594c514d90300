package browser_test

import (
	"slices"
	"testing"

	"github.com/ably-fanout/devstack/browser"
)

// bookResult is what the scenarios below return from client/trades.js.
type bookResult struct {
	Results   []string       `json:"results"`
	Counters  map[string]int `json:"counters"`
	Accepted  []string       `json:"accepted"`
	Tape      []string       `json:"tape"`
	Price     string         `json:"price"`
	Seq       int            `json:"seq"`
	Points    []int          `json:"points"`
	Direction string         `json:"direction"`
}

// bookHelpers defines, in the page, msg(id, timestamp, trade) that builds an
// ably-js-like message, and summary(book, results, symbol) that reads a
// TradeBook into a bookResult.
const bookHelpers = `
	const msg = (id, timestamp, trade) => ({ id, name: "trade", timestamp, serial: "", data: trade });
	const trade = (id, symbol, seq, price) => ({ id, symbol, seq, price, size: 1, side: "buy", ts: "" });
	const summary = (book, results, symbol) => {
		const quote = book.quote(symbol) || { price: "", seq: 0, points: [], direction: "" };
		return {
			results,
			counters: { ...book.counters },
			accepted: book.acceptedIds(),
			tape: book.tape().map((entry) => entry.trade.id),
			price: quote.price,
			seq: quote.seq,
			points: quote.points.map((point) => point.seq),
			direction: quote.direction,
		};
	};
`

// TestTradeBook_LiveAndHistory runs client/trades.js in Chromium: the seq
// rule on the live path, and de-duplication and backfill on the history
// path.
func TestTradeBook_LiveAndHistory(t *testing.T) {
	root := repoRoot(t)
	base := serveClient(t, root, nil)
	page := browser.Start(t).NewPage(t, browser.Desktop)
	// The invalid tokenUrl stops the page before it connects anywhere.
	page.Open(t, base+"/client.html?tokenUrl=invalid")
	page.WaitFor(t, "trades.js loaded", `typeof TradeBook === "object"`)

	t.Run("live seq rule", func(t *testing.T) {
		got := browser.Eval[bookResult](t, page, `(() => {`+bookHelpers+`
			const book = TradeBook.create();
			const results = [
				book.addLive(msg("m1", 1000, trade("A-1", "A", 1, "10.00"))),
				book.addLive(msg("m2", 2000, trade("A-2", "A", 2, "10.50"))),
				book.addLive(msg("m3", 3000, trade("A-1", "A", 1, "10.00"))),
				book.addLive(msg("m4", 4000, trade("A-0", "A", 0, "9.00"))),
				book.addLive(msg("m5", 5000, "not json")),
				book.addLive(msg("m6", 6000, JSON.stringify(trade("A-3", "A", 3, "10.25")))),
			];
			return summary(book, results, "A");
		})()`)
		if want := []string{"accepted", "accepted", "stale", "stale", "invalid", "accepted"}; !slices.Equal(got.Results, want) {
			t.Errorf("results = %v, want %v", got.Results, want)
		}
		wantCounters := map[string]int{"received": 6, "ignored": 2, "invalid": 1, "recovered": 0, "duplicates": 0}
		for name, want := range wantCounters {
			if got.Counters[name] != want {
				t.Errorf("counter %s = %d, want %d", name, got.Counters[name], want)
			}
		}
		if want := []string{"A-1", "A-2", "A-3"}; !slices.Equal(got.Accepted, want) {
			t.Errorf("accepted = %v, want %v", got.Accepted, want)
		}
		if got.Price != "10.25" || got.Seq != 3 || got.Direction != "down" {
			t.Errorf("quote = %s seq %d %s, want 10.25 seq 3 down", got.Price, got.Seq, got.Direction)
		}
	})

	t.Run("history fills the gap once", func(t *testing.T) {
		got := browser.Eval[bookResult](t, page, `(() => {`+bookHelpers+`
			const book = TradeBook.create();
			book.addLive(msg("m1", 1000, trade("A-1", "A", 1, "10.00")));
			book.addLive(msg("m5", 5000, trade("A-5", "A", 5, "10.50")));
			// History after the gap, oldest first.
			const results = [
				book.addFromHistory(msg("m1", 1000, trade("A-1", "A", 1, "10.00"))),
				book.addFromHistory(msg("m2", 2000, trade("A-2", "A", 2, "10.10"))),
				book.addFromHistory(msg("other", 2500, trade("A-2", "A", 2, "10.10"))),
				book.addFromHistory(msg("m3", 3000, trade("", "A", 3, "10.20"))),
				book.addFromHistory(msg("m3b", 3100, trade("", "A", 3, "10.20"))),
				book.addFromHistory(msg("m4", 4000, { symbol: "A" })),
				book.addFromHistory(msg("m5", 5000, trade("A-5", "A", 5, "10.50"))),
				book.addFromHistory(msg("m6", 6000, trade("A-6", "A", 6, "10.60"))),
			];
			return summary(book, results, "A");
		})()`)
		want := []string{"duplicate", "recovered", "duplicate", "recovered", "duplicate", "invalid", "duplicate", "recovered"}
		if !slices.Equal(got.Results, want) {
			t.Errorf("results = %v, want %v", got.Results, want)
		}
		if got.Counters["recovered"] != 3 || got.Counters["duplicates"] != 4 || got.Counters["ignored"] != 0 {
			t.Errorf("counters = %v, want 3 recovered, 4 duplicates, 0 ignored", got.Counters)
		}
		if wantAccepted := []string{"A-1", "A-5", "A-2", "A#3", "A-6"}; !slices.Equal(got.Accepted, wantAccepted) {
			t.Errorf("accepted = %v, want %v", got.Accepted, wantAccepted)
		}
		// Older trades go below newer ones; only A-6 moved the last price.
		if wantTape := []string{"A-6", "A-5", "", "A-2", "A-1"}; !slices.Equal(got.Tape, wantTape) {
			t.Errorf("tape = %v, want %v", got.Tape, wantTape)
		}
		if got.Price != "10.60" || got.Seq != 6 {
			t.Errorf("quote = %s seq %d, want 10.60 seq 6", got.Price, got.Seq)
		}
		if wantPoints := []int{1, 2, 3, 5, 6}; !slices.Equal(got.Points, wantPoints) {
			t.Errorf("chart seqs = %v, want %v", got.Points, wantPoints)
		}
	})

	t.Run("bounded list and chart", func(t *testing.T) {
		got := browser.Eval[bookResult](t, page, `(() => {`+bookHelpers+`
			const book = TradeBook.create();
			for (let seq = 11; seq <= 80; seq++) {
				book.addLive(msg("m" + seq, seq * 1000, trade("A-" + seq, "A", seq, "1.00")));
			}
			// Older than every shown trade: accepted, but below the list.
			const results = [book.addFromHistory(msg("m5", 5000, trade("A-5", "A", 5, "1.00")))];
			return summary(book, results, "A");
		})()`)
		if !slices.Equal(got.Results, []string{"recovered"}) {
			t.Errorf("results = %v, want recovered", got.Results)
		}
		if len(got.Tape) != 50 {
			t.Fatalf("tape has %d entries, want 50", len(got.Tape))
		}
		if got.Tape[0] != "A-80" || got.Tape[49] != "A-31" {
			t.Errorf("tape runs from %s to %s, want A-80 to A-31", got.Tape[0], got.Tape[49])
		}
		if len(got.Points) != 60 {
			t.Fatalf("chart has %d points, want 60", len(got.Points))
		}
		if got.Points[0] != 21 || got.Points[59] != 80 {
			t.Errorf("chart runs from seq %d to %d, want 21 to 80", got.Points[0], got.Points[59])
		}
		if len(got.Accepted) != 71 {
			t.Fatalf("accepted %d trades, want 71", len(got.Accepted))
		}
		if got.Accepted[70] != "A-5" {
			t.Errorf("last accepted trade = %s, want A-5", got.Accepted[70])
		}
	})
}
