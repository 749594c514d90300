package limiter

import "context"

// Channels admits publishes per channel for the worker. Each admission is
// checked against the scopes that Scopes returns for the channel, in one
// script call. For one channel that is the global log. For trades routed
// to many channels it is the channel's own log and the account's log,
// because Ably limits the message rate of each channel and of the account.
type Channels struct {
	Group *Group
	// Scopes returns the logs and limits of a channel. Their keys must
	// share one Redis Cluster hash tag.
	Scopes func(channel string) []Scope
}

// NewRequestID returns a request id that no other call uses.
func (c Channels) NewRequestID() string { return c.Group.NewRequestID() }

// Complete records that the publish admitted under requestID on channel
// has ended; see Group.Complete.
func (c Channels) Complete(ctx context.Context, requestID, channel string) error {
	return c.Group.Complete(ctx, requestID, c.Scopes(channel)...)
}

// Wait blocks until at least req.Minimum of req.N admissions on channel
// are granted and returns how many were.
func (c Channels) Wait(ctx context.Context, channel string, req Request) (int, error) {
	return c.Group.Wait(ctx, req, c.Scopes(channel)...)
}
