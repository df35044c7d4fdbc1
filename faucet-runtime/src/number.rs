//! JSON numbers as exact decimals.
//!
//! serde_json is built with `arbitrary_precision`, so a [`Number`] keeps the
//! text it was parsed from: integers beyond u64 and decimals beyond a double's
//! precision pass through unchanged (a positive exponent gains its `+`:
//! `1e5` reads back as `1e+5`, the same value). These helpers answer what
//! connectors ask of a number without rounding it through a double.

use std::cmp::Ordering;

use serde_json::Number;

/// Whether `n` is written as an integer (no fraction, no exponent), of any size.
pub fn is_integer(n: &Number) -> bool {
    !n.as_str().bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

/// Whether `n` has no fractional part, however it is written: `1.0`, `1e3`
/// and `2.50e1` are whole, `1.5` and `1e-3` are not.
pub fn is_whole(n: &Number) -> bool {
    let d = Decimal::of(n.as_str());
    d.is_zero() || d.int.len() as i128 + d.frac.len() as i128 <= d.exponent
}

/// Orders two numbers by their exact value: `1.0` equals `1`, `1e+2` equals
/// `100`, and integers beyond u64 or decimals beyond a double compare exactly.
pub fn cmp(a: &Number, b: &Number) -> Ordering {
    Decimal::of(a.as_str()).order(&Decimal::of(b.as_str()))
}

/// A JSON number's text as sign, significant digits and exponent: the value
/// is `0.DIGITS × 10^exponent` (zero has no digits).
struct Decimal<'a> {
    negative: bool,
    /// The integer digits, then the fraction digits: leading zeros of the
    /// whole are skipped by `exponent`, trailing zeros are trimmed.
    int: &'a [u8],
    frac: &'a [u8],
    exponent: i128,
}

impl<'a> Decimal<'a> {
    fn of(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let (negative, rest) = match bytes.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, bytes),
        };
        let mantissa_end = rest.iter().position(|b| matches!(b, b'e' | b'E')).unwrap_or(rest.len());
        let (mantissa, exp_part) = rest.split_at(mantissa_end);
        let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
            Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
            None => (mantissa, &[][..]),
        };
        // Saturates: an exponent beyond ±10^36 is compared as if it were that.
        let written: i128 = exp_part.get(1..).map_or(0, |digits| {
            let (sign, digits) = match digits.split_first() {
                Some((b'-', d)) => (-1, d),
                Some((b'+', d)) => (1, d),
                _ => (1, digits),
            };
            let magnitude = digits.iter().fold(0i128, |acc, &d| {
                (acc * 10 + i128::from(d - b'0')).min(1_000_000_000_000_000_000_000_000_000_000_000_000)
            });
            sign * magnitude
        });
        let int = trim_start(int);
        let (int, frac, exponent) = if int.is_empty() {
            let zeros = frac.iter().take_while(|&&b| b == b'0').count();
            (&[][..], trim_end(&frac[zeros..]), written - zeros as i128)
        } else {
            (int, frac, written + int.len() as i128)
        };
        let (int, frac) =
            if frac.iter().all(|&b| b == b'0') { (trim_end(int), &[][..]) } else { (int, trim_end(frac)) };
        if int.is_empty() && frac.is_empty() {
            return Decimal { negative: false, int, frac, exponent: 0 };
        }
        Decimal { negative, int, frac, exponent }
    }

    /// The significant digits in order.
    fn digits(&self) -> impl Iterator<Item = u8> + '_ {
        self.int.iter().chain(self.frac).copied()
    }

    fn is_zero(&self) -> bool {
        self.int.is_empty() && self.frac.is_empty()
    }

    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        // Without leading or trailing zeros, digit strings compare lexicographically.
        self.exponent.cmp(&other.exponent).then_with(|| self.digits().cmp(other.digits()))
    }

    fn order(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
        }
    }
}

fn trim_start(digits: &[u8]) -> &[u8] {
    &digits[digits.iter().take_while(|&&b| b == b'0').count()..]
}

fn trim_end(digits: &[u8]) -> &[u8] {
    &digits[..digits.len() - digits.iter().rev().take_while(|&&b| b == b'0').count()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        text.parse().unwrap()
    }

    #[test]
    fn equal_values_written_differently_compare_equal() {
        for (a, b) in [
            ("1", "1.0"),
            ("100", "1e2"),
            ("100", "1E+2"),
            ("0.001", "1e-3"),
            ("0.00100", "10e-4"),
            ("0", "-0"),
            ("0", "0.000e7"),
            ("-0.0", "0"),
            ("123456789012345678901234567890", "1.2345678901234567890123456789e29"),
        ] {
            assert_eq!(cmp(&n(a), &n(b)), Ordering::Equal, "{a} vs {b}");
        }
    }

    #[test]
    fn order_is_exact() {
        let sorted = [
            "-1e400",
            "-123456789012345678901234567891",
            "-123456789012345678901234567890",
            "-1",
            "-0.1000000000000000000000000001",
            "-0.1",
            "-1e-400",
            "0",
            "4.9e-324",
            "0.1",
            "0.10000000000000000000000000001",
            "0.48806805903541084",
            "0.4880680590354109",
            "1",
            "18446744073709551615",
            "18446744073709551616",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1e400",
        ];
        for (i, a) in sorted.iter().enumerate() {
            for (j, b) in sorted.iter().enumerate() {
                assert_eq!(cmp(&n(a), &n(b)), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn integers_are_told_apart_from_decimals() {
        assert!(is_integer(&n("123456789012345678901234567890")));
        assert!(is_integer(&n("-7")));
        assert!(!is_integer(&n("1.0")));
        assert!(!is_integer(&n("1e3")));
    }
}
