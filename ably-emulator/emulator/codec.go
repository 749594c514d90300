package emulator

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

// format is the wire format of a request, response or realtime connection.
type format int

const (
	formatJSON format = iota
	formatMsgpack
)

const (
	contentTypeJSON    = "application/json"
	contentTypeMsgpack = "application/x-msgpack"
)

func (f format) String() string {
	if f == formatMsgpack {
		return "msgpack"
	}
	return "json"
}

func (f format) contentType() string {
	if f == formatMsgpack {
		return contentTypeMsgpack
	}
	return contentTypeJSON
}

// marshal encodes v in format f. MessagePack integers are written in their
// smallest form, as the client libraries do.
func marshal(f format, v any) ([]byte, error) {
	if f == formatJSON {
		return json.Marshal(v)
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unmarshal decodes data in format f into v.
func unmarshal(f format, data []byte, v any) error {
	if f == formatJSON {
		return json.Unmarshal(data, v)
	}
	return msgpack.Unmarshal(data, v)
}

// responseFormat picks the response format from the Accept header: MessagePack
// when the client accepts it and does not list JSON first, JSON otherwise.
func responseFormat(r *http.Request) format {
	accept := r.Header.Get("Accept")
	msgpackAt := strings.Index(accept, contentTypeMsgpack)
	if msgpackAt < 0 {
		return formatJSON
	}
	jsonAt := strings.Index(accept, contentTypeJSON)
	if jsonAt >= 0 && jsonAt < msgpackAt {
		return formatJSON
	}
	return formatMsgpack
}

// requestFormat returns the format of the request body from Content-Type.
// An absent Content-Type means JSON.
func requestFormat(r *http.Request) (format, *ErrorInfo) {
	raw := r.Header.Get("Content-Type")
	if raw == "" {
		return formatJSON, nil
	}
	mediaType, _, err := mime.ParseMediaType(raw)
	if err != nil {
		return formatJSON, errBadRequest(codeBadRequest, "invalid Content-Type %q: %v", raw, err)
	}
	switch mediaType {
	case contentTypeJSON:
		return formatJSON, nil
	case contentTypeMsgpack:
		return formatMsgpack, nil
	default:
		return formatJSON, newErrorInfo(http.StatusUnsupportedMediaType, codeBadRequest,
			"unsupported Content-Type %q; send %s or %s", mediaType, contentTypeJSON, contentTypeMsgpack)
	}
}

// isArrayBody reports whether a request body holds an array (as opposed to a
// single object) in format f.
func isArrayBody(f format, body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return false
	}
	first := trimmed[0]
	if f == formatJSON {
		return first == '['
	}
	// MessagePack fixarray is 0x90-0x9f, array 16 is 0xdc, array 32 is 0xdd.
	return first&0xf0 == 0x90 || first == 0xdc || first == 0xdd
}

// decodeMessages decodes a publish body holding one message or an array.
func decodeMessages(f format, body []byte) ([]*Message, *ErrorInfo) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errBadRequest(codeInvalidRequestBody, "invalid request body: empty; send a message or an array of messages")
	}
	var messages []*Message
	if isArrayBody(f, body) {
		if err := unmarshal(f, body, &messages); err != nil {
			return nil, errBadRequest(codeInvalidRequestBody, "invalid request body: %s array of messages: %v", f, err)
		}
	} else {
		var single Message
		if err := unmarshal(f, body, &single); err != nil {
			return nil, errBadRequest(codeInvalidRequestBody, "invalid request body: %s message: %v", f, err)
		}
		messages = []*Message{&single}
	}
	if len(messages) == 0 {
		return nil, errBadRequest(codeInvalidRequestBody, "invalid request body: the array of messages is empty")
	}
	for i, m := range messages {
		if m == nil {
			return nil, errBadRequest(codeInvalidRequestBody, "invalid request body: message %d is null", i)
		}
		if err := m.normalize(); err != nil {
			return nil, err
		}
	}
	return messages, nil
}
