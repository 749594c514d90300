// Package source produces trades for the pusher in the three modes of the
// trading server: steady (an even rate), burst (a batch every interval)
// and replay (the lines of an NDJSON file).
package source

import (
	"context"
	"errors"

	"github.com/ably-fanout/lib/trade"
)

// ErrLimitReached is returned by an Emit that took its trade and wants no
// more, because the trade limit is reached. Sources return it unchanged.
var ErrLimitReached = errors.New("trade limit reached")

// Emit hands one trade on, blocking while the receiver is busy. It returns
// nil when it took the trade, ErrLimitReached when it took the trade and
// wants no more, and any other error when it did not take the trade.
type Emit func(trade.Trade) error

// Source produces trades and passes each to emit, in order. Run returns
// nil when ctx ends or the input runs out, and the error of emit when emit
// fails, which includes ErrLimitReached. A Source is not safe for
// concurrent use and Run is called once.
type Source interface {
	Run(ctx context.Context, emit Emit) error
}

// taken reports whether emit took the trade it returned err for.
func taken(err error) bool {
	return err == nil || errors.Is(err, ErrLimitReached)
}
