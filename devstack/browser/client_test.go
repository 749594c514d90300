package browser_test

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/devstack/browser"
	"github.com/ably-fanout/lib/trade"
)

const tradesChannel = "trades"

// startEmulator starts an emulator whose channel rate limit is far above
// what these tests publish, because the limit is not what they test.
func startEmulator(tb testing.TB) *emulatortest.Instance {
	tb.Helper()
	return emulatortest.Start(tb, emulatortest.WithConfig(func(cfg *emulator.Config) {
		cfg.ChannelRate = 10000
	}))
}

// clientURL returns the page's address on base with tokenUrl pointing at
// base/token and the extra query parameters.
func clientURL(base string, extra url.Values) string {
	query := url.Values{"tokenUrl": {base + "/token"}}
	for name, values := range extra {
		query[name] = values
	}
	return base + "/client.html?" + query.Encode()
}

// openConnectedPage opens the page and waits until its channel is attached,
// so that no message published afterwards is missed.
func openConnectedPage(tb testing.TB, b *browser.Browser, pageURL string) *browser.Page {
	tb.Helper()
	page := b.NewPage(tb, browser.Desktop)
	page.Open(tb, pageURL)
	page.WaitText(tb, "#connection-state", "connected")
	page.WaitText(tb, "#channel-state", "attached")
	return page
}

func TestClient_ShowsLiveTrades(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	emu := startEmulator(t)
	base := serveClient(t, root, tokenRoutes(t, emu, tradesChannel, tradesChannel))
	pub := newPublisher(t, emu, tradesChannel)
	page := openConnectedPage(t, browser.Start(t), clientURL(base, nil))

	if got := page.Text(t, "#ably-source"); got != "local copy" {
		t.Errorf("ably-js source = %q, want %q", got, "local copy")
	}
	if got := page.Text(t, "#channel-name"); got != tradesChannel {
		t.Errorf("channel name = %q, want %q", got, tradesChannel)
	}

	t.Run("last price and change per symbol", func(t *testing.T) {
		pub.publish(newTrade("AAPL", "189.10", 1, trade.Buy))
		pub.publish(newTrade("MSFT", "411.00", 1, trade.Sell))
		pub.publish(newTrade("AAPL", "189.25", 2, trade.Buy))
		pub.publish(newTrade("MSFT", "410.50", 2, trade.Sell))
		page.WaitCount(t, "#trades li", 4)

		checks := []struct{ selector, want string }{
			{`[data-symbol="AAPL"] .price`, "189.25"},
			{`[data-symbol="AAPL"] .change-value`, "+0.15"},
			{`[data-symbol="AAPL"] .change-percent`, "(+0.08%)"},
			{`[data-symbol="AAPL"] .arrow`, "▲"},
			{`[data-symbol="MSFT"] .price`, "410.50"},
			{`[data-symbol="MSFT"] .change-value`, "-0.50"},
			{`[data-symbol="MSFT"] .change-percent`, "(-0.12%)"},
			{`[data-symbol="MSFT"] .arrow`, "▼"},
			{"#trades li:first-child .trade-symbol", "MSFT"},
			{"#trades li:first-child .trade-price", "410.50"},
			{"#trades li:first-child .trade-seq", "2"},
			{"#trades li:first-child .trade-time", "15:04:05.002"},
			{"#trades li:last-child .trade-symbol", "AAPL"},
			{"#trades li:last-child .trade-seq", "1"},
			{"#received", "4"},
			{"#ignored", "0"},
			{"#invalid", "0"},
			{"#connection-state", "connected"},
		}
		for _, check := range checks {
			page.WaitText(t, check.selector, check.want)
		}
		if got := attribute(t, page, `[data-symbol="AAPL"]`, "data-direction"); got != "up" {
			t.Errorf("AAPL data-direction = %q, want up", got)
		}
		if got := attribute(t, page, `[data-symbol="MSFT"]`, "data-direction"); got != "down" {
			t.Errorf("MSFT data-direction = %q, want down", got)
		}
		if got := page.Count(t, "#quotes .quote"); got != 2 {
			t.Errorf("quote cards = %d, want 2", got)
		}
	})

	t.Run("chart and accepted trades", func(t *testing.T) {
		label := attribute(t, page, `[data-symbol="AAPL"] .chart`, "aria-label")
		if want := "AAPL: last 2 prices, low 189.10, high 189.25"; label != want {
			t.Errorf("AAPL chart label = %q, want %q", label, want)
		}
		points := browser.Eval[int](t, page, `document.querySelector('[data-symbol="MSFT"] .chart-line').getAttribute("points").trim().split(/\s+/).length`)
		if points != 2 {
			t.Errorf("MSFT chart has %d points, want 2", points)
		}
		want := []string{"AAPL-1", "MSFT-1", "AAPL-2", "MSFT-2"}
		if got := tradesSeen(t, page); !slices.Equal(got, want) {
			t.Errorf("window.__tradesSeen = %v, want %v", got, want)
		}
		for _, selector := range []string{"#connection-banner", "#missed-notice"} {
			if isVisible(t, page, selector) {
				t.Errorf("%s is visible on a healthy connection", selector)
			}
		}
	})

	t.Run("stale and repeated seq ignored", func(t *testing.T) {
		pub.publish(newTrade("AAPL", "1.00", 1, trade.Sell)) // stale
		pub.publish(newTrade("AAPL", "2.00", 2, trade.Sell)) // repeated
		// The channel keeps order, so once this trade shows, the two
		// before it have been handled.
		pub.publish(newTrade("MSFT", "410.75", 3, trade.Buy))
		page.WaitText(t, "#trades li:first-child .trade-seq", "3")

		page.WaitText(t, "#ignored", "2")
		page.WaitText(t, "#received", "7")
		if got := page.Text(t, `[data-symbol="AAPL"] .price`); got != "189.25" {
			t.Errorf("AAPL price = %q after stale trades, want 189.25", got)
		}
		if got := page.Count(t, "#trades li"); got != 5 {
			t.Errorf("trade rows = %d, want 5", got)
		}
		if got := len(tradesSeen(t, page)); got != 5 {
			t.Errorf("accepted trades = %d, want 5: stale trades are not accepted", got)
		}
	})

	t.Run("markup shown as text", func(t *testing.T) {
		hostile := trade.Trade{
			ID:     `"><img src=x id=from-id>`,
			Symbol: `<img src=x onerror="window.injected=true">`,
			Price:  `<b>1</b>`,
			Size:   1,
			Side:   `<script>window.injected=true</script>`,
			Seq:    1,
			Time:   `<img src=y onerror="window.injected=true">`,
		}
		pub.publish(hostile)
		page.WaitText(t, "#trades li:first-child .trade-symbol", hostile.Symbol)

		page.WaitText(t, "#trades li:first-child .trade-price", hostile.Price)
		page.WaitText(t, "#trades li:first-child .trade-side", hostile.Side)
		page.WaitText(t, "#trades li:first-child .trade-time", hostile.Time)
		if got := page.Count(t, "img"); got != 0 {
			t.Errorf("page has %d img elements, want 0", got)
		}
		if got := page.Count(t, "b"); got != 0 {
			t.Errorf("page has %d b elements, want 0", got)
		}
		scripts := browser.Eval[[]string](t, page, `[...document.scripts].map((s) => s.getAttribute("src") || "inline")`)
		slices.Sort(scripts)
		if want := []string{"ably.min.js", "channels.js", "chart.js", "client.js", "continuity.js", "decimal.js", "notices.js", "setup.js", "trades.js"}; !slices.Equal(scripts, want) {
			t.Errorf("scripts = %q, want %q", scripts, want)
		}
		if browser.Eval[bool](t, page, `window.injected === true`) {
			t.Error("markup in a trade ran script")
		}
		hasCard := browser.Eval[bool](t, page, `[...document.querySelectorAll("#quotes .quote")].some((card) => card.getAttribute("data-symbol") === `+jsonString(t, hostile.Symbol)+`)`)
		if !hasCard {
			t.Errorf("no quote card for symbol %q", hostile.Symbol)
		}
	})

	t.Run("string data decoded", func(t *testing.T) {
		pub.publish(`{"id":"g1","symbol":"GOOG","price":"140.05","size":10,"side":"buy","seq":1,"ts":"2026-12-04T15:04:06.000Z"}`)
		page.WaitText(t, `[data-symbol="GOOG"] .price`, "140.05")
	})

	t.Run("invalid messages rejected", func(t *testing.T) {
		pub.publish("not json")
		pub.publish(map[string]any{"symbol": "NOSEQ", "price": "1.00"})
		pub.publish(map[string]any{"symbol": "NUMPRICE", "price": 1.5, "seq": 1})
		pub.publish(newTrade("GOOG", "140.00", 2, trade.Sell))
		page.WaitText(t, `[data-symbol="GOOG"] .price`, "140.00")

		page.WaitText(t, "#invalid", "3")
		page.WaitText(t, `[data-symbol="GOOG"] .change-value`, "-0.05")
		if got := page.Count(t, `[data-symbol="NOSEQ"], [data-symbol="NUMPRICE"]`); got != 0 {
			t.Errorf("invalid trades made %d quote cards, want 0", got)
		}
	})

	t.Run("list keeps the newest 50", func(t *testing.T) {
		batch := make([]trade.Trade, 60)
		for i := range batch {
			seq := int64(i + 1)
			batch[i] = newTrade("BULK", fmt.Sprintf("10.%02d", seq), seq, trade.Buy)
		}
		pub.publishBatch(batch)
		page.WaitText(t, "#trades li:first-child .trade-seq", "60")

		page.WaitText(t, `[data-symbol="BULK"] .price`, "10.60")
		if got := page.Count(t, "#trades li"); got != 50 {
			t.Errorf("trade rows = %d, want 50", got)
		}
		if got := page.Text(t, "#trades li:last-child .trade-seq"); got != "11" {
			t.Errorf("oldest row seq = %q, want 11", got)
		}
		page.WaitText(t, "#received", "73")
	})

	t.Run("rate shown", func(t *testing.T) {
		// The value depends on timing, so only its form is checked.
		rate := page.Text(t, "#rate")
		if !regexp.MustCompile(`^\d+\.\d$`).MatchString(rate) {
			t.Errorf("rate = %q, want a number with one decimal", rate)
		}
	})

	t.Run("screenshots", func(t *testing.T) {
		dir := browser.ScreenshotDir(t, root)
		t.Logf("saved %s", page.ViewportScreenshot(t, dir, "client-desktop"))
		t.Logf("saved %s", page.Screenshot(t, dir, "client-desktop-full"))
		page.SetViewport(t, browser.Phone)
		t.Logf("saved %s", page.ViewportScreenshot(t, dir, "client-phone"))
		t.Logf("saved %s", page.Screenshot(t, dir, "client-phone-full"))
		page.SetColorScheme(t, "dark")
		t.Logf("saved %s", page.ViewportScreenshot(t, dir, "client-phone-dark"))

		overflow := browser.Eval[int](t, page, `document.documentElement.scrollWidth - window.innerWidth`)
		if overflow > 0 {
			t.Errorf("page is %d px wider than the phone viewport", overflow)
		}
	})

	t.Run("console clean", func(t *testing.T) {
		for _, message := range page.ConsoleMessages() {
			if message.IsException() || message.Type == "error" || strings.Contains(message.Text, "Content Security Policy") {
				t.Errorf("console %s: %s", message.Type, message.Text)
			}
		}
	})
}

// attribute returns the attribute of the first element that the selector
// matches, or "" when either is missing.
func attribute(tb testing.TB, page *browser.Page, selector, name string) string {
	tb.Helper()
	return browser.Eval[string](tb, page, `document.querySelector(`+jsonString(tb, selector)+`)?.getAttribute(`+jsonString(tb, name)+`) ?? ""`)
}
