//! JSON as one line of text with object keys sorted, the form faucet-stream
//! writes where a transform turns a value into text (`json_encode`, `join`)
//! or hashes or matches it (`hash`, `lookup`). [`write_sorted`] is the one
//! writer; how numbers are printed is the caller's (faucet-bench compares
//! outputs with it, printing numbers its own ways).

use serde_json::{Number, Value};

/// How numbers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numbers {
    /// As read: every digit kept (`1.50` stays `1.50`).
    Exact,
    /// As faucet-stream writes them, through a double: integers of up to 64
    /// bits as they are, any other number as its shortest double (`1.50` is
    /// `1.5`, `1e2` is `100.0`), so digests and keys agree with faucet-stream's.
    Double,
}

/// `value` as compact JSON, object keys sorted.
pub(crate) fn canonical(value: &Value, numbers: Numbers) -> String {
    let mut out = String::new();
    let number = |n: &Number, out: &mut String| match numbers {
        Numbers::Double => out.push_str(&double_text(n)),
        Numbers::Exact => out.push_str(&n.to_string()),
    };
    write_sorted(value, &number, &mut out);
    out
}

/// Appends `value` to `out` as compact JSON, every object's keys sorted,
/// each number printed by `number`.
pub fn write_sorted(value: &Value, number: &dyn Fn(&Number, &mut String), out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(key, out);
                out.push(':');
                write_sorted(value, number, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, number, out);
            }
            out.push(']');
        }
        Value::String(s) => string(s, out),
        Value::Number(n) => number(n, out),
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn string(s: &str, out: &mut String) {
    // serde_json's escaping, which faucet-stream's keys and strings go through too.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// `n` as serde_json without `arbitrary_precision` writes it: an integer
/// that fits 64 bits as written, anything else as the double it parses to.
pub(crate) fn double_text(n: &Number) -> String {
    let text = n.as_str();
    if crate::number::is_integer(n) && (text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok()) {
        return text.to_owned();
    }
    match text.parse::<f64>().ok().and_then(Number::from_f64) {
        // serde_json writes a double's shortest text (ryu's), which has no `+` in
        // its exponent; with `arbitrary_precision` the text gains one.
        Some(double) => double.to_string().replace("e+", "e"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn number(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn keys_sorted_compact_and_escaped() {
        let v = json!({"b": [1, {"z": null, "a": "x\"y"}], "a": true});
        assert_eq!(canonical(&v, Numbers::Exact), r#"{"a":true,"b":[1,{"a":"x\"y","z":null}]}"#);
    }

    #[test]
    fn numbers_exact_or_as_a_double() {
        for (text, exact, double) in [
            ("42", "42", "42"),
            ("-7", "-7", "-7"),
            ("18446744073709551615", "18446744073709551615", "18446744073709551615"),
            ("1.50", "1.50", "1.5"),
            ("1e2", "1e+2", "100.0"),
            ("100000000000000000000", "100000000000000000000", "1e20"),
            ("0.1", "0.1", "0.1"),
        ] {
            let v = Value::Number(number(text));
            assert_eq!(canonical(&v, Numbers::Exact), exact, "{text}");
            assert_eq!(canonical(&v, Numbers::Double), double, "{text}");
        }
    }
}
