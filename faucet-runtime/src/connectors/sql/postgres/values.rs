//! How a column of the `postgres` source (and of `postgres_cdc`'s snapshot)
//! becomes a value: the server sends it as text, converted by its type where
//! its output form is not the one wanted ([`convert`]), and that text stands
//! for one value ([`Column`]): integers as i64, floats as
//! f64 (NaN and ±Infinity null), numeric as its exact text, json as the JSON
//! itself, timestamps as RFC 3339 text in UTC, bytea as base64, arrays as
//! JSON arrays, anything else as its text.
//!
//! [`Column`] is a serde deserializer, so one mapping serves both record
//! types: the untyped record is `Value::deserialize` of each column
//! ([`to_json`]), and a generated struct is deserialized from the whole row
//! ([`RowDeserializer`]), each member straight from its column's text, with
//! no JSON map in between. Both make the same value of the same text.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, Error as _, IntoDeserializer, MapAccess, Unexpected, Visitor,
};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::error::{FaucetError, Result};

/// How a column's server-side text stands for a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Float,
    /// numeric: an exact string (NaN and ±Infinity null).
    Numeric,
    Bool,
    /// json, jsonb, and arrays (sent as JSON).
    Json,
    /// A float array: JSON whose "NaN"/"Infinity" strings become null.
    FloatArray,
    /// bytea, sent as base64.
    Bytes,
    /// timestamp, in DateStyle ISO (`2024-01-02 03:04:05`): written with a
    /// `T`, as `to_json` writes it.
    Timestamp,
    /// timestamptz in UTC (`…05+00`): written with a `T` and `+00:00`.
    TimestampTz,
    /// Anything else: its text.
    Text,
}

/// The conversion of one column: its kind and the server-side expression.
///
/// Types whose output form is the text wanted are sent as they are (a cast
/// or a function per value costs the server more than the query's scan):
/// numbers, booleans, json, and, in the session's UTC and DateStyle ISO,
/// dates, times and timestamps (a timestamp's `T` is put in here).
pub(crate) fn convert(typname: &str, category: &str, elem: &str, col: &str) -> (Kind, String) {
    match (typname, category) {
        ("int2" | "int4" | "int8" | "oid", _) => (Kind::Int, col.to_owned()),
        ("float4" | "float8", _) => (Kind::Float, col.to_owned()),
        ("numeric", _) => (Kind::Numeric, col.to_owned()),
        ("bool", _) => (Kind::Bool, col.to_owned()),
        ("json" | "jsonb", _) => (Kind::Json, col.to_owned()),
        ("bytea", _) => (Kind::Bytes, format!("encode({col}, 'base64')")),
        ("timestamp", _) => (Kind::Timestamp, col.to_owned()),
        ("timestamptz", _) => (Kind::TimestampTz, col.to_owned()),
        ("date" | "time" | "timetz", _) => (Kind::Text, col.to_owned()),
        (_, "A") => match elem {
            "numeric" => (Kind::Json, format!("to_json({col}::text[])::text")),
            "float4" | "float8" => (Kind::FloatArray, format!("to_json({col})::text")),
            "bytea" => (
                Kind::Json,
                format!("to_json(array(SELECT encode(x, 'base64') FROM unnest({col}) AS x))::text"),
            ),
            _ => (Kind::Json, format!("to_json({col})::text")),
        },
        _ => (Kind::Text, format!("{col}::text")),
    }
}

/// One column's JSON value from its server-side text (`None`: SQL NULL).
pub(crate) fn to_json(kind: Kind, text: Option<&str>, name: &str) -> Result<Value> {
    Value::deserialize(Column { kind, text })
        .map_err(|e| FaucetError::source(format!("postgres: column {name}: {}", e.message)))
}

/// One column's value: its kind and its server-side text (`None`: SQL NULL).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column<'t> {
    pub(crate) kind: Kind,
    pub(crate) text: Option<&'t str>,
}

/// Appends a timestamp's text in DateStyle ISO as `to_json` writes it:
/// `2024-01-02 03:04:05.5+00[ BC]` → `2024-01-02T03:04:05.5+00:00[ BC]`;
/// `infinity` stays. `zoned`: a timestamptz, whose offset `to_json` writes
/// as at least `±HH:MM`.
pub(crate) fn push_timestamp(text: &str, zoned: bool, out: &mut String) {
    let (body, era) = match text.strip_suffix(" BC") {
        Some(body) => (body, " BC"),
        None => (text, ""),
    };
    let Some((date, time)) = body.split_once(' ') else {
        out.push_str(text);
        return;
    };
    out.reserve(text.len() + 4);
    out.push_str(date);
    out.push('T');
    out.push_str(time);
    // The offset is `±HH`, `±HH:MM` or `±HH:MM:SS`.
    if zoned && time.rfind(['+', '-']).is_some_and(|sign| time.len() - sign == 3) {
        out.push_str(":00");
    }
    out.push_str(era);
}

/// numeric's NaN and ±Infinity, which JSON has no number for.
pub(crate) fn is_special_numeric(text: &str) -> bool {
    matches!(text, "NaN" | "Infinity" | "-Infinity")
}

impl<'de> Deserializer<'de> for Column<'de> {
    type Error = Misfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Misfit> {
        let Some(text) = self.text else { return visitor.visit_unit() };
        let unreadable = |what: &str| Misfit::custom(format_args!("cannot read {what} {text:?}"));
        match self.kind {
            Kind::Int => match text.parse::<i64>() {
                Ok(i) => visitor.visit_i64(i),
                Err(_) => visitor.visit_u64(text.parse().map_err(|_| unreadable("integer"))?),
            },
            Kind::Float => match text.parse::<f64>() {
                Ok(f) if f.is_finite() => visitor.visit_f64(f),
                _ => visitor.visit_unit(),
            },
            Kind::Numeric if is_special_numeric(text) => visitor.visit_unit(),
            Kind::Numeric | Kind::Text => visitor.visit_borrowed_str(text),
            Kind::Bool => visitor.visit_bool(text == "true" || text == "t"),
            Kind::Json => {
                let mut json = serde_json::Deserializer::from_str(text);
                let value = (&mut json).deserialize_any(visitor).map_err(|e| match e.is_data() {
                    true => Misfit::json(e),
                    false => unreadable("JSON"),
                })?;
                json.end().map_err(|_| unreadable("JSON"))?;
                Ok(value)
            }
            Kind::FloatArray => {
                let mut value: Value = serde_json::from_str(text).map_err(|_| unreadable("JSON"))?;
                null_non_finite(&mut value);
                value.deserialize_any(visitor).map_err(Misfit::json)
            }
            // PostgreSQL breaks base64 into lines of 76 characters.
            Kind::Bytes if text.bytes().any(|b| b.is_ascii_whitespace()) => {
                visitor.visit_string(text.chars().filter(|c| !c.is_ascii_whitespace()).collect())
            }
            Kind::Bytes => visitor.visit_borrowed_str(text),
            Kind::Timestamp | Kind::TimestampTz => {
                let mut iso = String::new();
                push_timestamp(text, self.kind == Kind::TimestampTz, &mut iso);
                visitor.visit_string(iso)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Misfit> {
        // SQL NULL, and what the kind maps to null: a float or numeric NaN or ±Infinity.
        match (self.kind, self.text) {
            (_, None) => visitor.visit_none(),
            (Kind::Float, Some(text)) => match text.parse::<f64>() {
                Ok(f) if f.is_finite() => visitor.visit_some(f.into_deserializer()),
                _ => visitor.visit_none(),
            },
            (Kind::Numeric, Some(text)) if is_special_numeric(text) => visitor.visit_none(),
            // JSON's own `null` is the JSON deserializer's to tell.
            (Kind::Json, Some(text)) => {
                let mut json = serde_json::Deserializer::from_str(text);
                let value = (&mut json).deserialize_option(visitor).map_err(Misfit::json)?;
                json.end().map_err(Misfit::json)?;
                Ok(value)
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Misfit> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier
    }
}

/// A row of the source's query as a map from column names to [`Column`]s,
/// for a generated struct to deserialize itself from. `columns` are the
/// query's columns in order (more columns may follow in the row: the
/// replication key's text).
pub(crate) struct RowDeserializer<'r> {
    row: &'r PgRow,
    columns: &'r [(String, Kind)],
}

impl<'r> RowDeserializer<'r> {
    pub(crate) fn new(row: &'r PgRow, columns: &'r [(String, Kind)]) -> Self {
        RowDeserializer { row, columns }
    }
}

impl<'de> Deserializer<'de> for RowDeserializer<'de> {
    type Error = Misfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Misfit> {
        visitor.visit_map(Columns { row: self.row, columns: self.columns, next: 0 })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// The columns of a row, one key and value after the other.
struct Columns<'r> {
    row: &'r PgRow,
    columns: &'r [(String, Kind)],
    next: usize,
}

impl<'de> MapAccess<'de> for Columns<'de> {
    type Error = Misfit;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Misfit> {
        match self.columns.get(self.next) {
            Some((name, _)) => seed.deserialize(BorrowedStrDeserializer::new(name.as_str())).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Misfit> {
        let index = self.next;
        self.next += 1;
        let (name, kind) = &self.columns[index];
        // Every column is text, converted by the query itself (see `convert`).
        let text = self.row.try_get_unchecked(index).map_err(Misfit::custom)?;
        seed.deserialize(Column { kind: *kind, text }).map_err(|e| e.in_column(name))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.columns.len() - self.next)
    }
}

/// Why a row or a column does not fit the record it is read into, and the
/// column, when the misfit is one column's value.
#[derive(Debug)]
pub(crate) struct Misfit {
    pub(crate) column: Option<String>,
    pub(crate) message: String,
}

impl Misfit {
    fn json(error: serde_json::Error) -> Misfit {
        // serde_json's position is within one column's value: not worth showing.
        let mut message = error.to_string();
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        Misfit { column: None, message }
    }

    fn in_column(mut self, name: &str) -> Misfit {
        self.column.get_or_insert_with(|| name.to_owned());
        self
    }
}

impl fmt::Display for Misfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "column `{column}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Misfit {}

impl de::Error for Misfit {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Misfit { column: None, message: message.to_string() }
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        match unexpected {
            Unexpected::Unit => Misfit::custom(format_args!("invalid type: null, expected {expected}")),
            _ => Misfit::custom(format_args!("invalid type: {unexpected}, expected {expected}")),
        }
    }
}

/// In a float array's JSON, PostgreSQL writes NaN and ±Infinity as strings: make them null.
fn null_non_finite(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(null_non_finite),
        Value::String(s) if is_special_numeric(s) => *v = Value::Null,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_kind_reads_the_value_its_text_stands_for() {
        let cases = [
            (Kind::Int, Some("-9223372036854775808"), json!(i64::MIN)),
            (Kind::Int, Some("4294967295"), json!(4294967295u32)),
            (Kind::Float, Some("0.1"), json!(0.1)),
            (Kind::Float, Some("NaN"), Value::Null),
            (Kind::Float, Some("-Infinity"), Value::Null),
            (
                Kind::Numeric,
                Some("123456789012345678901234567890.5"),
                json!("123456789012345678901234567890.5"),
            ),
            (Kind::Numeric, Some("NaN"), Value::Null),
            (Kind::Bool, Some("t"), json!(true)),
            (Kind::Bool, Some("false"), json!(false)),
            (Kind::Json, Some(r#"{"b": [1, null], "a": "x"}"#), json!({"b": [1, null], "a": "x"})),
            (Kind::Json, Some("null"), Value::Null),
            (Kind::FloatArray, Some(r#"[1.5, "NaN", "-Infinity"]"#), json!([1.5, null, null])),
            (Kind::Bytes, Some("3q2+\n7wA="), json!("3q2+7wA=")),
            (Kind::Text, Some("a\tb\\c"), json!("a\tb\\c")),
            (
                Kind::TimestampTz,
                Some("2024-02-29 18:59:59.123456+00"),
                json!("2024-02-29T18:59:59.123456+00:00"),
            ),
            (Kind::TimestampTz, Some("0044-03-15 12:00:00+00 BC"), json!("0044-03-15T12:00:00+00:00 BC")),
            (Kind::TimestampTz, Some("1900-01-01 00:00:00+05:30"), json!("1900-01-01T00:00:00+05:30")),
            (Kind::TimestampTz, Some("infinity"), json!("infinity")),
            (Kind::Timestamp, Some("2024-01-02 03:04:05"), json!("2024-01-02T03:04:05")),
            (Kind::Timestamp, Some("0044-03-15 10:00:00.25 BC"), json!("0044-03-15T10:00:00.25 BC")),
            (Kind::Text, None, Value::Null),
        ];
        for (kind, text, want) in cases {
            assert_eq!(to_json(kind, text, "c").unwrap(), want, "{kind:?} {text:?}");
        }
        let error = to_json(Kind::Int, Some("x"), "n").unwrap_err();
        assert_eq!(error.message(), "postgres: column n: cannot read integer \"x\"");
    }

    #[test]
    fn options_are_none_for_what_maps_to_null() {
        let read = |kind, text| Option::<Value>::deserialize(Column { kind, text }).unwrap();
        assert_eq!(read(Kind::Float, Some("NaN")), None);
        assert_eq!(read(Kind::Numeric, Some("Infinity")), None);
        assert_eq!(read(Kind::Json, Some("null")), None);
        assert_eq!(read(Kind::Text, None), None);
        assert_eq!(read(Kind::Json, Some("[1]")), Some(json!([1])));
        let nested = Option::<Option<i64>>::deserialize(Column { kind: Kind::Int, text: None });
        assert_eq!(nested.unwrap(), None);
        let error = i64::deserialize(Column { kind: Kind::Float, text: Some("NaN") }).unwrap_err();
        assert_eq!(error.to_string(), "invalid type: null, expected i64");
        let error = i64::deserialize(Column { kind: Kind::Json, text: Some(r#""x""#) }).unwrap_err();
        assert_eq!(error.to_string(), "invalid type: string \"x\", expected i64");
    }
}
