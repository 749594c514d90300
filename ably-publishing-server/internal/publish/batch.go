package publish

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"

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
//
// payloads are the trades as they came from Redis, already validated by
// trade.Parse. Each is sent as it is, as JSON text with the encoding
// "json", which subscribers decode into the same object that encoding
// the trade would give, and which spares ably-go a JSON encoding of every
// trade. A payload that is not valid UTF-8, which trade.Parse accepts and
// reads with replacement characters, is sent as the encoded trade instead.
func (p *BatchPublisher) PublishBatch(ctx context.Context, channel, base string, trades []trade.Trade, payloads []string) error {
	if len(payloads) != len(trades) {
		return fmt.Errorf("publish batch from %s: %d payloads for %d trades", base, len(payloads), len(trades))
	}
	// ably-go encodes the messages in place, so every attempt gets fresh
	// ones.
	msgs := make([]*ably.Message, len(trades))
	for i, t := range trades {
		msgs[i] = &ably.Message{ID: BatchMessageID(base, i), Name: EventName, Data: t}
		if utf8.ValidString(payloads[i]) {
			msgs[i].Data, msgs[i].Encoding = payloads[i], jsonEncoding
		}
	}
	if err := p.client.Channels.Get(channel).PublishMultiple(ctx, msgs); err != nil {
		return fmt.Errorf("publish %d trades from %s to %s: %w", len(trades), base, channel, err)
	}
	return nil
}

// jsonEncoding is the message encoding of data sent as JSON text.
const jsonEncoding = "json"

// MessageSize returns the bytes that Ably counts for the message of a
// trade whose JSON is payload: the data and the event name.
func MessageSize(payload string) int {
	return len(payload) + len(EventName)
}

// FitPrefix returns how many of payloads, from the first, fit in one
// publish of at most maxBytes. It returns at least 1 when payloads is not
// empty, so that a single trade over the limit is still sent and Ably
// rejects it (40009), which moves it to the dead-letter list.
func FitPrefix(payloads []string, maxBytes int) int {
	total := 0
	for i, payload := range payloads {
		total += MessageSize(payload)
		if total > maxBytes {
			return max(i, 1)
		}
	}
	return len(payloads)
}
