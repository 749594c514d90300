package emulator

import "testing"

func TestCapability_Allows(t *testing.T) {
	cases := []struct {
		name       string
		capability string
		channel    string
		op         string
		want       bool
	}{
		{"wildcard resource and op", `{"*":["*"]}`, "trades", opPublish, true},
		{"exact channel", `{"trades":["subscribe"]}`, "trades", opSubscribe, true},
		{"op not listed", `{"trades":["subscribe"]}`, "trades", opPublish, false},
		{"other channel", `{"trades":["*"]}`, "quotes", opSubscribe, false},
		{"namespace wildcard", `{"fx:*":["publish"]}`, "fx:eur", opPublish, true},
		{"namespace wildcard needs the prefix", `{"fx:*":["publish"]}`, "fxeur", opPublish, false},
		{"later resource grants", `{"a":["subscribe"],"*":["publish"]}`, "a", opPublish, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseCapability(tc.capability)
			if err != nil {
				t.Fatalf("parse %s: %v", tc.capability, err)
			}
			if got := c.allows(tc.channel, tc.op); got != tc.want {
				t.Errorf("allows(%q, %q) = %v, want %v", tc.channel, tc.op, got, tc.want)
			}
		})
	}
}

func TestCapability_ModeFlags(t *testing.T) {
	c, err := parseCapability(`{"trades":["subscribe"]}`)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	flags := c.modeFlags("trades")
	if flags&flagSubscribe == 0 {
		t.Errorf("flags %x lack subscribe", flags)
	}
	if flags&flagPublish != 0 {
		t.Errorf("flags %x grant publish", flags)
	}
	if c.allowsAny("quotes") {
		t.Errorf("allowsAny(quotes) = true for a trades-only capability")
	}
}

func TestParseCapability_RejectsInvalid(t *testing.T) {
	for _, raw := range []string{``, `[]`, `{}`, `{"a":[]}`, `{"a":"publish"}`, `{"":["*"]}`} {
		if _, err := parseCapability(raw); err == nil {
			t.Errorf("parseCapability(%q) succeeded, want an error", raw)
		}
	}
}
