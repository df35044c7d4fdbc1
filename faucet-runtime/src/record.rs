//! The [`RecordType`] trait: what the driver, the transforms and the
//! connectors need of a record, so each is written once for every record type.
//!
//! Two kinds of record meet it:
//! - [`serde_json::Value`], the untyped record: any JSON, the shape learnt per
//!   record at run time;
//! - the structs faucet-gen writes where a stream's schema is known at build
//!   time (`orders::Record`): one member per field, decoded straight from the
//!   source and encoded straight into the sink, with no map in between.

use std::borrow::Cow;
use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ErrorKind, FaucetError, Result};
use crate::schema::Schema;

/// A record that flows from a source through the transforms to a sink.
///
/// Serde gives every format its encoding (JSON Lines, CSV, the DLQ
/// payload); [`RecordType::field`] gives the SQL sinks each column's value
/// without going through JSON.
pub trait RecordType: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static {
    /// The record's fields in order, when they are known at build time;
    /// `None` for [`Value`], which may hold anything.
    const SCHEMA: Option<&'static Schema>;

    /// The value of field `index` of [`RecordType::SCHEMA`]; a record without
    /// a schema looks up the key `name` instead. A SQL sink maps its columns
    /// to indexes once, then asks for each row's values in column order.
    fn field(&self, index: usize, name: &str) -> FieldValue<'_>;

    /// The record as JSON: the DLQ payload, a contract's check, a matrix
    /// child's parent. Borrowed when the record already is JSON.
    fn to_json(&self) -> Cow<'_, Value>;

    /// The record as JSON, consuming it: a dead-lettered record's payload.
    fn into_json(self) -> Value {
        self.to_json().into_owned()
    }

    /// `batch` as JSON records, when the type is [`Value`]: lets a connector
    /// keep its untyped path without a copy.
    fn as_json_slice(batch: &[Self]) -> Option<&[Value]> {
        let _ = batch;
        None
    }

    /// `records` as JSON records, when the type is [`Value`] (otherwise they
    /// are handed back): a source takes back its spent records this way.
    fn into_json_vec(records: Vec<Self>) -> Result<Vec<Value>, Vec<Self>> {
        Err(records)
    }

    /// JSON `records` as this type, when it is [`Value`] (otherwise they are
    /// handed back to be decoded one by one).
    fn from_json_vec(records: Vec<Value>) -> Result<Vec<Self>, Vec<Value>> {
        Err(records)
    }

    /// A record from JSON (a REST page's selected records, a Kafka value).
    /// A typed record rejects what does not fit its schema with an
    /// [`ErrorKind::Schema`] error naming the field; nothing is coerced.
    fn from_json(value: Value) -> Result<Self>;
}

/// One field of a record, borrowed, as a sink encodes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// The record has no such field (an optional field, or a key a JSON record lacks).
    Absent,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A binary floating-point number.
    Float(f64),
    /// Text: a string, or the exact text of a decimal, a date, a time, a
    /// timestamp, or base64 bytes, as the field's schema type says.
    Text(&'a str),
    /// Any JSON value: a JSON column, or every field of an untyped record
    /// (the sink then encodes it by its own rules).
    Json(&'a Value),
    /// A nested object or a list of a typed record: the sink reads it from
    /// the record's JSON ([`RecordType::to_json`]).
    Nested,
}

impl RecordType for Value {
    const SCHEMA: Option<&'static Schema> = None;

    #[inline]
    fn field(&self, _index: usize, name: &str) -> FieldValue<'_> {
        match self.get(name) {
            Some(value) => FieldValue::Json(value),
            None => FieldValue::Absent,
        }
    }

    #[inline]
    fn to_json(&self) -> Cow<'_, Value> {
        Cow::Borrowed(self)
    }

    #[inline]
    fn into_json(self) -> Value {
        self
    }

    #[inline]
    fn as_json_slice(batch: &[Self]) -> Option<&[Value]> {
        Some(batch)
    }

    #[inline]
    fn into_json_vec(records: Vec<Self>) -> Result<Vec<Value>, Vec<Self>> {
        Ok(records)
    }

    #[inline]
    fn from_json_vec(records: Vec<Value>) -> Result<Vec<Self>, Vec<Value>> {
        Ok(records)
    }

    #[inline]
    fn from_json(value: Value) -> Result<Self> {
        Ok(value)
    }
}

/// `batch` as JSON records: borrowed when they already are, encoded
/// otherwise. For a sink whose format is JSON anyway (JSON Lines, Kafka) or
/// that has not learnt to encode a typed record's fields directly.
pub fn json_batch<R: RecordType>(batch: &[R]) -> Cow<'_, [Value]> {
    match R::as_json_slice(batch) {
        Some(json) => Cow::Borrowed(json),
        None => Cow::Owned(batch.iter().map(|r| r.to_json().into_owned()).collect()),
    }
}

/// The JSON of a typed record, for [`RecordType::to_json`] implementations.
/// Generated records always serialize (their members are strings, numbers,
/// decimals as text and JSON values), so a failure is a bug, reported as `null`.
pub fn json_of<R: Serialize>(record: &R) -> Cow<'static, Value> {
    Cow::Owned(serde_json::to_value(record).unwrap_or(Value::Null))
}

/// Decodes a typed record from JSON, for [`RecordType::from_json`]
/// implementations: a value that does not fit is an [`ErrorKind::Schema`]
/// error whose message names the field serde stopped at.
pub fn from_json_value<R: DeserializeOwned>(value: Value) -> Result<R> {
    decode_json(&value)
}

/// Decodes a typed record from borrowed JSON; see [`from_json_value`].
pub fn decode_json<R: DeserializeOwned>(value: &Value) -> Result<R> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let error = e.into_inner();
        if field == "." {
            schema_error(error)
        } else {
            schema_error(format_args!("field `{field}`: {error}"))
        }
    })
}

/// How the message of a [`schema_error`] starts.
pub const SCHEMA_MISFIT: &str = "the record does not fit its schema: ";

/// The error for input that does not fit a record's schema.
pub fn schema_error(error: impl std::fmt::Display) -> FaucetError {
    FaucetError::new(ErrorKind::Schema, format!("{SCHEMA_MISFIT}{error}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_json_record_is_its_own_json_and_looks_fields_up_by_name() {
        let record = json!({"id": 1, "name": null});
        assert_eq!(record.field(7, "id"), FieldValue::Json(&json!(1)));
        assert_eq!(record.field(0, "name"), FieldValue::Json(&Value::Null));
        assert_eq!(record.field(0, "missing"), FieldValue::Absent);
        assert!(matches!(record.to_json(), Cow::Borrowed(_)));
        assert_eq!(Value::from_json(record.clone()).unwrap(), record);
    }

    #[test]
    fn a_typed_record_rejects_json_that_does_not_fit() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Row {
            id: i64,
        }
        let error = from_json_value::<Row>(json!({"id": "seven"})).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Schema);
        assert!(error.message().contains("field `id`: invalid type"), "{error}");
    }
}
