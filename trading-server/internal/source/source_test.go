package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ably-fanout/lib/trade"
	"github.com/ably-fanout/trading-server/internal/generate"
)

func newTestGenerator(tb testing.TB) *generate.Generator {
	tb.Helper()
	cfg := generate.Config{ProducerID: "src", Symbols: []string{"AAPL", "MSFT"}}
	g, err := generate.New(cfg, rand.New(rand.NewPCG(1, 2)), time.Now)
	if err != nil {
		tb.Fatalf("new generator: %v", err)
	}
	return g
}

// collector is an Emit that records trades and reports ErrLimitReached
// when it has taken limit trades (0 means no limit).
type collector struct {
	limit  int
	trades []trade.Trade
}

func (c *collector) emit(t trade.Trade) error {
	c.trades = append(c.trades, t)
	if c.limit > 0 && len(c.trades) >= c.limit {
		return ErrLimitReached
	}
	return nil
}

func (c *collector) ids() []string {
	ids := make([]string, len(c.trades))
	for i, t := range c.trades {
		ids[i] = t.ID
	}
	return ids
}

func runWithTimeout(tb testing.TB, s Source, emit Emit) error {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), time.Minute)
	defer cancel()
	err := s.Run(ctx, emit)
	if ctx.Err() != nil {
		tb.Fatal("source did not stop within a minute")
	}
	return err
}

func TestSources_StopAtLimit(t *testing.T) {
	cases := []struct {
		name      string
		newSource func(*generate.Generator) (Source, error)
		limit     int
	}{
		{"steady", func(g *generate.Generator) (Source, error) { return NewSteady(g, 5000) }, 57},
		{"steady above a trade per millisecond", func(g *generate.Generator) (Source, error) { return NewSteady(g, 100000) }, 3001},
		{"burst smaller than limit", func(g *generate.Generator) (Source, error) { return NewBurst(g, 7, time.Millisecond) }, 20},
		{"burst larger than limit", func(g *generate.Generator) (Source, error) { return NewBurst(g, 100, time.Hour) }, 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.newSource(newTestGenerator(t))
			if err != nil {
				t.Fatalf("new source: %v", err)
			}
			c := &collector{limit: tc.limit}
			if err := runWithTimeout(t, s, c.emit); !errors.Is(err, ErrLimitReached) {
				t.Errorf("Run returned %v, want ErrLimitReached", err)
			}
			if len(c.trades) != tc.limit {
				t.Errorf("source emitted %d trades, want %d", len(c.trades), tc.limit)
			}
			for i, tr := range c.trades {
				if want := fmt.Sprintf("src-%d", i+1); tr.ID != want {
					t.Fatalf("trade %d id = %q, want %q", i, tr.ID, want)
				}
			}
		})
	}
}

func TestSources_StopWhenContextEnds(t *testing.T) {
	makers := map[string]func(*generate.Generator) (Source, error){
		"steady": func(g *generate.Generator) (Source, error) { return NewSteady(g, 1000) },
		"burst":  func(g *generate.Generator) (Source, error) { return NewBurst(g, 10, time.Millisecond) },
	}
	for name, newSource := range makers {
		t.Run(name, func(t *testing.T) {
			s, err := newSource(newTestGenerator(t))
			if err != nil {
				t.Fatalf("new source: %v", err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			n := 0
			emit := func(trade.Trade) error {
				n++
				if n == 25 {
					cancel()
				}
				return nil
			}
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx, emit) }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("source did not stop within a minute of the cancel")
			}
			if n != 25 {
				t.Errorf("source emitted %d trades, want 25 (none after the cancel)", n)
			}
		})
	}
}

func TestSources_ReturnEmitError(t *testing.T) {
	s, err := NewBurst(newTestGenerator(t), 5, time.Hour)
	if err != nil {
		t.Fatalf("new burst: %v", err)
	}
	failure := errors.New("receiver gone")
	if err := runWithTimeout(t, s, func(trade.Trade) error { return failure }); !errors.Is(err, failure) {
		t.Errorf("Run returned %v, want %v", err, failure)
	}
}

func TestNewSources_RejectInvalidSettings(t *testing.T) {
	g := newTestGenerator(t)
	if _, err := NewSteady(g, 0); err == nil {
		t.Error("NewSteady with rate 0 succeeded")
	}
	if _, err := NewBurst(g, 0, time.Second); err == nil {
		t.Error("NewBurst with size 0 succeeded")
	}
	if _, err := NewBurst(g, 1, 0); err == nil {
		t.Error("NewBurst with interval 0 succeeded")
	}
	if _, err := NewReplay(strings.NewReader(""), ReplayConfig{Rate: -1}, slog.Default()); err == nil {
		t.Error("NewReplay with rate -1 succeeded")
	}
}

func TestLineReader_Lines(t *testing.T) {
	const max = 100_000
	long := strings.Repeat("x", 150_000)
	cases := []struct {
		name  string
		input string
		want  []string // "<too long>" marks a line reported as too long
	}{
		{"empty input", "", nil},
		{"two lines", "a\nb\n", []string{"a", "b"}},
		{"no final newline", "a\nb", []string{"a", "b"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"blank lines", "\n\n", []string{"", ""}},
		{"exactly max", strings.Repeat("y", max) + "\nz", []string{strings.Repeat("y", max), "z"}},
		{"exactly max with crlf", strings.Repeat("y", max) + "\r\nz", []string{strings.Repeat("y", max), "z"}},
		{"one over max", strings.Repeat("y", max+1) + "\nz", []string{"<too long>", "z"}},
		{"far over max in the middle", "a\n" + long + "\nb\n", []string{"a", "<too long>", "b"}},
		{"far over max at the end", "a\n" + long, []string{"a", "<too long>"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lr := newLineReader(strings.NewReader(tc.input), max)
			var got []string
			for range len(tc.input) + 2 {
				line, tooLong, err := lr.next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("next: %v", err)
				}
				if tooLong {
					got = append(got, "<too long>")
					continue
				}
				got = append(got, string(line))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("read %d lines, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("line %d = %.20q (%d bytes), want %.20q (%d bytes)",
						i+1, got[i], len(got[i]), tc.want[i], len(tc.want[i]))
				}
			}
		})
	}
}

// replayLines returns the lines of a file mixing valid trades with every
// kind of bad line, and the ids of the valid trades in order.
func replayLines(tb testing.TB) (string, []string) {
	tb.Helper()
	valid := func(id string, seq int64) string {
		data, err := json.Marshal(trade.Trade{
			ID: id, Symbol: "AAPL", Price: "187.25", Size: 10, Side: trade.Sell, Seq: seq,
			Time: "2025-03-14T09:30:00.000Z",
		})
		if err != nil {
			tb.Fatalf("marshal: %v", err)
		}
		return string(data)
	}
	lines := []string{
		valid("r-1", 1), // line 1
		`{"id":"r-x",`,  // line 2: invalid JSON
		strings.Replace(valid("r-bad", 2), `"187.25"`, `"abc"`, 1), // line 3: price "abc"
		"",              // line 4: blank
		valid("r-2", 2), // line 5
		strings.Repeat("z", DefaultMaxLineBytes+10), // line 6: too long
		`{"id":"r-y","symbol":"AAPL"}`,              // line 7: missing fields
		"   ",                                       // line 8: blank
		valid("r-3", 3),                             // line 9
	}
	return strings.Join(lines, "\n") + "\n", []string{"r-1", "r-2", "r-3"}
}

type logLine struct {
	Level  string `json:"level"`
	Msg    string `json:"msg"`
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
}

func parseLogs(tb testing.TB, data []byte) []logLine {
	tb.Helper()
	var out []logLine
	for raw := range bytes.Lines(data) {
		var l logLine
		if err := json.Unmarshal(raw, &l); err != nil {
			tb.Fatalf("log line %q: %v", raw, err)
		}
		out = append(out, l)
	}
	return out
}

func TestReplay_SkipsBadLines(t *testing.T) {
	content, wantIDs := replayLines(t)
	path := filepath.Join(t.TempDir(), "trades.ndjson")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write replay file: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	var logs bytes.Buffer
	r, err := NewReplay(f, ReplayConfig{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("new replay: %v", err)
	}
	c := &collector{}
	if err := runWithTimeout(t, r, c.emit); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}

	if got := strings.Join(c.ids(), ","); got != strings.Join(wantIDs, ",") {
		t.Errorf("emitted ids %s, want %s", got, strings.Join(wantIDs, ","))
	}
	want := ReplayStats{Lines: 9, Blank: 2, Emitted: 3, Skipped: 4}
	if got := r.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	wantReasons := map[int64]string{
		2: "not a JSON object",
		3: `invalid field "price"`,
		6: "line longer than 1048576 bytes",
		7: `missing field "price"`,
	}
	skipped := map[int64]string{}
	for _, l := range parseLogs(t, logs.Bytes()) {
		if l.Msg == "skipped replay line" {
			skipped[l.Line] = l.Reason
		}
	}
	if len(skipped) != len(wantReasons) {
		t.Errorf("logged skipped lines %v, want lines 2, 3, 6 and 7", skipped)
	}
	for line, want := range wantReasons {
		if !strings.Contains(skipped[line], want) {
			t.Errorf("reason for line %d = %q, want it to contain %q", line, skipped[line], want)
		}
	}
}

func TestReplay_StopsAtLimit(t *testing.T) {
	content, _ := replayLines(t)
	r, err := NewReplay(strings.NewReader(content), ReplayConfig{Rate: 1000}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("new replay: %v", err)
	}
	c := &collector{limit: 2}
	if err := runWithTimeout(t, r, c.emit); !errors.Is(err, ErrLimitReached) {
		t.Errorf("Run returned %v, want ErrLimitReached", err)
	}
	if got := strings.Join(c.ids(), ","); got != "r-1,r-2" {
		t.Errorf("emitted ids %s, want r-1,r-2", got)
	}
	if got := r.Stats(); got.Emitted != 2 || got.Lines != 5 {
		t.Errorf("Stats() = %+v, want 2 emitted after 5 lines", got)
	}
}

func TestReplay_LogsManySkipsAtDebug(t *testing.T) {
	input := strings.Repeat("not json\n", 5)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := NewReplay(strings.NewReader(input), ReplayConfig{MaxLoggedSkips: 2}, logger)
	if err != nil {
		t.Fatalf("new replay: %v", err)
	}
	if err := runWithTimeout(t, r, (&collector{}).emit); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	levels := map[string]int{}
	for _, l := range parseLogs(t, logs.Bytes()) {
		if l.Msg == "skipped replay line" {
			levels[l.Level]++
		}
	}
	if levels["WARN"] != 2 || levels["DEBUG"] != 3 {
		t.Errorf("skipped lines by level = %v, want 2 WARN and 3 DEBUG", levels)
	}
}

// failingReader returns some data and then an error.
type failingReader struct{ data io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.data.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("disk failed")
	}
	return n, err
}

func TestReplay_ReturnsReadError(t *testing.T) {
	content, _ := replayLines(t)
	r, err := NewReplay(&failingReader{strings.NewReader(content[:len(content)-1])}, ReplayConfig{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("new replay: %v", err)
	}
	c := &collector{}
	err = runWithTimeout(t, r, c.emit)
	if err == nil || !strings.Contains(err.Error(), "disk failed") {
		t.Errorf("Run returned %v, want the read error", err)
	}
	if len(c.trades) != 2 {
		t.Errorf("emitted %d trades before the error, want 2", len(c.trades))
	}
}
