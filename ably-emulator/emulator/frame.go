package emulator

import (
	"github.com/coder/websocket"
)

// outboundFrame is one WebSocket message queued for a connection.
type outboundFrame struct {
	messageType websocket.MessageType
	data        []byte
	// final marks the last frame of the connection: the writer closes the
	// WebSocket with a normal closure after writing it. A final frame with
	// no data only closes.
	final bool
}

// encodeFrame encodes a protocol message for a connection in format f:
// JSON in a text message, MessagePack in a binary message, as the client
// libraries expect.
func encodeFrame(f format, pm *ProtocolMessage) (outboundFrame, error) {
	if f == formatJSON && len(pm.Messages) > 0 {
		converted := *pm
		converted.Messages = make([]*Message, len(pm.Messages))
		for i, m := range pm.Messages {
			converted.Messages[i] = m.forFormat(formatJSON)
		}
		pm = &converted
	}
	data, err := marshal(f, pm)
	if err != nil {
		return outboundFrame{}, err
	}
	messageType := websocket.MessageText
	if f == formatMsgpack {
		messageType = websocket.MessageBinary
	}
	return outboundFrame{messageType: messageType, data: data}, nil
}

// frameCache encodes a protocol message at most once per format, for a
// fan-out to subscribers of both formats.
type frameCache struct {
	pm     *ProtocolMessage
	frames [2]*outboundFrame
}

func newFrameCache(pm *ProtocolMessage) *frameCache {
	return &frameCache{pm: pm}
}

func (c *frameCache) get(f format) (outboundFrame, error) {
	if cached := c.frames[f]; cached != nil {
		return *cached, nil
	}
	frame, err := encodeFrame(f, c.pm)
	if err != nil {
		return outboundFrame{}, err
	}
	c.frames[f] = &frame
	return frame, nil
}
