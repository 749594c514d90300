package emulator

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// maxFaultDelay bounds Fault.DelayMs so that a typo cannot hang a test run.
const maxFaultDelay = 10 * time.Minute

// Fault makes the next publishes to a channel fail or wait, for tests. It is
// also the JSON body of POST /_emulator/faults.
type Fault struct {
	// Channel is the channel whose publishes the fault applies to; empty
	// means every channel.
	Channel string `json:"channel,omitempty"`
	// DataContains, when set, limits the fault to publishes in which the
	// data of some message contains this text, such as a trade id, so that
	// Ably's rejection of one message's data can be imitated: every publish
	// that carries it fails.
	DataContains string `json:"dataContains,omitempty"`
	// Status is the HTTP status of the injected failure, from 400 to 599,
	// or 0 to only delay the publish and then process it normally.
	Status int `json:"status,omitempty"`
	// Code is the Ably error code of the failure. Default Status*100.
	Code int `json:"code,omitempty"`
	// Message is the error message. Default "injected fault".
	Message string `json:"message,omitempty"`
	// Count is how many publishes the fault applies to; 0 means every
	// publish until the faults are cleared.
	Count int `json:"count,omitempty"`
	// DelayMs delays each affected publish by this many milliseconds before
	// it fails or is processed. A delayed publish is processed even if the
	// client has given up waiting, as Ably may accept a request whose
	// response was lost.
	DelayMs int `json:"delayMs,omitempty"`
}

// validate fills in defaults and checks the fault; the error wraps
// ErrInvalidFault.
func (f *Fault) validate() error {
	switch {
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("%w: status %d is not an HTTP error status from 400 to 599", ErrInvalidFault, f.Status)
	case f.Count < 0:
		return fmt.Errorf("%w: count %d is negative; use 0 for every publish until cleared", ErrInvalidFault, f.Count)
	case f.DelayMs < 0 || time.Duration(f.DelayMs)*time.Millisecond > maxFaultDelay:
		return fmt.Errorf("%w: delayMs %d is outside 0..%d", ErrInvalidFault, f.DelayMs, maxFaultDelay.Milliseconds())
	case f.Status == 0 && f.DelayMs == 0:
		return fmt.Errorf("%w: neither status nor delayMs is set, so the fault would do nothing", ErrInvalidFault)
	case f.Status == 0 && (f.Code != 0 || f.Message != ""):
		return fmt.Errorf("%w: code or message is set without a status", ErrInvalidFault)
	}
	if f.Status != 0 && f.Code == 0 {
		f.Code = f.Status * 100
	}
	if f.Status != 0 && f.Message == "" {
		f.Message = "injected fault"
	}
	return nil
}

func (f *Fault) errorInfo() *ErrorInfo {
	return newErrorInfo(f.Status, f.Code, "%s", f.Message)
}

// activeFault is a fault with the number of publishes it still applies to;
// remaining is -1 for a fault without a count.
type activeFault struct {
	fault     Fault
	remaining int
}

// faultQueue holds the active faults in the order they were added.
type faultQueue struct {
	mu     sync.Mutex
	faults []*activeFault
}

func (q *faultQueue) add(f Fault) {
	remaining := f.Count
	if remaining == 0 {
		remaining = -1
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.faults = append(q.faults, &activeFault{fault: f, remaining: remaining})
}

// take consumes one use of the first fault that applies to a publish of
// messages to channel.
func (q *faultQueue) take(channel string, messages []*Message) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, active := range q.faults {
		if active.fault.Channel != "" && active.fault.Channel != channel {
			continue
		}
		if active.fault.DataContains != "" && !anyDataContains(messages, active.fault.DataContains) {
			continue
		}
		if active.remaining > 0 {
			active.remaining--
			if active.remaining == 0 {
				q.faults = append(q.faults[:i], q.faults[i+1:]...)
			}
		}
		return active.fault, true
	}
	return Fault{}, false
}

// anyDataContains reports whether the data of some message contains text.
func anyDataContains(messages []*Message, text string) bool {
	for _, m := range messages {
		if strings.Contains(m.Data.text, text) || strings.Contains(string(m.Data.binary), text) {
			return true
		}
	}
	return false
}

func (q *faultQueue) clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.faults = nil
}

// list returns the active faults with Count set to the remaining uses.
func (q *faultQueue) list() []Fault {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Fault, 0, len(q.faults))
	for _, active := range q.faults {
		f := active.fault
		f.Count = max(active.remaining, 0)
		out = append(out, f)
	}
	return out
}
