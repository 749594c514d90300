package emulator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// jsClientEvent is one line written by testdata/js/client.cjs.
type jsClientEvent struct {
	Event   string          `json:"event"`
	State   string          `json:"state"`
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Data    json.RawMessage `json:"data"`
	Serial  string          `json:"serial"`
	Resumed bool            `json:"resumed"`
	Backlog bool            `json:"hasBacklog"`
	Reason  *jsReason       `json:"reason"`
	IDs     []string        `json:"ids"`
	HasNext bool            `json:"hasNext"`
	Stage   string          `json:"stage"`
	Message string          `json:"message"`
	Code    int             `json:"code"`
}

type jsReason struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e jsClientEvent) String() string {
	encoded, _ := json.Marshal(e)
	return string(encoded)
}

// jsClientConfig is the config of testdata/js/client.cjs.
type jsClientConfig struct {
	Channel string            `json:"channel"`
	Params  map[string]string `json:"params,omitempty"`
	Binary  bool              `json:"binary"`
	// RetryMs shortens ably-js's retry timeouts, so a test does not wait
	// 15 seconds for a reconnect.
	RetryMs int `json:"retryMs,omitempty"`
}

// jsClient is an ably-js client in a node process. Its events arrive on a
// channel; every event is also kept in order for failure messages.
type jsClient struct {
	tb     testing.TB
	stdin  io.WriteCloser
	events chan jsClientEvent
	stderr *strings.Builder

	mu  sync.Mutex
	log []jsClientEvent
}

// startTokenURL serves signed token requests for the emulator key with the
// given capability, as the server behind a browser's authUrl does.
func startTokenURL(tb testing.TB, emu *emulatortest.Instance, capability string) string {
	tb.Helper()
	keyClient := newREST(tb, emu)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		request, err := keyClient.Auth.CreateTokenRequest(&ably.TokenParams{Capability: capability})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(request)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL + "/token"
}

// startJSClient runs testdata/js/client.cjs with a token from authURL and
// returns it once the script has started. The process is closed when the
// test ends.
func startJSClient(tb testing.TB, emu *emulatortest.Instance, authURL string, cfg jsClientConfig) *jsClient {
	tb.Helper()
	nodePath, root := requireAblyJS(tb)
	script := filepath.Join(root, "ably-emulator", "testdata", "js", "client.cjs")
	config, err := json.Marshal(map[string]any{
		"host": emu.Host, "port": emu.Port, "authUrl": authURL,
		"channel": cfg.Channel, "params": cfg.Params, "binary": cfg.Binary, "retryMs": cfg.RetryMs,
	})
	if err != nil {
		tb.Fatalf("encode config: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	cmd := exec.CommandContext(ctx, nodePath, script, string(config))
	cmd.Dir = root
	client := &jsClient{tb: tb, events: make(chan jsClientEvent, 1000), stderr: &strings.Builder{}}
	cmd.Stderr = client.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		tb.Fatalf("stdout pipe: %v", err)
	}
	if client.stdin, err = cmd.StdinPipe(); err != nil {
		cancel()
		tb.Fatalf("stdin pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("start node: %v", err)
	}

	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(client.events)
		lines := bufio.NewScanner(stdout)
		lines.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for lines.Scan() {
			var event jsClientEvent
			if err := json.Unmarshal(lines.Bytes(), &event); err != nil {
				event = jsClientEvent{Event: "error", Stage: "decode", Message: lines.Text()}
			}
			client.mu.Lock()
			client.log = append(client.log, event)
			client.mu.Unlock()
			client.events <- event
		}
	}()

	// Cleanup order: ask the script to close, then stop the process if it
	// has not exited, then wait for the reader.
	tb.Cleanup(func() {
		_, _ = io.WriteString(client.stdin, "close\n")
		_ = client.stdin.Close()
		waitDone := make(chan error, 1)
		go func() { waitDone <- cmd.Wait() }()
		select {
		case <-waitDone:
		case <-time.After(waitTimeout):
			cancel()
			<-waitDone
		}
		cancel()
		<-readerDone
	})
	return client
}

// send writes one command line to the script.
func (c *jsClient) send(command string) {
	c.tb.Helper()
	if _, err := io.WriteString(c.stdin, command+"\n"); err != nil {
		c.tb.Fatalf("send %q to node: %v", command, err)
	}
}

// next returns the next event that matches, skipping others. It fails the
// test on an error event that does not match, on the end of the output or
// after waitTimeout.
func (c *jsClient) next(description string, match func(jsClientEvent) bool) jsClientEvent {
	c.tb.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case event, ok := <-c.events:
			if !ok {
				c.tb.Fatalf("node ended while waiting for %s; events: %s; stderr: %s", description, c.history(), c.stderr.String())
			}
			if match(event) {
				return event
			}
			if event.Event == "error" {
				c.tb.Fatalf("node failed at %s: %s (code %d) while waiting for %s", event.Stage, event.Message, event.Code, description)
			}
		case <-timeout:
			c.tb.Fatalf("timed out waiting for %s; events: %s", description, c.history())
		}
	}
}

// collectMessages returns the next n message events, skipping other events.
func (c *jsClient) collectMessages(n int) []jsClientEvent {
	c.tb.Helper()
	messages := make([]jsClientEvent, 0, n)
	for len(messages) < n {
		messages = append(messages, c.next(fmt.Sprintf("message %d of %d", len(messages)+1, n), isEvent("message")))
	}
	return messages
}

// history returns every event so far, one per line, for failure messages.
func (c *jsClient) history() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	lines := make([]string, len(c.log))
	for i, event := range c.log {
		lines[i] = event.String()
	}
	return "\n" + strings.Join(lines, "\n")
}

func isEvent(name string) func(jsClientEvent) bool {
	return func(e jsClientEvent) bool { return e.Event == name }
}

func isChannelState(state string) func(jsClientEvent) bool {
	return func(e jsClientEvent) bool { return e.Event == "channel" && e.State == state }
}

func isConnectionState(state string) func(jsClientEvent) bool {
	return func(e jsClientEvent) bool { return e.Event == "connection" && e.State == state }
}
