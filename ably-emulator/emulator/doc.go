// Package emulator is a local stand-in for the Ably service that the real
// ably-go (v1.4.1) and ably-js (v2.28) clients accept, so that a system built
// on Ably can run and be tested with no Ably account and no network.
//
// It serves the subset of Ably's REST API and realtime WebSocket protocol
// that a publisher and a subscriber use:
//
//   - POST /channels/{channel}/messages, JSON or MessagePack, with Ably's
//     per-channel rate limit, message size limit and idempotent publishing;
//   - GET /time and POST /keys/{keyName}/requestToken (signed token requests
//     and Basic auth), Basic and Bearer auth on every endpoint, capabilities;
//   - the realtime protocol at GET / (CONNECTED, HEARTBEAT, ATTACH, DETACH,
//     MESSAGE with ACK and NACK, AUTH, CLOSE, DISCONNECTED, ERROR), JSON or
//     MessagePack framing;
//   - endpoints under /_emulator/ for tests: statistics, the accepted
//     messages of a channel, fault injection and forced disconnects.
//
// The emulator keeps all state in memory and loses it on restart.
// Connection resume is not implemented: a client that resumes gets a new
// connection with error 80008, as Ably answers when the connection state
// has expired, and the client then reattaches its channels. Presence,
// history, push and LiveObjects are not implemented.
package emulator
