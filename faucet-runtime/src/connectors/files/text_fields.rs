//! Typed records straight from a row of text fields (a CSV row): a serde
//! [`Deserializer`] that hands a struct its members by column name, each
//! parsed from its text as the member's type asks, with no JSON in between.
//!
//! What a field's text becomes, by the member's type:
//! - an integer (`i64`, …): the base-10 integer it spells (`-42`, `+7`, `007`);
//! - a float: the nearest double, as `str::parse` reads it (`1.5`, `-2e-3`,
//!   `.5`); infinities and NaN do not fit, nor does text that overflows;
//! - a boolean: exactly `true` or `false` (as the `csv` source's `infer_types` reads them);
//! - a string (a date, a time, a timestamp, base64 bytes): the text as it is;
//! - a decimal: the text as it is, when it spells a decimal number
//!   (`-12.50`, `1e3`; not `NaN`);
//! - a JSON value: the JSON the text spells, else the text as a string;
//! - a nested object or list: the JSON text of it (as the `csv` sink writes one);
//! - an `Option`: an empty field is `None` (null) when the schema says the
//!   field is nullable and its type has no empty value (numbers, booleans,
//!   decimals, dates, times, timestamps, objects, lists); otherwise an empty
//!   field is the empty string, as the untyped `csv` source reads it.
//!
//! A column the struct has no member for is skipped; a member no column
//! names is left to serde (a missing field error, or its default when the
//! field may be absent). A field that does not fit is an error naming the field.
//!
//! A struct deriving `Deserialize` is fed its members by index (`visit_u64`,
//! which derived field visitors accept), mapped once per header from the
//! member names serde passes, so no member name is compared per row.

use std::fmt;

use serde::Deserialize;
use serde::de::value::{StrDeserializer, U64Deserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::schema::{FieldType, Schema};

/// Why a row does not fit its record type; the message names the field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError(String);

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FieldError {}

impl de::Error for FieldError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        FieldError(msg.to_string())
    }
}

/// How one column reaches the record.
#[derive(Debug)]
struct Slot {
    /// The column's index in the row.
    column: usize,
    /// The member's index among the names serde passed (struct mode), or the
    /// column's index again (map mode).
    member: u64,
    /// The field's name, for errors and map keys.
    name: String,
    /// The field's type in the record's schema, when the schema lists it.
    ty: Option<FieldType>,
    /// Whether an empty field is null (see the module documentation).
    empty_is_null: bool,
    /// Whether the schema says every record has the field.
    required: bool,
}

/// Which columns of a header feed which members of a record type; built on
/// the first row of a file and kept for the rest of it.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    /// The member names the layout was built for (`None`: map mode).
    members: Option<&'static [&'static str]>,
    /// How many header keys it was built from (a `flexible` file may add some).
    keys: usize,
    /// The mapped columns, in column order.
    slots: Vec<Slot>,
    /// A field the schema requires that no column names.
    missing: Option<&'static str>,
    built: bool,
}

impl Layout {
    fn build(keys: &[String], members: Option<&'static [&'static str]>, schema: Option<&Schema>) -> Layout {
        let mut slots: Vec<Slot> = Vec::with_capacity(keys.len());
        for (column, key) in keys.iter().enumerate() {
            let member = match members {
                Some(names) => match names.iter().position(|name| name == key) {
                    Some(index) => index as u64,
                    None => continue,
                },
                None => column as u64,
            };
            let field = schema.and_then(|s| s.field(key));
            let ty = field.map(|f| f.ty);
            let empty_is_null = field.is_some_and(|f| f.nullable && !has_empty_value(f.ty));
            let required = field.is_some_and(|f| f.required);
            // Two columns of one name (a generated `column_N` equal to a
            // header name): the later one wins, as in untyped records.
            if members.is_some() {
                slots.retain(|slot| slot.member != member);
            }
            slots.push(Slot { column, member, name: key.clone(), ty, empty_is_null, required });
        }
        // serde reads a missing nullable member as null; the schema says it must be there.
        let fields = schema.map_or(&[][..], |s| s.fields);
        let missing = fields.iter().find(|f| f.required && !keys.iter().any(|k| k == f.name)).map(|f| f.name);
        Layout { members, keys: keys.len(), slots, missing, built: true }
    }

    /// Makes sure the layout fits `keys` and `members`.
    fn prepare(
        &mut self,
        keys: &[String],
        members: Option<&'static [&'static str]>,
        schema: Option<&Schema>,
    ) {
        // The same names may come from two places (a derived impl's
        // `deserialize` and `deserialize_in_place`): compared once, then by address.
        let same_members = match (self.members, members) {
            (Some(a), Some(b)) if std::ptr::eq(a, b) => true,
            (Some(a), Some(b)) if a == b => {
                self.members = Some(b);
                true
            }
            (None, None) => true,
            _ => false,
        };
        if !self.built || !same_members || self.keys != keys.len() {
            *self = Layout::build(keys, members, schema);
        }
    }
}

/// Whether the empty text is a value of `ty` (so an empty field is that value, not null).
fn has_empty_value(ty: FieldType) -> bool {
    matches!(ty, FieldType::String | FieldType::Binary | FieldType::Json | FieldType::Other { .. })
}

/// Reads a record of type `R` from one row: `text` holds its fields back to
/// back, `ends` where each ends (each on a character boundary), `keys` the
/// header's names by column. `layout` is kept from row to row of one file.
pub(crate) fn read_row<'de, R: de::Deserialize<'de>>(
    text: &'de str,
    ends: &[usize],
    keys: &[String],
    layout: &mut Layout,
    schema: Option<&Schema>,
) -> Result<R, FieldError> {
    R::deserialize(Row { text, ends, keys, layout, schema })
}

/// Like [`read_row`], into `place`: a spent record whose strings are
/// reused. On an error, `place` holds a mix of old and new values (and can be
/// read into again).
pub(crate) fn read_row_into<'de, R: de::Deserialize<'de>>(
    text: &'de str,
    ends: &[usize],
    keys: &[String],
    layout: &mut Layout,
    schema: Option<&Schema>,
    place: &mut R,
) -> Result<(), FieldError> {
    R::deserialize_in_place(Row { text, ends, keys, layout, schema }, place)
}

/// One row, as the deserializer of a whole record.
struct Row<'a, 'de> {
    text: &'de str,
    ends: &'a [usize],
    keys: &'a [String],
    layout: &'a mut Layout,
    schema: Option<&'a Schema>,
}

impl<'de> Row<'_, 'de> {
    fn visit<V: Visitor<'de>>(
        self,
        members: Option<&'static [&'static str]>,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.layout.prepare(self.keys, members, self.schema);
        if let Some(name) = self.layout.missing {
            return Err(de::Error::missing_field(name));
        }
        visitor.visit_map(Fields {
            text: self.text,
            ends: self.ends,
            slots: &self.layout.slots,
            keyed_by_index: members.is_some(),
            current: None,
        })
    }
}

impl<'de> Deserializer<'de> for Row<'_, 'de> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.visit(None, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.visit(Some(fields), visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// The row's mapped fields, as a map from member (or name) to field text.
struct Fields<'a, 'de> {
    text: &'de str,
    ends: &'a [usize],
    /// The slots not read yet.
    slots: &'a [Slot],
    keyed_by_index: bool,
    current: Option<&'a Slot>,
}

impl<'de> MapAccess<'de> for Fields<'_, 'de> {
    type Error = FieldError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, FieldError> {
        // A short row (`flexible`) lacks its last columns; slots are in column order.
        let Some((slot, rest)) = self.slots.split_first() else {
            return Ok(None);
        };
        if slot.column >= self.ends.len() {
            return match self.slots.iter().find(|slot| slot.required) {
                Some(slot) => Err(FieldError(format!("missing field `{}`", slot.name))),
                None => Ok(None),
            };
        }
        self.slots = rest;
        self.current = Some(slot);
        if self.keyed_by_index {
            seed.deserialize(U64Deserializer::new(slot.member)).map(Some)
        } else {
            seed.deserialize(StrDeserializer::new(slot.name.as_str())).map(Some)
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, FieldError> {
        let slot = self.current.take().ok_or_else(|| de::Error::custom("a value without a key"))?;
        let start = if slot.column == 0 { 0 } else { self.ends[slot.column - 1] };
        let text = &self.text[start..self.ends[slot.column]];
        seed.deserialize(Text { text, slot }).map_err(|e| FieldError(format!("field `{}`: {e}", slot.name)))
    }
}

/// One field's text, as the deserializer of one member.
struct Text<'a, 'de> {
    text: &'de str,
    slot: &'a Slot,
}

impl<'de> Text<'_, 'de> {
    /// The error for text that does not spell `what`.
    fn mismatch(&self, what: &str) -> FieldError {
        if self.text.is_empty() {
            return FieldError(format!("expected {what}, found an empty field"));
        }
        // Enough of the text to recognise it, not a whole long field.
        let shown = match self.text.char_indices().nth(40) {
            Some((cut, _)) => format!("{}…", &self.text[..cut]),
            None => self.text.to_owned(),
        };
        FieldError(format!("expected {what}, found `{shown}`"))
    }

    fn parse<T: std::str::FromStr>(&self, what: &str) -> Result<T, FieldError> {
        self.text.parse().map_err(|_| self.mismatch(what))
    }

    fn float(&self) -> Result<f64, FieldError> {
        self.parse::<f64>("a number")
            .and_then(|f| if f.is_finite() { Ok(f) } else { Err(self.mismatch("a finite number")) })
    }

    /// A nested value's JSON text, deserialized by `read` on serde_json's deserializer.
    fn json<T>(
        &self,
        read: impl FnOnce(&mut serde_json::Deserializer<serde_json::de::StrRead<'de>>) -> serde_json::Result<T>,
    ) -> Result<T, FieldError> {
        let mut json = serde_json::Deserializer::from_str(self.text);
        let value = read(&mut json).and_then(|value| json.end().map(|()| value));
        value.map_err(|e| FieldError(format!("invalid JSON: {e}")))
    }
}

macro_rules! parsed {
    ($($method:ident => $visit:ident: $ty:ty, $what:literal;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
            visitor.$visit(self.parse::<$ty>($what)?)
        }
    )*};
}

impl<'de> Deserializer<'de> for Text<'_, 'de> {
    type Error = FieldError;

    /// A member that takes any value (a JSON value, a decimal) gets what the
    /// schema's type says the text is.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self.slot.ty {
            Some(FieldType::Integer) => self.deserialize_i64(visitor),
            Some(FieldType::Number) => self.deserialize_f64(visitor),
            Some(FieldType::Boolean) => self.deserialize_bool(visitor),
            Some(FieldType::Decimal { .. }) if !is_decimal(self.text) => {
                Err(self.mismatch("a decimal number"))
            }
            // Checked first (which allocates nothing), so the member is built once, from the text.
            Some(FieldType::Json) if serde_json::from_str::<de::IgnoredAny>(self.text).is_ok() => {
                self.json(|json| json.deserialize_any(visitor))
            }
            Some(FieldType::Object { .. } | FieldType::Array { .. }) => {
                let value = self.json(|json| Value::deserialize(json))?;
                value.deserialize_any(visitor).map_err(|e| FieldError(e.to_string()))
            }
            _ => visitor.visit_borrowed_str(self.text),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self.text {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            _ => Err(self.mismatch("`true` or `false`")),
        }
    }

    parsed! {
        deserialize_i8 => visit_i8: i8, "an integer (i8)";
        deserialize_i16 => visit_i16: i16, "an integer (i16)";
        deserialize_i32 => visit_i32: i32, "an integer (i32)";
        deserialize_i64 => visit_i64: i64, "an integer";
        deserialize_i128 => visit_i128: i128, "an integer (i128)";
        deserialize_u8 => visit_u8: u8, "an integer (u8)";
        deserialize_u16 => visit_u16: u16, "an integer (u16)";
        deserialize_u32 => visit_u32: u32, "an integer (u32)";
        deserialize_u64 => visit_u64: u64, "an integer (u64)";
        deserialize_u128 => visit_u128: u128, "an integer (u128)";
        deserialize_char => visit_char: char, "one character";
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        let f = self.parse::<f32>("a number")?;
        if f.is_finite() { visitor.visit_f32(f) } else { Err(self.mismatch("a finite number (f32)")) }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_f64(self.float()?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_borrowed_bytes(self.text.as_bytes())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_borrowed_bytes(self.text.as_bytes())
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        if self.text.is_empty() && self.slot.empty_is_null {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        if self.text.is_empty() { visitor.visit_unit() } else { Err(self.mismatch("an empty field")) }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.json(|json| json.deserialize_seq(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, FieldError> {
        self.json(|json| json.deserialize_tuple(len, visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.json(|json| json.deserialize_tuple_struct(name, len, visitor))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.json(|json| json.deserialize_map(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.json(|json| json.deserialize_struct(name, fields, visitor))
    }

    /// An enum of unit variants, by the variant's name.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_enum(IntoDeserializer::<FieldError>::into_deserializer(self.text))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_unit()
    }
}

/// Whether `text` spells a decimal number: a sign, digits with at most one
/// point (at least one digit), and an exponent.
fn is_decimal(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'-' | b'+')));
    let (mut digits, mut point) = (0, false);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' if !point => point = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return false;
    }
    if let Some(b'e' | b'E') = bytes.get(i) {
        i += 1;
        i += usize::from(matches!(bytes.get(i), Some(b'-' | b'+')));
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Decimal, Field};

    const fn field(name: &'static str, ty: FieldType, nullable: bool, required: bool) -> Field {
        Field { name, ty, nullable, required }
    }

    const SCHEMA: Schema = Schema {
        fields: &[
            field("id", FieldType::Integer, false, true),
            field("score", FieldType::Number, true, true),
            field("ok", FieldType::Boolean, false, true),
            field("name", FieldType::String, true, true),
            field("amount", FieldType::Decimal { precision: None, scale: None }, true, true),
            field("doc", FieldType::Json, true, false),
            field("tags", FieldType::Array { items: &FieldType::String }, false, false),
        ],
        open: false,
        origin: "a test",
    };

    #[derive(Debug, PartialEq, Deserialize)]
    struct Row {
        id: i64,
        score: Option<f64>,
        ok: bool,
        name: Option<String>,
        amount: Option<Decimal>,
        #[serde(default, deserialize_with = "crate::schema::present")]
        doc: Option<Option<Value>>,
        #[serde(default)]
        tags: Option<Vec<String>>,
    }

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|&n| n.to_owned()).collect()
    }

    /// `fields` joined, with their ends.
    fn row(fields: &[&str]) -> (String, Vec<usize>) {
        let mut text = String::new();
        let ends = fields.iter().map(|f| {
            text.push_str(f);
            text.len()
        });
        let ends = ends.collect();
        (text, ends)
    }

    fn read(header: &[&str], fields: &[&str]) -> Result<Row, FieldError> {
        let (text, ends) = row(fields);
        read_row(&text, &ends, &keys(header), &mut Layout::default(), Some(&SCHEMA))
    }

    #[test]
    fn fields_are_parsed_as_their_members_types_by_header_name() {
        let header = ["extra", "ok", "amount", "id", "score", "name", "doc", "tags"];
        let got = read(
            &header,
            &[
                "x",
                "true",
                "-123456789012345678901234567890.50",
                "-9223372036854775808",
                "0.1",
                "ü\"",
                "{\"a\":[1.50]}",
                "[\"a\",\"b\"]",
            ],
        )
        .unwrap();
        assert_eq!(got.id, i64::MIN);
        assert_eq!(got.score.map(f64::to_bits), Some(0.1f64.to_bits()));
        assert!(got.ok);
        assert_eq!(got.name.as_deref(), Some("ü\""));
        assert_eq!(got.amount, Some(Decimal("-123456789012345678901234567890.50".into())));
        let doc = got.doc.unwrap().unwrap();
        assert_eq!(doc.to_string(), "{\"a\":[1.50]}");
        assert_eq!(got.tags, Some(vec!["a".to_owned(), "b".to_owned()]));
    }

    #[test]
    fn empty_fields_are_null_only_where_the_type_has_no_empty_value() {
        let header = ["id", "score", "ok", "name", "amount", "doc"];
        let got = read(&header, &["1", "", "false", "", "", ""]).unwrap();
        assert_eq!(got.score, None);
        assert_eq!(got.name.as_deref(), Some(""), "a string's empty value");
        assert_eq!(got.amount, None);
        assert_eq!(got.doc, Some(Some(Value::String(String::new()))), "JSON that is not JSON is a string");
        assert_eq!(got.tags, None, "no column: absent");
        // Not nullable: empty does not fit.
        let error = read(&header, &["", "", "false", "", "", ""]).unwrap_err();
        assert_eq!(error.to_string(), "field `id`: expected an integer, found an empty field");
    }

    #[test]
    fn what_does_not_fit_is_an_error_naming_the_field() {
        let header = ["id", "score", "ok", "name", "amount"];
        let cases = [
            (["1.0", "1", "true", "a", "1"], "field `id`: expected an integer, found `1.0`"),
            (
                ["9223372036854775808", "1", "true", "a", "1"],
                "field `id`: expected an integer, found `9223372036854775808`",
            ),
            (["1", "NaN", "true", "a", "1"], "field `score`: expected a finite number, found `NaN`"),
            (["1", "1e400", "true", "a", "1"], "field `score`: expected a finite number, found `1e400`"),
            (["1", "abc", "true", "a", "1"], "field `score`: expected a number, found `abc`"),
            (["1", "1", "True", "a", "1"], "field `ok`: expected `true` or `false`, found `True`"),
            (["1", "1", "true", "a", "1.2.3"], "field `amount`: expected a decimal number, found `1.2.3`"),
        ];
        for (fields, message) in cases {
            assert_eq!(read(&header, &fields).unwrap_err().to_string(), message);
        }
        let error = read(&["score", "ok", "name", "amount"], &["1", "true", "", ""]).unwrap_err();
        assert_eq!(error.to_string(), "missing field `id`");
        let long = "x".repeat(100);
        let error = read(&header, &[&long, "1", "true", "a", "1"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("field `id`: expected an integer, found `{}…`", "x".repeat(40))
        );
    }

    #[test]
    fn a_layout_is_kept_per_header_and_short_rows_lack_their_last_columns() {
        let header = keys(&["id", "ok", "score", "name", "amount"]);
        let mut layout = Layout::default();
        for i in 0..3 {
            let (text, ends) = row(&[&i.to_string(), "true", "2.5", "n", "1"]);
            let got: Row = read_row(&text, &ends, &header, &mut layout, Some(&SCHEMA)).unwrap();
            assert_eq!(got.id, i);
        }
        // `score` may be null, but not missing: serde alone would make it None.
        let (text, ends) = row(&["7", "true"]);
        let error = read_row::<Row>(&text, &ends, &header, &mut layout, Some(&SCHEMA)).unwrap_err();
        assert_eq!(error.to_string(), "missing field `score`");
        let (text, ends) = row(&["7", "true", "", "", ""]);
        let got: Row = read_row(&text, &ends, &header, &mut layout, Some(&SCHEMA)).unwrap();
        assert_eq!((got.score, got.name.as_deref(), got.amount), (None, Some(""), None));
        let (text, ends) = row(&["1", "true"]);
        let error =
            read_row::<Row>(&text, &ends, &keys(&["id", "ok"]), &mut layout, Some(&SCHEMA)).unwrap_err();
        assert_eq!(error.to_string(), "missing field `score`");
    }

    #[test]
    fn a_map_gets_every_column_by_name() {
        let (text, ends) = row(&["1", "x"]);
        let got: std::collections::BTreeMap<String, String> =
            read_row(&text, &ends, &keys(&["a", "b"]), &mut Layout::default(), None).unwrap();
        assert_eq!(got, [("a".to_owned(), "1".to_owned()), ("b".to_owned(), "x".to_owned())].into());
    }

    #[test]
    fn decimals_are_signs_digits_a_point_and_an_exponent() {
        for text in ["0", "-1", "+1.5", ".5", "5.", "1e3", "-1.25E-7", "123456789012345678901234567890.123"] {
            assert!(is_decimal(text), "{text}");
        }
        for text in ["", "-", ".", "1.2.3", "e3", "1e", "1e+", "NaN", "inf", " 1", "1 ", "0x10"] {
            assert!(!is_decimal(text), "{text}");
        }
    }
}
