package trade

import "time"

// isValidID reports whether id is 1 to MaxIDLength bytes of A-Z a-z 0-9 _ . -
func isValidID(id string) bool {
	if id == "" || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isUpper(c) && !('a' <= c && c <= 'z') && !isDigit(c) && !isPunct(c) {
			return false
		}
	}
	return true
}

// isValidSymbol reports whether symbol is 1 to 16 bytes of A-Z 0-9 . _ -
func isValidSymbol(symbol string) bool {
	const maxSymbolLength = 16
	if symbol == "" || len(symbol) > maxSymbolLength {
		return false
	}
	for i := 0; i < len(symbol); i++ {
		c := symbol[i]
		if !isUpper(c) && !isDigit(c) && !isPunct(c) {
			return false
		}
	}
	return true
}

// isValidPrice reports whether price is "0" or 1 to 15 digits without a
// leading zero, optionally followed by '.' and 1 to 8 digits.
func isValidPrice(price string) bool {
	const maxIntegerDigits, maxFractionDigits = 15, 8
	integer := countDigits(price)
	switch {
	case integer == 0 || integer > maxIntegerDigits:
		return false
	case integer > 1 && price[0] == '0':
		return false
	case integer == len(price):
		return true
	case price[integer] != '.':
		return false
	}
	fraction := price[integer+1:]
	return fraction != "" && len(fraction) <= maxFractionDigits &&
		countDigits(fraction) == len(fraction)
}

// isValidTime reports whether time.Parse accepts value with TimeLayout. It
// checks the exact shape of TimeLayout by hand. time.Parse also accepts a few
// other shapes, such as a one-digit hour, a comma before the milliseconds or
// "+12" as milliseconds, so every other value goes to time.Parse.
func isValidTime(value string) bool {
	if !hasTimeLayoutShape(value) {
		_, err := time.Parse(TimeLayout, value)
		return err == nil
	}
	year := parseDigits(value[0:4])
	month := parseDigits(value[5:7])
	day := parseDigits(value[8:10])
	return month >= 1 && month <= 12 &&
		day >= 1 && day <= daysIn(month, year) &&
		parseDigits(value[11:13]) < 24 &&
		parseDigits(value[14:16]) < 60 &&
		parseDigits(value[17:19]) < 60
}

// hasTimeLayoutShape reports whether value has a digit wherever TimeLayout
// has one and the same byte everywhere else.
func hasTimeLayoutShape(value string) bool {
	if len(value) != len(TimeLayout) {
		return false
	}
	for i := 0; i < len(value); i++ {
		if isDigit(TimeLayout[i]) {
			if !isDigit(value[i]) {
				return false
			}
		} else if value[i] != TimeLayout[i] {
			return false
		}
	}
	return true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseDigits returns the value of digits, which contains only decimal digits.
func parseDigits(digits string) int {
	n := 0
	for i := 0; i < len(digits); i++ {
		n = n*10 + int(digits[i]-'0')
	}
	return n
}

func countDigits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

func isUpper(c byte) bool {
	return 'A' <= c && c <= 'Z'
}

func isPunct(c byte) bool {
	return c == '_' || c == '.' || c == '-'
}
