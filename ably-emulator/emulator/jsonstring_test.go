package emulator

import (
	"encoding/json"
	"fmt"
	"testing"
)

// FuzzUnquoteSimpleJSONString checks that the fast path, wherever it
// accepts a literal, decodes it exactly as encoding/json does.
func FuzzUnquoteSimpleJSONString(f *testing.F) {
	for _, seed := range []string{
		`""`,
		`"plain"`,
		`"{\"id\":\"trading-1-42\",\"price\":\"187.25\"}"`,
		`"escapes \\ \/ \b \f \n \r \t"`,
		`"caf\u00e9"`,
		`"\ud83d\ude00"`,
		"\"caf\u00e9 \u65e5\u672c\"",
		"\"invalid \xff utf-8\"",
		"\"control \x01\"",
		`"trailing backslash\"`,
		`"unknown \x escape"`,
		`"inner " quote"`,
		`"`,
		`plain`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, literal []byte) {
		fast, ok := unquoteSimpleJSONString(literal)
		if !ok {
			return
		}
		var expected string
		if err := json.Unmarshal(literal, &expected); err != nil {
			t.Fatalf("fast path accepted %q, which encoding/json rejects: %v", literal, err)
		}
		if fast != expected {
			t.Fatalf("fast path decoded %q as %q, encoding/json as %q", literal, fast, expected)
		}
	})
}

func TestUnquoteSimpleJSONString_LeavesHardCasesToJSON(t *testing.T) {
	for _, literal := range []string{`"caf\u00e9"`, "\"\xff\"", "\"\x01\"", `"a\"`, `"\x"`, `"a"b"`, `"`, `a`} {
		if decoded, ok := unquoteSimpleJSONString([]byte(literal)); ok {
			t.Errorf("fast path accepted %q as %q, want it left to encoding/json", literal, decoded)
		}
	}
}

func TestFormatSerial_MatchesSprintf(t *testing.T) {
	cases := []struct {
		unixMilli int64
		pos       position
	}{
		{0, position{}},
		{1_796_000_000_123, position{sequence: 42, index: 7}},
		{1, position{sequence: 1_234_567, index: 1000}},
		{123_456_789_012_345_678, position{sequence: 18_446_744_073_709_551_615, index: 99}},
		{-5, position{sequence: 3, index: 2}},
	}
	for _, c := range cases {
		expected := fmt.Sprintf("%014d-%06d@%s:%03d", c.unixMilli, c.pos.sequence, "emulator-abc", c.pos.index)
		if got := formatSerial(c.unixMilli, "emulator-abc", c.pos); got != expected {
			t.Errorf("formatSerial(%d, %+v) = %q, want %q", c.unixMilli, c.pos, got, expected)
		}
	}
}
