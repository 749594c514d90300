package emulator

// Protocol message actions, numbered as in Ably's realtime protocol (TR2).
const (
	actionHeartbeat    = 0
	actionAck          = 1
	actionNack         = 2
	actionConnect      = 3
	actionConnected    = 4
	actionDisconnect   = 5
	actionDisconnected = 6
	actionClose        = 7
	actionClosed       = 8
	actionError        = 9
	actionAttach       = 10
	actionAttached     = 11
	actionDetach       = 12
	actionDetached     = 13
	actionPresence     = 14
	actionMessage      = 15
	actionSync         = 16
	actionAuth         = 17
	actionObject       = 19
)

// Protocol message flags (TR3). The mode flags of ATTACH and ATTACHED select
// the operations of the attachment. HAS_BACKLOG in ATTACHED means that
// messages from before the attachment follow, as for rewind.
const (
	flagHasBacklog        int64 = 1 << 1
	flagResumed           int64 = 1 << 2
	flagAttachResume      int64 = 1 << 5
	flagPresence          int64 = 1 << 16
	flagPublish           int64 = 1 << 17
	flagSubscribe         int64 = 1 << 18
	flagPresenceSubscribe int64 = 1 << 19
	modeFlagsMask               = flagPresence | flagPublish | flagSubscribe | flagPresenceSubscribe
)

// ProtocolMessage is one realtime protocol frame in either direction. Only
// the fields that the emulator reads or writes are declared; others are
// ignored on input.
type ProtocolMessage struct {
	Action            int                `json:"action" msgpack:"action"`
	ID                string             `json:"id,omitempty" msgpack:"id,omitempty"`
	Channel           string             `json:"channel,omitempty" msgpack:"channel,omitempty"`
	ChannelSerial     string             `json:"channelSerial,omitempty" msgpack:"channelSerial,omitempty"`
	ConnectionID      string             `json:"connectionId,omitempty" msgpack:"connectionId,omitempty"`
	ConnectionKey     string             `json:"connectionKey,omitempty" msgpack:"connectionKey,omitempty"`
	MsgSerial         *int64             `json:"msgSerial,omitempty" msgpack:"msgSerial,omitempty"`
	Count             int                `json:"count,omitempty" msgpack:"count,omitempty"`
	Flags             int64              `json:"flags,omitempty" msgpack:"flags,omitempty"`
	Timestamp         int64              `json:"timestamp,omitempty" msgpack:"timestamp,omitempty"`
	Error             *ErrorInfo         `json:"error,omitempty" msgpack:"error,omitempty"`
	ConnectionDetails *ConnectionDetails `json:"connectionDetails,omitempty" msgpack:"connectionDetails,omitempty"`
	Messages          []*Message         `json:"messages,omitempty" msgpack:"messages,omitempty"`
	Params            map[string]string  `json:"params,omitempty" msgpack:"params,omitempty"`
	Auth              *AuthDetails       `json:"auth,omitempty" msgpack:"auth,omitempty"`
	Res               []PublishResult    `json:"res,omitempty" msgpack:"res,omitempty"`
}

// ConnectionDetails are the limits and identity sent in CONNECTED (CD2).
// Durations are in milliseconds.
type ConnectionDetails struct {
	ClientID           string `json:"clientId,omitempty" msgpack:"clientId,omitempty"`
	ConnectionKey      string `json:"connectionKey" msgpack:"connectionKey"`
	MaxMessageSize     int    `json:"maxMessageSize" msgpack:"maxMessageSize"`
	MaxInboundRate     int    `json:"maxInboundRate" msgpack:"maxInboundRate"`
	MaxFrameSize       int    `json:"maxFrameSize" msgpack:"maxFrameSize"`
	ServerID           string `json:"serverId" msgpack:"serverId"`
	ConnectionStateTTL int64  `json:"connectionStateTtl" msgpack:"connectionStateTtl"`
	MaxIdleInterval    int64  `json:"maxIdleInterval" msgpack:"maxIdleInterval"`
}

// AuthDetails carries the new token of an AUTH message (AD2).
type AuthDetails struct {
	AccessToken string `json:"accessToken" msgpack:"accessToken"`
}

// PublishResult lists the serials of the messages of one publish, in order,
// with null for a message dropped as a duplicate (PBR2a).
type PublishResult struct {
	Serials []*string `json:"serials" msgpack:"serials"`
}

func int64Ptr(v int64) *int64 {
	return &v
}
