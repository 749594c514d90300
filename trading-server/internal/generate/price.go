package generate

import (
	"fmt"
	"strconv"
)

// TicksPerUnit is the number of ticks in one currency unit: prices move in
// cents and are printed with two decimals.
const TicksPerUnit = 100

// FormatTicks formats a price held as a whole number of ticks as an exact
// decimal string, for example 18725 as "187.25". It never goes through a
// float, so no rounding can change the digits.
func FormatTicks(ticks int64) string {
	if ticks < 0 {
		panic(fmt.Sprintf("generate: negative price of %d ticks", ticks))
	}
	units := ticks / TicksPerUnit
	cents := ticks % TicksPerUnit
	buf := strconv.AppendInt(nil, units, 10)
	buf = append(buf, '.', byte('0'+cents/10), byte('0'+cents%10))
	return string(buf)
}
