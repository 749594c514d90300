// Exact arithmetic on decimal price strings such as "189.25", with BigInt,
// so that a displayed price change never carries binary floating-point error.
// It is a classic script, not an ES module, because Chromium does not load
// module scripts into a file:// page. It defines the global TradeDecimal.
'use strict';

var TradeDecimal = (function () {
  const DECIMAL_PATTERN = /^(-?)(\d+)(?:\.(\d+))?$/;

  // parse returns {units, scale} with value = units / 10^scale, or null when
  // text is not a plain decimal: an optional minus sign, digits and an
  // optional fraction, with no exponent, plus sign or spaces.
  function parse(text) {
    if (typeof text !== 'string') {
      return null;
    }
    const match = DECIMAL_PATTERN.exec(text);
    if (match === null) {
      return null;
    }
    const fraction = match[3] || '';
    let units = BigInt(match[2] + fraction);
    if (match[1] === '-') {
      units = -units;
    }
    return { units: units, scale: fraction.length };
  }

  function rescale(value, scale) {
    return value.units * 10n ** BigInt(scale - value.scale);
  }

  // subtract returns a - b at the larger of the two scales.
  function subtract(a, b) {
    const scale = Math.max(a.scale, b.scale);
    return { units: rescale(a, scale) - rescale(b, scale), scale: scale };
  }

  function abs(n) {
    return n < 0n ? -n : n;
  }

  // format returns the decimal text of value, with a leading "+" for a
  // positive value when signed is true. A negative value gets "-".
  function format(value, signed) {
    const digits = abs(value.units).toString().padStart(value.scale + 1, '0');
    const cut = digits.length - value.scale;
    let text = digits.slice(0, cut);
    if (value.scale > 0) {
      text += '.' + digits.slice(cut);
    }
    if (value.units < 0n) {
      return '-' + text;
    }
    if (signed && value.units > 0n) {
      return '+' + text;
    }
    return text;
  }

  // percentChange returns 100 * change / previous as a signed decimal with
  // two fraction digits, rounded half away from zero, or null when previous
  // is zero. change and previous may have different scales.
  function percentChange(change, previous) {
    const scale = Math.max(change.scale, previous.scale);
    const numerator = rescale(change, scale);
    const denominator = rescale(previous, scale);
    if (denominator === 0n) {
      return null;
    }
    // Hundredths of a percent: numerator * 100 * 100 / denominator.
    const scaled = abs(numerator) * 10000n;
    const divisor = abs(denominator);
    let hundredths = (2n * scaled + divisor) / (2n * divisor);
    if ((numerator < 0n) !== (denominator < 0n)) {
      hundredths = -hundredths;
    }
    return format({ units: hundredths, scale: 2 }, true);
  }

  // compare returns -1, 0 or 1 as a is less than, equal to or greater than b.
  function compare(a, b) {
    const difference = subtract(a, b).units;
    if (difference < 0n) {
      return -1;
    }
    return difference > 0n ? 1 : 0;
  }

  // fraction returns where value lies between low and high, from 0 at low
  // to 1 at high, rounded to a multiple of 1/steps. It divides exactly with
  // BigInt and converts to a float only at the end, for plotting. A range
  // of zero width returns 0.5.
  function fraction(value, low, high, steps) {
    const scale = Math.max(value.scale, low.scale, high.scale);
    const width = rescale(high, scale) - rescale(low, scale);
    if (width === 0n) {
      return 0.5;
    }
    const offset = rescale(value, scale) - rescale(low, scale);
    const units = BigInt(steps);
    return Number((offset * units * 2n + width) / (2n * width)) / steps;
  }

  return {
    parse: parse,
    subtract: subtract,
    format: format,
    percentChange: percentChange,
    compare: compare,
    fraction: fraction,
  };
})();
