package emulator

import "unicode/utf8"

// unquoteSimpleJSONString decodes a JSON string literal, quotes included,
// that contains only valid UTF-8 and the escapes \" \\ \/ \b \f \n \r \t.
// It returns false for anything else (a \u escape, a control character,
// invalid UTF-8, a missing quote), and the caller then decodes the literal
// with encoding/json, which replaces invalid UTF-8 with U+FFFD. Where it
// returns true, its result equals encoding/json's. It exists because
// message data is a string of escaped JSON, and encoding/json would
// validate each one a second time.
func unquoteSimpleJSONString(literal []byte) (string, bool) {
	if len(literal) < 2 || literal[0] != '"' || literal[len(literal)-1] != '"' {
		return "", false
	}
	body := literal[1 : len(literal)-1]
	if !utf8.Valid(body) {
		return "", false
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '"' || c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			continue
		}
		i++
		if i == len(body) {
			return "", false
		}
		switch body[i] {
		case '"', '\\', '/':
			out = append(out, body[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			return "", false
		}
	}
	return string(out), true
}
