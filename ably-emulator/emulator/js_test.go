package emulator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"

	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// jsEvent is one line written by testdata/js/subscriber.cjs.
type jsEvent struct {
	Event    string          `json:"event"`
	Name     string          `json:"name"`
	Data     json.RawMessage `json:"data"`
	Encoding string          `json:"encoding"`
	ClientID string          `json:"clientId"`
	Serials  []string        `json:"serials"`
	Stage    string          `json:"stage"`
	Message  string          `json:"message"`
}

// requireAblyJS returns the path of node and of the repository root, or
// fails the test with the command that installs them.
func requireAblyJS(tb testing.TB) (nodePath, root string) {
	tb.Helper()
	const fix = "install Node.js and the npm packages with `make deps` in the repository root"
	nodePath, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("node not found on PATH: %v; %s", err, fix)
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("get working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("go.work not found above the test directory, so the repository root is unknown")
		}
		dir = parent
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ably", "package.json")); err != nil {
		tb.Fatalf("ably-js not installed in %s: %v; %s", filepath.Join(dir, "node_modules"), err, fix)
	}
	return nodePath, dir
}

// startAuthURL serves signed token requests for the emulator key, as the
// application server behind a browser's authUrl does.
func startAuthURL(tb testing.TB, emu *emulatortest.Instance, clientID string) string {
	tb.Helper()
	keyClient := newREST(tb, emu)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		request, err := keyClient.Auth.CreateTokenRequest(&ably.TokenParams{
			ClientID:   clientID,
			Capability: `{"*":["publish","subscribe"]}`,
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(request)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL + "/auth"
}

func TestAblyJS_SubscribesAndPublishes(t *testing.T) {
	nodePath, root := requireAblyJS(t)
	script := filepath.Join(root, "ably-emulator", "testdata", "js", "subscriber.cjs")
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			emu := emulatortest.Start(t)
			authURL := startAuthURL(t, emu, "browser-"+protocol.name)
			config, err := json.Marshal(map[string]any{
				"host": emu.Host, "port": emu.Port, "authUrl": authURL,
				"channel": "trades", "expect": 3, "binary": protocol.binary,
			})
			if err != nil {
				t.Fatalf("encode config: %v", err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, nodePath, script, string(config))
			cmd.Dir = root
			var stderr strings.Builder
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatalf("stdout pipe: %v", err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatalf("start node: %v", err)
			}
			lines := bufio.NewScanner(stdout)
			next := func() jsEvent {
				t.Helper()
				if !lines.Scan() {
					_ = cmd.Wait()
					t.Fatalf("node ended early: %v; stderr: %s", lines.Err(), stderr.String())
				}
				var event jsEvent
				if err := json.Unmarshal(lines.Bytes(), &event); err != nil {
					t.Fatalf("decode line %q: %v", lines.Text(), err)
				}
				if event.Event == "error" {
					t.Fatalf("node failed at %s: %s; stderr: %s", event.Stage, event.Message, stderr.String())
				}
				return event
			}

			attached := next()
			if attached.Event != "attached" {
				t.Fatalf("first event = %q, want attached", attached.Event)
			}
			if attached.ClientID != "browser-"+protocol.name {
				t.Errorf("ably-js clientId = %q, want the token's", attached.ClientID)
			}

			// Publish from ably-go with the other protocol, so data crosses
			// formats on the way to ably-js.
			publisher := newREST(t, emu, ably.WithUseBinaryProtocol(!protocol.binary))
			err = publisher.Channels.Get("trades").PublishMultiple(testContext(t), []*ably.Message{
				{Name: "object", Data: map[string]any{"price": 101.5, "symbol": "ABC"}},
				{Name: "text", Data: "hello"},
				{Name: "bytes", Data: []byte{0, 1, 2, 255}},
			})
			if err != nil {
				t.Fatalf("publish from ably-go: %v", err)
			}

			// ably-js decodes the data: the object arrives as an object and
			// the bytes as a Buffer, each with no encoding left.
			want := []struct{ name, data string }{
				{"object", `{"price":101.5,"symbol":"ABC"}`},
				{"text", `"hello"`},
				{"bytes", `{"binary":"AAEC/w=="}`},
			}
			for _, w := range want {
				got := next()
				if got.Event != "message" || got.Name != w.name {
					t.Fatalf("event %q name %q, want message %q", got.Event, got.Name, w.name)
				}
				if string(got.Data) != w.data {
					t.Errorf("%s data = %s, want %s", w.name, got.Data, w.data)
				}
				if got.Encoding != "" {
					t.Errorf("%s encoding = %q, want none left after decoding", w.name, got.Encoding)
				}
			}

			// The client receives its own message back (echo is on by
			// default) before the ACK, because the emulator fans a publish
			// out before it acknowledges it.
			echo := next()
			if echo.Event != "message" || echo.Name != "from-js" {
				t.Fatalf("event %q name %q, want the echo of from-js", echo.Event, echo.Name)
			}
			wantEcho := `{"hello":"go","binary":` + strconv.FormatBool(protocol.binary) + `}`
			if string(echo.Data) != wantEcho {
				t.Errorf("echo data = %s, want %s", echo.Data, wantEcho)
			}
			published := next()
			if published.Event != "published" {
				t.Fatalf("event = %q, want published", published.Event)
			}
			if len(published.Serials) != 1 || published.Serials[0] == "" {
				t.Errorf("ACK serials = %v, want one serial", published.Serials)
			}
			if closed := next(); closed.Event != "closed" {
				t.Fatalf("event = %q, want closed", closed.Event)
			}
			if err := cmd.Wait(); err != nil {
				var exitErr *exec.ExitError
				if errors.As(err, &exitErr) {
					t.Fatalf("node exited with %d; stderr: %s", exitErr.ExitCode(), stderr.String())
				}
				t.Fatalf("wait for node: %v", err)
			}

			messages := emu.Server.Messages("trades")
			if len(messages) != 4 {
				t.Fatalf("recorded %d messages, want 4", len(messages))
			}
			fromJS := messages[3]
			if fromJS.Name != "from-js" || fromJS.ClientID != "browser-"+protocol.name {
				t.Errorf("ably-js message = %+v, want from-js by the token's client", fromJS)
			}
			var data map[string]any
			if err := json.Unmarshal(fromJS.Data, &data); err != nil || data["hello"] != "go" {
				t.Errorf("ably-js message data = %s, want the object {hello: go}", fromJS.Data)
			}
		})
	}
}
