package browser_test

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/ably-fanout/devstack/browser"
	"github.com/ably-fanout/devstack/stack"
)

// cdnAblyURL is where client.js loads ably-js from when the local copy is
// missing.
const cdnAblyURL = "https://cdn.ably.com/lib/ably.min-2.js"

// TestClient_OpenedFromDisk opens client.html as a file. No ably.min.js is
// next to it, so the page must fall back to Ably's CDN. The tab responds to
// the CDN request with the npm copy of ably-js, so the test stays on
// loopback.
func TestClient_OpenedFromDisk(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	pagePath := filepath.Join(root, "client", "client.html")
	if _, err := os.Stat(filepath.Join(root, "client", "ably.min.js")); err == nil {
		t.Fatalf("client/ably.min.js exists, so the page would not fall back to the CDN; remove it")
	}
	ablyJS, err := os.ReadFile(filepath.Join(root, stack.AblyJSPath))
	if err != nil {
		t.Fatal(err)
	}

	emu := startEmulator(t)
	base := serveClient(t, root, tokenRoutes(t, emu, tradesChannel, tradesChannel))
	page := browser.Start(t).NewPage(t, browser.Desktop)
	page.Fulfill(t, cdnAblyURL, "text/javascript", ablyJS)

	fileURL := url.URL{Scheme: "file", Path: pagePath, RawQuery: url.Values{"tokenUrl": {base + "/token"}}.Encode()}
	page.Open(t, fileURL.String())
	page.WaitText(t, "#connection-state", "connected")
	page.WaitText(t, "#channel-state", "attached")

	if got := page.Text(t, "#ably-source"); got != "CDN" {
		t.Errorf("ably-js source = %q, want CDN", got)
	}
	newPublisher(t, emu, tradesChannel).publish(newTrade("NVDA", "120.50", 1, "buy"))
	page.WaitText(t, `[data-symbol="NVDA"] .price`, "120.50")
	page.WaitText(t, "#trades li:first-child .trade-symbol", "NVDA")
}
