package redistest

import (
	"testing"
)

func TestServer_RestartKeepsAppendOnlyData(t *testing.T) {
	s := Start(t, Options{AppendOnly: true})
	c := s.Client()
	if err := c.RPush(t.Context(), "q", "a", "b").Err(); err != nil {
		t.Fatalf("rpush: %v", err)
	}
	s.Restart()
	n, err := c.LLen(t.Context(), "q").Result()
	if err != nil {
		t.Fatalf("llen after restart: %v", err)
	}
	if n != 2 {
		t.Errorf("list length after restart = %d, want 2", n)
	}
}

func TestServer_KillStopsServing(t *testing.T) {
	s := Start(t, Options{})
	c := s.Client()
	s.Kill()
	if err := c.Ping(t.Context()).Err(); err == nil {
		t.Error("ping after kill succeeded, want an error")
	}
}
