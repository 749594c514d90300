package browser_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/devstack/browser"
	"github.com/ably-fanout/lib/trade"
)

// reconnectTimeout bounds the waits for ably-js to reconnect. ably-js 2.28
// retries a refused reconnect after 15 s or more (disconnectedRetryTimeout
// with backoff and jitter) and a suspended one after 30 s, so the default
// page timeout leaves too little margin on a loaded machine.
const reconnectTimeout = 3 * time.Minute

// missedText is the start of the missed-messages notice.
const missedText = "Messages may have been missed while disconnected."

// tradeSeries returns n trades that cycle through the symbols. The i-th
// trade of a symbol has seq first+i and a price that rises by 0.01 a trade.
func tradeSeries(symbols []string, first int64, n int) []trade.Trade {
	out := make([]trade.Trade, 0, n)
	for i := range n {
		symbol := symbols[i%len(symbols)]
		seq := first + int64(i/len(symbols))
		out = append(out, newTrade(symbol, fmt.Sprintf("%d.%02d", 100+seq/100, seq%100), seq, trade.Buy))
	}
	return out
}

func tradeIDs(trades []trade.Trade) []string {
	ids := make([]string, len(trades))
	for i, t := range trades {
		ids[i] = t.ID
	}
	return ids
}

// publishAll publishes the trades in batches of 10, in order.
func (p *publisher) publishAll(trades []trade.Trade) {
	p.tb.Helper()
	for start := 0; start < len(trades); start += 10 {
		p.publishBatch(trades[start:min(start+10, len(trades))])
	}
}

// tradesSeen returns the page's test hook: the ids of the trades it
// accepted, oldest first.
func tradesSeen(tb testing.TB, page *browser.Page) []string {
	tb.Helper()
	return browser.Eval[[]string](tb, page, `window.__tradesSeen`)
}

// waitTradesSeen waits until the page has accepted at least n trades.
func waitTradesSeen(tb testing.TB, page *browser.Page, n int) {
	tb.Helper()
	page.WaitFor(tb, fmt.Sprintf("%d trades accepted", n), fmt.Sprintf(`window.__tradesSeen.length >= %d`, n))
}

// checkEachOnce fails the test unless seen holds every id of want exactly
// once and nothing else.
func checkEachOnce(tb testing.TB, seen, want []string) {
	tb.Helper()
	counts := make(map[string]int, len(seen))
	for _, id := range seen {
		counts[id]++
	}
	for _, id := range want {
		switch counts[id] {
		case 1:
		case 0:
			tb.Errorf("trade %s is missing from the page", id)
		default:
			tb.Errorf("trade %s is held %d times, want once", id, counts[id])
		}
		delete(counts, id)
	}
	for id, count := range counts {
		tb.Errorf("page holds trade %s (%d times) that was not published", id, count)
	}
}

// isVisible reports whether the first element that the selector matches
// has a layout box, which an element hidden by its attribute or by CSS has
// not.
func isVisible(tb testing.TB, page *browser.Page, selector string) bool {
	tb.Helper()
	return browser.Eval[bool](tb, page, `(document.querySelector(`+jsonString(tb, selector)+`)?.getClientRects().length ?? 0) > 0`)
}

// waitHidden waits until the first element that the selector matches has
// no layout box.
func waitHidden(tb testing.TB, page *browser.Page, selector string) {
	tb.Helper()
	page.WaitFor(tb, selector+" hidden", `(document.querySelector(`+jsonString(tb, selector)+`)?.getClientRects().length ?? 0) === 0`)
}

// screenshotBoth saves a viewport screenshot at desktop and phone widths
// and leaves the page at desktop width.
func screenshotBoth(tb testing.TB, page *browser.Page, root, name string) {
	tb.Helper()
	dir := browser.ScreenshotDir(tb, root)
	tb.Logf("saved %s", page.ViewportScreenshot(tb, dir, name+"-desktop"))
	page.SetViewport(tb, browser.Phone)
	tb.Logf("saved %s", page.ViewportScreenshot(tb, dir, name+"-phone"))
	overflow := browser.Eval[int](tb, page, `document.documentElement.scrollWidth - window.innerWidth`)
	if overflow > 0 {
		tb.Errorf("%s: page is %d px wider than the phone viewport", name, overflow)
	}
	page.SetViewport(tb, browser.Desktop)
}

func TestClient_LateJoinerSeesRecentTrades(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	emu := startEmulator(t)
	base := serveClient(t, root, tokenRoutes(t, emu, tradesChannel, tradesChannel))
	pub := newPublisher(t, emu, tradesChannel)
	trades := tradeSeries([]string{"AAPL", "MSFT", "GOOG"}, 1, 70)
	pub.publishAll(trades)

	page := openConnectedPage(t, browser.Start(t), clientURL(base, nil))
	// The rewind param brings the last 50 messages with the attach.
	recent := trades[20:]
	page.WaitCount(t, "#trades li", 50)
	checkEachOnce(t, tradesSeen(t, page), tradeIDs(recent))
	page.WaitText(t, "#received", "50")

	checks := []struct{ selector, want string }{
		{"#trades li:first-child .trade-symbol", trades[69].Symbol},
		{"#trades li:first-child .trade-seq", fmt.Sprint(trades[69].Seq)},
		{"#trades li:last-child .trade-symbol", trades[20].Symbol},
		{"#trades li:last-child .trade-seq", fmt.Sprint(trades[20].Seq)},
		{`[data-symbol="AAPL"] .price`, trades[69].Price},
		{`[data-symbol="MSFT"] .price`, trades[67].Price},
		{`[data-symbol="GOOG"] .price`, trades[68].Price},
		{`[data-symbol="AAPL"] .change-value`, "+0.01"},
		{"#ignored", "0"},
		{"#recovered", "0"},
	}
	for _, check := range checks {
		page.WaitText(t, check.selector, check.want)
	}

	t.Run("chart per symbol", func(t *testing.T) {
		// AAPL has every third trade of the series, 17 of them among the
		// last 50: seq 8 to 24, priced 100.08 to 100.24.
		points := browser.Eval[int](t, page, `document.querySelector('[data-symbol="AAPL"] .chart-line').getAttribute("points").trim().split(/\s+/).length`)
		if points != 17 {
			t.Errorf("AAPL chart has %d points, want 17", points)
		}
		label := attribute(t, page, `[data-symbol="AAPL"] .chart`, "aria-label")
		if want := "AAPL: last 17 prices, low 100.08, high 100.24"; label != want {
			t.Errorf("AAPL chart label = %q, want %q", label, want)
		}
		if got := attribute(t, page, `[data-symbol="AAPL"] .chart`, "role"); got != "img" {
			t.Errorf("chart role = %q, want img", got)
		}
		// Prices rise, so each point is higher (smaller y) than the last.
		rising := browser.Eval[bool](t, page, `(() => {
			const ys = document.querySelector('[data-symbol="AAPL"] .chart-line').getAttribute("points").trim().split(/\s+/).map((p) => Number(p.split(",")[1]));
			return ys.every((y, i) => i === 0 || y < ys[i - 1]);
		})()`)
		if !rising {
			t.Errorf("AAPL chart does not rise with the prices")
		}
	})

	t.Run("no notices", func(t *testing.T) {
		for _, selector := range []string{"#connection-banner", "#missed-notice"} {
			if isVisible(t, page, selector) {
				t.Errorf("%s is visible on a healthy connection", selector)
			}
		}
	})

	screenshotBoth(t, page, root, "client-late-joiner")
}

func TestClient_DroppedConnectionResumes(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	emu := startEmulator(t)
	base := serveClient(t, root, tokenRoutes(t, emu, tradesChannel, tradesChannel))
	pub := newPublisher(t, emu, tradesChannel)
	page := openConnectedPage(t, browser.Start(t), clientURL(base, nil))
	page.Timeout = reconnectTimeout

	before := tradeSeries([]string{"AMZN", "TSLA"}, 1, 4)
	pub.publishAll(before)
	waitTradesSeen(t, page, 4)

	if err := emu.Server.PauseConnections(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if dropped := emu.Server.DropAll(); dropped != 1 {
		t.Fatalf("dropped %d connections, want 1", dropped)
	}
	page.WaitVisible(t, "#connection-banner")
	page.WaitText(t, "#connection-title", "Connection lost")
	if got := attribute(t, page, "#connection-banner", "data-state"); got != "disconnected" {
		t.Errorf("banner state = %q, want disconnected", got)
	}
	page.WaitFor(t, "a reason in the banner", `document.querySelector("#connection-reason").textContent.trim() !== ""`)
	waitReason(t, page, "#connection-hint", "Retrying in")
	screenshotBoth(t, page, root, "client-connection-lost")

	// Published while the page cannot connect, within the connection
	// state TTL, so the resumed connection replays them.
	during := tradeSeries([]string{"AMZN", "TSLA"}, 3, 10)
	pub.publishAll(during)
	emu.Server.EndPause()

	page.WaitText(t, "#connection-state", "connected")
	page.WaitText(t, "#channel-state", "attached")
	waitTradesSeen(t, page, 14)
	checkEachOnce(t, tradesSeen(t, page), tradeIDs(slices.Concat(before, during)))
	if got := emu.Server.Stats().Connections.Resumed; got != 1 {
		t.Errorf("resumed connections = %d, want 1", got)
	}
	waitHidden(t, page, "#connection-banner")
	if isVisible(t, page, "#missed-notice") {
		t.Errorf("missed-messages notice shown after a resume with continuity: %s", page.Text(t, "#missed-text"))
	}
	page.WaitText(t, "#recovered", "0")
	page.WaitText(t, "#ignored", "0")
	page.WaitText(t, `[data-symbol="AMZN"] .price`, during[8].Price)
}

func TestClient_MissedTradesFilledFromHistory(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	// The state of a dropped connection expires after 2 s. ably-js receives
	// the same TTL in CONNECTED and suspends the connection after 2 s.
	emu := emulatortest.Start(t, emulatortest.WithConfig(func(cfg *emulator.Config) {
		cfg.ChannelRate = 10000
		cfg.ConnectionStateTTL = 2 * time.Second
	}))
	base := serveClient(t, root, tokenRoutes(t, emu, tradesChannel, tradesChannel))
	pub := newPublisher(t, emu, tradesChannel)
	page := openConnectedPage(t, browser.Start(t), clientURL(base, nil))
	page.Timeout = reconnectTimeout

	symbols := []string{"NFLX", "META"}
	before := tradeSeries(symbols, 1, 6)
	pub.publishAll(before)
	waitTradesSeen(t, page, 6)

	if err := emu.Server.PauseConnections(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	emu.Server.DropAll()
	page.WaitVisible(t, "#connection-banner")
	// 80 missed trades: the rewind on reattach brings at most 50, so at
	// least 30 must come from history.
	during := tradeSeries(symbols, 4, 80)
	pub.publishAll(during)

	// Once ably-js has suspended the connection, more than the TTL has
	// passed since the drop, so the emulator has dropped the state and the
	// reconnect cannot resume.
	page.WaitText(t, "#connection-title", "Connection suspended")
	page.WaitText(t, "#channel-state", "suspended")
	if got := page.Text(t, "#channel-reason"); got != "" {
		t.Errorf("channel reason = %q, want none because the banner shows the connection's", got)
	}
	screenshotBoth(t, page, root, "client-connection-suspended")
	page.SetColorScheme(t, "dark")
	t.Logf("saved %s", page.ViewportScreenshot(t, browser.ScreenshotDir(t, root), "client-connection-suspended-dark"))
	page.SetColorScheme(t, "light")
	emu.Server.EndPause()

	page.WaitText(t, "#connection-state", "connected")
	page.WaitText(t, "#channel-state", "attached")
	page.WaitVisible(t, "#missed-notice")
	page.WaitFor(t, "history loaded", `document.querySelector("#missed-notice").getAttribute("data-state") === "recovered"`)
	text := page.Text(t, "#missed-text")
	if !strings.HasPrefix(text, missedText) {
		t.Errorf("notice = %q, want it to start with %q", text, missedText)
	}
	if got := emu.Server.Stats().Connections.ResumeFailed; got != 1 {
		t.Errorf("failed resumes = %d, want 1", got)
	}

	after := tradeSeries(symbols, 44, 4)
	pub.publishAll(after)
	all := slices.Concat(before, during, after)
	waitTradesSeen(t, page, len(all))
	checkEachOnce(t, tradesSeen(t, page), tradeIDs(all))

	var recovered int
	if _, err := fmt.Sscan(page.Text(t, "#recovered"), &recovered); err != nil {
		t.Fatalf("read #recovered: %v", err)
	}
	if recovered < 30 || recovered > 80 {
		t.Errorf("recovered = %d, want 30 to 80: at least the trades rewind could not bring", recovered)
	}
	if !strings.Contains(text, fmt.Sprintf("Recovered %d trades from history.", recovered)) {
		t.Errorf("notice = %q, want it to name the %d recovered trades", text, recovered)
	}
	last := after[len(after)-1]
	page.WaitText(t, "#trades li:first-child .trade-seq", fmt.Sprint(last.Seq))
	page.WaitText(t, fmt.Sprintf(`[data-symbol=%q] .price`, last.Symbol), last.Price)
	page.WaitCount(t, "#trades li", 50)
	// The list is in channel order: every row's seq is not greater than
	// the seq of the row above it of the same symbol.
	ordered := browser.Eval[bool](t, page, `(() => {
		const above = {};
		for (const row of document.querySelectorAll("#trades li")) {
			const symbol = row.querySelector(".trade-symbol").textContent;
			const seq = Number(row.querySelector(".trade-seq").textContent);
			if (symbol in above && seq >= above[symbol]) return false;
			above[symbol] = seq;
		}
		return true;
	})()`)
	if !ordered {
		t.Errorf("trade list is not newest first")
	}
	waitHidden(t, page, "#connection-banner")
	screenshotBoth(t, page, root, "client-missed-messages")

	t.Run("notice dismissed", func(t *testing.T) {
		if clicked := browser.Eval[bool](t, page, `(document.querySelector("#missed-dismiss").click(), true)`); !clicked {
			t.Fatal("click on Dismiss failed")
		}
		waitHidden(t, page, "#missed-notice")
	})
}
