package browser_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ably-fanout/devstack/browser"
	"github.com/ably-fanout/devstack/stack"
	"github.com/ably-fanout/devstack/stacktest"
	"github.com/ably-fanout/lib/trade"
)

// routedTemplate is the CHANNEL_NAME that sends each symbol's trades to a
// channel of its own.
const routedTemplate = "trades:{symbol}"

// startRoutedStack starts a publisher that routes trades by symbol to
// trades:<symbol> and lists those channels in /config. The emulator and
// the publisher allow 1000 messages a second per channel, because the
// limits are not what these tests check. One replica publishes the trades
// in queue order. Two replicas can publish a symbol's trades out of seq
// order, and then the page ignores the older one as stale.
func startRoutedStack(tb testing.TB, root string, symbols []string) *stack.Stack {
	tb.Helper()
	return startStack(tb, root, stack.Options{
		Replicas:  1,
		Channel:   routedTemplate,
		RateLimit: 1000,
		PublisherEnv: map[string]string{
			"SYMBOLS":            strings.Join(symbols, ","),
			"CHANNEL_RATE_LIMIT": "1000",
			"ACCOUNT_RATE_LIMIT": "1000",
		},
		EmulatorEnv: map[string]string{"EMULATOR_CHANNEL_RATE": "10000"},
	})
}

func routedChannels(symbols []string) []string {
	channels := make([]string, len(symbols))
	for i, symbol := range symbols {
		channels[i] = "trades:" + symbol
	}
	return channels
}

// waitAccepted waits until the emulator has accepted want messages on
// each channel, so that every pushed trade was published.
func waitAccepted(tb testing.TB, s *stack.Stack, want map[string]int) {
	tb.Helper()
	stacktest.WaitFor(tb, reconnectTimeout, "the emulator to accept every trade", func() (bool, string) {
		stats, err := stack.EmulatorStats(tb.Context(), s.EmulatorURL)
		if err != nil {
			return false, err.Error()
		}
		var state []string
		done := true
		for channel, n := range want {
			got := int(stats[channel].Accepted)
			state = append(state, fmt.Sprintf("%s %d of %d", channel, got, n))
			done = done && got == n
		}
		slices.Sort(state)
		return done, strings.Join(state, ", ")
	})
}

// checkLastPrices fails the test unless each symbol's card shows the price
// of the symbol's last trade in trades.
func checkLastPrices(tb testing.TB, page *browser.Page, trades []trade.Trade) {
	tb.Helper()
	last := map[string]string{}
	for _, t := range trades {
		last[t.Symbol] = t.Price
	}
	for symbol, price := range last {
		page.WaitText(tb, fmt.Sprintf(`[data-symbol=%q] .price`, symbol), price)
	}
}

// historyChannels returns the channels whose history the page requested,
// read from the Resource Timing entries of ably-js's REST requests to
// /channels/<name>/messages.
func historyChannels(tb testing.TB, page *browser.Page) []string {
	tb.Helper()
	return browser.Eval[[]string](tb, page, `(() => {
		const names = new Set();
		for (const entry of performance.getEntriesByType("resource")) {
			const match = /\/channels\/([^/?]+)\/messages/.exec(new URL(entry.name).pathname);
			if (match !== null) names.add(decodeURIComponent(match[1]));
		}
		return [...names].sort();
	})()`)
}

func TestClient_RoutedChannelsFromStack(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	symbols := []string{"AAPL", "AMZN", "GOOG", "META", "MSFT", "NFLX"}
	channels := routedChannels(symbols)
	s := startRoutedStack(t, root, symbols)
	publisherURL := s.Publishers[0].URL

	t.Run("config and token", func(t *testing.T) {
		var config struct {
			Channel        string   `json:"channel"`
			ChannelPattern string   `json:"channelPattern"`
			Channels       []string `json:"channels"`
		}
		getJSON(t, publisherURL+"/config", &config)
		if config.Channel != "" {
			t.Errorf("/config channel = %q, want empty", config.Channel)
		}
		if config.ChannelPattern != "trades:*" {
			t.Errorf("/config channelPattern = %q, want trades:*", config.ChannelPattern)
		}
		if !slices.Equal(config.Channels, channels) {
			t.Errorf("/config channels = %v, want %v", config.Channels, channels)
		}

		var token struct {
			Capability string `json:"capability"`
		}
		getJSON(t, publisherURL+"/token", &token)
		var capability map[string][]string
		if err := json.Unmarshal([]byte(token.Capability), &capability); err != nil {
			t.Fatalf("decode capability %q: %v", token.Capability, err)
		}
		if len(capability) != 1 {
			t.Errorf("token capability = %s, want one resource, trades:*", token.Capability)
		}
		operations := slices.Sorted(slices.Values(capability["trades:*"]))
		if want := []string{"history", "subscribe"}; !slices.Equal(operations, want) {
			t.Errorf("token capability on trades:* = %v, want %v", operations, want)
		}
	})

	page := openConnectedPage(t, browser.Start(t), s.ClientURL())
	if got := page.Text(t, "#channel-name"); got != "trades:*" {
		t.Errorf("channel name = %q, want trades:*", got)
	}
	if got := page.Text(t, "#channel-summary"); got != "Following 6 channels" {
		t.Errorf("channel summary = %q, want Following 6 channels", got)
	}
	listed := browser.Eval[[]string](t, page, `[...document.querySelectorAll("#channel-names li")].map((item) => item.textContent)`)
	if !slices.Equal(listed, channels) {
		t.Errorf("listed channels = %v, want %v", listed, channels)
	}

	trades := tradeSeries(symbols, 1, 60)
	pushTrades(t, s, trades)
	waitAccepted(t, s, map[string]int{
		"trades:AAPL": 10, "trades:AMZN": 10, "trades:GOOG": 10,
		"trades:META": 10, "trades:MSFT": 10, "trades:NFLX": 10,
	})

	t.Run("every trade once", func(t *testing.T) {
		waitTradesSeen(t, page, len(trades))
		page.WaitText(t, "#received", strconv.Itoa(len(trades)))
		checkEachOnce(t, tradesSeen(t, page), tradeIDs(trades))
		checkLastPrices(t, page, trades)
		if got := page.Text(t, "#ignored"); got != "0" {
			t.Errorf("stale count = %s, want 0", got)
		}
		if got := page.Count(t, "#quotes .quote"); got != len(symbols) {
			t.Errorf("quote cards = %d, want %d", got, len(symbols))
		}
		page.WaitFor(t, "a message rate above 0", `Number(document.querySelector("#rate").textContent) > 0`)
	})

	t.Run("stale trade ignored", func(t *testing.T) {
		// A trade with a new id but an old seq passes the emulator's
		// idempotency check and reaches the page, which ignores it. The
		// fresh trade after it on the same channel shows that it was
		// handled.
		stale := newTrade("GOOG", "1.00", 5, trade.Sell)
		stale.ID = "GOOG-stale"
		fresh := newTrade("GOOG", "200.00", 11, trade.Buy)
		pushTrades(t, s, []trade.Trade{stale, fresh})
		page.WaitText(t, `[data-symbol="GOOG"] .price`, fresh.Price)
		page.WaitText(t, "#ignored", "1")
		page.WaitText(t, "#received", strconv.Itoa(len(trades)+2))
		trades = append(trades, fresh)
		checkEachOnce(t, tradesSeen(t, page), tradeIDs(trades))
	})

	t.Run("late joiner rewinds each channel", func(t *testing.T) {
		// Each channel holds at most 12 messages, fewer than the 50 that
		// rewind brings, so the late page starts with all of them.
		late := openConnectedPage(t, browser.Start(t), s.ClientURL())
		waitTradesSeen(t, late, len(trades))
		// The stale trade comes after GOOG's seq 10 in the channel, so the
		// late page ignores it too.
		late.WaitText(t, "#received", strconv.Itoa(len(trades)+1))
		late.WaitText(t, "#ignored", "1")
		checkEachOnce(t, tradesSeen(t, late), tradeIDs(trades))
		checkLastPrices(t, late, trades)
	})

	screenshotBoth(t, page, root, "client-routed")
}

func TestClient_RoutedGapFillsOneChannel(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	symbols := []string{"AAPL", "GOOG", "MSFT"}
	s := startRoutedStack(t, root, symbols)
	page := openConnectedPage(t, browser.Start(t), s.ClientURL())

	before := tradeSeries(symbols, 1, 6)
	pushTrades(t, s, before)
	waitTradesSeen(t, page, len(before))
	page.Timeout = reconnectTimeout

	// The page stays disconnected while the trades below are published.
	// It resumes its connection within the emulator's connection state
	// TTL (2 minutes), so each channel's missed messages are replayed, up
	// to 100 a channel. trades:AAPL misses 130, so it reattaches without
	// continuity and its gap must come from history. The other channels
	// miss 5 each and keep continuity.
	emulatorControl(t, s, "POST", "/_emulator/pause", `{"durationMs":600000}`)
	if body := emulatorControl(t, s, "POST", "/_emulator/drop", ""); !strings.Contains(body, `"dropped":1`) {
		t.Fatalf("drop response = %s, want 1 connection dropped", body)
	}
	page.WaitVisible(t, "#connection-banner")

	var during []trade.Trade
	for i := range 130 {
		seq := int64(3 + i)
		during = append(during, newTrade("AAPL", fmt.Sprintf("%d.%02d", 100+seq/100, seq%100), seq, trade.Buy))
	}
	during = append(during, tradeSeries([]string{"GOOG", "MSFT"}, 3, 10)...)
	pushTrades(t, s, during)
	waitAccepted(t, s, map[string]int{"trades:AAPL": 132, "trades:GOOG": 7, "trades:MSFT": 7})
	emulatorControl(t, s, "DELETE", "/_emulator/pause", "")

	page.WaitText(t, "#connection-state", "connected")
	page.WaitText(t, "#channel-state", "attached")
	page.WaitFor(t, "history loaded", `document.querySelector("#missed-notice").getAttribute("data-state") === "recovered"`)
	all := slices.Concat(before, during)
	waitTradesSeen(t, page, len(all))
	checkEachOnce(t, tradesSeen(t, page), tradeIDs(all))
	checkLastPrices(t, page, all)

	var stats struct {
		Connections struct {
			Resumed      int `json:"resumed"`
			ResumeFailed int `json:"resumeFailed"`
		} `json:"connections"`
	}
	getJSON(t, s.EmulatorURL+"/_emulator/stats", &stats)
	if stats.Connections.Resumed != 1 {
		t.Errorf("resumed connections = %d, want 1", stats.Connections.Resumed)
	}
	if stats.Connections.ResumeFailed != 0 {
		t.Errorf("failed resumes = %d, want 0", stats.Connections.ResumeFailed)
	}

	if got := historyChannels(t, page); !slices.Equal(got, []string{"trades:AAPL"}) {
		t.Errorf("history read for channels %v, want only trades:AAPL", got)
	}
	text := page.Text(t, "#missed-text")
	if !strings.HasPrefix(text, missedText) {
		t.Errorf("notice = %q, want it to start with %q", text, missedText)
	}
	// The counters show on the next animation frame after the fill.
	page.WaitFor(t, "recovered trades counted", `document.querySelector("#recovered").textContent !== "0"`)
	recovered, err := strconv.Atoi(page.Text(t, "#recovered"))
	if err != nil {
		t.Fatalf("read #recovered: %v", err)
	}
	// Rewind brings the newest 50 of the 130 missed trades of AAPL, so
	// history adds the other 80, or all 130 when it is read before the
	// rewound messages arrive.
	if recovered < 80 || recovered > 130 {
		t.Errorf("recovered = %d, want 80 to 130", recovered)
	}
	if want := fmt.Sprintf("trades:AAPL: Recovered %d trades from history.", recovered); !strings.Contains(text, want) {
		t.Errorf("notice = %q, want it to contain %q", text, want)
	}
	for _, channel := range []string{"trades:GOOG", "trades:MSFT"} {
		if strings.Contains(text, channel) {
			t.Errorf("notice = %q names %s, which kept continuity", text, channel)
		}
	}
	if got := page.Text(t, "#channel-reason"); got != "" {
		t.Errorf("channel reason = %q, want none because the notice reports the gap", got)
	}
	waitHidden(t, page, "#connection-banner")
	screenshotBoth(t, page, root, "client-routed-missed-messages")
}

// routedOverrideURL returns the page's address with the channel
// parameter set to channel.
func routedOverrideURL(s *stack.Stack, channel string) string {
	return s.ClientURL() + "&" + url.Values{"channel": {channel}}.Encode()
}

func TestClient_RoutedChannelParameter(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	symbols := []string{"AAPL", "MSFT"}
	s := startRoutedStack(t, root, symbols)
	page := openConnectedPage(t, browser.Start(t), routedOverrideURL(s, "trades:MSFT"))
	if got := page.Text(t, "#channel-name"); got != "trades:MSFT" {
		t.Errorf("channel name = %q, want trades:MSFT", got)
	}
	if isVisible(t, page, "#channel-list") {
		t.Errorf("channel list is visible for one channel")
	}

	trades := tradeSeries(symbols, 1, 4)
	pushTrades(t, s, trades)
	waitAccepted(t, s, map[string]int{"trades:AAPL": 2, "trades:MSFT": 2})
	// The channel keeps order, so once MSFT's last trade shows, every
	// message of trades:MSFT has arrived.
	page.WaitText(t, `[data-symbol="MSFT"] .price`, trades[3].Price)
	checkEachOnce(t, tradesSeen(t, page), []string{trades[1].ID, trades[3].ID})
	if got := page.Count(t, `[data-symbol="AAPL"]`); got != 0 {
		t.Errorf("AAPL cards = %d, want 0: the page follows trades:MSFT only", got)
	}
}
