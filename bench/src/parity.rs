//! Output parity: two JSON Lines files hold the same records in the same
//! order once every object's keys are sorted and every number is printed in
//! one canonical form. An integer is its text; a float is its value, printed
//! as the shortest text that reads back as it, so `1.5e-5` is `0.000015` (a
//! program that decodes a double and encodes it again keeps the value, not
//! the spelling), and a float with an integral value, `7535.0`, is the number
//! `7535`, as `jq -cS .` and PostgreSQL's `float8` print it.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use faucet_runtime::transform::json_text::write_sorted;
use serde_json::{Number, Value};

/// Appends `value` to `out` as compact JSON with every object's keys sorted
/// and every number in its canonical form.
pub fn canonical(value: &Value, out: &mut String) {
    write_sorted(value, &by_value, out);
}

/// Appends `value` to `out` as compact JSON with every object's keys sorted
/// and every number exactly as written, so `1.0` and `1`, or `0.10` and
/// `0.1`, stay apart (the differential suite: the text a program writes is
/// what its reader gets).
pub fn canonical_exact(value: &Value, out: &mut String) {
    write_sorted(value, &|number, out| out.push_str(&number.to_string()), out);
}

/// A float by value: the shortest text that reads back as the same double,
/// an integral one as an integer; any other number as written.
fn by_value(number: &Number, out: &mut String) {
    match number.as_f64() {
        Some(float) if number.is_f64() => {
            if float.fract() == 0.0 && float.abs() < 9_007_199_254_740_992.0 {
                out.push_str(&(float as i64).to_string());
            } else {
                out.push_str(&format!("{float:?}"));
            }
        }
        _ => out.push_str(&number.to_string()),
    }
}

/// Where two outputs first differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// Different numbers of records.
    Count {
        /// Records in the expected file.
        expected: u64,
        /// Records in the actual file.
        actual: u64,
    },
    /// The first record (1-based) that differs, both normalized.
    Record {
        /// Its line number.
        line: u64,
        /// The expected record.
        expected: String,
        /// The actual record.
        actual: String,
    },
}

fn normalized_lines(path: &Path) -> io::Result<impl Iterator<Item = io::Result<String>>> {
    let lines = BufReader::with_capacity(256 * 1024, File::open(path)?).lines();
    Ok(lines.filter(|l| !matches!(l, Ok(s) if s.is_empty())).map(move |line| {
        let value: Value = serde_json::from_str(&line?)?;
        let mut out = String::new();
        canonical(&value, &mut out);
        Ok(out)
    }))
}

/// Compares two JSON Lines files record by record; returns the record count
/// when they match.
pub fn compare(expected: &Path, actual: &Path) -> io::Result<Result<u64, Mismatch>> {
    let (mut left, mut right) = (normalized_lines(expected)?, normalized_lines(actual)?);
    let mut line = 0u64;
    loop {
        match (left.next().transpose()?, right.next().transpose()?) {
            (None, None) => return Ok(Ok(line)),
            (Some(expected), Some(actual)) => {
                line += 1;
                if expected != actual {
                    return Ok(Err(Mismatch::Record { line, expected, actual }));
                }
            }
            (l, r) => {
                let rest =
                    |first: bool, it: &mut dyn Iterator<Item = io::Result<String>>| -> io::Result<u64> {
                        let mut n = line + u64::from(first);
                        for item in it {
                            item?;
                            n += 1;
                        }
                        Ok(n)
                    };
                let expected = rest(l.is_some(), &mut left)?;
                let actual = rest(r.is_some(), &mut right)?;
                return Ok(Err(Mismatch::Count { expected, actual }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_does_not_matter_values_do() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        std::fs::write(&a, "{\"b\":\"1\",\"a\":{\"y\":2,\"x\":[1]}}\n{\"z\":null}\n").unwrap();
        std::fs::write(&b, "{\"a\":{\"x\":[1],\"y\":2},\"b\":\"1\"}\n{\"z\":null}\n").unwrap();
        std::fs::write(&c, "{\"a\":{\"x\":[1],\"y\":2},\"b\":1}\n").unwrap();
        assert_eq!(compare(&a, &b).unwrap(), Ok(2));
        assert!(matches!(compare(&a, &c).unwrap(), Err(Mismatch::Record { line: 1, .. })));
        std::fs::write(&c, "{\"a\":{\"x\":[1],\"y\":2},\"b\":\"1\"}\n").unwrap();
        assert_eq!(compare(&a, &c).unwrap(), Err(Mismatch::Count { expected: 2, actual: 1 }));
    }

    #[test]
    fn floats_compare_by_value_and_integral_ones_equal_integers() {
        let text = |v: &str| {
            let mut out = String::new();
            canonical(&serde_json::from_str(v).unwrap(), &mut out);
            out
        };
        assert_eq!(text("[7535.0, -2.0, 0.0]"), text("[7535, -2, 0]"));
        assert_eq!(text("[1.5e-5, 2.50, 1E3]"), text("[0.000015, 2.5, 1000]"));
        assert_ne!(text("[0.1]"), text("[0.10000000000000002]"));
        assert_ne!(text("[7535.5]"), text("[7535]"));
        assert_ne!(text("[\"7535\"]"), text("[7535]"));
    }

    #[test]
    fn exact_numbers_keep_their_text() {
        let text = |v: &str| {
            let mut out = String::new();
            canonical_exact(&serde_json::from_str(v).unwrap(), &mut out);
            out
        };
        assert_eq!(text("{\"b\": 1.0, \"a\": [0.10, 1]}"), "{\"a\":[0.10,1],\"b\":1.0}");
        assert_ne!(text("[1.0]"), text("[1]"));
        assert_ne!(text("[\"1\"]"), text("[1]"));
    }
}
