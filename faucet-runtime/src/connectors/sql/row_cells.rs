//! A result row's values as the `mysql` and `sqlite` sources read them, and
//! the row decoded straight into a typed record.
//!
//! Each source turns a column's value into a [`Cell`] by its database type
//! once; the untyped path makes JSON of the cells ([`Cell::into_json`]), the
//! typed path hands them to the record's serde `Deserialize` ([`decode`]), so
//! both paths produce the same values and a typed record never waits for a
//! JSON map. A value that does not fit the record is a schema error naming
//! its column.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Number, Value};

use crate::error::{FaucetError, Result};

/// One column's value of a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'r> {
    /// SQL `NULL` (and what JSON cannot hold: a float that is not finite).
    Null,
    Bool(bool),
    Int(i64),
    /// An unsigned integer beyond `i64`.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    UInt(u64),
    /// A finite double.
    Float(f64),
    /// Text: a string, a decimal's digits, a date or time in ISO 8601, base64 bytes.
    Text(Cow<'r, str>),
    /// A JSON column's text.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    Json(&'r str),
}

impl Cell<'_> {
    /// A double as a cell: null when it is not finite, as JSON has no such number.
    pub(crate) fn float(f: f64) -> Cell<'static> {
        if f.is_finite() { Cell::Float(f) } else { Cell::Null }
    }

    /// The cell as JSON, the untyped record's value; a JSON column's text
    /// that is not JSON is the error.
    pub(crate) fn into_json(self) -> std::result::Result<Value, serde_json::Error> {
        Ok(match self {
            Cell::Null => Value::Null,
            Cell::Bool(b) => Value::Bool(b),
            Cell::Int(i) => Value::from(i),
            Cell::UInt(u) => Value::from(u),
            Cell::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Cell::Text(text) => Value::String(text.into_owned()),
            Cell::Json(text) => serde_json::from_str(text)?,
        })
    }
}

/// A row whose cells a record is decoded from: the columns a record holds,
/// in order (without a source's helper columns).
pub(crate) trait Cells<'r> {
    /// How many columns the record holds.
    fn len(&self) -> usize;
    /// The name of column `i`.
    fn name(&self, i: usize) -> &'r str;
    /// The value of column `i`; an error when the database's value cannot be read.
    fn cell(&self, i: usize) -> Result<Cell<'r>>;
    /// The error for column `i`'s `text`, which is not the `what` its type promises.
    fn unreadable(&self, i: usize, what: &str, text: &str) -> FaucetError;

    /// The value of column `i` as JSON.
    fn json(&self, i: usize) -> Result<Value> {
        match self.cell(i)? {
            Cell::Json(text) => serde_json::from_str(text).map_err(|_| self.unreadable(i, "JSON", text)),
            cell => Ok(cell.into_json().expect("only JSON text fails")),
        }
    }

    /// The row as a JSON record: the untyped record, and a rejected row's payload.
    fn record(&self) -> Result<Value> {
        let mut object = Map::with_capacity(self.len());
        for i in 0..self.len() {
            object.insert(self.name(i).to_owned(), self.json(i)?);
        }
        Ok(Value::Object(object))
    }
}

/// Decodes `row` as `R`. The outer error: a value could not be read (the
/// page fails, as on the untyped path); the inner one: the row does not fit
/// `R`, an [`ErrorKind::Schema`](crate::ErrorKind::Schema) error naming the
/// column (the row becomes a reject).
pub(crate) fn decode<'r, R: DeserializeOwned>(row: &impl Cells<'r>) -> Result<Result<R>> {
    match R::deserialize(RowDeserializer { row }) {
        Ok(record) => Ok(Ok(record)),
        Err(DecodeError::Unreadable(error)) => Err(error),
        Err(DecodeError::Misfit(message)) => Ok(Err(crate::record::schema_error(message))),
    }
}

/// Why a row did not decode.
#[derive(Debug)]
enum DecodeError {
    /// A value the database returned could not be read.
    Unreadable(FaucetError),
    /// A value does not fit the record (serde's message).
    Misfit(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Unreadable(error) => error.fmt(f),
            DecodeError::Misfit(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DecodeError::Misfit(message.to_string())
    }
}

/// The row as a map from column names to cells.
struct RowDeserializer<'a, C> {
    row: &'a C,
}

impl<'de, C: Cells<'de>> de::Deserializer<'de> for RowDeserializer<'_, C> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_map(Columns { row: self.row, next: 0 })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// The columns of a row, one after the other.
struct Columns<'a, C> {
    row: &'a C,
    next: usize,
}

impl<'de, C: Cells<'de>> MapAccess<'de> for Columns<'_, C> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DecodeError> {
        if self.next == self.row.len() {
            return Ok(None);
        }
        seed.deserialize(BorrowedStrDeserializer::new(self.row.name(self.next))).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DecodeError> {
        let column = self.next;
        self.next += 1;
        let cell = self.row.cell(column).map_err(DecodeError::Unreadable)?;
        seed.deserialize(CellDeserializer { cell, row: self.row, column }).map_err(|error| match error {
            DecodeError::Misfit(message) => {
                DecodeError::Misfit(format!("field `{}`: {message}", self.row.name(column)))
            }
            unreadable => unreadable,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.row.len() - self.next)
    }
}

/// One cell, handed to the visitor as the value its database type makes.
struct CellDeserializer<'de, 'a, C> {
    cell: Cell<'de>,
    row: &'a C,
    column: usize,
}

impl<'de, C: Cells<'de>> CellDeserializer<'de, '_, C> {
    /// A JSON column's text, read by serde_json into whatever `read` asks.
    fn json<T>(
        &self,
        text: &'de str,
        read: impl FnOnce(&mut serde_json::Deserializer<serde_json::de::StrRead<'de>>) -> serde_json::Result<T>,
    ) -> Result<T, DecodeError> {
        let mut json = serde_json::Deserializer::from_str(text);
        read(&mut json).and_then(|value| json.end().map(|()| value)).map_err(|error| {
            if error.is_syntax() || error.is_eof() {
                DecodeError::Unreadable(self.row.unreadable(self.column, "JSON", text))
            } else {
                DecodeError::Misfit(error.to_string())
            }
        })
    }
}

impl<'de, C: Cells<'de>> de::Deserializer<'de> for CellDeserializer<'de, '_, C> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Null => visitor.visit_unit(),
            Cell::Bool(b) => visitor.visit_bool(b),
            Cell::Int(i) => visitor.visit_i64(i),
            Cell::UInt(u) => visitor.visit_u64(u),
            Cell::Float(f) => visitor.visit_f64(f),
            Cell::Text(Cow::Borrowed(text)) => visitor.visit_borrowed_str(text),
            Cell::Text(Cow::Owned(text)) => visitor.visit_string(text),
            Cell::Json(text) => self.json(text, |json| de::Deserializer::deserialize_any(json, visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Null => visitor.visit_none(),
            // JSON's own null reads as none too, as it does from the untyped record.
            Cell::Json(text) => self.json(text, |json| de::Deserializer::deserialize_option(json, visitor)),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Text(Cow::Borrowed(text)) => {
                visitor.visit_enum(BorrowedStrDeserializer::<DecodeError>::new(text))
            }
            Cell::Text(Cow::Owned(text)) => {
                let text: StringDeserializer<DecodeError> = text.into_deserializer();
                visitor.visit_enum(text)
            }
            Cell::Json(text) => {
                self.json(text, |json| de::Deserializer::deserialize_enum(json, name, variants, visitor))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::error::ErrorKind;

    /// A row held in memory.
    struct Row(Vec<(&'static str, Cell<'static>)>);

    impl Cells<'static> for Row {
        fn len(&self) -> usize {
            self.0.len()
        }

        fn name(&self, i: usize) -> &'static str {
            self.0[i].0
        }

        fn cell(&self, i: usize) -> Result<Cell<'static>> {
            Ok(self.0[i].1.clone())
        }

        fn unreadable(&self, i: usize, what: &str, text: &str) -> FaucetError {
            FaucetError::source(format!("test: column {}: cannot read {what} {text:?}", self.0[i].0))
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Record {
        id: i64,
        big: u64,
        ratio: f64,
        amount: crate::schema::Decimal,
        name: String,
        flag: bool,
        doc: Option<Value>,
        null_doc: Option<Value>,
        gone: Option<String>,
        #[serde(default, deserialize_with = "crate::schema::present")]
        maybe: Option<Option<i64>>,
    }

    fn row() -> Row {
        Row(vec![
            ("id", Cell::Int(i64::MIN)),
            ("big", Cell::UInt(u64::MAX)),
            ("ratio", Cell::Float(0.1)),
            ("amount", Cell::Text("12345678901234567890.000123".into())),
            ("name", Cell::Text(Cow::Owned("héllo".to_owned()))),
            ("flag", Cell::Bool(true)),
            ("doc", Cell::Json(r#"{"a": [1, 2.50, null]}"#)),
            ("null_doc", Cell::Json("null")),
            ("gone", Cell::Null),
            ("extra", Cell::Text("not in the struct".into())),
        ])
    }

    #[test]
    fn cells_decode_into_the_record_as_their_json_would() {
        let record: Record = decode(&row()).unwrap().unwrap();
        let json: Value = Value::Object(
            row().0.into_iter().map(|(name, cell)| (name.to_owned(), cell.into_json().unwrap())).collect(),
        );
        let via_json: Record = crate::record::decode_json(&json).unwrap();
        assert_eq!(record, via_json);
        assert_eq!(record.amount.0, "12345678901234567890.000123");
        assert_eq!(record.doc.unwrap().to_string(), r#"{"a":[1,2.50,null]}"#);
        assert_eq!((record.null_doc, record.gone, record.maybe), (None, None, None));
        assert_eq!(Cell::float(f64::INFINITY), Cell::Null);
    }

    #[test]
    fn a_value_that_does_not_fit_names_its_column() {
        let mut misfit = row();
        misfit.0[0].1 = Cell::Text("seven".into());
        let error = decode::<Record>(&misfit).unwrap().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Schema);
        assert!(
            error.message().contains("field `id`: invalid type: string \"seven\", expected i64"),
            "{error}"
        );
        misfit.0.remove(0);
        let error = decode::<Record>(&misfit).unwrap().unwrap_err();
        assert!(error.message().contains("missing field `id`"), "{error}");
        let mut bad_json = row();
        bad_json.0[6].1 = Cell::Json("{not json");
        let error = decode::<Record>(&bad_json).unwrap_err();
        assert_ne!(error.kind(), ErrorKind::Schema, "unreadable JSON fails the page");
        assert!(error.message().contains("column doc: cannot read JSON"), "{error}");
        let mut json_misfit = row();
        json_misfit.0[4].1 = Cell::Json("[1]");
        let error = decode::<Record>(&json_misfit).unwrap().unwrap_err();
        assert!(error.message().contains("field `name`: invalid type: sequence"), "{error}");
        assert_eq!(Cell::Json("[1, 2]").into_json().unwrap(), json!([1, 2]));
    }
}
