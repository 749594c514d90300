package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
)

var protocols = []struct {
	name   string
	binary bool
}{
	{"msgpack", true},
	{"json", false},
}

func TestRESTPublish_SingleAndMultiple(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			client := newREST(t, emu, ably.WithUseBinaryProtocol(protocol.binary))
			ctx := testContext(t)
			channel := client.Channels.Get("trades")

			if err := channel.Publish(ctx, "trade", map[string]any{"price": 101.5, "symbol": "ABC"}); err != nil {
				t.Fatalf("publish object: %v", err)
			}
			err := channel.PublishMultiple(ctx, []*ably.Message{
				{Name: "text", Data: "hello"},
				{Name: "bytes", Data: []byte{0, 1, 2, 255}},
				{Name: "array", Data: []any{"a", 1}},
			})
			if err != nil {
				t.Fatalf("publish multiple: %v", err)
			}

			messages := emu.Server.Messages("trades")
			if len(messages) != 4 {
				t.Fatalf("recorded %d messages, want 4: %+v", len(messages), messages)
			}
			wantData := []struct {
				name, data, encoding string
			}{
				{"trade", `{"price":101.5,"symbol":"ABC"}`, ""},
				{"text", `"hello"`, ""},
				{"bytes", `"AAEC/w=="`, "base64"},
				{"array", `["a",1]`, ""},
			}
			for i, want := range wantData {
				got := messages[i]
				if got.Name != want.name {
					t.Errorf("message %d name = %q, want %q", i, got.Name, want.name)
				}
				if string(got.Data) != want.data {
					t.Errorf("message %d data = %s, want %s", i, got.Data, want.data)
				}
				if got.Encoding != want.encoding {
					t.Errorf("message %d encoding = %q, want %q", i, got.Encoding, want.encoding)
				}
				if got.ID == "" || got.Serial == "" || got.Timestamp == 0 {
					t.Errorf("message %d lacks id, serial or timestamp: %+v", i, got)
				}
			}
			stats := emu.Server.Stats().Channels["trades"]
			if stats.Accepted != 4 {
				t.Errorf("accepted = %d, want 4", stats.Accepted)
			}
		})
	}
}

func TestRESTPublish_ReturnsSerials(t *testing.T) {
	emu := emulatortest.Start(t)
	client := newREST(t, emu)
	results, err := client.Channels.Get("trades").PublishMultipleWithResult(testContext(t), []*ably.Message{
		{Name: "a", Data: "1"},
		{Name: "b", Data: "2"},
	})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if len(results) != 2 {
		t.Fatalf("got %d results, want 2", len(results))
	}
	recorded := emu.Server.Messages("trades")
	for i, result := range results {
		if result.Serial == nil {
			t.Fatalf("result %d has no serial", i)
		}
		if *result.Serial != recorded[i].Serial {
			t.Errorf("result %d serial = %q, recorded serial = %q", i, *result.Serial, recorded[i].Serial)
		}
	}
	if !(recorded[0].Serial < recorded[1].Serial) {
		t.Errorf("serials do not sort in arrival order: %q, %q", recorded[0].Serial, recorded[1].Serial)
	}
}

func TestRESTTime_ReturnsEmulatorClock(t *testing.T) {
	clock := emulatortest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	emu := emulatortest.Start(t, emulatortest.WithClock(clock))
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			client := newREST(t, emu, ably.WithUseBinaryProtocol(protocol.binary))
			got, err := client.Time(testContext(t))
			if err != nil {
				t.Fatalf("time: %v", err)
			}
			// ably-go v1.4.1 converts the milliseconds with time.Unix(ms/1000,
			// ms%1000), so only whole seconds survive.
			if got.Unix() != clock.Now().Unix() {
				t.Errorf("time = %v, want %v", got.UTC(), clock.Now())
			}
		})
	}
}

func TestRESTAuth_RejectsBadCredentials(t *testing.T) {
	emu := emulatortest.Start(t)
	key, err := emulator.ParseKey(emu.Key)
	if err != nil {
		t.Fatalf("parse key: %v", err)
	}
	cases := []struct {
		name       string
		key        string
		wantCode   ably.ErrorCode
		wantStatus int
	}{
		{"wrong secret", key.Name() + ":not-the-secret", 40101, http.StatusUnauthorized},
		{"unknown key", "nope.nope:secret", 40400, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, err := ably.NewREST(emu.EndpointOptions(
				ably.WithKey(tc.key), ably.WithInsecureAllowBasicAuthWithoutTLS())...)
			if err != nil {
				t.Fatalf("create client: %v", err)
			}
			err = client.Channels.Get("auth-"+tc.name).Publish(testContext(t), "x", "y")
			info := errorInfo(t, err)
			if info.Code != tc.wantCode {
				t.Errorf("code = %d, want %d (%v)", info.Code, tc.wantCode, err)
			}
			if info.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", info.StatusCode, tc.wantStatus)
			}
			stats := emu.Server.Stats().Channels["auth-"+tc.name]
			if stats.Rejected.Unauthorized != 1 {
				t.Errorf("rejected.unauthorized = %d, want 1", stats.Rejected.Unauthorized)
			}
			if stats.Accepted != 0 {
				t.Errorf("accepted = %d, want 0", stats.Accepted)
			}
		})
	}
}

func TestRESTPublish_BinaryProtocolRoundTripsData(t *testing.T) {
	// A message published with one protocol and read back through the
	// inspection endpoint has the same data whatever the protocol.
	emu := emulatortest.Start(t)
	for _, protocol := range protocols {
		client := newREST(t, emu, ably.WithUseBinaryProtocol(protocol.binary))
		err := client.Channels.Get("roundtrip").Publish(testContext(t), protocol.name,
			map[string]any{"nested": map[string]any{"n": 1}})
		if err != nil {
			t.Fatalf("%s publish: %v", protocol.name, err)
		}
	}
	messages := emu.Server.Messages("roundtrip")
	if len(messages) != 2 {
		t.Fatalf("recorded %d messages, want 2", len(messages))
	}
	for _, m := range messages {
		var decoded map[string]any
		if err := json.Unmarshal(m.Data, &decoded); err != nil {
			t.Fatalf("%s data %s is not a JSON object: %v", m.Name, m.Data, err)
		}
		if got := fmt.Sprint(decoded["nested"]); got != "map[n:1]" {
			t.Errorf("%s nested = %s, want map[n:1]", m.Name, got)
		}
	}
}
