package emulator

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// Message is one Ably message on the wire (TM2). Only the fields that the
// emulator reads or forwards are declared.
type Message struct {
	ID            string         `json:"id,omitempty" msgpack:"id,omitempty"`
	Name          string         `json:"name,omitempty" msgpack:"name,omitempty"`
	ClientID      string         `json:"clientId,omitempty" msgpack:"clientId,omitempty"`
	ConnectionID  string         `json:"connectionId,omitempty" msgpack:"connectionId,omitempty"`
	ConnectionKey string         `json:"connectionKey,omitempty" msgpack:"connectionKey,omitempty"`
	Data          Payload        `json:"data,omitzero" msgpack:"data,omitempty"`
	Encoding      string         `json:"encoding,omitempty" msgpack:"encoding,omitempty"`
	Timestamp     int64          `json:"timestamp,omitempty" msgpack:"timestamp,omitempty"`
	Extras        map[string]any `json:"extras,omitempty" msgpack:"extras,omitempty"`
	Serial        string         `json:"serial,omitempty" msgpack:"serial,omitempty"`
}

// normalize checks the data of an incoming message and brings it to the
// form the emulator stores:
//   - a JSON object or array sent as is becomes a string with "json" added
//     to the encoding, which is how the client libraries send such data;
//   - a string whose last encoding is "base64" is decoded to bytes, so that
//     MessagePack subscribers get binary data and JSON subscribers get it
//     base64-encoded again (see forFormat).
func (m *Message) normalize() *ErrorInfo {
	switch m.Data.kind {
	case payloadInvalid:
		return errBadRequest(codeInvalidMessageData,
			"invalid message data: a %s is not a string, binary, JSON object or JSON array", m.Data.invalidType)
	case payloadJSONValue:
		m.Data = TextPayload(m.Data.text)
		m.Encoding = appendEncoding(m.Encoding, "json")
	case payloadText:
		rest, isBase64 := cutLastEncoding(m.Encoding, "base64")
		if !isBase64 {
			return nil
		}
		decoded, err := base64.StdEncoding.DecodeString(m.Data.text)
		if err != nil {
			return errBadRequest(codeInvalidMessageData, "invalid message data: encoding is base64 but data is not: %v", err)
		}
		m.Data = BinaryPayload(decoded)
		m.Encoding = rest
	}
	return nil
}

// cutLastEncoding removes layer from the end of an encoding such as
// "utf-8/base64" and reports whether it was there.
func cutLastEncoding(encoding, layer string) (string, bool) {
	if encoding == layer {
		return "", true
	}
	return strings.CutSuffix(encoding, "/"+layer)
}

// size returns the bytes that count against the message size limit: data
// (bytes of a string, or of binary data after base64 decoding), name,
// clientId and the JSON form of extras, the parts Ably names for 40009.
func (m *Message) size() int {
	total := m.Data.size() + len(m.Name) + len(m.ClientID)
	if len(m.Extras) > 0 {
		encoded, err := json.Marshal(m.Extras)
		if err == nil {
			total += len(encoded)
		}
	}
	return total
}

// forFormat returns the message as it is sent in the given format. JSON
// cannot carry bytes, so binary data goes as base64 with "base64" added to
// the encoding, as Ably does.
func (m *Message) forFormat(f format) *Message {
	if f != formatJSON || m.Data.kind != payloadBinary {
		return m
	}
	converted := *m
	converted.Data = TextPayload(base64.StdEncoding.EncodeToString(m.Data.binary))
	converted.Encoding = appendEncoding(m.Encoding, "base64")
	return &converted
}

func appendEncoding(encoding, layer string) string {
	if encoding == "" {
		return layer
	}
	return encoding + "/" + layer
}

// RecordedMessage is an accepted message as kept for inspection.
type RecordedMessage struct {
	ID           string `json:"id"`
	Name         string `json:"name,omitempty"`
	ClientID     string `json:"clientId,omitempty"`
	ConnectionID string `json:"connectionId,omitempty"`
	// Data is the payload with a trailing "json" encoding decoded, so a JSON
	// object published by a client is an object here. Binary data is base64.
	Data json.RawMessage `json:"data,omitempty"`
	// Encoding lists the encodings still applied to Data, Ably-style: for
	// example "base64" for binary data, or "" for a string or JSON value.
	Encoding string         `json:"encoding,omitempty"`
	Extras   map[string]any `json:"extras,omitempty"`
	Serial   string         `json:"serial"`
	// Timestamp is the arrival time in milliseconds since the Unix epoch,
	// the same as the timestamp delivered to subscribers.
	Timestamp int64 `json:"timestamp"`
	// ReceivedAt is the arrival time; JSON writes it in RFC 3339.
	ReceivedAt time.Time `json:"receivedAt"`
}

// newRecordedMessage builds the inspection record of an accepted message.
func newRecordedMessage(m *Message, receivedAt time.Time) RecordedMessage {
	wire := m.forFormat(formatJSON)
	record := RecordedMessage{
		ID:           m.ID,
		Name:         m.Name,
		ClientID:     m.ClientID,
		ConnectionID: m.ConnectionID,
		Encoding:     wire.Encoding,
		Extras:       m.Extras,
		Serial:       m.Serial,
		Timestamp:    m.Timestamp,
		ReceivedAt:   receivedAt,
	}
	if wire.Data.IsZero() {
		return record
	}
	if rest, isJSON := cutLastEncoding(wire.Encoding, "json"); isJSON && json.Valid([]byte(wire.Data.text)) {
		record.Data = json.RawMessage(wire.Data.text)
		record.Encoding = rest
		return record
	}
	encoded, _ := json.Marshal(wire.Data.text)
	record.Data = encoded
	return record
}
