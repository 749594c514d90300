package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ably-fanout/lib/trade"
	"github.com/ably/ably-go/ably"
)

// MaxPublishBytes is the largest total message size of one publish: 64
// KiB, counting each message's data, name, clientId and extras, as the
// emulator's default EMULATOR_MAX_MESSAGE_SIZE does for Ably's default
// maximum message size.
//
// NOTE: Ably packages can have a different maximum; the worker's
// Batching.MaxBytes can be set below it.
const MaxPublishBytes = 64 * 1024

// BatchPublisher sends several trades to one channel in one Ably REST
// request.
type BatchPublisher struct {
	client *ably.REST
}

// NewBatchPublisher returns a BatchPublisher that publishes with client.
func NewBatchPublisher(client *ably.REST) *BatchPublisher {
	return &BatchPublisher{client: client}
}

// BatchMessageID returns the message id of the trade at index of a batch
// whose base id is base. Ably requires the ids of the messages of one
// multi-message publish to share one base and differ by a numeric suffix,
// <base>:<index>, or it rejects the publish with 40031.
func BatchMessageID(base string, index int) string {
	return base + ":" + strconv.Itoa(index)
}

// PublishBatch publishes trades to channel in one request, message i with
// id BatchMessageID(base, i). Ably accepts or rejects the request whole.
func (p *BatchPublisher) PublishBatch(ctx context.Context, channel, base string, trades []trade.Trade) error {
	// ably-go encodes the messages in place, so every attempt gets fresh
	// ones.
	msgs := make([]*ably.Message, len(trades))
	for i, t := range trades {
		msgs[i] = &ably.Message{ID: BatchMessageID(base, i), Name: EventName, Data: t}
	}
	if err := p.client.Channels.Get(channel).PublishMultiple(ctx, msgs); err != nil {
		return fmt.Errorf("publish %d trades from %s to %s: %w", len(trades), base, channel, err)
	}
	return nil
}

// MessageSize returns the bytes that Ably counts for the message of t: its
// JSON data and the event name. It returns an error only when t cannot be
// encoded.
func MessageSize(t trade.Trade) (int, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return 0, fmt.Errorf("encode trade %s: %w", t.ID, err)
	}
	return len(data) + len(EventName), nil
}

// FitPrefix returns how many of trades, from the first, fit in one publish
// of at most maxBytes. It returns at least 1 when trades is not empty, so
// that a single trade over the limit is still sent and Ably rejects it
// (40009), which moves it to the dead-letter list.
func FitPrefix(trades []trade.Trade, maxBytes int) int {
	total := 0
	for i, t := range trades {
		size, err := MessageSize(t)
		if err != nil {
			return max(i, 1)
		}
		total += size
		if total > maxBytes {
			return max(i, 1)
		}
	}
	return len(trades)
}
