// Package generate makes synthetic trades: each symbol's price follows a
// random walk kept as a whole number of ticks, and every trade gets an id
// that is unique across producers and runs.
package generate

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	mathrand "math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/ably-fanout/lib/trade"
)

// Defaults for Config.
const (
	DefaultMinStartTicks = 20 * TicksPerUnit
	DefaultMaxStartTicks = 500 * TicksPerUnit
	DefaultMaxSize       = 500
)

// MaxProducerIDLength keeps "<producerID>-<counter>" within
// trade.MaxIDLength for any 64-bit counter: 43 + 1 + 20 digits = 64.
const MaxProducerIDLength = trade.MaxIDLength - 1 - 20

// Errors returned by Config.Validate, wrapped with the bad value.
var (
	// ErrInvalidProducerID means the producer id would make invalid trade ids.
	ErrInvalidProducerID = errors.New("invalid producer id")
	// ErrInvalidSymbols means the symbol list is empty, repeats a symbol or
	// contains a symbol that trade.Validate rejects.
	ErrInvalidSymbols = errors.New("invalid symbols")
	// ErrInvalidRange means a start price or size range is empty or negative.
	ErrInvalidRange = errors.New("invalid range")
)

// Config describes the trades a Generator makes.
type Config struct {
	// ProducerID is the first part of every trade id. It must be 1 to 43
	// characters of A-Z a-z 0-9 _ . - (the characters trade ids allow).
	// Required. RandomProducerID makes one.
	ProducerID string
	// Symbols are the instruments traded, each as trade.Validate accepts.
	// Required.
	Symbols []string
	// MinStartTicks and MaxStartTicks bound each symbol's first price, in
	// ticks. Default 2000 and 50000 (20.00 to 500.00).
	MinStartTicks, MaxStartTicks int64
	// MaxSize is the maximum trade size. Sizes are uniform from 1 to
	// MaxSize. Default 500.
	MaxSize int64
}

// withDefaults fills the zero fields with their defaults.
func (c Config) withDefaults() Config {
	if c.MinStartTicks == 0 && c.MaxStartTicks == 0 {
		c.MinStartTicks, c.MaxStartTicks = DefaultMinStartTicks, DefaultMaxStartTicks
	}
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	return c
}

// Validate checks that every trade the configuration can produce passes
// trade.Validate, and names the first bad field and value.
func (c Config) Validate() error {
	if err := ValidateProducerID(c.ProducerID); err != nil {
		return err
	}
	if err := ValidateSymbols(c.Symbols); err != nil {
		return err
	}
	c = c.withDefaults()
	if c.MinStartTicks < 1 || c.MaxStartTicks < c.MinStartTicks {
		return fmt.Errorf("%w: start ticks from %d to %d, expected 1 <= min <= max",
			ErrInvalidRange, c.MinStartTicks, c.MaxStartTicks)
	}
	if c.MaxSize < 1 {
		return fmt.Errorf("%w: max size %d, expected at least 1", ErrInvalidRange, c.MaxSize)
	}
	return nil
}

// ValidateProducerID checks that id, joined with any counter, makes a trade
// id that trade.Validate accepts.
func ValidateProducerID(id string) error {
	if id == "" || len(id) > MaxProducerIDLength {
		return fmt.Errorf("%w %q: expected 1 to %d characters of A-Z a-z 0-9 _ . -",
			ErrInvalidProducerID, id, MaxProducerIDLength)
	}
	probe := sampleTrade()
	probe.ID = tradeID(id, math.MaxUint64)
	if err := probe.Validate(); err != nil {
		return fmt.Errorf("%w %q: expected 1 to %d characters of A-Z a-z 0-9 _ . -",
			ErrInvalidProducerID, id, MaxProducerIDLength)
	}
	return nil
}

// ValidateSymbols checks that symbols is non-empty, has no repeats and
// contains only symbols that trade.Validate accepts.
func ValidateSymbols(symbols []string) error {
	if len(symbols) == 0 {
		return fmt.Errorf("%w: expected at least one symbol", ErrInvalidSymbols)
	}
	for i, s := range symbols {
		if slices.Contains(symbols[:i], s) {
			return fmt.Errorf("%w: %q is listed twice", ErrInvalidSymbols, s)
		}
		probe := sampleTrade()
		probe.Symbol = s
		if err := probe.Validate(); err != nil {
			return fmt.Errorf("%w: %q is not 1 to 16 characters of A-Z 0-9 . _ -", ErrInvalidSymbols, s)
		}
	}
	return nil
}

// sampleTrade returns a valid trade that the validators change one field of.
func sampleTrade() trade.Trade {
	return trade.Trade{
		ID: "probe", Symbol: "PROBE", Price: "1.00", Size: 1, Side: trade.Buy, Seq: 1,
		Time: trade.FormatTime(time.Unix(0, 0)),
	}
}

// RandomProducerID returns 8 random hexadecimal characters from
// crypto/rand.
//
// NOTE: two runs can draw the same id, because 32 random bits leave a
// small chance of a clash. By the birthday bound the chance reaches 1 in
// 1000 at about 3000 runs whose trades are in flight at the same time.
// Give each producer a unique PRODUCER_ID where that matters.
func RandomProducerID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error since Go 1.24.
	return hex.EncodeToString(b[:])
}

func tradeID(producerID string, counter uint64) string {
	return producerID + "-" + strconv.FormatUint(counter, 10)
}

// symbolState is the random walk and sequence of one symbol.
type symbolState struct {
	ticks int64
	seq   int64
}

// Generator makes trades. It is not safe for concurrent use.
type Generator struct {
	cfg     Config
	rng     *mathrand.Rand
	now     func() time.Time
	counter uint64
	states  []symbolState
}

// New returns a Generator that draws every random choice from rng and
// stamps trades with now, so a seeded rng and a fixed clock make the output
// repeatable. The start prices are drawn here.
func New(cfg Config, rng *mathrand.Rand, now func() time.Time) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	g := &Generator{
		cfg:    cfg,
		rng:    rng,
		now:    now,
		states: make([]symbolState, len(cfg.Symbols)),
	}
	for i := range g.states {
		g.states[i].ticks = cfg.MinStartTicks + rng.Int64N(cfg.MaxStartTicks-cfg.MinStartTicks+1)
	}
	return g, nil
}

// Next returns the next trade: a random symbol, its price moved by one step
// of the walk, a random size and side, the symbol's next seq and the next
// id of this producer.
func (g *Generator) Next() trade.Trade {
	i := g.rng.IntN(len(g.states))
	st := &g.states[i]
	st.ticks = g.step(st.ticks)
	st.seq++
	g.counter++
	side := trade.Buy
	if g.rng.IntN(2) == 1 {
		side = trade.Sell
	}
	return trade.Trade{
		ID:     tradeID(g.cfg.ProducerID, g.counter),
		Symbol: g.cfg.Symbols[i],
		Price:  FormatTicks(st.ticks),
		Size:   1 + g.rng.Int64N(g.cfg.MaxSize),
		Side:   side,
		Seq:    st.seq,
		Time:   trade.FormatTime(g.now()),
	}
}

// step moves a price by a uniform random number of ticks within about 0.1%
// of the price (at least one tick either way), and never below one tick.
func (g *Generator) step(ticks int64) int64 {
	maxMove := max(ticks/1000, 1)
	ticks += g.rng.Int64N(2*maxMove+1) - maxMove
	return max(ticks, 1)
}
