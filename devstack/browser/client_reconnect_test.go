package browser_test

import (
	"testing"

	"github.com/ably-fanout/devstack/browser"
	"github.com/ably-fanout/lib/trade"
)

// TestClient_ResumesAfterServerDisconnect sends DISCONNECTED to the page's
// realtime connection, as Ably does before maintenance, and checks that the
// page resumes it: the trades published meanwhile arrive, each once, and
// no missed-messages notice appears.
func TestClient_ResumesAfterServerDisconnect(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	emu := startEmulator(t)
	base := serveClient(t, root, tokenRoutes(t, emu, tradesChannel, tradesChannel))
	pub := newPublisher(t, emu, tradesChannel)
	page := openConnectedPage(t, browser.Start(t), clientURL(base, nil))

	first := newTrade("AMZN", "180.00", 1, trade.Buy)
	pub.publish(first)
	page.WaitText(t, `[data-symbol="AMZN"] .price`, "180.00")

	if closed := emu.Server.DisconnectAll(); closed != 1 {
		t.Fatalf("emulator closed %d realtime connections, want 1", closed)
	}
	// Whether the page is still reconnecting or already back, none of
	// these may be lost or shown twice.
	during := tradeSeries([]string{"AMZN"}, 2, 5)
	pub.publishAll(during)

	waitTradesSeen(t, page, 6)
	checkEachOnce(t, tradesSeen(t, page), append([]string{first.ID}, tradeIDs(during)...))
	page.WaitText(t, "#connection-state", "connected")
	page.WaitText(t, "#channel-state", "attached")
	page.WaitText(t, `[data-symbol="AMZN"] .price`, during[4].Price)
	if got := page.Text(t, "#ignored"); got != "0" {
		t.Errorf("ignored = %s, want 0", got)
	}
	if got := emu.Server.Stats().Connections.Resumed; got != 1 {
		t.Errorf("resumed connections = %d, want 1", got)
	}
	if isVisible(t, page, "#missed-notice") {
		t.Errorf("missed-messages notice shown after a resume: %s", page.Text(t, "#missed-text"))
	}
}
