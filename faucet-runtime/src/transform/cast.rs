//! The `cast` transform: top-level fields converted to another JSON type,
//! with faucet-stream's rules.
//!
//! - `int`: an integer stays; a whole number within `i64` becomes an integer
//!   (`2.0` → `2`), a fraction is an error; text is trimmed and read as an
//!   `i64`; `true`/`false` become 1/0.
//! - `float`: a number becomes a double (`2` → `2.0`); text is trimmed and
//!   read as one (finite only); `true`/`false` become 1.0/0.0.
//! - `bool`: `0`/`1`; text `true`/`1`/`yes`/`y` or `false`/`0`/`no`/`n`,
//!   trimmed, in any case.
//! - `string`: a number's text (a double's shortest form), `true`/`false`.
//! - `timestamp`: RFC 3339 text, written again in its normal form (`Z` for UTC).
//!
//! `null`, objects and arrays never convert. A value that does not convert
//! fails the record, becomes `null`, or stays as it was (`on_error`).

use serde_json::{Number, Value};

use super::chain::Transform;
use crate::error::{FaucetError, Result};
use crate::page::Record;

/// The types `cast` converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastType {
    /// A 64-bit integer.
    Int,
    /// A double.
    Float,
    /// `true` or `false`.
    Bool,
    /// Text.
    String,
    /// RFC 3339 text, normalised.
    Timestamp,
}

impl CastType {
    /// Its name in configs.
    pub fn name(self) -> &'static str {
        match self {
            CastType::Int => "int",
            CastType::Float => "float",
            CastType::Bool => "bool",
            CastType::String => "string",
            CastType::Timestamp => "timestamp",
        }
    }
}

/// What becomes of a value that does not convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CastOnError {
    /// The record is rejected, naming the field and the value.
    #[default]
    Error,
    /// The value becomes `null`.
    Null,
    /// The value stays as it was.
    Skip,
}

/// Converts top-level fields to other types; a field the record lacks is skipped.
#[derive(Debug, Clone)]
pub struct Cast {
    fields: Vec<(String, CastType)>,
    on_error: CastOnError,
}

impl Cast {
    /// A cast of each `(field, type)`, applied in the order given.
    pub fn new(fields: &[(&str, CastType)], on_error: CastOnError) -> Self {
        Cast { fields: fields.iter().map(|(f, t)| ((*f).to_owned(), *t)).collect(), on_error }
    }
}

impl Cast {
    /// The error of a value of `field` that does not convert to `to`
    /// (`on_error: error`), on an untyped record or a typed one.
    pub fn failure(field: &str, to: CastType, why: String) -> FaucetError {
        FaucetError::transform(format!("cast: field {field:?} to {}: {why}", to.name()))
    }
}

impl Transform for Cast {
    type Out = Record;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        let Value::Object(map) = &mut record else { return Ok(Some(record)) };
        for (field, to) in &self.fields {
            let Some(value) = map.get_mut(field.as_str()) else { continue };
            match cast(value, *to) {
                Ok(new) => *value = new,
                Err(why) => match self.on_error {
                    CastOnError::Error => return Err(Cast::failure(field, *to, why)),
                    CastOnError::Null => *value = Value::Null,
                    CastOnError::Skip => {}
                },
            }
        }
        Ok(Some(record))
    }
}

/// `value` as type `to`, or why it does not convert.
pub fn cast(value: &Value, to: CastType) -> std::result::Result<Value, String> {
    match (value, to) {
        (Value::Null, _) => Err(format!("null is not {}", article(to))),
        (Value::Array(_) | Value::Object(_), _) => Err(format!("{} is not {}", kind(value), article(to))),
        (Value::Number(n), CastType::Int) => number_to_int(n).map(Value::from),
        (Value::String(s), CastType::Int) => text_to_int(s).map(Value::from),
        (Value::Bool(b), CastType::Int) => Ok(Value::from(i64::from(*b))),
        (Value::Number(n), CastType::Float) => {
            double(n.as_f64()).ok_or_else(|| format!("{n} is not a finite double"))
        }
        (Value::String(s), CastType::Float) => text_to_float(s).map(Value::from),
        (Value::Bool(b), CastType::Float) => Ok(double(Some(if *b { 1.0 } else { 0.0 })).expect("finite")),
        (Value::Bool(b), CastType::Bool) => Ok(Value::Bool(*b)),
        (Value::Number(n), CastType::Bool) => number_to_bool(n).map(Value::Bool),
        (Value::String(s), CastType::Bool) => text_to_bool(s).map(Value::Bool),
        (Value::String(s), CastType::String) => Ok(Value::String(s.clone())),
        (Value::Number(n), CastType::String) => Ok(Value::String(number_text(n))),
        (Value::Bool(b), CastType::String) => Ok(Value::String(b.to_string())),
        (Value::String(s), CastType::Timestamp) => text_to_timestamp(s).map(Value::String),
        (_, CastType::Timestamp) => Err(format!("{} is not an RFC 3339 timestamp", kind(value))),
    }
}

/// Why `null` does not convert to `to` (a typed member's null meets this).
pub fn null_is_not(to: CastType) -> String {
    format!("null is not {}", article(to))
}

// The conversions of a typed record's members: a generated transform calls
// these on `i64`, `f64`, `bool` and `String` members, and [`cast`] on the
// values of an untyped record, so both convert and fail alike.

/// Text as an integer: trimmed, an `i64`.
pub fn text_to_int(s: &str) -> std::result::Result<i64, String> {
    s.trim().parse::<i64>().map_err(|_| format!("{s:?} is not an integer"))
}

/// Text as a double: trimmed, finite.
pub fn text_to_float(s: &str) -> std::result::Result<f64, String> {
    s.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| format!("{s:?} is not a number"))
}

/// Text as a boolean: `true`/`1`/`yes`/`y` or `false`/`0`/`no`/`n`, trimmed, in any case.
pub fn text_to_bool(s: &str) -> std::result::Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Ok(true),
        "false" | "0" | "no" | "n" => Ok(false),
        _ => Err(format!("{s:?} is not a boolean (true/false, yes/no, y/n, 1/0)")),
    }
}

/// RFC 3339 text, written again in its normal form (`Z` for UTC).
pub fn text_to_timestamp(s: &str) -> std::result::Result<String, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .map_err(|e| format!("{s:?} is not an RFC 3339 timestamp: {e}"))
}

/// An integer as a boolean: 0 or 1.
pub fn int_to_bool(i: i64) -> std::result::Result<bool, String> {
    number_to_bool(&Number::from(i))
}

/// A double as an integer: a whole one within `i64`.
pub fn float_to_int(x: f64) -> std::result::Result<i64, String> {
    number_to_int(&finite(x))
}

/// A double as a boolean: never (only the integers 0 and 1 are).
pub fn float_to_bool(x: f64) -> std::result::Result<bool, String> {
    number_to_bool(&finite(x))
}

/// A double's text: its shortest form (`2.0` stays `2.0`).
pub fn float_to_text(x: f64) -> String {
    number_text(&finite(x))
}

/// A typed member's double as a JSON number (members are finite: JSON has no other).
fn finite(x: f64) -> Number {
    Number::from_f64(x).unwrap_or_else(|| Number::from(0))
}

/// 0 or 1 as a boolean.
fn number_to_bool(n: &Number) -> std::result::Result<bool, String> {
    match n.as_i64() {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(format!("{n} is neither 0 nor 1")),
    }
}

/// An integer, or a whole double within `i64` (`2.0`, `1e3`).
fn number_to_int(n: &Number) -> std::result::Result<i64, String> {
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    // -2^63 ..= 2^63 exclusive: every whole double there is an exact i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    match n.as_f64() {
        Some(x) if x.fract() == 0.0 && (-LIMIT..LIMIT).contains(&x) => Ok(x as i64),
        _ => Err(format!("{n} is not a whole number within 64 bits")),
    }
}

/// A finite double as a JSON number.
fn double(x: Option<f64>) -> Option<Value> {
    x.and_then(Number::from_f64).map(Value::Number)
}

/// A number's text as faucet-stream writes it: an integer's digits, else the
/// double's shortest form (`1.50` → `1.5`, `2.0` stays `2.0`).
pub fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    match n.as_f64().and_then(Number::from_f64) {
        Some(shortest) => shortest.to_string(),
        None => n.to_string(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn article(to: CastType) -> &'static str {
    match to {
        CastType::Int => "an integer",
        CastType::Float => "a number",
        CastType::Bool => "a boolean",
        CastType::String => "text",
        CastType::Timestamp => "a timestamp",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(v: Value, to: CastType) -> Value {
        cast(&v, to).unwrap_or_else(|e| panic!("{v} to {to:?}: {e}"))
    }

    fn fails(v: Value, to: CastType) -> String {
        cast(&v, to).expect_err(&format!("{v} to {to:?} should fail"))
    }

    /// A number as JSON text reads it (with arbitrary precision, its digits are kept).
    fn num(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn to_int() {
        assert_eq!(ok(json!(5), CastType::Int), json!(5));
        assert_eq!(ok(num("2.0"), CastType::Int), json!(2));
        assert_eq!(ok(num("1e3"), CastType::Int), json!(1000));
        assert_eq!(ok(json!(" -42 "), CastType::Int), json!(-42));
        assert_eq!(ok(json!(true), CastType::Int), json!(1));
        assert!(fails(num("2.5"), CastType::Int).contains("not a whole number"));
        assert!(fails(num("9223372036854775808"), CastType::Int).contains("64 bits"));
        assert_eq!(ok(num("-9223372036854775808"), CastType::Int), json!(i64::MIN));
        assert!(fails(json!("4.0"), CastType::Int).contains("not an integer"));
        assert!(fails(json!(null), CastType::Int).contains("null"));
        assert!(fails(json!([1]), CastType::Int).contains("an array"));
    }

    #[test]
    fn to_float() {
        assert_eq!(ok(json!(2), CastType::Float).to_string(), "2.0");
        assert_eq!(ok(num("1.50"), CastType::Float).to_string(), "1.5");
        assert_eq!(ok(json!(" 2.25 "), CastType::Float).to_string(), "2.25");
        assert_eq!(ok(json!(false), CastType::Float).to_string(), "0.0");
        assert!(fails(json!("inf"), CastType::Float).contains("not a number"));
        assert!(fails(json!("x"), CastType::Float).contains("not a number"));
    }

    #[test]
    fn to_bool() {
        for yes in ["true", " YES ", "y", "1", "True"] {
            assert_eq!(ok(json!(yes), CastType::Bool), json!(true), "{yes}");
        }
        for no in ["false", "No", "N", "0"] {
            assert_eq!(ok(json!(no), CastType::Bool), json!(false), "{no}");
        }
        assert_eq!(ok(json!(1), CastType::Bool), json!(true));
        assert_eq!(ok(json!(0), CastType::Bool), json!(false));
        assert!(fails(json!(2), CastType::Bool).contains("neither 0 nor 1"));
        assert!(fails(num("1.0"), CastType::Bool).contains("neither"));
        assert!(fails(json!("maybe"), CastType::Bool).contains("not a boolean"));
    }

    #[test]
    fn to_string() {
        assert_eq!(ok(json!(7), CastType::String), json!("7"));
        assert_eq!(ok(num("1.50"), CastType::String), json!("1.5"));
        assert_eq!(ok(num("2.0"), CastType::String), json!("2.0"));
        assert_eq!(ok(num("18446744073709551615"), CastType::String), json!("18446744073709551615"));
        assert_eq!(ok(json!(true), CastType::String), json!("true"));
        assert_eq!(ok(json!("x"), CastType::String), json!("x"));
        assert!(fails(json!({"a": 1}), CastType::String).contains("an object"));
    }

    #[test]
    fn to_timestamp() {
        assert_eq!(
            ok(json!("2026-05-28T00:00:00+00:00"), CastType::Timestamp),
            json!("2026-05-28T00:00:00Z")
        );
        assert_eq!(
            ok(json!("2026-05-28T01:02:03.120+02:00"), CastType::Timestamp),
            json!("2026-05-28T01:02:03.120+02:00")
        );
        assert!(fails(json!("2026-05-28"), CastType::Timestamp).contains("RFC 3339"));
        assert!(fails(json!(1_700_000_000), CastType::Timestamp).contains("a number"));
    }

    #[test]
    fn on_error_rejects_nulls_or_skips() {
        let record = || json!({"a": "x", "b": "2", "c": null});
        let fields = [("a", CastType::Int), ("b", CastType::Int), ("missing", CastType::Int)];
        let e = Cast::new(&fields, CastOnError::Error).apply(record()).unwrap_err();
        assert_eq!(e.message(), "cast: field \"a\" to int: \"x\" is not an integer");
        let out = Cast::new(&fields, CastOnError::Null).apply(record()).unwrap().unwrap();
        assert_eq!(out, json!({"a": null, "b": 2, "c": null}));
        let out = Cast::new(&fields, CastOnError::Skip).apply(record()).unwrap().unwrap();
        assert_eq!(out, json!({"a": "x", "b": 2, "c": null}));
        // Null never converts.
        let e = Cast::new(&[("c", CastType::String)], CastOnError::Error).apply(record()).unwrap_err();
        assert!(e.message().contains("null is not text"), "{e}");
        assert_eq!(Cast::new(&fields, CastOnError::Error).apply(json!([1])).unwrap().unwrap(), json!([1]));
    }
}
