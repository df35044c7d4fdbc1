//! What is known at build time of a stream's records: its fields, their types
//! and nullability.
//!
//! faucet-gen writes a [`Schema`] constant, `SCHEMA`, into the module of each
//! pipeline whose records it knows (introspected from a database, or
//! declared), beside a documented `Record` struct with one member per field.
//! The table sinks create their table from it (`TableWrite::columns`): each
//! column gets the type its field has, not one guessed from the first batch.
//!
//! Everything here is `const`-constructible (`&'static` names and lists), so
//! a generated schema costs nothing at run time.

use serde_core::de::Error as _;
use serde_core::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The fields of a stream's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// The fields, in order (a table's column order, or as declared).
    pub fields: &'static [Field],
    /// Whether records may also carry fields not listed.
    pub open: bool,
    /// Where the fields were learnt ("PostgreSQL table `public.users`").
    pub origin: &'static str,
}

impl Schema {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One field of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The key in the record.
    pub name: &'static str,
    /// The value's type.
    pub ty: FieldType,
    /// Whether the value may be `null`.
    pub nullable: bool,
    /// Whether every record has the key (false: it may be absent).
    pub required: bool,
}

impl Field {
    /// Whether every record holds a non-null value: a table column for it
    /// can be `NOT NULL`.
    pub fn always_set(&self) -> bool {
        self.required && !self.nullable
    }
}

/// A field's type, in the terms every connector maps to its own. Mirrors
/// faucet-gen's `record_schema::FieldType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// A binary floating-point number.
    Number,
    /// An exact decimal (carried as its text, see [`Decimal`]).
    Decimal {
        /// Total digits, when declared.
        precision: Option<u32>,
        /// Digits after the point, when declared.
        scale: Option<u32>,
    },
    /// `true` or `false`.
    Boolean,
    /// A calendar date, `2024-05-01`.
    Date,
    /// A time of day, `10:20:30.123456`.
    Time,
    /// A point in time (ISO 8601 text).
    Timestamp {
        /// Whether the value carries an offset (RFC 3339, `…+00:00`).
        time_zone: bool,
    },
    /// Any JSON value.
    Json,
    /// Bytes (carried as base64 text).
    Binary,
    /// A nested object with known fields.
    Object {
        /// Its fields.
        fields: &'static [Field],
    },
    /// A list of values of one type.
    Array {
        /// The items' type.
        items: &'static FieldType,
    },
    /// A database type faucet has no name for: its text.
    Other {
        /// The database's name for the type.
        name: &'static str,
    },
}

/// An exact decimal, as the text of its digits (`"12345.60"`): sources carry
/// decimals as strings so no digit is lost to a double. Reads a JSON string or
/// number (its text is kept) and writes a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Decimal(pub String);

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => Ok(Decimal(text)),
            Value::Number(n) => Ok(Decimal(n.as_str().to_owned())),
            other => Err(D::Error::custom(format!("expected a decimal string or number, found {other}"))),
        }
    }
}

/// Reads a field that may be absent and may be null, as generated `Record`
/// structs hold it (`Option<Option<T>>`, with `#[serde(default)]`): present,
/// it is `Some` of its value, so `null` is `Some(None)` and an absent key
/// `None`, and each is written back as it was.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// Reads a field that may be null but must be present, as generated
/// `Record` structs hold it (`Option<T>` with `deserialize_with`): serde then
/// reports a missing key, where it would read a plain `Option` as null.
pub fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<T, D::Error> {
    T::deserialize(deserializer)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ADDRESS: &[Field] =
        &[Field { name: "city", ty: FieldType::String, nullable: false, required: true }];
    const SCHEMA: Schema = Schema {
        fields: &[
            Field {
                name: "amount",
                ty: FieldType::Decimal { precision: Some(12), scale: Some(2) },
                nullable: true,
                required: true,
            },
            Field {
                name: "address",
                ty: FieldType::Object { fields: ADDRESS },
                nullable: false,
                required: true,
            },
            Field {
                name: "tags",
                ty: FieldType::Array { items: &FieldType::String },
                nullable: false,
                required: false,
            },
        ],
        open: false,
        origin: "a test",
    };

    #[test]
    fn schemas_are_constants_and_decimals_keep_their_digits() {
        assert_eq!(SCHEMA.field("address").map(|f| f.ty), Some(FieldType::Object { fields: ADDRESS }));
        assert!(!SCHEMA.fields[0].always_set() && SCHEMA.fields[1].always_set());
        assert!(!SCHEMA.fields[2].always_set());
        let big: Value = serde_json::from_str("123456789012345678901234567890.10").unwrap();
        for (value, text) in [(big, "123456789012345678901234567890.10"), (json!("0.10"), "0.10")] {
            let decimal: Decimal = serde_json::from_value(value).unwrap();
            assert_eq!(decimal.0, text);
            assert_eq!(serde_json::to_value(&decimal).unwrap(), json!(text));
        }
        assert!(serde_json::from_value::<Decimal>(json!(true)).is_err());
    }

    #[test]
    fn members_tell_absent_null_and_missing_apart() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Row {
            #[serde(deserialize_with = "required")]
            nullable: Option<i64>,
            #[serde(default, deserialize_with = "present")]
            optional: Option<i64>,
            #[serde(default, deserialize_with = "present")]
            both: Option<Option<i64>>,
        }
        let row = |v: Value| serde_json::from_value::<Row>(v);
        let read = row(json!({"nullable": null, "both": null})).unwrap();
        assert_eq!(read, Row { nullable: None, optional: None, both: Some(None) });
        assert!(row(json!({"optional": 1})).is_err(), "a required key is missing");
        assert!(row(json!({"nullable": 1, "optional": null})).is_err(), "null where none may be");
    }
}
