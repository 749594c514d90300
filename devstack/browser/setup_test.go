package browser_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ably-fanout/devstack/browser"
)

// TestSetup_RealtimeOptions checks the ably-js options that client/setup.js
// builds from /config's ablyEndpoint, and that ably-js 2.28 accepts them and
// resolves the host that the page must reach.
func TestSetup_RealtimeOptions(t *testing.T) {
	root := repoRoot(t)
	requireAblyJS(t, root)
	base := serveClient(t, root, nil)
	page := browser.Start(t).NewPage(t, browser.Desktop)
	// The invalid tokenUrl stops the page before it connects anywhere.
	page.Open(t, base+"/client.html?tokenUrl=invalid")
	page.WaitFor(t, "setup.js loaded", `typeof TradeSetup === "object"`)
	if source := browser.Eval[string](t, page, `TradeSetup.loadAbly()`); source != "local copy" {
		t.Fatalf("ably-js source = %q, want local copy", source)
	}

	const tokenURL = "http://127.0.0.1:8080/token"
	cases := []struct {
		name          string
		ablyEndpoint  string
		want          map[string]any // options beyond authUrl, authMethod and logLevel
		primaryDomain string         // the host ably-js connects to
	}{
		{
			name:          "real Ably",
			ablyEndpoint:  "",
			want:          map[string]any{},
			primaryDomain: "main.realtime.ably.net",
		},
		{
			name:         "emulator on loopback",
			ablyEndpoint: "http://127.0.0.1:8081",
			want: map[string]any{
				"endpoint": "127.0.0.1", "port": 8081.0, "tls": false,
				"fallbackHosts": []any{}, "transports": []any{"web_socket"},
				"disableConnectivityCheck": true, "wsConnectivityCheckUrl": "ws://127.0.0.1:8081/",
			},
			primaryDomain: "127.0.0.1",
		},
		{
			name:         "emulator by container name",
			ablyEndpoint: "http://ably-emulator:8081",
			want: map[string]any{
				"restHost": "ably-emulator", "realtimeHost": "ably-emulator", "port": 8081.0, "tls": false,
				"fallbackHosts": []any{}, "transports": []any{"web_socket"},
				"disableConnectivityCheck": true, "wsConnectivityCheckUrl": "ws://ably-emulator:8081/",
			},
			primaryDomain: "ably-emulator",
		},
		{
			name:         "emulator over TLS without port",
			ablyEndpoint: "https://emulator.test",
			want: map[string]any{
				"endpoint": "emulator.test", "tlsPort": 443.0, "tls": true,
				"fallbackHosts": []any{}, "transports": []any{"web_socket"},
				"disableConnectivityCheck": true, "wsConnectivityCheckUrl": "wss://emulator.test/",
			},
			primaryDomain: "emulator.test",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args, err := json.Marshal([]string{tokenURL, tc.ablyEndpoint})
			if err != nil {
				t.Fatal(err)
			}
			got := browser.Eval[map[string]any](t, page, `(([tokenUrl, ablyEndpoint]) => {
				const options = TradeSetup.realtimeOptions(tokenUrl, ablyEndpoint);
				const client = new Ably.Realtime({ ...options, autoConnect: false });
				const primaryDomain = client.options.primaryDomain;
				client.close();
				return { options, primaryDomain };
			})(`+string(args)+`)`)

			options, ok := got["options"].(map[string]any)
			if !ok {
				t.Fatalf("options = %v, want an object", got["options"])
			}
			fixed := map[string]any{"authUrl": tokenURL, "authMethod": "GET", "logLevel": 1.0}
			for name, value := range fixed {
				if options[name] != value {
					t.Errorf("option %s = %v, want %v", name, options[name], value)
				}
				delete(options, name)
			}
			if !reflect.DeepEqual(options, tc.want) {
				t.Errorf("options = %v, want %v", options, tc.want)
			}
			if got["primaryDomain"] != tc.primaryDomain {
				t.Errorf("ably-js primary domain = %v, want %s", got["primaryDomain"], tc.primaryDomain)
			}
		})
	}
}
