package browser_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/lib/trade"
)

// publishTimeout bounds one publish to the emulator.
const publishTimeout = 30 * time.Second

// tokenRoutes returns /token and /config handlers with the publisher's
// contract: /token returns a TokenRequest signed with the emulator's key for
// a subscribe-only capability on capabilityChannel, and /config names
// configChannel and the emulator. Both allow any origin, as the page may be
// opened from disk.
func tokenRoutes(tb testing.TB, emu *emulatortest.Instance, configChannel, capabilityChannel string) map[string]http.Handler {
	tb.Helper()
	rest, err := ably.NewREST(emu.ClientOptions()...)
	if err != nil {
		tb.Fatalf("create ably-go REST client: %v", err)
	}
	capability, err := json.Marshal(map[string][]string{capabilityChannel: {"subscribe", "history"}})
	if err != nil {
		tb.Fatal(err)
	}

	token := func(w http.ResponseWriter, r *http.Request) {
		request, err := rest.Auth.CreateTokenRequest(&ably.TokenParams{Capability: string(capability)})
		if err != nil {
			http.Error(w, "create token request: "+err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, request)
	}
	config := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"channel": configChannel, "ablyEndpoint": emu.URL})
	}
	return map[string]http.Handler{
		"GET /token":  http.HandlerFunc(token),
		"GET /config": http.HandlerFunc(config),
	}
}

func writeJSON(w http.ResponseWriter, value any) {
	body, err := json.Marshal(value)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(body)
}

// publisher publishes trade events to one channel of the emulator with
// ably-go REST and the emulator's key.
type publisher struct {
	tb      testing.TB
	channel *ably.RESTChannel
}

func newPublisher(tb testing.TB, emu *emulatortest.Instance, channel string) *publisher {
	tb.Helper()
	rest, err := ably.NewREST(emu.ClientOptions()...)
	if err != nil {
		tb.Fatalf("create ably-go REST client: %v", err)
	}
	return &publisher{tb: tb, channel: rest.Channels.Get(channel)}
}

// publish sends one trade event whose data is value: a trade.Trade or map
// arrives as a JSON object, a string as a string.
func (p *publisher) publish(value any) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.tb.Context(), publishTimeout)
	defer cancel()
	if err := p.channel.Publish(ctx, "trade", value); err != nil {
		p.tb.Fatalf("publish %v: %v", value, err)
	}
}

// publishBatch sends the trades in one request, in order.
func (p *publisher) publishBatch(trades []trade.Trade) {
	p.tb.Helper()
	messages := make([]*ably.Message, len(trades))
	for i, t := range trades {
		messages[i] = &ably.Message{Name: "trade", Data: t}
	}
	ctx, cancel := context.WithTimeout(p.tb.Context(), publishTimeout)
	defer cancel()
	if err := p.channel.PublishMultiple(ctx, messages); err != nil {
		p.tb.Fatalf("publish %d trades: %v", len(trades), err)
	}
}

// newTrade returns a valid trade with a fixed time, so screenshots and
// assertions do not depend on the clock.
func newTrade(symbol, price string, seq int64, side string) trade.Trade {
	return trade.Trade{
		ID:     symbol + "-" + strconv.FormatInt(seq, 10),
		Symbol: symbol,
		Price:  price,
		Size:   100 + seq,
		Side:   side,
		Seq:    seq,
		Time:   trade.FormatTime(time.Date(2026, 12, 4, 15, 4, 5, int(seq)*int(time.Millisecond), time.UTC)),
	}
}
