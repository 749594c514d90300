package trade

import (
	"errors"
	"strings"
	"testing"
)

// replaced returns validJSON with the first old replaced by new.
func replaced(old, new string) string {
	return strings.Replace(validJSON, old, new, 1)
}

// withTime returns validJSON with ts set to the JSON string of value.
func withTime(value string) string {
	return replaced(`"2025-03-14T09:30:00.123Z"`, `"`+value+`"`)
}

// unusualPayloads are inputs where the hand-written decoder and checks could
// drift from encoding/json, regexp and time.Parse.
var unusualPayloads = []string{
	validJSON,
	publisherPayload,
	" \t\r\n" + validJSON + " \t\r\n",
	"\f" + validJSON,
	"\ufeff" + validJSON,
	validJSON + "}",
	validJSON + "]x",
	validJSON + " x",
	validJSON + "\x00",
	`{}`,
	`null`,
	`"p1-1"`,
	`7`,
	`true`,
	`{"id":"p1-1",}`,
	`{"id" "p1-1"}`,
	`{ "id" : "p1-1" , "symbol" : "AAPL" , "price" : "1" , "size" : 1 , "side" : "buy" , "seq" : 1 , "ts" : "2025-03-14T09:30:00.123Z" }`,
	replaced(`"id":"p1-1"`, `"id":"p1-1","id":"p1-2"`),
	replaced(`"id":"p1-1"`, `"id":"p1-1","id":null`),
	replaced(`"size":100`, `"size":100,"size":"7"`),
	replaced(`"id"`, `"ID"`),
	replaced(`"symbol"`, `"Symbol"`),
	replaced(`"symbol"`, `"\u017fymbol"`),
	replaced(`"id"`, `"\u0069d"`),
	replaced(`"id"`, `"i\d"`),
	replaced(`"p1-1"`, `null`),
	replaced(`"p1-1"`, `{}`),
	replaced(`"p1-1"`, `{"a":1}`),
	replaced(`"p1-1"`, `["p1-1"]`),
	replaced(`"p1-1"`, `"p1\u002d1"`),
	replaced(`"p1-1"`, `"p1\/1"`),
	replaced(`"p1-1"`, `"p1\n1"`),
	replaced(`"p1-1"`, "\"p1\t1\""),
	replaced(`"p1-1"`, "\"p1\x7f1\""),
	replaced(`"p1-1"`, "\"p1\xff1\""),
	replaced(`"p1-1"`, `"p1-é"`),
	replaced(`"p1-1"`, `"p1-\u00e9"`),
	replaced(`"p1-1"`, `"p1-\ud800"`),
	replaced(`"p1-1"`, `"`+strings.Repeat("a", MaxIDLength)+`"`),
	replaced(`"p1-1"`, `"`+strings.Repeat("a", MaxIDLength+1)+`"`),
	replaced(`"p1-1"`, `"`+strings.Repeat("a", 1<<20)+`"`),
	replaced(`"AAPL"`, `"\u0041APL"`),
	replaced(`"AAPL"`, `"AAPL\n"`),
	replaced(`"AAPL"`, `"ÄAPL"`),
	replaced(`"187.25"`, `"187.250000000"`),
	replaced(`"187.25"`, `"1234567890123456"`),
	replaced(`"187.25"`, `"123456789012345.12345678"`),
	replaced(`"187.25"`, `".5"`),
	replaced(`"187.25"`, `"0.5\n"`),
	replaced(`"buy"`, `"sell"`),
	replaced(`"buy"`, `"b\u0075y"`),
	replaced(`"buy"`, `"buy "`),
	replaced(`"size":100`, `"size":-0`),
	replaced(`"size":100`, `"size":0100`),
	replaced(`"size":100`, `"size":1e2`),
	replaced(`"size":100`, `"size":1E400`),
	replaced(`"size":100`, `"size":100.0`),
	replaced(`"size":100`, `"size":-`),
	replaced(`"size":100`, `"size":+1`),
	replaced(`"size":100`, `"size":999999999999999999`),
	replaced(`"size":100`, `"size":1000000000000000000`),
	replaced(`"size":100`, `"size":9223372036854775807`),
	replaced(`"size":100`, `"size":9223372036854775808`),
	replaced(`"size":100`, `"size":-9223372036854775808`),
	replaced(`"size":100`, `"size":null`),
	replaced(`"size":100`, `"size":true`),
	replaced(`"size":100`, `"size":[100]`),
	replaced(`"size":100`, `"size":{"n":100}`),
	replaced(`"seq":1`, `"seq":-1`),
	withTime("2025-03-14T9:30:00.123Z"),
	withTime("2025-03-14T09:30:00,123Z"),
	withTime("2025-03-14T09:30:00.+12Z"),
	withTime("2025-03-14T09:30:00.-00Z"),
	withTime("2025-03-14T09:30:00.-12Z"),
	withTime("2025-03-14T24:00:00.000Z"),
	withTime("2025-03-14T23:59:60.000Z"),
	withTime("2025-03-14T23:60:00.000Z"),
	withTime("2025-13-14T09:30:00.123Z"),
	withTime("2025-00-14T09:30:00.123Z"),
	withTime("2025-03-00T09:30:00.123Z"),
	withTime("2025-04-31T09:30:00.123Z"),
	withTime("2024-02-29T09:30:00.123Z"),
	withTime("1900-02-29T09:30:00.123Z"),
	withTime("2000-02-29T09:30:00.123Z"),
	withTime("0000-01-01T00:00:00.000Z"),
	withTime("2025-03-14T09:30:00.123z"),
	withTime("2025-03-14 09:30:00.123Z"),
	withTime("2025-03-14T09:30:00.1234Z"),
	withTime("+025-03-14T09:30:00.123Z"),
}

func TestParse_MatchesReference(t *testing.T) {
	payloads := unusualPayloads
	for _, tc := range rejectCases {
		payloads = append(payloads, tc.input)
	}
	for _, payload := range payloads {
		compareWithReference(t, []byte(payload))
	}
}

func TestDecodeFast_TakesPlainTrades(t *testing.T) {
	for _, payload := range []string{validJSON, publisherPayload, " \n" + validJSON + "\r\n"} {
		got, ok := decodeFast([]byte(payload))
		if !ok {
			t.Errorf("decodeFast(%q) left the payload to encoding/json", payload)
			continue
		}
		want, err := referenceParse([]byte(payload))
		if err != nil {
			t.Fatalf("referenceParse(%q): %v", payload, err)
		}
		if got != want {
			t.Errorf("decodeFast(%q) = %+v, want %+v", payload, got, want)
		}
	}
}

// compareWithReference fails t unless Parse and referenceParse return the
// same trade and the same error for data.
func compareWithReference(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := Parse(data)
	want, wantErr := referenceParse(data)
	prefix := data
	if len(prefix) > 200 {
		prefix = prefix[:200]
	}
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("Parse(%q) error = %v, reference error = %v", prefix, gotErr, wantErr)
	}
	if got != want {
		t.Errorf("Parse(%q) = %+v, reference = %+v", prefix, got, want)
	}
	if gotErr == nil {
		return
	}
	if sentinelOf(gotErr) != sentinelOf(wantErr) {
		t.Errorf("Parse(%q) error = %v, reference error = %v", prefix, gotErr, wantErr)
	}
	if gotErr.Error() != wantErr.Error() {
		t.Errorf("Parse(%q) error text = %q, reference = %q", prefix, gotErr, wantErr)
	}
}

// sentinelOf returns the sentinel error that err wraps, or nil.
func sentinelOf(err error) error {
	for _, sentinel := range []error{ErrNotJSON, ErrMissingField, ErrInvalidField} {
		if errors.Is(err, sentinel) {
			return sentinel
		}
	}
	return nil
}
