package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/ably-publishing-server/internal/queue"
	"github.com/ably-fanout/lib/keys"
	"github.com/ably-fanout/lib/redistest"
	"github.com/redis/go-redis/v9"
)

const cliQueueKey = "cli-queue"

// seedDeadLetters moves each payload to the dead-letter list as a replica
// does.
func seedDeadLetters(tb testing.TB, rdb *redis.Client, payloads ...string) {
	tb.Helper()
	q := queue.New(rdb, cliQueueKey, "replica-a")
	for i, p := range payloads {
		if err := rdb.RPush(tb.Context(), keys.Queue(cliQueueKey), p).Err(); err != nil {
			tb.Fatal(err)
		}
		if _, ok, err := q.Take(tb.Context(), time.Second); err != nil || !ok {
			tb.Fatalf("Take: ok=%v, %v", ok, err)
		}
		if moved, err := q.DeadLetter(tb.Context(), p, "reason-"+string(rune('a'+i)), 40009, time.Now()); err != nil || !moved {
			tb.Fatalf("DeadLetter: moved=%v, %v", moved, err)
		}
	}
}

// runCLI runs the subcommand against srv and returns its status and output.
func runCLI(tb testing.TB, srv *redistest.Server, args ...string) (status int, stdout, stderr string) {
	tb.Helper()
	env := map[string]string{"REDIS_URL": srv.URL(), "QUEUE_KEY": cliQueueKey}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	var out, errOut bytes.Buffer
	status = runDeadLetter(tb.Context(), args, lookup, &out, &errOut)
	return status, out.String(), errOut.String()
}

func cliTrade(id string) string {
	return `{"id":"` + id + `","symbol":"AAPL","price":"1.5","size":1,"side":"buy","seq":1,"ts":"2026-01-02T03:04:05.000Z"}`
}

func TestDeadLetterCLI_CountListShow(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client()
	seedDeadLetters(t, rdb, cliTrade("t-1"), "not json", cliTrade("t-2"))

	status, out, errOut := runCLI(t, srv, "count")
	if status != 0 || strings.TrimSpace(out) != "3" {
		t.Errorf("count: status %d, output %q, stderr %q; want 0 and 3", status, out, errOut)
	}

	status, out, _ = runCLI(t, srv, "list")
	if status != 0 {
		t.Fatalf("list: status %d", status)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("list printed %d lines, want a header and 3 entries:\n%s", len(lines), out)
	}
	for i, want := range []string{"t-1", "-", "t-2"} {
		fields := strings.Fields(lines[i+1])
		if len(fields) < 7 || fields[0] != string(rune('0'+i)) || fields[1] != want || fields[2] != "40009" {
			t.Errorf("list line %d = %q, want index %d, trade %s and code 40009", i+1, lines[i+1], i, want)
		}
		if !strings.HasSuffix(lines[i+1], "reason-"+string(rune('a'+i))) {
			t.Errorf("list line %d = %q, want it to end with the reason", i+1, lines[i+1])
		}
	}

	status, out, _ = runCLI(t, srv, "show", "t-2")
	if status != 0 {
		t.Fatalf("show: status %d", status)
	}
	var shown map[string]any
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("show printed %q, not one JSON object: %v", out, err)
	}
	if shown["payload"] != cliTrade("t-2") || shown["reason"] != "reason-c" || shown["index"] != 2.0 {
		t.Errorf("show printed %v, want index 2 with the payload and reason of t-2", shown)
	}
}

func TestDeadLetterCLI_Requeue(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantQueued []string
		wantLeft   int64
	}{
		{name: "by index and trade id", args: []string{"requeue", "2", "t-1", "2"},
			wantQueued: []string{cliTrade("t-1"), cliTrade("t-3")}, wantLeft: 1},
		{name: "all", args: []string{"requeue", "all"},
			wantQueued: []string{cliTrade("t-1"), "not json", cliTrade("t-3")}, wantLeft: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			rdb := srv.Client()
			seedDeadLetters(t, rdb, cliTrade("t-1"), "not json", cliTrade("t-3"))

			status, out, errOut := runCLI(t, srv, tt.args...)
			if status != 0 {
				t.Fatalf("requeue: status %d, stderr %q", status, errOut)
			}
			queued, err := rdb.LRange(t.Context(), keys.Queue(cliQueueKey), 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(queued, "|") != strings.Join(tt.wantQueued, "|") {
				t.Errorf("queue %q, want %q", queued, tt.wantQueued)
			}
			if n := rdb.LLen(t.Context(), keys.Dead(cliQueueKey)).Val(); n != tt.wantLeft {
				t.Errorf("dead-letter list has %d entries, want %d", n, tt.wantLeft)
			}
			if !strings.Contains(out, "requeued") {
				t.Errorf("output %q does not report the requeue", out)
			}
		})
	}
}

func TestDeadLetterCLI_Errors(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	seedDeadLetters(t, srv.Client(), cliTrade("t-1"))
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantErr    string
	}{
		{name: "no action", args: nil, wantStatus: 2, wantErr: "missing action"},
		{name: "unknown action", args: []string{"purge"}, wantStatus: 2, wantErr: "invalid arguments"},
		{name: "show without reference", args: []string{"show"}, wantStatus: 2, wantErr: "invalid arguments"},
		{name: "unknown index", args: []string{"show", "5"}, wantStatus: 1, wantErr: "not found"},
		{name: "unknown trade", args: []string{"requeue", "t-9"}, wantStatus: 1, wantErr: "not found"},
		{name: "invalid setting", args: []string{"-redis-port", "0", "count"}, wantStatus: 2, wantErr: "-redis-port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, errOut := runCLI(t, srv, tt.args...)
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d", status, tt.wantStatus)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.wantErr)
			}
		})
	}
	if n := srv.Client().LLen(t.Context(), keys.Dead(cliQueueKey)).Val(); n != 1 {
		t.Errorf("dead-letter list has %d entries after failed commands, want 1", n)
	}
}
