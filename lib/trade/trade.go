// Package trade defines the trade record that flows from the trading server
// through the Redis queue to Ably, and checks that a record is well formed.
package trade

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Side values.
const (
	Buy  = "buy"
	Sell = "sell"
)

// TimeLayout is the layout of Trade.Time: UTC with milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// MaxIDLength is the maximum length of a trade id in bytes.
const MaxIDLength = 64

// Trade is one executed trade. Its JSON form is the wire format on the Redis
// queue and the data of each Ably message.
type Trade struct {
	// ID is unique across all producers and runs; the publisher derives the
	// Ably message id from it.
	ID string `json:"id"`
	// Symbol is the instrument, for example "AAPL".
	Symbol string `json:"symbol"`
	// Price is an exact decimal string such as "187.25".
	Price string `json:"price"`
	// Size is the quantity traded, at least 1.
	Size int64 `json:"size"`
	// Side is Buy or Sell.
	Side string `json:"side"`
	// Seq numbers the trades of one symbol from one producer run, from 1.
	Seq int64 `json:"seq"`
	// Time is when the trade happened, formatted with TimeLayout.
	Time string `json:"ts"`
}

// Errors returned by Parse and Validate. Each is wrapped with the field and
// the bad value.
var (
	// ErrNotJSON means the payload is not one JSON object.
	ErrNotJSON = errors.New("not a JSON object")
	// ErrMissingField means a required field is absent or empty.
	ErrMissingField = errors.New("missing field")
	// ErrInvalidField means a field is present but its value is not accepted.
	ErrInvalidField = errors.New("invalid field")
)

// DefaultSymbols are the symbols the trading server generates trades for
// when SYMBOLS is not set.
var DefaultSymbols = []string{"AAPL", "MSFT", "GOOG", "AMZN", "TSLA"}

// Parse decodes one trade strictly: unknown fields, wrong types and trailing
// data are rejected, and the result is validated.
func Parse(data []byte) (Trade, error) {
	t, ok := decodeFast(data)
	if !ok {
		var err error
		if t, err = decodeStrict(data); err != nil {
			return Trade{}, err
		}
	}
	if err := t.Validate(); err != nil {
		return Trade{}, err
	}
	return t, nil
}

// decodeStrict decodes data with encoding/json. It defines the result and
// the error of Parse for every input that decodeFast does not take.
func decodeStrict(data []byte) (Trade, error) {
	var t Trade
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Trade{}, fmt.Errorf("%w: %s", ErrNotJSON, describeJSONError(err))
	}
	// NOTE: More reports false when the next byte is ']' or '}', so data
	// such as `{...}}` or `{...}]x` passes this check.
	if dec.More() {
		return Trade{}, fmt.Errorf("%w: data after the object", ErrNotJSON)
	}
	return t, nil
}

// Validate checks every field and returns the first problem found.
func (t Trade) Validate() error {
	switch {
	case t.ID == "":
		return missing("id")
	case !isValidID(t.ID):
		return invalid("id", t.ID, "1 to 64 characters of A-Z a-z 0-9 _ . -")
	case t.Symbol == "":
		return missing("symbol")
	case !isValidSymbol(t.Symbol):
		return invalid("symbol", t.Symbol, "1 to 16 characters of A-Z 0-9 . _ -")
	case t.Price == "":
		return missing("price")
	case !isValidPrice(t.Price):
		return invalid("price", t.Price, `a decimal string such as "187.25"`)
	case t.Size < 1:
		return invalid("size", fmt.Sprint(t.Size), "an integer of at least 1")
	case t.Side != Buy && t.Side != Sell:
		return invalid("side", t.Side, `"buy" or "sell"`)
	case t.Seq < 1:
		return invalid("seq", fmt.Sprint(t.Seq), "an integer of at least 1")
	case t.Time == "":
		return missing("ts")
	case !isValidTime(t.Time):
		return invalid("ts", t.Time, "UTC time with milliseconds, "+TimeLayout)
	}
	return nil
}

// FormatTime formats tm as a Trade.Time value.
func FormatTime(tm time.Time) string {
	return tm.UTC().Format(TimeLayout)
}

func missing(field string) error {
	return fmt.Errorf("%w %q", ErrMissingField, field)
}

func invalid(field, value, form string) error {
	const maxShown = 40
	if len(value) > maxShown {
		value = value[:maxShown] + "..."
	}
	return fmt.Errorf("%w %q: %q is not %s", ErrInvalidField, field, value, form)
}

// describeJSONError shortens decoder errors so that a dead-letter reason
// never repeats a large payload.
func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field %q has JSON type %s, expected %s",
			typeErr.Field, typeErr.Value, typeErr.Type)
	}
	msg := err.Error()
	const maxShown = 120
	if len(msg) > maxShown {
		msg = msg[:maxShown] + "..."
	}
	return msg
}

// PeekID returns the id field of data when data is a JSON object with a
// string id, valid or not as a trade, and "" otherwise. Logs use it to name
// a payload that failed Parse.
func PeekID(data []byte) string {
	const maxPeek = 64 << 10
	if len(data) > maxPeek {
		return ""
	}
	var probe struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(data, &probe) != nil {
		return ""
	}
	id, _ := probe.ID.(string)
	if len(id) > MaxIDLength {
		id = id[:MaxIDLength]
	}
	return id
}
