package push

import "time"

// backoff is a delay that doubles from min up to max on each call to next
// and starts over after reset.
type backoff struct {
	min, max time.Duration
	current  time.Duration
}

func newBackoff(minimum, maximum time.Duration) backoff {
	return backoff{min: minimum, max: maximum}
}

// next returns the delay to wait now and doubles the following one.
func (b *backoff) next() time.Duration {
	if b.current == 0 {
		b.current = b.min
	}
	d := b.current
	b.current = min(b.current*2, b.max)
	return d
}

func (b *backoff) reset() { b.current = 0 }
