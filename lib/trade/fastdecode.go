package trade

import "strings"

// Indexes of the string fields in the values collected by decodeFast.
const (
	fieldID = iota
	fieldSymbol
	fieldPrice
	fieldSide
	fieldTime
	numStringFields
)

// Bits of the fields decodeFast has seen. The string fields use their index.
const (
	seenSize = 1 << (numStringFields + iota)
	seenSeq
)

// decodeFast decodes data in the common case of one plain JSON object, such
// as json.Marshal writes for a Trade. Each key is an exact field name and
// appears at most once. Each string is printable ASCII without escapes, and
// each integer has at most 18 digits and no fraction or exponent. Only JSON
// white space may surround the object. For any other input, even a valid
// one, decodeFast reports false, and Parse then uses decodeStrict so that
// such input keeps its result and error.
func decodeFast(data []byte) (Trade, bool) {
	s := plainScanner{data: data}
	var t Trade
	var values [numStringFields][]byte
	var seen uint
	s.skipSpace()
	if !s.consume('{') {
		return Trade{}, false
	}
	for {
		s.skipSpace()
		key, ok := s.plainString()
		if !ok {
			return Trade{}, false
		}
		s.skipSpace()
		if !s.consume(':') {
			return Trade{}, false
		}
		s.skipSpace()
		bit, index := fieldOf(key)
		if bit == 0 || seen&bit != 0 {
			return Trade{}, false
		}
		seen |= bit
		switch bit {
		case seenSize:
			t.Size, ok = s.plainInt()
		case seenSeq:
			t.Seq, ok = s.plainInt()
		default:
			values[index], ok = s.plainString()
		}
		if !ok {
			return Trade{}, false
		}
		s.skipSpace()
		if s.consume(',') {
			continue
		}
		if !s.consume('}') {
			return Trade{}, false
		}
		break
	}
	s.skipSpace()
	if s.pos != len(data) {
		return Trade{}, false
	}
	setStrings(&t, &values)
	return t, true
}

// fieldOf returns the seen bit of the field that key names exactly, with the
// index of a string field, or a zero bit when key names no field.
func fieldOf(key []byte) (bit uint, index int) {
	switch string(key) {
	case "id":
		return 1 << fieldID, fieldID
	case "symbol":
		return 1 << fieldSymbol, fieldSymbol
	case "price":
		return 1 << fieldPrice, fieldPrice
	case "side":
		return 1 << fieldSide, fieldSide
	case "ts":
		return 1 << fieldTime, fieldTime
	case "size":
		return seenSize, -1
	case "seq":
		return seenSeq, -1
	}
	return 0, -1
}

// setStrings copies the string values into t with a single allocation. The
// fields of t share its backing array.
func setStrings(t *Trade, values *[numStringFields][]byte) {
	total := 0
	for _, v := range values {
		total += len(v)
	}
	var b strings.Builder
	b.Grow(total)
	for _, v := range values {
		b.Write(v)
	}
	all := b.String()
	fields := [numStringFields]*string{
		fieldID: &t.ID, fieldSymbol: &t.Symbol, fieldPrice: &t.Price,
		fieldSide: &t.Side, fieldTime: &t.Time,
	}
	start := 0
	for i, v := range values {
		*fields[i] = all[start : start+len(v)]
		start += len(v)
	}
}

// plainScanner reads the subset of JSON that decodeFast accepts.
type plainScanner struct {
	data []byte
	pos  int
}

func (s *plainScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *plainScanner) consume(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// plainString reads a string literal of printable ASCII without escapes and
// returns its contents, which alias s.data.
func (s *plainScanner) plainString() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.pos
	for ; s.pos < len(s.data); s.pos++ {
		c := s.data[s.pos]
		if c == '"' {
			s.pos++
			return s.data[start : s.pos-1], true
		}
		if c < 0x20 || c > 0x7e || c == '\\' {
			return nil, false
		}
	}
	return nil, false
}

// plainInt reads an integer literal of 1 to 18 digits with an optional minus
// sign, which always fits in int64. The caller rejects a fraction or an
// exponent, because neither is white space, ',' or '}'.
func (s *plainScanner) plainInt() (int64, bool) {
	const maxDigits = 18
	negative := s.consume('-')
	start := s.pos
	var n int64
	for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
		if s.pos-start == maxDigits {
			return 0, false
		}
		n = n*10 + int64(s.data[s.pos]-'0')
		s.pos++
	}
	digits := s.pos - start
	if digits == 0 || (digits > 1 && s.data[start] == '0') {
		return 0, false
	}
	if negative {
		n = -n
	}
	return n, true
}

func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}
