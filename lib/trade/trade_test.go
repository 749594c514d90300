package trade

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const validJSON = `{"id":"p1-1","symbol":"AAPL","price":"187.25","size":100,"side":"buy","seq":1,"ts":"2025-03-14T09:30:00.123Z"}`

func validTrade() Trade {
	return Trade{
		ID: "p1-1", Symbol: "AAPL", Price: "187.25", Size: 100, Side: Buy, Seq: 1,
		Time: "2025-03-14T09:30:00.123Z",
	}
}

func TestParse_Valid(t *testing.T) {
	got, err := Parse([]byte(validJSON))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got != validTrade() {
		t.Errorf("Parse = %+v, want %+v", got, validTrade())
	}
}

func TestParse_MarshalRoundTrip(t *testing.T) {
	data, err := json.Marshal(validTrade())
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if string(data) != validJSON {
		t.Errorf("marshal = %s, want %s", data, validJSON)
	}
}

// rejectCases are inputs that Parse rejects, with the error each one wraps
// and a part of its message.
var rejectCases = []struct {
	name    string
	input   string
	want    error
	message string
}{
	{"empty input", ``, ErrNotJSON, ""},
	{"not JSON", `hello`, ErrNotJSON, ""},
	{"truncated object", `{"id":"p1-1",`, ErrNotJSON, ""},
	{"array", `[1,2]`, ErrNotJSON, ""},
	{"unknown field", strings.Replace(validJSON, `"seq":1`, `"seq":1,"venue":"X"`, 1), ErrNotJSON, "venue"},
	{"size as string", strings.Replace(validJSON, `"size":100`, `"size":"100"`, 1), ErrNotJSON, `field "size" has JSON type string`},
	{"price as number", strings.Replace(validJSON, `"price":"187.25"`, `"price":187.25`, 1), ErrNotJSON, `field "price"`},
	{"fractional seq", strings.Replace(validJSON, `"seq":1`, `"seq":1.5`, 1), ErrNotJSON, `field "seq"`},
	{"trailing object", validJSON + `{}`, ErrNotJSON, "data after the object"},
	{"missing id", strings.Replace(validJSON, `"id":"p1-1",`, ``, 1), ErrMissingField, `"id"`},
	{"missing price", strings.Replace(validJSON, `"price":"187.25",`, ``, 1), ErrMissingField, `"price"`},
	{"missing ts", strings.Replace(validJSON, `,"ts":"2025-03-14T09:30:00.123Z"`, ``, 1), ErrMissingField, `"ts"`},
	{"price abc", strings.Replace(validJSON, `"187.25"`, `"abc"`, 1), ErrInvalidField, `"price": "abc"`},
	{"missing size", strings.Replace(validJSON, `"size":100,`, ``, 1), ErrInvalidField, `"size"`},
}

func TestParse_Rejects(t *testing.T) {
	for _, tc := range rejectCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.input))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("Parse error %q does not contain %q", err, tc.message)
			}
		})
	}
}

func TestParse_AcceptsWhiteSpaceAround(t *testing.T) {
	if _, err := Parse([]byte("  " + validJSON + "\n")); err != nil {
		t.Errorf("Parse with surrounding white space: %v", err)
	}
}

func TestValidate_Fields(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Trade)
		want   error // nil means valid
	}{
		{"valid", func(*Trade) {}, nil},
		{"sell side", func(t *Trade) { t.Side = Sell }, nil},
		{"id with all allowed characters", func(t *Trade) { t.ID = "Az09_.-" }, nil},
		{"id of max length", func(t *Trade) { t.ID = strings.Repeat("a", MaxIDLength) }, nil},
		{"id too long", func(t *Trade) { t.ID = strings.Repeat("a", MaxIDLength+1) }, ErrInvalidField},
		{"id with colon", func(t *Trade) { t.ID = "p1:1" }, ErrInvalidField},
		{"id with space", func(t *Trade) { t.ID = "p1 1" }, ErrInvalidField},
		{"empty id", func(t *Trade) { t.ID = "" }, ErrMissingField},
		{"lowercase symbol", func(t *Trade) { t.Symbol = "aapl" }, ErrInvalidField},
		{"symbol of 16 characters", func(t *Trade) { t.Symbol = strings.Repeat("A", 16) }, nil},
		{"symbol of 17 characters", func(t *Trade) { t.Symbol = strings.Repeat("A", 17) }, ErrInvalidField},
		{"empty symbol", func(t *Trade) { t.Symbol = "" }, ErrMissingField},
		{"integer price", func(t *Trade) { t.Price = "187" }, nil},
		{"zero price", func(t *Trade) { t.Price = "0" }, nil},
		{"eight decimals", func(t *Trade) { t.Price = "0.00000001" }, nil},
		{"nine decimals", func(t *Trade) { t.Price = "0.000000001" }, ErrInvalidField},
		{"leading zero", func(t *Trade) { t.Price = "01.5" }, ErrInvalidField},
		{"negative price", func(t *Trade) { t.Price = "-1.00" }, ErrInvalidField},
		{"exponent price", func(t *Trade) { t.Price = "1e3" }, ErrInvalidField},
		{"trailing dot", func(t *Trade) { t.Price = "1." }, ErrInvalidField},
		{"zero size", func(t *Trade) { t.Size = 0 }, ErrInvalidField},
		{"negative size", func(t *Trade) { t.Size = -5 }, ErrInvalidField},
		{"unknown side", func(t *Trade) { t.Side = "short" }, ErrInvalidField},
		{"uppercase side", func(t *Trade) { t.Side = "BUY" }, ErrInvalidField},
		{"zero seq", func(t *Trade) { t.Seq = 0 }, ErrInvalidField},
		{"empty ts", func(t *Trade) { t.Time = "" }, ErrMissingField},
		{"ts without milliseconds", func(t *Trade) { t.Time = "2025-03-14T09:30:00Z" }, ErrInvalidField},
		{"ts with offset", func(t *Trade) { t.Time = "2025-03-14T09:30:00.123+01:00" }, ErrInvalidField},
		{"impossible date", func(t *Trade) { t.Time = "2025-02-30T09:30:00.123Z" }, ErrInvalidField},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := validTrade()
			tc.change(&tr)
			err := tr.Validate()
			if tc.want == nil {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestValidate_ShortensLongValues(t *testing.T) {
	tr := validTrade()
	tr.Price = strings.Repeat("9", 1000) + "x"
	err := tr.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want an error")
	}
	if len(err.Error()) > 200 {
		t.Errorf("error is %d bytes long, want the value shortened: %s", len(err.Error()), err)
	}
}

func TestFormatTime_UTCMilliseconds(t *testing.T) {
	cases := []struct {
		name string
		in   time.Time
		want string
	}{
		{"utc", time.Date(2025, 3, 14, 9, 30, 0, 123_456_789, time.UTC), "2025-03-14T09:30:00.123Z"},
		{"whole second", time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC), "2025-03-14T09:30:00.000Z"},
		{"other zone", time.Date(2025, 3, 14, 10, 30, 0, 5_000_000, time.FixedZone("CET", 3600)), "2025-03-14T09:30:00.005Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := FormatTime(tc.in)
			if got != tc.want {
				t.Errorf("FormatTime = %q, want %q", got, tc.want)
			}
			tr := validTrade()
			tr.Time = got
			if err := tr.Validate(); err != nil {
				t.Errorf("Validate() of a formatted time: %v", err)
			}
		})
	}
}

func TestPeekID_NamesInvalidTrades(t *testing.T) {
	tests := []struct {
		name, payload, want string
	}{
		{"invalid price", `{"id":"t-2","price":"abc"}`, "t-2"},
		{"not json", "not json", ""},
		{"number id", `{"id":7}`, ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PeekID([]byte(tt.payload)); got != tt.want {
				t.Errorf("PeekID(%q) = %q, want %q", tt.payload, got, tt.want)
			}
		})
	}
}
