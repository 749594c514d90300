package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// EmulatorMessage is one message the emulator accepted, as its
// /_emulator/channels/{channel}/messages endpoint returns it.
type EmulatorMessage struct {
	ID   string          `json:"id"`
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
	// Timestamp is when the emulator accepted the message, in Unix
	// milliseconds.
	Timestamp int64 `json:"timestamp"`
}

// EmulatorFault is the body of the emulator's POST /_emulator/faults: the
// next Count publishes to Channel (every one until cleared when Count is 0)
// whose data contains DataContains, when set, wait DelayMs, then fail with
// Status and Code, or only wait when Status is 0.
type EmulatorFault struct {
	Channel      string `json:"channel,omitempty"`
	DataContains string `json:"dataContains,omitempty"`
	Status       int    `json:"status,omitempty"`
	Code         int    `json:"code,omitempty"`
	Message      string `json:"message,omitempty"`
	Count        int    `json:"count,omitempty"`
	DelayMs      int    `json:"delayMs,omitempty"`
}

// EmulatorMessages returns the messages the emulator accepted on channel,
// in arrival order.
func EmulatorMessages(ctx context.Context, emulatorURL, channel string) ([]EmulatorMessage, error) {
	var msgs []EmulatorMessage
	path := "/_emulator/channels/" + url.PathEscape(channel) + "/messages"
	if err := emulatorRequest(ctx, http.MethodGet, emulatorURL+path, nil, &msgs); err != nil {
		return nil, fmt.Errorf("read emulator messages: %w", err)
	}
	return msgs, nil
}

// AddEmulatorFault adds a fault to the emulator.
func AddEmulatorFault(ctx context.Context, emulatorURL string, fault EmulatorFault) error {
	body, err := json.Marshal(fault)
	if err != nil {
		return err
	}
	if err := emulatorRequest(ctx, http.MethodPost, emulatorURL+"/_emulator/faults", body, nil); err != nil {
		return fmt.Errorf("add emulator fault: %w", err)
	}
	return nil
}

// EmulatorFaults returns the faults that still apply, with Count set to
// the publishes each still affects.
func EmulatorFaults(ctx context.Context, emulatorURL string) ([]EmulatorFault, error) {
	var faults []EmulatorFault
	if err := emulatorRequest(ctx, http.MethodGet, emulatorURL+"/_emulator/faults", nil, &faults); err != nil {
		return nil, fmt.Errorf("list emulator faults: %w", err)
	}
	return faults, nil
}

// ClearEmulatorFaults removes every fault.
func ClearEmulatorFaults(ctx context.Context, emulatorURL string) error {
	if err := emulatorRequest(ctx, http.MethodDelete, emulatorURL+"/_emulator/faults", nil, nil); err != nil {
		return fmt.Errorf("clear emulator faults: %w", err)
	}
	return nil
}

// emulatorRequest sends one request and decodes a JSON response into out
// when out is not nil. A status of 300 or more is an error.
func emulatorRequest(ctx context.Context, method, target string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s %s: status %s: %s", method, target, resp.Status, msg)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
