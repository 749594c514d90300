// Package emulator is a local stand-in for the Ably service that the real
// ably-go (v1.4.1) and ably-js (v2.28) clients accept, so that a system built
// on Ably can run and be tested with no Ably account and no network.
//
// It serves the subset of Ably's REST API and realtime WebSocket protocol
// that a publisher and a subscriber use:
//
//   - POST /channels/{channel}/messages, JSON or MessagePack, with Ably's
//     per-channel rate limit, message size limit and idempotent publishing;
//   - GET /channels/{channel}/messages (and /history) for channel history,
//     paginated with Link headers, with the history capability enforced;
//   - GET /time and POST /keys/{keyName}/requestToken (signed token requests
//     and Basic auth), Basic and Bearer auth on every endpoint, capabilities;
//   - the realtime protocol at GET / (CONNECTED, HEARTBEAT, ATTACH, DETACH,
//     MESSAGE with ACK and NACK, AUTH, CLOSE, DISCONNECTED, ERROR), JSON or
//     MessagePack framing, the rewind channel param, and connection resume;
//   - endpoints under /_emulator/ for tests: statistics, the accepted
//     messages of a channel, fault injection, forced disconnects, dropped
//     transports and paused reconnects.
//
// The emulator keeps all state in memory and loses it on restart. History
// is bounded by a message count (Config.HistoryLimit), not by age. A client
// that resumes within Config.ConnectionStateTTL keeps its connection id. On
// its next ATTACH it gets the RESUMED flag and the messages published after
// the channelSerial that the ATTACH carries. When the state has expired,
// or the missed messages are no longer kept, it gets a new connection with
// error 80008 or an ATTACHED without RESUMED, as at Ably. Presence, push and
// LiveObjects are not implemented.
package emulator
