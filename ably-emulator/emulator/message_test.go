package emulator

import (
	"testing"
)

func TestLooseInteger_Forms(t *testing.T) {
	cases := []struct {
		name        string
		value       any
		wantText    string
		wantPresent bool
		wantErr     bool
	}{
		{"absent", nil, "", false, false},
		{"empty string", "", "", false, false},
		{"json number", float64(3600000), "3600000", true, false},
		{"msgpack uint32", uint32(3600000), "3600000", true, false},
		{"msgpack int64", int64(1796400596645), "1796400596645", true, false},
		{"decimal string", "60000", "60000", true, false},
		{"fraction", 1.5, "", true, true},
		{"word", "soon", "", true, true},
		{"bool", true, "", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, text, present, err := looseInteger(tc.value)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if present != tc.wantPresent {
				t.Errorf("present = %v, want %v", present, tc.wantPresent)
			}
			if text != tc.wantText {
				t.Errorf("text = %q, want %q", text, tc.wantText)
			}
		})
	}
}

func TestMessage_NormalizeAndFormat(t *testing.T) {
	cases := []struct {
		name         string
		body         string
		wantEncoding string
		wantKind     payloadKind
		wantJSON     string
	}{
		{"string", `{"data":"hi"}`, "", payloadText, `{"data":"hi"}`},
		{"object sent as is", `{"data":{"a":1}}`, "json", payloadText, `{"data":"{\"a\":1}","encoding":"json"}`},
		{"base64 becomes bytes", `{"data":"AAE=","encoding":"base64"}`, "", payloadBinary, `{"data":"AAE=","encoding":"base64"}`},
		{"inner base64 layer stays", `{"data":"AAE=","encoding":"base64/json"}`, "base64/json", payloadText, `{"data":"AAE=","encoding":"base64/json"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			messages, errInfo := decodeMessages(formatJSON, []byte(tc.body))
			if errInfo != nil {
				t.Fatalf("decode: %v", errInfo)
			}
			m := messages[0]
			if m.Encoding != tc.wantEncoding {
				t.Errorf("encoding = %q, want %q", m.Encoding, tc.wantEncoding)
			}
			if m.Data.kind != tc.wantKind {
				t.Errorf("payload kind = %d, want %d", m.Data.kind, tc.wantKind)
			}
			encoded, err := marshal(formatJSON, m.forFormat(formatJSON))
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if string(encoded) != tc.wantJSON {
				t.Errorf("JSON form = %s, want %s", encoded, tc.wantJSON)
			}
		})
	}
}

func TestDecodeMessages_RejectsInvalidBodies(t *testing.T) {
	cases := []struct {
		name     string
		body     string
		wantCode int
	}{
		{"empty body", ``, codeInvalidRequestBody},
		{"empty array", `[]`, codeInvalidRequestBody},
		{"null message", `[null]`, codeInvalidRequestBody},
		{"not json", `{`, codeInvalidRequestBody},
		{"number data", `{"data":1}`, codeInvalidMessageData},
		{"bad base64", `{"data":"***","encoding":"base64"}`, codeInvalidMessageData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errInfo := decodeMessages(formatJSON, []byte(tc.body))
			if errInfo == nil || errInfo.Code != tc.wantCode {
				t.Errorf("error = %v, want code %d", errInfo, tc.wantCode)
			}
		})
	}
}
