package queue

import (
	"encoding/base64"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/ably-fanout/lib/trade"
)

// EncodingBase64 is the DeadLetterEntry.Encoding of a payload that is not
// valid UTF-8. JSON strings cannot carry such bytes unchanged, so the
// payload is stored base64-encoded to keep it whole.
const EncodingBase64 = "base64"

// DeadLetterEntry is one element of the dead-letter list, stored as JSON.
type DeadLetterEntry struct {
	// Payload is the queue element exactly as taken, or its base64 form
	// when Encoding is EncodingBase64.
	Payload string `json:"payload"`
	// Encoding is empty for a UTF-8 payload, else EncodingBase64.
	Encoding string `json:"encoding,omitempty"`
	// Reason is the cause that keeps the trade from being published as it is.
	Reason string `json:"reason"`
	// Code is the Ably error code that rejected the trade, or 0.
	Code int `json:"code"`
	// Replica is the REPLICA_ID of the publisher that moved the trade.
	Replica string `json:"replica"`
	// At is when the trade was moved, in UTC with milliseconds.
	At string `json:"at"`
}

func newDeadLetterEntry(payload, reason string, code int, replica string, at time.Time) DeadLetterEntry {
	e := DeadLetterEntry{
		Payload: payload,
		Reason:  reason,
		Code:    code,
		Replica: replica,
		At:      trade.FormatTime(at),
	}
	if !utf8.ValidString(payload) {
		e.Payload = base64.StdEncoding.EncodeToString([]byte(payload))
		e.Encoding = EncodingBase64
	}
	return e
}

func (e DeadLetterEntry) marshal() (string, error) {
	b, err := json.Marshal(e)
	return string(b), err
}

// RawPayload returns the payload exactly as it was on the queue.
func (e DeadLetterEntry) RawPayload() (string, error) {
	if e.Encoding != EncodingBase64 {
		return e.Payload, nil
	}
	b, err := base64.StdEncoding.DecodeString(e.Payload)
	return string(b), err
}
