package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/ably-fanout/lib/trade"
)

// Defaults for ReplayConfig.
const (
	DefaultMaxLineBytes = 1 << 20
	// DefaultMaxLoggedSkips is the number of skipped lines logged at warn
	// level. Later ones are logged at debug level, so that a file of bad
	// lines cannot flood the log.
	DefaultMaxLoggedSkips = 1000
)

// ReplayConfig sets how a Replay reads its file.
type ReplayConfig struct {
	// Rate is the maximum number of trades per second, or 0 to send them as
	// fast as the receiver takes them. Default 0.
	Rate int
	// MaxLineBytes is the maximum line length in bytes. Longer lines are
	// skipped. Default 1 MiB.
	MaxLineBytes int
	// MaxLoggedSkips is the number of skipped lines logged at warn level.
	// Default 1000.
	MaxLoggedSkips int64
}

// ReplayStats counts the lines of a replay.
type ReplayStats struct {
	// Lines is the number of lines read, blank ones included.
	Lines int64
	// Blank is the number of lines that were empty or only white space.
	Blank int64
	// Emitted is the number of valid trades handed on.
	Emitted int64
	// Skipped is the number of lines rejected as invalid or too long.
	Skipped int64
}

// Replay sends the trades of an NDJSON file, one trade.Trade per line, in
// file order. Blank lines are ignored, and lines that are not valid trades
// are logged with their line number and reason, counted and skipped.
type Replay struct {
	r      io.Reader
	cfg    ReplayConfig
	logger *slog.Logger
	stats  ReplayStats
}

// NewReplay returns a Replay that reads r. The caller closes r after Run.
func NewReplay(r io.Reader, cfg ReplayConfig, logger *slog.Logger) (*Replay, error) {
	if cfg.Rate < 0 {
		return nil, fmt.Errorf("replay source: invalid rate %d, expected 0 or more trades per second", cfg.Rate)
	}
	if cfg.MaxLineBytes < 0 {
		return nil, fmt.Errorf("replay source: invalid max line length %d bytes, expected 0 or more", cfg.MaxLineBytes)
	}
	if cfg.MaxLineBytes == 0 {
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	if cfg.MaxLoggedSkips == 0 {
		cfg.MaxLoggedSkips = DefaultMaxLoggedSkips
	}
	return &Replay{r: r, cfg: cfg, logger: logger}, nil
}

// Stats returns the line counts. Call it after Run has returned.
func (r *Replay) Stats() ReplayStats { return r.stats }

// Run implements Source. It returns an error, after the trades read so
// far, only if reading the file fails or emit fails.
func (r *Replay) Run(ctx context.Context, emit Emit) error {
	var p *pacer
	if r.cfg.Rate > 0 {
		p = newPacer(r.cfg.Rate)
		defer p.stop()
	}
	lines := newLineReader(r.r, r.cfg.MaxLineBytes)
	for ctx.Err() == nil {
		line, tooLong, err := lines.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read replay line %d: %w", r.stats.Lines+1, err)
		}
		r.stats.Lines++
		if tooLong {
			r.skip(fmt.Sprintf("line longer than %d bytes", r.cfg.MaxLineBytes))
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			r.stats.Blank++
			continue
		}
		t, err := trade.Parse(line)
		if err != nil {
			r.skip(err.Error())
			continue
		}
		if p != nil && !p.take(ctx) {
			return nil
		}
		err = emit(t)
		if taken(err) {
			r.stats.Emitted++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *Replay) skip(reason string) {
	r.stats.Skipped++
	level := slog.LevelWarn
	if r.stats.Skipped > r.cfg.MaxLoggedSkips {
		level = slog.LevelDebug
	}
	r.logger.Log(context.Background(), level, "skipped replay line",
		slog.Int64("line", r.stats.Lines), slog.String("reason", reason))
	if r.stats.Skipped == r.cfg.MaxLoggedSkips {
		r.logger.Warn("many replay lines skipped, logging further skipped lines at debug level",
			slog.Int64("skipped", r.stats.Skipped))
	}
}
