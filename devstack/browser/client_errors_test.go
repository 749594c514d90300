package browser_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ably-fanout/devstack/browser"
)

// waitReason waits until the reason element's text contains want.
func waitReason(tb testing.TB, page *browser.Page, selector, want string) {
	tb.Helper()
	page.WaitFor(tb, selector+" containing "+want,
		`(document.querySelector(`+jsonString(tb, selector)+`)?.textContent ?? "").includes(`+jsonString(tb, want)+`)`)
}

func TestClient_InvalidSettings(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)

	// Case i serves its /config under /case<i>/, so one server covers
	// every case.
	cases := []struct {
		name   string
		config string // body of /case<i>/config, empty when the page fails before fetching it
		token  string // tokenUrl, or empty for base/case<i>/token
		reason string
	}{
		{name: "javascript tokenUrl", token: "javascript:alert(1)", reason: "use an http or https URL"},
		{name: "tokenUrl without /token", token: "http://127.0.0.1:1/tokens", reason: "the path must end in /token"},
		{name: "config not an object", config: `[]`, reason: "invalid /config: expected a JSON object"},
		{name: "channel not a string", config: `{"channel":5,"ablyEndpoint":""}`, reason: "channel must be a string"},
		{name: "empty channel", config: `{"channel":"","ablyEndpoint":""}`, reason: "no channel: /config returned an empty channel and no channels list"},
		{name: "empty channels list", config: `{"channel":"","channelPattern":"trades:*","channels":[],"ablyEndpoint":""}`, reason: `an empty channels list for the pattern "trades:*"`},
		{name: "channels not a list", config: `{"channel":"","channels":"trades:AAPL","ablyEndpoint":""}`, reason: "channels must be an array of channel names"},
		{name: "empty channel in list", config: `{"channel":"","channels":["trades:AAPL",""],"ablyEndpoint":""}`, reason: `channels contains ""`},
		{name: "endpoint not http", config: `{"channel":"trades","ablyEndpoint":"ftp://127.0.0.1:21"}`, reason: "must be http://host:port or https://host:port"},
		{name: "endpoint not a URL", config: `{"channel":"trades","ablyEndpoint":"127.0.0.1:8081"}`, reason: "is not a URL"},
	}
	routes := map[string]http.Handler{}
	for i, tc := range cases {
		if tc.config == "" {
			continue
		}
		body := tc.config
		routes[fmt.Sprintf("GET /case%d/config", i)] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Access-Control-Allow-Origin", "*")
			_, _ = w.Write([]byte(body))
		})
	}
	base := serveClient(t, root, routes)
	b := browser.Start(t)

	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token
			if token == "" {
				token = fmt.Sprintf("%s/case%d/token", base, i)
			}
			page := b.NewPage(t, browser.Desktop)
			page.Open(t, base+"/client.html?"+url.Values{"tokenUrl": {token}}.Encode())

			page.WaitText(t, "#connection-state", "failed")
			waitReason(t, page, "#connection-reason", tc.reason)
			if got := page.Count(t, "#trades li"); got != 0 {
				t.Errorf("trade rows = %d, want 0", got)
			}
		})
	}
}

func TestClient_ChannelParameter(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	emu := startEmulator(t)
	// /config names "trades", but the token grants only "desk-2", so the
	// page can attach only when the channel parameter overrides /config.
	base := serveClient(t, root, tokenRoutes(t, emu, tradesChannel, "desk-2"))
	b := browser.Start(t)

	t.Run("override subscribes", func(t *testing.T) {
		page := openConnectedPage(t, b, clientURL(base, url.Values{"channel": {"desk-2"}}))
		if got := page.Text(t, "#channel-name"); got != "desk-2" {
			t.Errorf("channel name = %q, want desk-2", got)
		}
		newPublisher(t, emu, "desk-2").publish(newTrade("TSLA", "250.00", 1, "buy"))
		page.WaitText(t, `[data-symbol="TSLA"] .price`, "250.00")
	})

	t.Run("channel outside capability fails", func(t *testing.T) {
		page := b.NewPage(t, browser.Desktop)
		page.Open(t, clientURL(base, nil))
		page.WaitText(t, "#connection-state", "connected")

		page.WaitText(t, "#channel-state", "failed")
		waitReason(t, page, "#channel-reason", "code 40160")
	})
}

func TestClient_TokenEndpointFails(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	emu := startEmulator(t)
	routes := tokenRoutes(t, emu, tradesChannel, tradesChannel)
	routes["GET /token"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.Error(w, "publisher has no Ably key", http.StatusForbidden)
	})
	base := serveClient(t, root, routes)
	page := browser.Start(t).NewPage(t, browser.Desktop)
	page.Open(t, clientURL(base, nil))

	// ably-js 2.28 fails the connection when authUrl responds with 403.
	page.WaitText(t, "#connection-state", "failed")
	reason := page.Text(t, "#connection-reason")
	if !strings.Contains(reason, "403") {
		t.Errorf("connection reason = %q, want it to name status 403", reason)
	}
	page.WaitText(t, "#channel-state", "failed")
	if got := page.Text(t, "#channel-reason"); got != "" {
		t.Errorf("channel reason = %q, want none because the connection shows it", got)
	}
	t.Logf("saved %s", page.ViewportScreenshot(t, browser.ScreenshotDir(t, root), "client-failed"))
}

func TestClient_RetriesConfig(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	emu := startEmulator(t)
	routes := tokenRoutes(t, emu, tradesChannel, tradesChannel)
	// /config fails, as while the publisher starts, until the test has seen
	// the page report the failure.
	var ready atomic.Bool
	var requests atomic.Int32
	config := routes["GET /config"]
	routes["GET /config"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if !ready.Load() {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		config.ServeHTTP(w, r)
	})
	base := serveClient(t, root, routes)
	page := browser.Start(t).NewPage(t, browser.Desktop)
	page.Open(t, clientURL(base, nil))

	waitReason(t, page, "#connection-reason", "HTTP 503")
	ready.Store(true)
	page.WaitText(t, "#connection-state", "connected")
	page.WaitText(t, "#channel-state", "attached")
	if got := requests.Load(); got < 2 {
		t.Errorf("/config requests = %d, want at least 2", got)
	}
	if got := page.Text(t, "#connection-reason"); got != "" {
		t.Errorf("connection reason = %q after connecting, want none", got)
	}
}
