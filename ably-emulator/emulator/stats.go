package emulator

// Stats is a snapshot of the emulator counters, as served by
// GET /_emulator/stats.
type Stats struct {
	Channels    map[string]ChannelStats `json:"channels"`
	Connections ConnectionStats         `json:"connections"`
}

// ChannelStats counts the publishes to one channel.
type ChannelStats struct {
	// Accepted is the number of messages accepted and delivered.
	Accepted int64 `json:"accepted"`
	// Rejected counts the messages of rejected publishes, by reason.
	Rejected RejectedStats `json:"rejected"`
	// Duplicates is the number of messages dropped because a message with
	// the same id was accepted within the idempotency window.
	Duplicates int64 `json:"duplicates"`
	// MaxInAnySecond is the largest number of messages accepted in any
	// sliding one-second window, computed exactly over arrival times.
	MaxInAnySecond int `json:"maxInAnySecond"`
	// Subscribers is the number of realtime connections attached now.
	Subscribers int `json:"subscribers"`
	// Recorded is the number of accepted messages kept for inspection.
	Recorded int `json:"recorded"`
	// History is the number of accepted messages kept for history, rewind
	// and resume.
	History int `json:"history"`
}

// RejectedStats counts rejected messages by reason. A rejected publish of n
// messages adds n; a publish rejected before its body was read adds 1.
type RejectedStats struct {
	// RateLimit counts messages over the per-channel rate (42913).
	RateLimit int64 `json:"rate_limit"`
	// TooLarge counts messages of publishes over the size limit (40009).
	TooLarge int64 `json:"too_large"`
	// Unauthorized counts publishes with bad credentials, a bad client id or
	// without the publish capability.
	Unauthorized int64 `json:"unauthorized"`
	// Injected counts publishes failed by an injected fault.
	Injected int64 `json:"injected"`
	// Invalid counts publishes whose body could not be decoded or held
	// invalid data.
	Invalid int64 `json:"invalid"`
	// InvalidID counts messages of multi-message publishes whose
	// client-supplied ids break the <base>:<index> rule (40031).
	InvalidID int64 `json:"invalid_id"`
}

// ConnectionStats counts realtime connections.
type ConnectionStats struct {
	// Active is the number of open connections.
	Active int `json:"active"`
	// Opened is the number of connections accepted since start.
	Opened int64 `json:"opened"`
	// SlowConsumerDisconnects is the number of connections closed because
	// their send queue overflowed.
	SlowConsumerDisconnects int64 `json:"slowConsumerDisconnects"`
	// Resumed is the number of connections that a client resumed (or
	// recovered) with their connection id.
	Resumed int64 `json:"resumed"`
	// ResumeFailed is the number of resume or recover attempts that got a
	// new connection with error 80008.
	ResumeFailed int64 `json:"resumeFailed"`
	// Dropped is the number of connections closed abruptly by Server.DropAll.
	Dropped int64 `json:"dropped"`
	// Refused is the number of connection attempts rejected while new
	// connections were paused.
	Refused int64 `json:"refused"`
}
