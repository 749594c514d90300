package publish_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/ably-publishing-server/internal/publish"
	"github.com/ably-fanout/lib/trade"
)

// TestClient_ReusesConnection publishes through a proxy that counts the
// connections the client opens to it.
func TestClient_ReusesConnection(t *testing.T) {
	emu := emulatortest.Start(t)
	target, err := url.Parse(emu.URL)
	if err != nil {
		t.Fatal(err)
	}
	var opened atomic.Int64
	proxy := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	proxy.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			opened.Add(1)
		}
	}
	proxy.Start()
	t.Cleanup(proxy.Close)

	client, err := publish.NewClient(publish.ClientConfig{Key: emu.Key, Endpoint: proxy.URL, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	single := publish.New(client, channelName)
	batch := publish.NewBatchPublisher(client)
	const publishes = 5
	for i := range publishes {
		if err := single.Publish(t.Context(), sampleTrade(fmt.Sprintf("reuse-%d", i))); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
		trades := []trade.Trade{sampleTrade(fmt.Sprintf("reuse-b%d-0", i)), sampleTrade(fmt.Sprintf("reuse-b%d-1", i))}
		if err := batch.PublishBatch(t.Context(), channelName, trades[0].ID, trades, encodeAll(t, trades)); err != nil {
			t.Fatalf("PublishBatch %d: %v", i, err)
		}
	}

	if got := len(emu.Server.Messages(channelName)); got != 3*publishes {
		t.Fatalf("emulator recorded %d messages, want %d", got, 3*publishes)
	}
	if n := opened.Load(); n != 1 {
		t.Errorf("client opened %d connections for %d sequential publishes, want 1", n, 2*publishes)
	}
}
