package faults

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/devstack/stack"
)

// badPayload is a queue element that no replica can publish, with a part
// of the reason its dead-letter entry must give.
type badPayload struct {
	name    string
	payload string
	reason  string
}

func badPayloads() []badPayload {
	valid := `{"id":"bad-x","symbol":"AAPL","price":"1.5","size":1,"side":"buy","seq":1,"ts":"2026-01-02T03:04:05.000Z"}`
	return []badPayload{
		{name: "not json", payload: "not json", reason: "not a JSON object"},
		{name: "price only", payload: `{"price":"abc"}`, reason: "missing field"},
		{name: "one megabyte", payload: strings.Repeat("x", 1<<20), reason: "larger than the 65536-byte maximum"},
		{name: "empty string", payload: "", reason: "not a JSON object"},
		{name: "binary", payload: "\x00\xff\xfe\x01garbage\x80", reason: "not a JSON object"},
		{name: "number id", payload: strings.Replace(valid, `"bad-x"`, "5", 1), reason: "JSON type number"},
		{name: "negative size", payload: strings.Replace(valid, `"size":1`, `"size":-1`, 1), reason: "invalid field"},
		{name: "empty symbol", payload: strings.Replace(valid, `"AAPL"`, `""`, 1), reason: "missing field"},
		{name: "unknown field", payload: strings.Replace(valid, `}`, `,"venue":"x"}`, 1), reason: "unknown field"},
		{name: "array", payload: `[1,2,3]`, reason: "not a JSON object"},
		{name: "null", payload: `null`, reason: "missing field"},
		{name: "two objects", payload: valid + valid, reason: "data after the object"},
	}
}

func TestBadInput_DeadLetteredWithReasons(t *testing.T) {
	const valid = 20
	s := startStack(t, stack.Options{Replicas: 2})
	rdb := redisClient(t, s)
	// Ably rejects one valid trade as invalid data, in whatever publish
	// carries it: retrying cannot fix that, so the batch is split, the
	// others are published and that trade goes to the dead-letter list
	// with Ably's code.
	addFault(t, s, stack.EmulatorFault{Status: 400, Code: 40013, Message: "invalid message data", DataContains: `"valid-7"`})

	bad := badPayloads()
	var validIDs []string
	for i := range valid {
		id := fmt.Sprintf("valid-%d", i+1)
		validIDs = append(validIDs, id)
		push(t, rdb, tradeJSON(t, id, int64(i+1)))
		if i < len(bad) {
			push(t, rdb, bad[i].payload)
		}
	}
	pids := map[string]int{}
	for _, p := range s.Publishers {
		pids[p.ID] = p.Pid()
	}

	total := valid + len(bad)
	waitFor(t, time.Minute, "every entry to be published or dead-lettered", func() (bool, string) {
		published, dead := channelStats(t, s).Accepted, len(deadEntries(t, rdb))
		return published+int64(dead) == int64(total), fmt.Sprintf("%d published, %d dead-lettered", published, dead)
	})
	waitDelivered(t, s, rdb, valid-1)

	entries := deadEntries(t, rdb)
	rejectedByAbly := ""
	matched := make([]bool, len(bad))
	for _, e := range entries {
		payload := e.Payload
		if e.Encoding == "base64" {
			raw, err := base64.StdEncoding.DecodeString(e.Payload)
			if err != nil {
				t.Fatalf("entry payload is not base64: %v", err)
			}
			payload = string(raw)
		}
		if e.Code == 40013 {
			var tr struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal([]byte(payload), &tr); err != nil {
				t.Errorf("entry with code 40013 holds %q, want a valid trade", payload)
			}
			rejectedByAbly = tr.ID
			if !strings.Contains(e.Reason, "invalid message data") {
				t.Errorf("entry with code 40013 has reason %q, want Ably's message", e.Reason)
			}
			continue
		}
		found := false
		for i, b := range bad {
			if !matched[i] && b.payload == payload {
				matched[i], found = true, true
				if !strings.Contains(e.Reason, b.reason) {
					t.Errorf("%s: reason %q, want it to contain %q", b.name, e.Reason, b.reason)
				}
				if e.Code != 0 {
					t.Errorf("%s: code %d, want 0 (Ably not involved)", b.name, e.Code)
				}
			}
		}
		if !found {
			t.Errorf("unexpected dead-letter entry with %d payload bytes and reason %q", len(payload), e.Reason)
		}
	}
	for i, b := range bad {
		if !matched[i] {
			t.Errorf("%s: no dead-letter entry", b.name)
		}
	}
	if rejectedByAbly == "" {
		t.Fatal("no entry with Ably's code 40013")
	}
	if rejectedByAbly != "valid-7" {
		t.Errorf("Ably's code 40013 is on trade %s, want valid-7, the trade the emulator rejects", rejectedByAbly)
	}

	var published []string
	for _, id := range validIDs {
		if id != rejectedByAbly {
			published = append(published, id)
		}
	}
	assertEachOnce(t, "emulator", receivedCounts(t, s), published)
	var deadLettered int64
	for _, p := range s.Publishers {
		if !p.Running() || p.Pid() != pids[p.ID] {
			t.Errorf("%s exited or was restarted: %v", p.ID, p.ExitErr())
		}
		deadLettered += statsOf(t, p).Worker.DeadLettered
	}
	if deadLettered != int64(len(bad)+1) {
		t.Errorf("replicas counted %d dead letters, want %d", deadLettered, len(bad)+1)
	}
	assertDrained(t, s, rdb)
	logFigures(t, total, len(receivedCounts(t, s)), channelStats(t, s).Duplicates, int64(len(entries)),
		fmt.Sprintf("malformed=%d rejected_by_ably=1", len(bad)))
}
