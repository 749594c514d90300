package publish

import (
	"context"
	"fmt"

	"github.com/ably-fanout/lib/trade"
	"github.com/ably/ably-go/ably"
)

// EventName is the Ably message name of every trade.
const EventName = "trade"

// Publisher publishes trades to one Ably channel.
type Publisher struct {
	channel *ably.RESTChannel
}

// New returns a Publisher for the channel named channel.
func New(client *ably.REST, channel string) *Publisher {
	return &Publisher{channel: client.Channels.Get(channel)}
}

// Publish sends t as one message and returns ably-go's error unchanged, for
// Classify.
//
// The message id is the trade id, so Ably drops a second publish of the
// same trade within its idempotency window, which the emulator models as
// 2 minutes. The data is the Trade value: ably-go v1.4.1 encodes a struct
// as a JSON string with encoding "json", and subscribers receive it
// decoded as an object.
//
// NOTE: a publish of several messages at once needs ids of the form
// <base>:<index> (Ably error 40031 otherwise), so batching must derive its
// ids differently.
func (p *Publisher) Publish(ctx context.Context, t trade.Trade) error {
	// ably-go encodes the message in place, so every attempt gets a fresh
	// Message.
	msg := &ably.Message{ID: t.ID, Name: EventName, Data: t}
	if err := p.channel.PublishMultiple(ctx, []*ably.Message{msg}); err != nil {
		return fmt.Errorf("publish trade %s: %w", t.ID, err)
	}
	return nil
}
