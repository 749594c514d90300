package emulator

import (
	"strconv"
	"strings"
	"time"
)

// rewindParam is the channel param that requests recent messages on attach.
const rewindParam = "rewind"

// rewind is a parsed rewind channel param: either the last count messages or
// the messages of the last interval.
type rewind struct {
	count    int
	interval time.Duration
	// raw is the param as the client sent it, echoed in ATTACHED.
	raw string
}

// parseRewind parses the rewind param: a message count such as "20", or an
// interval of whole seconds or minutes such as "10s" or "2m", as Ably
// documents it. It returns nil for an absent param.
func parseRewind(raw string) (*rewind, *ErrorInfo) {
	if raw == "" {
		return nil, nil
	}
	invalid := func() (*rewind, *ErrorInfo) {
		return nil, errBadRequest(codeInvalidParameterValue,
			"invalid rewind channel param %q: use a message count such as 20, or an interval such as 10s or 2m", raw)
	}
	unit := time.Duration(0)
	number := raw
	switch {
	case strings.HasSuffix(raw, "s"):
		unit, number = time.Second, strings.TrimSuffix(raw, "s")
	case strings.HasSuffix(raw, "m"):
		unit, number = time.Minute, strings.TrimSuffix(raw, "m")
	}
	n, err := strconv.Atoi(number)
	if err != nil || n < 0 || number != strconv.Itoa(n) {
		return invalid()
	}
	if unit == 0 {
		return &rewind{count: n, raw: raw}, nil
	}
	// Bound the interval so that the multiplication cannot overflow.
	if n > int(time.Duration(1<<62)/unit) {
		return invalid()
	}
	return &rewind{interval: time.Duration(n) * unit, raw: raw}, nil
}

// selectFrom returns the messages of b that r requests, oldest first: at
// most limit of the most recent, and whether more than limit matched. now
// is the emulator time of the attach.
func (r *rewind) selectFrom(b *historyBuffer, now time.Time, limit int) ([]historyEntry, bool) {
	var matched int
	if r.count > 0 {
		matched = min(r.count, b.len())
	} else if r.interval > 0 {
		since := now.Add(-r.interval).UnixMilli()
		for matched < b.len() && b.at(b.len()-1-matched).message.Timestamp >= since {
			matched++
		}
	}
	delivered := min(matched, limit)
	out := make([]historyEntry, 0, delivered)
	for i := b.len() - delivered; i < b.len(); i++ {
		out = append(out, b.at(i))
	}
	return out, matched > limit
}
