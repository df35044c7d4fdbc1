//! COPY's binary format, for typed records: each value in its column type's
//! binary form, so the server parses no text. For a table of integers, text,
//! a double, a boolean and jsonb that is about a sixth less of the server's
//! work per row than text COPY (the JSON is still parsed; the numbers, and
//! the splitting and unescaping of lines, are not).
//!
//! A batch is written in it when its record type has a schema and each
//! column's type is one of [`BinaryType`]'s, taking its field's type exactly
//! (an integer field into a bigint column, a string field into a text one):
//! decided once per batch from the schema. A value that has no binary form
//! all the same (an integer beyond an integer column's range, bytes that are
//! not base64) abandons the COPY, and the batch is inserted as after a
//! row-level COPY error, so every row gets what text COPY would have given it.

use base64::Engine as _;

use crate::record::FieldValue;
use crate::schema::FieldType;

/// The file header: signature, flags, header extension length.
pub(super) const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The file trailer: a tuple of -1 fields.
pub(super) const TRAILER: &[u8] = &(-1i16).to_be_bytes();

/// A column type whose binary form is written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BinaryType {
    Int2,
    Int4,
    Int8,
    Float8,
    Bool,
    /// text and varchar: the UTF-8 bytes.
    Text,
    /// json: its text.
    Json,
    /// jsonb: a version byte, then its text.
    Jsonb,
    /// bytea: the bytes.
    Bytea,
}

impl BinaryType {
    /// The binary form of type `typname` (`pg_type.typname`), if it is written here.
    pub(super) fn of(typname: &str) -> Option<BinaryType> {
        Some(match typname {
            "int2" => BinaryType::Int2,
            "int4" => BinaryType::Int4,
            "int8" => BinaryType::Int8,
            "float8" => BinaryType::Float8,
            "bool" => BinaryType::Bool,
            "text" | "varchar" => BinaryType::Text,
            "json" => BinaryType::Json,
            "jsonb" => BinaryType::Jsonb,
            "bytea" => BinaryType::Bytea,
            _ => return None,
        })
    }

    /// Whether a field of type `field` is written into a column of this type
    /// as text COPY would write it: its values are the [`FieldValue`]s
    /// [`BinaryType::write`] takes.
    pub(super) fn takes(self, field: &FieldType) -> bool {
        use BinaryType as B;
        match self {
            B::Int2 | B::Int4 | B::Int8 => *field == FieldType::Integer,
            B::Float8 => *field == FieldType::Number,
            B::Bool => *field == FieldType::Boolean,
            B::Text => matches!(
                field,
                FieldType::String
                    | FieldType::Date
                    | FieldType::Time
                    | FieldType::Timestamp { .. }
                    | FieldType::Other { .. }
            ),
            B::Json | B::Jsonb => {
                matches!(field, FieldType::Json | FieldType::Object { .. } | FieldType::Array { .. })
            }
            B::Bytea => *field == FieldType::Binary,
        }
    }

    /// Appends `value` as one field of a tuple: its length (-1 for NULL),
    /// then its bytes. False, with nothing appended, when the value has no
    /// binary form of this type.
    pub(super) fn write(self, value: FieldValue<'_>, out: &mut Vec<u8>) -> bool {
        use BinaryType as B;
        let null = match value {
            FieldValue::Absent | FieldValue::Null | FieldValue::Json(serde_json::Value::Null) => true,
            // Text COPY writes a double that JSON has no number for as NULL too.
            FieldValue::Float(f) => !f.is_finite(),
            _ => false,
        };
        if null {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            return true;
        }
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        let written = match (self, value) {
            (B::Int8, FieldValue::Int(i)) => {
                out.extend_from_slice(&i.to_be_bytes());
                true
            }
            (B::Int4, FieldValue::Int(i)) => {
                i32::try_from(i).map(|i| out.extend_from_slice(&i.to_be_bytes())).is_ok()
            }
            (B::Int2, FieldValue::Int(i)) => {
                i16::try_from(i).map(|i| out.extend_from_slice(&i.to_be_bytes())).is_ok()
            }
            (B::Float8, FieldValue::Float(f)) => {
                out.extend_from_slice(&f.to_be_bytes());
                true
            }
            (B::Bool, FieldValue::Bool(b)) => {
                out.push(u8::from(b));
                true
            }
            (B::Text, FieldValue::Text(text)) => {
                out.extend_from_slice(text.as_bytes());
                true
            }
            (B::Json | B::Jsonb, FieldValue::Json(json)) => {
                if self == B::Jsonb {
                    out.push(1);
                }
                // Writing to memory does not fail.
                let _ = serde_json::to_writer(&mut *out, json);
                true
            }
            (B::Bytea, FieldValue::Text(base64)) => {
                base64::engine::general_purpose::STANDARD.decode_vec(base64, out).is_ok()
            }
            _ => false,
        };
        if !written {
            out.truncate(start);
            return false;
        }
        let length = i32::try_from(out.len() - start - 4).unwrap_or(i32::MAX);
        out[start..start + 4].copy_from_slice(&length.to_be_bytes());
        true
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn written(ty: BinaryType, value: FieldValue<'_>) -> Option<Vec<u8>> {
        let mut out = vec![9];
        ty.write(value, &mut out).then(|| out.split_off(1))
    }

    #[test]
    fn values_are_their_types_binary_forms_with_their_length() {
        assert_eq!(
            written(BinaryType::Int8, FieldValue::Int(-2)),
            Some([0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 254].to_vec())
        );
        assert_eq!(written(BinaryType::Int2, FieldValue::Int(258)), Some([0, 0, 0, 2, 1, 2].to_vec()));
        assert_eq!(written(BinaryType::Int4, FieldValue::Int(1 << 31)), None, "beyond int4");
        assert_eq!(written(BinaryType::Bool, FieldValue::Bool(true)), Some([0, 0, 0, 1, 1].to_vec()));
        assert_eq!(
            written(BinaryType::Float8, FieldValue::Float(f64::NAN)),
            Some((-1i32).to_be_bytes().to_vec())
        );
        assert_eq!(
            written(BinaryType::Float8, FieldValue::Float(0.1)),
            Some([&[0, 0, 0, 8][..], &0.1f64.to_be_bytes()].concat())
        );
        assert_eq!(
            written(BinaryType::Text, FieldValue::Text("é\t")),
            Some([0, 0, 0, 3, 0xc3, 0xa9, b'\t'].to_vec())
        );
        assert_eq!(
            written(BinaryType::Jsonb, FieldValue::Json(&json!({"a": "\\"}))),
            Some([&[0, 0, 0, 11, 1][..], br#"{"a":"\\"}"#].concat())
        );
        assert_eq!(
            written(BinaryType::Json, FieldValue::Json(&serde_json::Value::Null)),
            Some((-1i32).to_be_bytes().to_vec())
        );
        assert_eq!(written(BinaryType::Bytea, FieldValue::Text("AP8=")), Some([0, 0, 0, 2, 0, 255].to_vec()));
        assert_eq!(written(BinaryType::Bytea, FieldValue::Text("\\x00")), None, "not base64");
        assert_eq!(written(BinaryType::Int8, FieldValue::Text("1")), None);
        assert_eq!(written(BinaryType::Text, FieldValue::Absent), Some((-1i32).to_be_bytes().to_vec()));
    }

    #[test]
    fn a_column_takes_only_the_field_types_it_reads_exactly() {
        assert!(BinaryType::Int4.takes(&FieldType::Integer));
        assert!(!BinaryType::Int8.takes(&FieldType::String));
        assert!(BinaryType::Text.takes(&FieldType::Timestamp { time_zone: true }));
        assert!(!BinaryType::Text.takes(&FieldType::Decimal { precision: None, scale: None }));
        assert!(BinaryType::Jsonb.takes(&FieldType::Array { items: &FieldType::Integer }));
        assert_eq!(BinaryType::of("numeric"), None);
    }
}
