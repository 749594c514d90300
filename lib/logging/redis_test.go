package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRedisLogger_ThrottlesMessages(t *testing.T) {
	var buf bytes.Buffer
	l := NewRedisLogger(slog.New(slog.NewJSONHandler(&buf, nil)), time.Hour)
	for i := range 3 {
		l.Printf(t.Context(), "redis: connection pool: failed to dial after %d attempts: %s", i+1, "connection refused")
	}

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("logged %d lines for 3 messages within the interval, want 1:\n%s", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("log line %q is not JSON: %v", lines[0], err)
	}
	if rec["level"] != "WARN" {
		t.Errorf("level = %v, want WARN", rec["level"])
	}
	if want := "redis: connection pool: failed to dial after 1 attempts: connection refused"; rec["message"] != want {
		t.Errorf("message = %v, want %q", rec["message"], want)
	}
}
