package e2e

import (
	"testing"

	"github.com/ably-fanout/devstack/browser"
	"github.com/ably-fanout/devstack/stack"
)

// TestBrowser_ShowsTradesFromWholeStack opens client.html as make run serves
// it: the page takes its token from a real publisher replica, connects to
// the emulator and shows the trades the trading server produced.
func TestBrowser_ShowsTradesFromWholeStack(t *testing.T) {
	if err := stack.CheckAblyJS(repoRoot); err != nil {
		t.Fatal(err)
	}
	s := startStack(t, stack.Options{
		Replicas: 2,
		TradingEnv: map[string]string{
			"MODE":           "burst",
			"PUBLISH_RATE":   "20",
			"BURST_INTERVAL": "1s",
			"TRADE_LIMIT":    "200",
			"PRODUCER_ID":    "browser",
		},
	})
	b := browser.Start(t)
	page := b.NewPage(t, browser.Desktop)
	page.Open(t, s.ClientURL())

	page.WaitText(t, "#connection-state", "connected")
	page.WaitText(t, "#ably-source", "local copy")
	page.WaitFor(t, "at least 20 trades in the list", `document.querySelectorAll("#trades li").length >= 20`)
	page.WaitFor(t, "a price card for AAPL", `document.querySelector('[data-symbol="AAPL"] .price') !== null`)
	dir := browser.ScreenshotDir(t, repoRoot)
	page.ViewportScreenshot(t, dir, "e2e-desktop")
	page.SetViewport(t, browser.Phone)
	page.ViewportScreenshot(t, dir, "e2e-phone")

	if n := page.Count(t, "#trades li"); n > 50 {
		t.Errorf("trade list shows %d rows, want at most 50", n)
	}
	if got := page.Text(t, "#invalid"); got != "0" {
		t.Errorf("page rejected %s messages from the real pipeline, want 0", got)
	}
}
