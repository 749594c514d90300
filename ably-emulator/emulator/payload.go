package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// payloadKind names the kind of value a Payload contains.
type payloadKind int

const (
	payloadNone      payloadKind = iota // no data
	payloadText                         // a string
	payloadBinary                       // bytes (MessagePack bin)
	payloadJSONValue                    // a JSON object or array sent as is, converted to text with encoding "json"
	payloadInvalid                      // a number or boolean, which Ably rejects
)

// Payload is the data of a message: a string, bytes, or (on input only) a
// JSON object or array that the publisher sent without encoding it first.
type Payload struct {
	kind   payloadKind
	text   string
	binary []byte
	// invalidType names the type of a payloadInvalid value for the error.
	invalidType string
}

// TextPayload returns a Payload holding s.
func TextPayload(s string) Payload {
	return Payload{kind: payloadText, text: s}
}

// BinaryPayload returns a Payload holding b.
func BinaryPayload(b []byte) Payload {
	return Payload{kind: payloadBinary, binary: b}
}

// IsZero reports whether the payload is empty; encoders omit it then.
func (p Payload) IsZero() bool {
	return p.kind == payloadNone
}

// size returns the payload's size in bytes as counted against the message
// size limit: the bytes of a string or of binary data.
func (p Payload) size() int {
	switch p.kind {
	case payloadText, payloadJSONValue:
		return len(p.text)
	case payloadBinary:
		return len(p.binary)
	default:
		return 0
	}
}

// MarshalJSON writes a string, or binary data as base64; the caller adds
// "base64" to the message encoding (see Message.forFormat).
func (p Payload) MarshalJSON() ([]byte, error) {
	switch p.kind {
	case payloadText:
		return json.Marshal(p.text)
	case payloadBinary:
		return json.Marshal(base64.StdEncoding.EncodeToString(p.binary))
	case payloadJSONValue:
		return []byte(p.text), nil
	default:
		return []byte("null"), nil
	}
}

// UnmarshalJSON reads a string, null, or a JSON object or array. A number or
// boolean is kept as payloadInvalid so that validation can reject it with
// Ably's code 40013.
func (p *Payload) UnmarshalJSON(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return fmt.Errorf("empty data")
	}
	switch trimmed[0] {
	case 'n':
		*p = Payload{}
	case '"':
		if s, ok := unquoteSimpleJSONString(trimmed); ok {
			*p = TextPayload(s)
			return nil
		}
		var s string
		if err := json.Unmarshal(trimmed, &s); err != nil {
			return err
		}
		*p = TextPayload(s)
	case '{', '[':
		var compact bytes.Buffer
		if err := json.Compact(&compact, trimmed); err != nil {
			return err
		}
		*p = Payload{kind: payloadJSONValue, text: compact.String()}
	default:
		*p = Payload{kind: payloadInvalid, invalidType: "number or boolean"}
	}
	return nil
}

// EncodeMsgpack writes a string as MessagePack str and binary data as bin.
func (p Payload) EncodeMsgpack(enc *msgpack.Encoder) error {
	switch p.kind {
	case payloadText, payloadJSONValue:
		return enc.EncodeString(p.text)
	case payloadBinary:
		return enc.EncodeBytes(p.binary)
	default:
		return enc.EncodeNil()
	}
}

// DecodeMsgpack reads str, bin, nil, or a map or array, which it keeps as a
// JSON value like UnmarshalJSON does.
func (p *Payload) DecodeMsgpack(dec *msgpack.Decoder) error {
	value, err := dec.DecodeInterface()
	if err != nil {
		return err
	}
	switch v := value.(type) {
	case nil:
		*p = Payload{}
	case string:
		*p = TextPayload(v)
	case []byte:
		*p = BinaryPayload(v)
	case map[string]any, []any:
		encoded, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("data map or array is not representable as JSON: %w", err)
		}
		*p = Payload{kind: payloadJSONValue, text: string(encoded)}
	default:
		*p = Payload{kind: payloadInvalid, invalidType: fmt.Sprintf("%T", v)}
	}
	return nil
}
