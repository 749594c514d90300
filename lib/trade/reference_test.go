package trade

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// referenceParse and referenceValidate are the implementations of Parse and
// Validate from before the hand-written decoder and field checks. Tests and
// benchmarks compare the current code with them, so they must stay as they
// are. They share only the error helpers missing, invalid and
// describeJSONError with the package.

var (
	referenceIDPattern     = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	referenceSymbolPattern = regexp.MustCompile(`^[A-Z0-9._-]{1,16}$`)
	referencePricePattern  = regexp.MustCompile(`^(0|[1-9][0-9]{0,14})(\.[0-9]{1,8})?$`)
)

func referenceParse(data []byte) (Trade, error) {
	var t Trade
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Trade{}, fmt.Errorf("%w: %s", ErrNotJSON, describeJSONError(err))
	}
	if dec.More() {
		return Trade{}, fmt.Errorf("%w: data after the object", ErrNotJSON)
	}
	if err := referenceValidate(t); err != nil {
		return Trade{}, err
	}
	return t, nil
}

func referenceValidate(t Trade) error {
	switch {
	case t.ID == "":
		return missing("id")
	case len(t.ID) > MaxIDLength || !referenceIDPattern.MatchString(t.ID):
		return invalid("id", t.ID, "1 to 64 characters of A-Z a-z 0-9 _ . -")
	case t.Symbol == "":
		return missing("symbol")
	case !referenceSymbolPattern.MatchString(t.Symbol):
		return invalid("symbol", t.Symbol, "1 to 16 characters of A-Z 0-9 . _ -")
	case t.Price == "":
		return missing("price")
	case !referencePricePattern.MatchString(t.Price):
		return invalid("price", t.Price, `a decimal string such as "187.25"`)
	case t.Size < 1:
		return invalid("size", fmt.Sprint(t.Size), "an integer of at least 1")
	case t.Side != Buy && t.Side != Sell:
		return invalid("side", t.Side, `"buy" or "sell"`)
	case t.Seq < 1:
		return invalid("seq", fmt.Sprint(t.Seq), "an integer of at least 1")
	case t.Time == "":
		return missing("ts")
	}
	if _, err := time.Parse(TimeLayout, t.Time); err != nil {
		return invalid("ts", t.Time, "UTC time with milliseconds, "+TimeLayout)
	}
	return nil
}
