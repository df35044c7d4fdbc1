//! Compact JSON for the line-oriented sinks, byte for byte what
//! `serde_json::to_writer` prints, but faster.
//!
//! Almost every key and value of a record is plain text: no quote, no
//! backslash, no control character. Those are found eight bytes at a time and
//! copied whole. A string that does need escaping (JSON held in a text
//! column, mostly) has its escapes close together: it is escaped byte by byte
//! through a table into a buffer on the stack, which on the benchmark's
//! JSON-in-a-string column costs a little over half of serde_json's escaper
//! (that copies the runs between escapes one by one). Keys are checked the
//! same way, so a record's fixed column names cost a scan and a copy rather
//! than an escape per byte.
//!
//! Untyped records ([`write_record`]) have their keys cached by position
//! ([`KeyCache`]); typed ones ([`write_serialized`]) their member names
//! ([`MemberKeys`]), their scalar members written here and anything nested by serde_json.

use serde::Serialize;
use serde::ser;
use serde_json::Value;

/// The top-level keys of the records written so far, by position, each with
/// its encoding (`"key":`). Records of one source share their keys, so a key
/// found at its position costs a comparison and a copy instead of a scan for
/// escapes and quoting.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    keys: Vec<(String, Vec<u8>)>,
}

impl KeyCache {
    /// Positions remembered at most: a record with more keys encodes the rest each time.
    const CAPACITY: usize = 256;
}

/// Appends `record` as compact JSON, exactly as `serde_json::to_writer` would,
/// taking its top-level keys' encodings from `cache` when they are there.
pub(crate) fn write_record(out: &mut Vec<u8>, record: &Value, cache: &mut KeyCache) {
    let Value::Object(fields) = record else {
        return write_value(out, record);
    };
    out.push(b'{');
    for (i, (key, item)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match cache.keys.get(i) {
            Some((known, encoded)) if known == key => out.extend_from_slice(encoded),
            _ => {
                let start = out.len();
                write_str(out, key);
                out.push(b':');
                if i < KeyCache::CAPACITY {
                    let entry = (key.clone(), out[start..].to_vec());
                    match cache.keys.get_mut(i) {
                        Some(slot) => *slot = entry,
                        None => cache.keys.push(entry),
                    }
                }
            }
        }
        write_value(out, item);
    }
    out.push(b'}');
}

/// Appends `value` as compact JSON, exactly as `serde_json::to_writer` would.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // A number is the text it was read from (serde_json's `arbitrary_precision`).
        Value::Number(number) => out.extend_from_slice(number.as_str().as_bytes()),
        Value::String(text) => write_str(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// The encodings of a typed record's member names by position (`"name":`):
/// a struct's members are the same every record, so each costs a copy
/// rather than a scan for escapes.
#[derive(Debug, Default)]
pub(crate) struct MemberKeys {
    keys: Vec<MemberKey>,
}

/// The encoding of one member name at its position: `"name":`, after a
/// comma but for the first member.
#[derive(Debug)]
struct MemberKey {
    name: &'static str,
    encoded: Vec<u8>,
}

impl MemberKey {
    fn new(name: &'static str, first: bool) -> MemberKey {
        let mut encoded = Vec::with_capacity(name.len() + 4);
        if !first {
            encoded.push(b',');
        }
        write_str(&mut encoded, name);
        encoded.push(b':');
        MemberKey { name, encoded }
    }
}

/// Appends `record` (a typed record) as compact JSON, exactly as
/// `serde_json::to_writer` would: a struct's member names from `keys`, its
/// scalar members (strings, numbers, booleans, null) written here, anything
/// else (a nested object, a list, a JSON value that is not a string) by serde_json.
pub(crate) fn write_serialized<T: Serialize>(
    out: &mut Vec<u8>,
    record: &T,
    keys: &mut MemberKeys,
) -> serde_json::Result<()> {
    let start = out.len();
    if record.serialize(RecordWriter { out: &mut *out, keys }).is_ok() {
        return Ok(());
    }
    // Not a struct, or a member serde_json failed on: serde_json says which.
    out.truncate(start);
    serde_json::to_writer(out, record)
}

/// What [`RecordWriter`] and [`ScalarWriter`] leave to serde_json.
#[derive(Debug)]
struct Fallback;

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("left to serde_json")
    }
}

impl std::error::Error for Fallback {}

impl ser::Error for Fallback {
    fn custom<T: std::fmt::Display>(_msg: T) -> Self {
        Fallback
    }
}

/// Writes a record that serializes as a struct; anything else is a [`Fallback`].
struct RecordWriter<'a> {
    out: &'a mut Vec<u8>,
    keys: &'a mut MemberKeys,
}

/// Writes the members of a struct, one by one.
struct MembersWriter<'a> {
    out: &'a mut Vec<u8>,
    keys: &'a mut MemberKeys,
    index: usize,
}

impl ser::SerializeStruct for MembersWriter<'_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        match self.keys.keys.get(self.index) {
            Some(known) if std::ptr::eq(known.name, key) || known.name == key => {
                self.out.extend_from_slice(&known.encoded);
            }
            _ => {
                let entry = MemberKey::new(key, self.index == 0);
                self.out.extend_from_slice(&entry.encoded);
                match self.keys.keys.get_mut(self.index) {
                    Some(slot) => *slot = entry,
                    None => self.keys.keys.push(entry),
                }
            }
        }
        self.index += 1;
        let start = self.out.len();
        if value.serialize(ScalarWriter { out: &mut *self.out }).is_err() {
            self.out.truncate(start);
            serde_json::to_writer(&mut *self.out, value).map_err(|_| Fallback)?;
        }
        Ok(())
    }

    fn end(self) -> Result<(), Fallback> {
        self.out.push(b'}');
        Ok(())
    }
}

/// Writes a scalar value (a string, a number, a boolean, null); anything
/// else is a [`Fallback`], before a byte is written.
struct ScalarWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl ScalarWriter<'_> {
    /// A number or a character, as serde_json prints it.
    fn serde_json<T: Serialize>(self, value: T) -> Result<(), Fallback> {
        serde_json::to_writer(self.out, &value).map_err(|_| Fallback)
    }
}

/// Serializer methods that leave their kind of value to serde_json.
macro_rules! fall_back {
    ($($method:ident($($ty:ty),*) -> $ret:ty;)*) => {$(
        fn $method(self, $(_: $ty),*) -> Result<$ret, Fallback> {
            Err(Fallback)
        }
    )*};
}

/// The compound kinds of value, which the writers leave to serde_json.
macro_rules! fall_back_compounds {
    () => {
        type SerializeSeq = ser::Impossible<(), Fallback>;
        type SerializeTuple = ser::Impossible<(), Fallback>;
        type SerializeTupleStruct = ser::Impossible<(), Fallback>;
        type SerializeTupleVariant = ser::Impossible<(), Fallback>;
        type SerializeMap = ser::Impossible<(), Fallback>;
        type SerializeStructVariant = ser::Impossible<(), Fallback>;

        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _value: &T,
        ) -> Result<(), Fallback> {
            Err(Fallback)
        }

        fall_back! {
            serialize_bytes(&[u8]) -> ();
            serialize_seq(Option<usize>) -> Self::SerializeSeq;
            serialize_tuple(usize) -> Self::SerializeTuple;
            serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
            serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
            serialize_map(Option<usize>) -> Self::SerializeMap;
            serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
        }
    };
}

impl<'a> ser::Serializer for RecordWriter<'a> {
    type Ok = ();
    type Error = Fallback;
    type SerializeStruct = MembersWriter<'a>;

    fall_back_compounds!();

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<MembersWriter<'a>, Fallback> {
        self.out.push(b'{');
        Ok(MembersWriter { out: self.out, keys: self.keys, index: 0 })
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fall_back! {
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
    }
}

impl ser::Serializer for ScalarWriter<'_> {
    type Ok = ();
    type Error = Fallback;
    type SerializeStruct = ser::Impossible<(), Fallback>;

    fall_back_compounds!();

    fn serialize_bool(self, value: bool) -> Result<(), Fallback> {
        self.out.extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, value: i8) -> Result<(), Fallback> {
        self.serde_json(value)
    }

    fn serialize_i16(self, value: i16) -> Result<(), Fallback> {
        self.serde_json(value)
    }

    fn serialize_i32(self, value: i32) -> Result<(), Fallback> {
        self.serde_json(value)
    }

    fn serialize_i64(self, value: i64) -> Result<(), Fallback> {
        self.serde_json(value)
    }

    fn serialize_u8(self, value: u8) -> Result<(), Fallback> {
        self.serde_json(value)
    }

    fn serialize_u16(self, value: u16) -> Result<(), Fallback> {
        self.serde_json(value)
    }

    fn serialize_u32(self, value: u32) -> Result<(), Fallback> {
        self.serde_json(value)
    }

    fn serialize_u64(self, value: u64) -> Result<(), Fallback> {
        self.serde_json(value)
    }

    fn serialize_f32(self, value: f32) -> Result<(), Fallback> {
        self.serde_json(value)
    }

    fn serialize_f64(self, value: f64) -> Result<(), Fallback> {
        self.serde_json(value)
    }

    fn serialize_char(self, value: char) -> Result<(), Fallback> {
        write_str(self.out, value.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, value: &str) -> Result<(), Fallback> {
        write_str(self.out, value);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Fallback> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Fallback> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Fallback> {
        self.serialize_none()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Fallback> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fall_back! {
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
    }
}

/// Appends `text` as a JSON string.
fn write_str(out: &mut Vec<u8>, text: &str) {
    if needs_escape(text.as_bytes()) {
        write_escaped(out, text.as_bytes());
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// Appends `bytes` (UTF-8) as a JSON string with its escapes, as serde_json
/// writes them. Byte by byte through a table into a buffer on the stack,
/// moved to `out` as it fills: escapes are dense in the strings that have
/// them (JSON held in a text column), where copying the runs between them
/// costs more than the bytes themselves.
#[inline(never)]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    // A block of input never escapes to more than six bytes a byte, so it fits the buffer.
    const BLOCK: usize = 40;
    let mut buffer = [0u8; 6 * BLOCK + 1];
    buffer[0] = b'"';
    let mut filled = 1;
    for block in bytes.chunks(BLOCK) {
        for &byte in block {
            match ESCAPE[usize::from(byte)] {
                0 => {
                    buffer[filled] = byte;
                    filled += 1;
                }
                b'u' => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let hex = [HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]];
                    buffer[filled..filled + 6].copy_from_slice(&[b'\\', b'u', b'0', b'0', hex[0], hex[1]]);
                    filled += 6;
                }
                short => {
                    buffer[filled..filled + 2].copy_from_slice(&[b'\\', short]);
                    filled += 2;
                }
            }
        }
        out.extend_from_slice(&buffer[..filled]);
        filled = 0;
    }
    out.extend_from_slice(&buffer[..filled]);
    out.push(b'"');
}

/// How JSON escapes each byte: 0 not at all, `u` as `\\u00XX`, else a
/// backslash and this letter.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// True when `bytes` holds a byte JSON escapes: `"`, `\\` or one below 0x20.
///
/// Strings of eight bytes or more are scanned eight bytes at a time, the last
/// word overlapping the one before; shorter ones byte by byte through a table.
fn needs_escape(bytes: &[u8]) -> bool {
    let word = |at: usize| u64::from_ne_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    match bytes.len() {
        0..8 => bytes.iter().any(|&b| ESCAPE[usize::from(b)] != 0),
        // The last word overlaps the one before: no byte-by-byte remainder.
        length => {
            let mut words = (0..length - 8).step_by(8).map(word);
            words.any(|w| escaped_lanes(w) != 0) || escaped_lanes(word(length - 8)) != 0
        }
    }
}

/// The high bit of each byte of `word` that JSON escapes (and maybe of
/// bytes after one): nonzero exactly when `word` holds one.
fn escaped_lanes(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Each lane's high bit set when the lane is below `n` (n <= 0x80).
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    below(word, 0x20)
        | zero_byte(word ^ (ONES * u64::from(b'"')))
        | zero_byte(word ^ (ONES * u64::from(b'\\')))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ours(value: &Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn matches_serde_json_on_every_kind_of_value() {
        let value = json!({
            "id": 1, "neg": -7, "big": u64::MAX, "float": 2.5, "tiny": 1e-300, "t": true, "f": false, "n": null,
            "plain": "hello world", "quote\"d": "a \"b\" c", "back\\slash": "c:\\dir", "nl": "line\nbreak\ttab\r",
            "ctl": "\u{0}\u{1}\u{1f}\u{7f}", "unicode": "é ünï 日本 😀", "empty": "", "long": "x".repeat(100),
            "nested": {"a": [1, "two", {"three": [null, [], {}]}]}, "list": []
        });
        assert_eq!(ours(&value), serde_json::to_string(&value).unwrap());
    }

    #[test]
    fn escapes_exactly_where_serde_json_does_at_every_offset() {
        // Each special byte at every position of strings 0..=24 bytes long, so
        // it lands in every lane of a word and in the remainder.
        let specials = ['"', '\\', '\n', '\u{0}', '\u{1f}', ' ', '\u{7f}', 'é', '!', '~'];
        for len in 0..=24 {
            for at in 0..len {
                for special in specials {
                    let mut text: String = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
                    text.replace_range(at..at + 1, special.encode_utf8(&mut [0; 4]));
                    let value = Value::String(text);
                    assert_eq!(ours(&value), serde_json::to_string(&value).unwrap(), "{value:?}");
                }
            }
        }
    }

    #[test]
    fn every_ascii_character_is_escaped_as_serde_json_does() {
        let all: String = (0u8..0x80).map(char::from).chain("é😀".chars()).collect();
        for text in [all.clone(), all.chars().rev().collect()] {
            let value = Value::String(text);
            assert_eq!(ours(&value), serde_json::to_string(&value).unwrap());
        }
    }

    #[test]
    fn records_through_the_key_cache_match_serde_json() {
        let records = [
            json!({"id": 1, "name": "a", "tags": ["x"]}),
            json!({"id": 2, "name": "b", "tags": []}),
            json!({"id": 3, "renamed": "c", "tags": null}),
            json!({"q\"uote": 4}),
            json!({"id": 5, "name": "e", "tags": [], "extra": {"id": 6}}),
            json!({}),
            json!([1, {"id": 2}]),
            json!("plain"),
            json!({"id": 7, "name": "g"}),
        ];
        let mut cache = KeyCache::default();
        for record in &records {
            let mut out = Vec::new();
            write_record(&mut out, record, &mut cache);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(record).unwrap());
        }
    }

    #[test]
    fn typed_records_are_written_as_serde_json_writes_them() {
        #[derive(serde::Serialize)]
        enum Kind {
            Plain,
        }
        #[derive(serde::Serialize)]
        struct Inner {
            x: Vec<u8>,
        }
        #[derive(serde::Serialize)]
        struct Row {
            id: i64,
            #[serde(rename = "Quoted \"key\"")]
            quoted: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            absent: Option<Option<String>>,
            null: Option<bool>,
            ratio: f64,
            nan: f64,
            small: u8,
            letter: char,
            kind: Kind,
            doc: Value,
            text_doc: Value,
            tags: Vec<String>,
            inner: Inner,
            unit: (),
        }
        let row = |id: i64, absent: Option<Option<String>>, ratio: f64| Row {
            id,
            quoted: "line\nbreak \"q\" é 😀 \u{1}".repeat(id as usize % 3),
            absent,
            null: None,
            ratio,
            nan: f64::NAN,
            small: 255,
            letter: '"',
            kind: Kind::Plain,
            doc: json!({"big": serde_json::Number::from_string_unchecked("123456789012345678901234567890".into()), "a": [1.5, null]}),
            text_doc: json!("just text"),
            tags: vec!["a".into(), "b\"".into()],
            inner: Inner { x: vec![1, 2] },
            unit: (),
        };
        let mut keys = MemberKeys::default();
        let mut out = Vec::new();
        let rows = [
            row(i64::MIN, None, -0.0),
            row(1, Some(None), 5e-324),
            row(2, Some(Some("x".into())), f64::MAX),
            row(i64::MAX, None, 0.1),
        ];
        for record in &rows {
            out.clear();
            write_serialized(&mut out, record, &mut keys).unwrap();
            assert_eq!(String::from_utf8(out.clone()).unwrap(), serde_json::to_string(record).unwrap());
        }
        // Another record type through the same cache; and what is not a struct.
        out.clear();
        write_serialized(&mut out, &Inner { x: vec![] }, &mut keys).unwrap();
        write_serialized(&mut out, &json!({"k": [1]}), &mut keys).unwrap();
        write_serialized(&mut out, &rows[0], &mut keys).unwrap();
        let expected = format!("{{\"x\":[]}}{{\"k\":[1]}}{}", serde_json::to_string(&rows[0]).unwrap());
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn random_bytes_agree_with_serde_json() {
        // A fixed-seed generator: the same cases on every run.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| (next() % 0x80) as u8).collect();
            let value = Value::String(String::from_utf8(bytes).unwrap());
            assert_eq!(ours(&value), serde_json::to_string(&value).unwrap());
        }
    }
}
