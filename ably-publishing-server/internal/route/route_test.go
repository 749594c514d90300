package route_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/ably-fanout/ably-publishing-server/internal/route"
	"github.com/ably-fanout/lib/trade"
)

func TestRouter_Channel(t *testing.T) {
	tr := trade.Trade{Symbol: "AAPL", Side: "buy"}
	tests := []struct {
		template, channel, pattern string
		routed                     bool
	}{
		{"trades", "trades", "trades", false},
		{"trades:{symbol}", "trades:AAPL", "trades:*", true},
		{"{side}-{symbol}", "buy-AAPL", "*-*", true},
		{"t:{symbol}:x", "t:AAPL:x", "t:*:x", true},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			r, err := route.New(tt.template)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := r.Channel(tr); got != tt.channel {
				t.Errorf("Channel = %q, expected %q", got, tt.channel)
			}
			if got := r.Pattern(); got != tt.pattern {
				t.Errorf("Pattern = %q, expected %q", got, tt.pattern)
			}
			if got := r.Routed(); got != tt.routed {
				t.Errorf("Routed = %v, expected %v", got, tt.routed)
			}
		})
	}
}

func TestRouter_InvalidTemplates(t *testing.T) {
	for _, template := range []string{"", "trades:{price}", "trades:{symbol", "trades:symbol}"} {
		t.Run(template, func(t *testing.T) {
			if _, err := route.New(template); !errors.Is(err, route.ErrInvalidTemplate) {
				t.Errorf("New(%q) = %v, expected ErrInvalidTemplate", template, err)
			}
		})
	}
}

func TestRouter_Channels(t *testing.T) {
	r, err := route.New("trades:{symbol}")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Channels([]string{"AAPL", "MSFT"}), []string{"trades:AAPL", "trades:MSFT"}; !slices.Equal(got, want) {
		t.Errorf("Channels = %v, expected %v", got, want)
	}
	side, err := route.New("trades:{side}")
	if err != nil {
		t.Fatal(err)
	}
	if got := side.Channels([]string{"AAPL"}); got != nil {
		t.Errorf("Channels of a {side} template = %v, expected nil", got)
	}
}
