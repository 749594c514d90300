package emulator_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// publishNumbered publishes n messages named "m<first>" to "m<first+n-1>"
// with data "d<i>", one publish each, and returns their names in order.
func publishNumbered(tb testing.TB, channel *ably.RESTChannel, first, n int) []string {
	tb.Helper()
	names := make([]string, 0, n)
	for i := first; i < first+n; i++ {
		name := fmt.Sprintf("m%d", i)
		if err := channel.Publish(testContext(tb), name, fmt.Sprintf("d%d", i)); err != nil {
			tb.Fatalf("publish %s: %v", name, err)
		}
		names = append(names, name)
	}
	return names
}

// historyPages reads every page of a history request and returns the
// message names of each page.
func historyPages(tb testing.TB, request ably.HistoryRequest) [][]string {
	tb.Helper()
	pages, err := request.Pages(testContext(tb))
	if err != nil {
		tb.Fatalf("history: %v", err)
	}
	var out [][]string
	const maxPages = 100
	for len(out) < maxPages && pages.Next(testContext(tb)) {
		var names []string
		for _, m := range pages.Items() {
			names = append(names, m.Name)
		}
		out = append(out, names)
	}
	if err := pages.Err(); err != nil {
		tb.Fatalf("history page %d: %v", len(out)+1, err)
	}
	return out
}

func reversed(names []string) []string {
	out := slices.Clone(names)
	slices.Reverse(out)
	return out
}

func TestHistory_AblyGoPagesThrough(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			client := newREST(t, emu, ably.WithUseBinaryProtocol(protocol.binary))
			channel := client.Channels.Get("trades")
			names := publishNumbered(t, channel, 1, 25)

			t.Run("backwards by default", func(t *testing.T) {
				pages := historyPages(t, channel.History(ably.HistoryWithLimit(10)))
				want := reversed(names)
				wantPages := [][]string{want[:10], want[10:20], want[20:]}
				if !slices.EqualFunc(pages, wantPages, slices.Equal) {
					t.Errorf("pages = %v, want %v", pages, wantPages)
				}
			})

			t.Run("forwards", func(t *testing.T) {
				pages := historyPages(t, channel.History(ably.HistoryWithLimit(20), ably.HistoryWithDirection(ably.Forwards)))
				wantPages := [][]string{names[:20], names[20:]}
				if !slices.EqualFunc(pages, wantPages, slices.Equal) {
					t.Errorf("pages = %v, want %v", pages, wantPages)
				}
			})

			t.Run("items decoded", func(t *testing.T) {
				items, err := channel.History(ably.HistoryWithLimit(7)).Items(testContext(t))
				if err != nil {
					t.Fatalf("history items: %v", err)
				}
				var got []string
				for items.Next(testContext(t)) {
					m := items.Item()
					if m.Data != "d"+strings.TrimPrefix(m.Name, "m") {
						t.Errorf("message %s data = %#v, want d%s", m.Name, m.Data, strings.TrimPrefix(m.Name, "m"))
					}
					if m.ID == "" || m.Timestamp == 0 || m.Serial == "" {
						t.Errorf("message %s lacks id, timestamp or serial: %+v", m.Name, m)
					}
					got = append(got, m.Name)
				}
				if err := items.Err(); err != nil {
					t.Fatalf("history items: %v", err)
				}
				if want := reversed(names); !slices.Equal(got, want) {
					t.Errorf("items = %v, want %v", got, want)
				}
			})

			t.Run("new messages do not shift pages", func(t *testing.T) {
				pages, err := channel.History(ably.HistoryWithLimit(10)).Pages(testContext(t))
				if err != nil {
					t.Fatalf("history: %v", err)
				}
				if !pages.Next(testContext(t)) {
					t.Fatalf("first page: %v", pages.Err())
				}
				publishNumbered(t, channel, 26, 3)
				if !pages.Next(testContext(t)) {
					t.Fatalf("second page: %v", pages.Err())
				}
				var got []string
				for _, m := range pages.Items() {
					got = append(got, m.Name)
				}
				if want := reversed(names)[10:20]; !slices.Equal(got, want) {
					t.Errorf("second page = %v, want %v", got, want)
				}
			})
		})
	}
}

func TestHistory_TimeBounds(t *testing.T) {
	start := time.Now().Truncate(time.Second)
	clock := emulatortest.NewClock(start)
	emu := emulatortest.Start(t, emulatortest.WithClock(clock))
	channel := newREST(t, emu).Channels.Get("trades")
	var names []string
	for i := 1; i <= 5; i++ {
		names = append(names, publishNumbered(t, channel, i, 1)...)
		clock.Advance(time.Second)
	}
	// Message m<i> has timestamp start + (i-1) seconds.
	pages := historyPages(t, channel.History(
		ably.HistoryWithStart(start.Add(time.Second)),
		ably.HistoryWithEnd(start.Add(3*time.Second)),
	))
	want := [][]string{{"m4", "m3", "m2"}}
	if !slices.EqualFunc(pages, want, slices.Equal) {
		t.Errorf("pages between 1s and 3s = %v, want %v (inclusive bounds)", pages, want)
	}
	if len(names) != 5 {
		t.Fatalf("published %d, want 5", len(names))
	}
}

func TestHistory_KeepsNewestUpToLimit(t *testing.T) {
	emu := emulatortest.Start(t, emulatortest.WithConfig(func(cfg *emulator.Config) {
		cfg.HistoryLimit = 5
	}))
	channel := newREST(t, emu).Channels.Get("trades")
	names := publishNumbered(t, channel, 1, 8)

	pages := historyPages(t, channel.History())
	want := [][]string{reversed(names)[:5]}
	if !slices.EqualFunc(pages, want, slices.Equal) {
		t.Errorf("pages = %v, want %v", pages, want)
	}
	if got := emu.Server.Stats().Channels["trades"].History; got != 5 {
		t.Errorf("stats history = %d, want 5", got)
	}
	if got := len(emu.Server.Messages("trades")); got != 8 {
		t.Errorf("recorded messages = %d, want all 8: the record limit is separate", got)
	}
}

func TestHistory_EmptyOrUnknownChannel(t *testing.T) {
	emu := emulatortest.Start(t)
	pages := historyPages(t, newREST(t, emu).Channels.Get("never-used").History())
	if len(pages) > 1 || (len(pages) == 1 && len(pages[0]) != 0) {
		t.Errorf("pages = %v, want one empty page or none", pages)
	}
	if _, exists := emu.Server.Stats().Channels["never-used"]; exists {
		t.Errorf("reading history created the channel")
	}
}

func TestHistory_RequiresHistoryCapability(t *testing.T) {
	emu := emulatortest.Start(t)
	keyClient := newREST(t, emu)
	publishNumbered(t, keyClient.Channels.Get("trades"), 1, 2)
	cases := []struct {
		name       string
		capability string
		wantCode   int
	}{
		{"subscribe only", `{"trades":["subscribe"]}`, 40160},
		{"history on another channel", `{"other":["history"]}`, 40160},
		{"subscribe and history", `{"trades":["subscribe","history"]}`, 0},
		{"any operation", `{"trades":["*"]}`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			details, err := keyClient.Auth.RequestToken(testContext(t), &ably.TokenParams{Capability: tc.capability})
			if err != nil {
				t.Fatalf("request token: %v", err)
			}
			tokenClient, err := ably.NewREST(emu.EndpointOptions(ably.WithToken(details.Token))...)
			if err != nil {
				t.Fatalf("create token client: %v", err)
			}
			_, err = tokenClient.Channels.Get("trades").History().Pages(testContext(t))
			if tc.wantCode == 0 {
				if err != nil {
					t.Errorf("history with %s: %v", tc.capability, err)
				}
				return
			}
			info := errorInfo(t, err)
			if int(info.Code) != tc.wantCode || info.StatusCode != http.StatusUnauthorized {
				t.Errorf("history with %s: code %d status %d, want %d 401", tc.capability, info.Code, info.StatusCode, tc.wantCode)
			}
		})
	}
}

func TestHistory_InvalidParameters(t *testing.T) {
	emu := emulatortest.Start(t)
	header := http.Header{"Authorization": {basicAuth(emu.Key)}}
	cases := []struct {
		query    string
		wantText string
	}{
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"limit=ten", "limit"},
		{"direction=sideways", "direction"},
		{"start=yesterday", "start"},
		{"start=2000&end=1000", "start"},
		{"from_serial=not-a-serial", "from_serial"},
		{"cursor=00000000000001-000001@elsewhere:000", "cursor"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			resp, body := doHTTP(t, http.MethodGet, emu.URL+"/channels/trades/messages?"+tc.query, "", header)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("X-Ably-Errorcode"); got != "40003" {
				t.Errorf("error code = %s, want 40003", got)
			}
			if !strings.Contains(string(body), tc.wantText) {
				t.Errorf("body %s does not name %s", body, tc.wantText)
			}
		})
	}
}

func TestHistory_LinkHeaders(t *testing.T) {
	emu := emulatortest.Start(t)
	publishNumbered(t, newREST(t, emu).Channels.Get("trades"), 1, 3)
	header := http.Header{"Authorization": {basicAuth(emu.Key)}}
	resp, body := doHTTP(t, http.MethodGet, emu.URL+"/channels/trades/messages?limit=2", "", header)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, body %s", resp.StatusCode, body)
	}
	links := resp.Header.Values("Link")
	if len(links) != 3 {
		t.Fatalf("Link headers = %q, want first, current and next", links)
	}
	wantPrefixes := []string{
		`<./messages?limit=2>; rel="first"`,
		`<./messages?limit=2>; rel="current"`,
		`<./messages?cursor=`,
	}
	for i, prefix := range wantPrefixes {
		if !strings.HasPrefix(links[i], prefix) {
			t.Errorf("Link %d = %q, want prefix %q", i, links[i], prefix)
		}
	}
	if !strings.HasSuffix(links[2], `&limit=2>; rel="next"`) {
		t.Errorf("next link = %q, want it to keep limit=2", links[2])
	}
	if strings.ContainsAny(strings.TrimSuffix(strings.TrimPrefix(links[2], "<./messages?"), `>; rel="next"`), ",/") {
		t.Errorf("next link %q contains a comma or slash, which clients split or clean", links[2])
	}
}
