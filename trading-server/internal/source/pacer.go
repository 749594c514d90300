package source

import (
	"context"
	"time"
)

// minPacerPeriod keeps the pacer's ticker from firing more often than the
// runtime's timers can follow. Above 1000 trades per second each tick
// allows several trades.
const minPacerPeriod = time.Millisecond

// pacer spaces trades evenly at rate per second. After a stall, for
// example while the queue is full, it allows at most two ticks' worth of
// trades at once. The other trades that fell due during the stall are
// skipped, so the long-run rate never exceeds rate.
type pacer struct {
	rate    int64
	maxDue  int64
	start   time.Time
	due     int64
	allowed int64
	ticker  *time.Ticker
}

func newPacer(rate int) *pacer {
	period := max(time.Second/time.Duration(rate), minPacerPeriod)
	perTick := (int64(rate)*int64(period) + int64(time.Second) - 1) / int64(time.Second)
	return &pacer{
		rate:   int64(rate),
		maxDue: 2 * max(perTick, 1),
		start:  time.Now(),
		ticker: time.NewTicker(period),
	}
}

// take blocks until one more trade is due and reports false if ctx ended
// first.
func (p *pacer) take(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	for p.allowed == 0 {
		select {
		case <-ctx.Done():
			return false
		case now := <-p.ticker.C:
			elapsed := now.Sub(p.start)
			// The number of trades due so far, rounded to the nearest. The
			// product is split so that it cannot overflow int64 in a long run.
			fraction := (int64(elapsed%time.Second)*p.rate + int64(time.Second)/2) / int64(time.Second)
			due := int64(elapsed/time.Second)*p.rate + fraction
			p.allowed = min(due-p.due, p.maxDue)
			p.due = due
		}
	}
	p.allowed--
	return true
}

func (p *pacer) stop() { p.ticker.Stop() }
