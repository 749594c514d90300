package emulator_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ably/ably-go/ably"
	"github.com/coder/websocket"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
)

// doHTTP sends a request to the emulator and returns the response with its
// body read.
func doHTTP(tb testing.TB, method, url, body string, header http.Header) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequestWithContext(testContext(tb), method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatalf("build request: %v", err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return resp, data
}

func basicAuth(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key))
}

func TestCORS_PreflightAndErrorHeaders(t *testing.T) {
	emu := emulatortest.Start(t)
	const origin = "http://127.0.0.1:5173"

	resp, _ := doHTTP(t, http.MethodOptions, emu.URL+"/keys/a.b/requestToken", "", http.Header{
		"Origin":                         {origin},
		"Access-Control-Request-Method":  {"POST"},
		"Access-Control-Request-Headers": {"content-type,x-ably-version,ably-agent,authorization"},
	})
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("preflight status = %d, want 204", resp.StatusCode)
	}
	wantHeaders := map[string]string{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Headers":     "content-type,x-ably-version,ably-agent,authorization",
	}
	for name, want := range wantHeaders {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("preflight %s = %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight Access-Control-Allow-Methods = %q lacks POST", resp.Header.Get("Access-Control-Allow-Methods"))
	}

	resp, body := doHTTP(t, http.MethodPost, emu.URL+"/channels/trades/messages", `{"data":"x"}`, http.Header{
		"Origin":       {origin},
		"Content-Type": {"application/json"},
	})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated publish status = %d, want 401; body %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Ably-Errorcode"); got != "40101" {
		t.Errorf("X-Ably-Errorcode = %q, want 40101", got)
	}
	if got := resp.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-Ably-Errorcode") {
		t.Errorf("Access-Control-Expose-Headers = %q lacks X-Ably-Errorcode", got)
	}
	var errorBody struct {
		Error emulator.ErrorInfo `json:"error"`
	}
	if err := json.Unmarshal(body, &errorBody); err != nil {
		t.Fatalf("decode error body %s: %v", body, err)
	}
	if errorBody.Error.Code != 40101 || errorBody.Error.StatusCode != 401 || errorBody.Error.Href == "" {
		t.Errorf("error body = %+v, want code 40101, statusCode 401 and an href", errorBody.Error)
	}
}

func TestRESTPublish_RawJSONBodies(t *testing.T) {
	emu := emulatortest.Start(t)
	header := http.Header{"Content-Type": {"application/json"}, "Authorization": {basicAuth(emu.Key)}}
	url := emu.URL + "/channels/raw/messages"

	resp, body := doHTTP(t, http.MethodPost, url, `{"name":"obj","data":{"a":[1,2]}}`, header)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("publish object status = %d, body %s", resp.StatusCode, body)
	}
	var published struct {
		Channel string    `json:"channel"`
		Serials []*string `json:"serials"`
	}
	if err := json.Unmarshal(body, &published); err != nil {
		t.Fatalf("decode publish response %s: %v", body, err)
	}
	if published.Channel != "raw" || len(published.Serials) != 1 || published.Serials[0] == nil {
		t.Errorf("publish response = %s, want channel raw and one serial", body)
	}

	resp, body = doHTTP(t, http.MethodPost, url, `{"name":"num","data":42}`, header)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Ably-Errorcode") != "40013" {
		t.Errorf("numeric data: status %d code %s, want 400 40013; body %s",
			resp.StatusCode, resp.Header.Get("X-Ably-Errorcode"), body)
	}

	resp, body = doHTTP(t, http.MethodGet, emu.URL+"/_emulator/channels/raw/messages", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("messages endpoint status = %d", resp.StatusCode)
	}
	var messages []map[string]any
	if err := json.Unmarshal(body, &messages); err != nil {
		t.Fatalf("decode messages %s: %v", body, err)
	}
	if len(messages) != 1 {
		t.Fatalf("got %d messages, want 1: %s", len(messages), body)
	}
	if got := fmt.Sprint(messages[0]["data"]); got != "map[a:[1 2]]" {
		t.Errorf("data = %s, want the object map[a:[1 2]]", got)
	}
	receivedAt, _ := messages[0]["receivedAt"].(string)
	if _, err := time.Parse(time.RFC3339Nano, receivedAt); err != nil {
		t.Errorf("receivedAt %q is not RFC 3339: %v", receivedAt, err)
	}

	resp, body = doHTTP(t, http.MethodGet, emu.URL+"/_emulator/stats", "", nil)
	var stats emulator.Stats
	if err := json.Unmarshal(body, &stats); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stats status %d, decode error %v, body %s", resp.StatusCode, err, body)
	}
	if got := stats.Channels["raw"]; got.Accepted != 1 || got.Rejected.Invalid != 1 {
		t.Errorf("stats = %+v, want 1 accepted and 1 invalid", got)
	}
}

func TestRESTErrors_MsgpackWhenAccepted(t *testing.T) {
	emu := emulatortest.Start(t)
	resp, _ := doHTTP(t, http.MethodGet, emu.URL+"/no/such/path", "", http.Header{"Accept": {"application/x-msgpack"}})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d, want 404", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/x-msgpack" {
		t.Errorf("Content-Type = %q, want application/x-msgpack", got)
	}
	if got := resp.Header.Get("X-Ably-Errorcode"); got != "40400" {
		t.Errorf("X-Ably-Errorcode = %q, want 40400", got)
	}
}

func TestRequestToken_UnsetTTLAndCapability(t *testing.T) {
	// ably-js signs an unset ttl and capability as empty lines and leaves
	// them out of the request; the token then gets Ably's defaults.
	emu := emulatortest.Start(t)
	key, err := emulator.ParseKey(emu.Key)
	if err != nil {
		t.Fatalf("parse key: %v", err)
	}
	timestamp := time.Now().UnixMilli()
	nonce := "0123456789abcdef0123"
	mac := hmac.New(sha256.New, []byte(key.Secret))
	fmt.Fprintf(mac, "%s\n\n\n\n%d\n%s\n", key.Name(), timestamp, nonce)
	body := fmt.Sprintf(`{"keyName":%q,"timestamp":%d,"nonce":%q,"mac":%q}`,
		key.Name(), timestamp, nonce, base64.StdEncoding.EncodeToString(mac.Sum(nil)))

	resp, data := doHTTP(t, http.MethodPost, emu.URL+"/keys/"+key.Name()+"/requestToken", body,
		http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, body %s", resp.StatusCode, data)
	}
	var details emulator.TokenDetails
	if err := json.Unmarshal(data, &details); err != nil {
		t.Fatalf("decode token details %s: %v", data, err)
	}
	if details.Capability != `{"*":["*"]}` {
		t.Errorf("capability = %q, want the default {\"*\":[\"*\"]}", details.Capability)
	}
	if got := details.Expires - details.Issued; got != time.Hour.Milliseconds() {
		t.Errorf("ttl = %dms, want the default of one hour", got)
	}
}

func TestRequestToken_BasicAuthWithoutSignature(t *testing.T) {
	emu := emulatortest.Start(t)
	key, err := emulator.ParseKey(emu.Key)
	if err != nil {
		t.Fatalf("parse key: %v", err)
	}
	url := emu.URL + "/keys/" + key.Name() + "/requestToken"
	params := `{"clientId":"server","ttl":5000}`

	resp, data := doHTTP(t, http.MethodPost, url, params, http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned request without auth: status %d, want 401; body %s", resp.StatusCode, data)
	}
	resp, data = doHTTP(t, http.MethodPost, url, params, http.Header{
		"Content-Type":  {"application/json"},
		"Authorization": {basicAuth(emu.Key)},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unsigned request with Basic auth: status %d, body %s", resp.StatusCode, data)
	}
	var details emulator.TokenDetails
	if err := json.Unmarshal(data, &details); err != nil {
		t.Fatalf("decode token details: %v", err)
	}
	if details.ClientID != "server" || details.Expires-details.Issued != 5000 {
		t.Errorf("token details = %+v, want clientId server and ttl 5000", details)
	}
}

func TestFaultsEndpoint_AddListClear(t *testing.T) {
	emu := emulatortest.Start(t)
	url := emu.URL + "/_emulator/faults"
	jsonHeader := http.Header{"Content-Type": {"application/json"}}

	resp, body := doHTTP(t, http.MethodPost, url, `{"status":200}`, jsonHeader)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("invalid fault: status %d, want 400; body %s", resp.StatusCode, body)
	}
	resp, body = doHTTP(t, http.MethodPost, url, `{"channel":"trades","status":503,"code":50300,"count":1}`, jsonHeader)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add fault: status %d, body %s", resp.StatusCode, body)
	}
	resp, body = doHTTP(t, http.MethodPost, url, `{"status":500,"count":0}`, jsonHeader)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add fault: status %d, body %s", resp.StatusCode, body)
	}
	if faults := emu.Server.Faults(); len(faults) != 2 {
		t.Fatalf("faults = %+v, want 2", faults)
	}

	info := errorInfo(t, newREST(t, emu).Channels.Get("trades").Publish(testContext(t), "t", "x"))
	if info.Code != 50300 || info.StatusCode != 503 {
		t.Errorf("injected error: code %d status %d, want 50300 503", info.Code, info.StatusCode)
	}

	resp, _ = doHTTP(t, http.MethodDelete, url, "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("clear faults: status %d, want 204", resp.StatusCode)
	}
	if err := newREST(t, emu).Channels.Get("trades").Publish(testContext(t), "t", "x"); err != nil {
		t.Errorf("publish after clearing faults: %v", err)
	}
}

func TestDisconnectEndpoint_ClosesConnections(t *testing.T) {
	emu := emulatortest.Start(t)
	client := newRealtime(t, emu.ClientOptions()...)
	firstConnection := client.Connection.ID()
	resp, body := doHTTP(t, http.MethodPost, emu.URL+"/_emulator/disconnect", "", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"disconnected":1}` {
		t.Fatalf("disconnect: status %d body %s, want 200 {\"disconnected\":1}", resp.StatusCode, body)
	}
	waitFor(t, "the client to resume its connection", func() bool {
		return client.Connection.State() == ably.ConnectionStateConnected && emu.Server.Stats().Connections.Resumed == 1
	})
	if got := client.Connection.ID(); got != firstConnection {
		t.Errorf("connection id after resume = %q, want %q", got, firstConnection)
	}
}

func TestHealthz_ReportsOK(t *testing.T) {
	emu := emulatortest.Start(t)
	resp, body := doHTTP(t, http.MethodGet, emu.URL+"/healthz", "", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Errorf("healthz: status %d body %s", resp.StatusCode, body)
	}
}

func TestDropEndpoint_ClosesWithoutCloseFrame(t *testing.T) {
	emu := emulatortest.Start(t)
	conn, _ := connectRaw(t, emu, nil)
	resp, body := doHTTP(t, http.MethodPost, emu.URL+"/_emulator/drop", "", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"dropped":1}` {
		t.Fatalf("drop: status %d body %s, want 200 {\"dropped\":1}", resp.StatusCode, body)
	}
	if status := waitClosed(t, conn); status != -1 {
		t.Errorf("close status = %d, want none: a drop sends no close frame", status)
	}
	if got := emu.Server.Stats().Connections.Dropped; got != 1 {
		t.Errorf("dropped = %d, want 1", got)
	}
}

func TestPauseEndpoint_RejectsNewConnections(t *testing.T) {
	emu := emulatortest.Start(t)
	pauseURL := emu.URL + "/_emulator/pause"
	realtimeURL := fmt.Sprintf("ws://%s:%d/?key=%s&format=json", emu.Host, emu.Port, url.QueryEscape(emu.Key))
	jsonHeader := http.Header{"Content-Type": {"application/json"}}

	resp, body := doHTTP(t, http.MethodPost, pauseURL, `{"durationMs":300000}`, jsonHeader)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pause: status %d body %s", resp.StatusCode, body)
	}
	_, dialResp, err := websocket.Dial(testContext(t), realtimeURL, nil)
	if err == nil {
		t.Fatalf("dial during the pause succeeded, want it rejected")
	}
	if dialResp == nil || dialResp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial during the pause: response %+v, want status 503", dialResp)
	}
	if got := emu.Server.Stats().Connections.Refused; got != 1 {
		t.Errorf("refused = %d, want 1", got)
	}

	resp, _ = doHTTP(t, http.MethodDelete, pauseURL, "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("end pause: status %d, want 204", resp.StatusCode)
	}
	conn, _, err := websocket.Dial(testContext(t), realtimeURL, nil)
	if err != nil {
		t.Fatalf("dial after the pause: %v", err)
	}
	defer conn.CloseNow()
	readUntil(t, conn, actionConnected, 1)

	for _, bad := range []string{`{"durationMs":0}`, `{"durationMs":600001}`, `{"duration":5}`, `not json`} {
		resp, body := doHTTP(t, http.MethodPost, pauseURL, bad, jsonHeader)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("pause with %s: status %d body %s, want 400", bad, resp.StatusCode, body)
		}
	}
}
