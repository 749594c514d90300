package browser_test

import (
	"encoding/json"
	"testing"

	"github.com/ably-fanout/devstack/browser"
)

// TestDecimal_PriceChange runs client/decimal.js in Chromium on a table of
// prices, so the change the page shows is checked against exact values.
func TestDecimal_PriceChange(t *testing.T) {
	root := repoRoot(t)
	base := serveClient(t, root, nil)
	page := browser.Start(t).NewPage(t, browser.Desktop)
	// An invalid tokenUrl stops the page before it loads ably-js or
	// connects anywhere, and decimal.js is loaded all the same.
	page.Open(t, base+"/client.html?tokenUrl=invalid")
	page.WaitFor(t, "decimal.js loaded", `typeof TradeDecimal === "object"`)

	cases := []struct {
		name     string
		previous string
		current  string
		change   string
		percent  string
	}{
		{"rise", "189.10", "189.25", "+0.15", "+0.08"},
		{"fall", "410.5", "410.25", "-0.25", "-0.06"},
		{"unchanged", "100.00", "100", "0.00", "0.00"},
		{"float trap", "0.1", "0.3", "+0.2", "+200.00"},
		{"scales differ", "1", "1.005", "+0.005", "+0.50"},
		{"half rounds away from zero", "200", "200.01", "+0.01", "+0.01"},
		{"large values", "90071992547409.93", "90071992547409.94", "+0.01", "0.00"},
		{"from zero", "0", "1.5", "+1.5", ""},
		{"negative price", "-2", "-1", "+1", "-50.00"},
		{"leading zeros", "007.50", "7.25", "-0.25", "-3.33"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args, err := json.Marshal([]string{tc.previous, tc.current})
			if err != nil {
				t.Fatal(err)
			}
			got := browser.Eval[map[string]string](t, page, `(([previous, current]) => {
				const before = TradeDecimal.parse(previous);
				const after = TradeDecimal.parse(current);
				const change = TradeDecimal.subtract(after, before);
				const percent = TradeDecimal.percentChange(change, before);
				return { change: TradeDecimal.format(change, true), percent: percent === null ? "" : percent };
			})(`+string(args)+`)`)
			if got["change"] != tc.change {
				t.Errorf("change from %s to %s = %q, want %q", tc.previous, tc.current, got["change"], tc.change)
			}
			if got["percent"] != tc.percent {
				t.Errorf("percent change from %s to %s = %q, want %q", tc.previous, tc.current, got["percent"], tc.percent)
			}
		})
	}

	t.Run("fraction for the chart scale", func(t *testing.T) {
		fractions := []struct {
			value, low, high string
			want             float64
		}{
			{"189.10", "189.10", "189.25", 0},
			{"189.25", "189.10", "189.25", 1},
			{"189.2", "189.10", "189.25", 0.6667},
			{"0.3", "0.1", "0.5", 0.5},
			{"90071992547409.94", "90071992547409.93", "90071992547409.95", 0.5},
			{"7", "7.00", "7", 0.5},
		}
		for _, tc := range fractions {
			args, err := json.Marshal([]string{tc.value, tc.low, tc.high})
			if err != nil {
				t.Fatal(err)
			}
			got := browser.Eval[float64](t, page, `(([value, low, high]) =>
				TradeDecimal.fraction(TradeDecimal.parse(value), TradeDecimal.parse(low), TradeDecimal.parse(high), 10000))(`+string(args)+`)`)
			if got != tc.want {
				t.Errorf("fraction of %s in [%s, %s] = %v, want %v", tc.value, tc.low, tc.high, got, tc.want)
			}
		}
	})

	t.Run("not a plain decimal", func(t *testing.T) {
		for _, text := range []string{"", "1e3", "+1", " 1", "1.", ".5", "1,5", "NaN", "<b>1</b>"} {
			isNull := browser.Eval[bool](t, page, `TradeDecimal.parse(`+jsonString(t, text)+`) === null`)
			if !isNull {
				t.Errorf("TradeDecimal.parse(%q) is not null", text)
			}
		}
	})
}

func jsonString(tb testing.TB, s string) string {
	tb.Helper()
	encoded, err := json.Marshal(s)
	if err != nil {
		tb.Fatal(err)
	}
	return string(encoded)
}
