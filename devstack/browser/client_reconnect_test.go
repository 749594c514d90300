package browser_test

import (
	"testing"
	"time"

	"github.com/ably-fanout/devstack/browser"
	"github.com/ably-fanout/lib/trade"
)

// TestClient_RecoversAfterDisconnect drops the page's realtime connection
// at the emulator and checks that the page reconnects, reattaches and shows
// new trades with its state back to connected.
func TestClient_RecoversAfterDisconnect(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	emu := startEmulator(t)
	base := serveClient(t, root, tokenRoutes(t, emu, tradesChannel, tradesChannel))
	pub := newPublisher(t, emu, tradesChannel)
	page := openConnectedPage(t, browser.Start(t), clientURL(base, nil))

	pub.publish(newTrade("AMZN", "180.00", 1, trade.Buy))
	page.WaitText(t, `[data-symbol="AMZN"] .price`, "180.00")

	if closed := emu.Server.DisconnectAll(); closed != 1 {
		t.Fatalf("emulator closed %d realtime connections, want 1", closed)
	}

	// Trades published before the page has reattached are lost, as on
	// Ably without rewind, so publish one every 200 ms until one shows.
	const maxAttempts = 300
	tradeShown := false
	for seq := int64(2); seq < 2+maxAttempts && !tradeShown; seq++ {
		pub.publish(newTrade("AMZN", "181.00", seq, trade.Buy))
		time.Sleep(200 * time.Millisecond)
		tradeShown = page.Text(t, `[data-symbol="AMZN"] .price`) == "181.00"
	}
	if !tradeShown {
		t.Fatalf("no trade shown after %d publishes following the disconnect", maxAttempts)
	}
	page.WaitText(t, "#connection-state", "connected")
	page.WaitText(t, "#channel-state", "attached")
	if got := page.Text(t, "#ignored"); got != "0" {
		t.Errorf("ignored = %s, want 0", got)
	}
}
