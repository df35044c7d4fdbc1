//! Values in PostgreSQL's text output form → JSON, with the `postgres`
//! source's mapping (docs/databases.md).
//!
//! pgoutput sends each value as its type's output function prints it in the
//! decoding session, which the source sets to `TimeZone UTC`, `DateStyle
//! ISO`, `IntervalStyle iso_8601`, `extra_float_digits 1` and `bytea_output
//! hex`. The `postgres` source converts on the server (`to_json`, `::text`,
//! `encode`); here the same results are derived from the output text, and
//! `tests/tests/pg_cdc.rs` checks both paths agree type by type.

use serde_json::{Number, Value};

use crate::connectors::postgres::values::push_timestamp;

/// How a value of one type turns into JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decode {
    /// int2/int4/int8/oid: a number.
    Int,
    /// float4/float8: a number; NaN and ±Infinity null.
    Float,
    /// numeric: an exact string; NaN and ±Infinity null.
    Numeric,
    Bool,
    /// json/jsonb: nested JSON.
    Json,
    /// bytea (`\x…` hex): standard base64.
    Bytea,
    /// timestamptz: RFC 3339 (`T`, `+00:00`).
    Timestamptz,
    /// timestamp: ISO 8601 with `T`.
    Timestamp,
    /// char(n): without its padding, as `::text` casts it.
    Bpchar,
    /// inet: with its mask length, as `::text` casts it.
    Inet,
    /// Everything else: the text as printed.
    Text,
    /// An array literal whose elements decode with `elem`, separated by `delim`.
    Array {
        elem: Box<Decode>,
        delim: char,
    },
}

impl Decode {
    /// The decoding of a type by name and category, for a column (`elem`
    /// names an array's element type, `delim` its separator).
    pub(crate) fn of(typname: &str, category: &str, elem: &str, delim: char) -> Decode {
        match (typname, category) {
            ("int2" | "int4" | "int8" | "oid", _) => Decode::Int,
            ("float4" | "float8", _) => Decode::Float,
            ("numeric", _) => Decode::Numeric,
            ("bool", _) => Decode::Bool,
            ("json" | "jsonb", _) => Decode::Json,
            ("bytea", _) => Decode::Bytea,
            ("timestamptz", _) => Decode::Timestamptz,
            ("timestamp", _) => Decode::Timestamp,
            ("bpchar", _) => Decode::Bpchar,
            ("inet", _) => Decode::Inet,
            (_, "A") => Decode::Array { elem: Box::new(Decode::element(elem)), delim },
            _ => Decode::Text,
        }
    }

    /// An array element's decoding: as `to_json` renders elements (numeric
    /// and oid elements as strings, char(n) padded, inet as printed).
    fn element(typname: &str) -> Decode {
        match typname {
            "int2" | "int4" | "int8" => Decode::Int,
            "float4" | "float8" => Decode::Float,
            "bool" => Decode::Bool,
            "json" | "jsonb" => Decode::Json,
            "bytea" => Decode::Bytea,
            "timestamptz" => Decode::Timestamptz,
            "timestamp" => Decode::Timestamp,
            _ => Decode::Text,
        }
    }

    /// The JSON value of `text`; an error names what could not be read.
    pub(crate) fn decode(&self, text: &str) -> Result<Value, String> {
        let bad = |what: &str| format!("cannot read {what} {text:?}");
        Ok(match self {
            Decode::Int => match text.parse::<i64>() {
                Ok(i) => Value::from(i),
                Err(_) => text.parse::<u64>().map(Value::from).map_err(|_| bad("an integer"))?,
            },
            Decode::Float => {
                text.parse::<f64>().ok().and_then(Number::from_f64).map_or(Value::Null, Value::Number)
            }
            Decode::Numeric => match text {
                "NaN" | "Infinity" | "-Infinity" => Value::Null,
                _ => Value::String(text.to_owned()),
            },
            Decode::Bool => match text {
                "t" | "true" => Value::Bool(true),
                "f" | "false" => Value::Bool(false),
                _ => return Err(bad("a boolean")),
            },
            Decode::Json => serde_json::from_str(text).map_err(|_| bad("JSON"))?,
            Decode::Bytea => {
                let hex = text.strip_prefix("\\x").ok_or_else(|| bad("bytea (hex)"))?;
                let bytes = hex_bytes(hex).ok_or_else(|| bad("bytea (hex)"))?;
                Value::String(crate::connectors::base64(&bytes))
            }
            Decode::Timestamptz | Decode::Timestamp => {
                let mut iso = String::new();
                push_timestamp(text, *self == Decode::Timestamptz, &mut iso);
                Value::String(iso)
            }
            Decode::Bpchar => Value::String(text.trim_end_matches(' ').to_owned()),
            Decode::Inet if !text.contains('/') => {
                let bits = if text.contains(':') { 128 } else { 32 };
                Value::String(format!("{text}/{bits}"))
            }
            Decode::Inet | Decode::Text => Value::String(text.to_owned()),
            Decode::Array { elem, delim } => {
                // `[1:2]={…}`: bounds other than 1 are printed first; JSON drops them.
                let body = match text.find("={") {
                    Some(i) if text.starts_with('[') => &text[i + 1..],
                    _ => text,
                };
                let mut p = ArrayParser { s: body.as_bytes(), at: 0, delim: *delim as u8 };
                let value = p.array(elem).map_err(|e| format!("{} in array {text:?}", e))?;
                if p.at != p.s.len() {
                    return Err(bad("an array"));
                }
                value
            }
        })
    }
}

fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    digits.chunks(2).map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect()
}

struct ArrayParser<'a> {
    s: &'a [u8],
    at: usize,
    delim: u8,
}

impl ArrayParser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {}", c as char, self.at))
        }
    }

    fn array(&mut self, elem: &Decode) -> Result<Value, String> {
        self.expect(b'{')?;
        let mut items = Vec::new();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            let item = match self.peek() {
                Some(b'{') => self.array(elem)?,
                Some(b'"') => elem.decode(&self.quoted()?)?,
                _ => {
                    let start = self.at;
                    while self.peek().is_some_and(|c| c != self.delim && c != b'}') {
                        self.at += 1;
                    }
                    let raw = std::str::from_utf8(&self.s[start..self.at]).map_err(|e| e.to_string())?;
                    if raw == "NULL" { Value::Null } else { elem.decode(raw)? }
                }
            };
            items.push(item);
            match self.peek() {
                Some(c) if c == self.delim => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(format!("unterminated array at {}", self.at)),
            }
        }
    }

    fn quoted(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return String::from_utf8(out).map_err(|e| e.to_string());
                }
                Some(b'\\') => {
                    let c = self.s.get(self.at + 1).copied().ok_or("dangling escape")?;
                    out.push(c);
                    self.at += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
                None => return Err("unterminated quoted element".to_owned()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn d(typname: &str, category: &str, elem: &str, text: &str) -> Value {
        Decode::of(typname, category, elem, ',').decode(text).unwrap()
    }

    #[test]
    fn scalars_follow_the_postgres_source() {
        assert_eq!(d("int8", "N", "", "9223372036854775807"), json!(9223372036854775807i64));
        assert_eq!(d("oid", "N", "", "4294967295"), json!(4294967295u64));
        assert_eq!(d("float4", "N", "", "0.1"), json!(0.1));
        assert_eq!(d("float8", "N", "", "NaN"), Value::Null);
        assert_eq!(d("float8", "N", "", "-Infinity"), Value::Null);
        assert_eq!(d("numeric", "N", "", "1.10"), json!("1.10"));
        assert_eq!(d("numeric", "N", "", "NaN"), Value::Null);
        assert_eq!(d("bool", "B", "", "t"), json!(true));
        assert_eq!(d("jsonb", "U", "", r#"{"a": [1, null]}"#), json!({"a": [1, null]}));
        assert_eq!(d("bytea", "U", "", "\\xdeadbeef00"), json!("3q2+7wA="));
        assert_eq!(
            d("timestamptz", "D", "", "2024-02-29 18:59:59.123456+00"),
            json!("2024-02-29T18:59:59.123456+00:00")
        );
        assert_eq!(
            d("timestamptz", "D", "", "0044-03-15 12:00:00+00 BC"),
            json!("0044-03-15T12:00:00+00:00 BC")
        );
        assert_eq!(d("timestamptz", "D", "", "infinity"), json!("infinity"));
        assert_eq!(d("timestamp", "D", "", "2024-01-02 03:04:05"), json!("2024-01-02T03:04:05"));
        assert_eq!(d("timetz", "D", "", "13:14:15.5+05:30"), json!("13:14:15.5+05:30"));
        assert_eq!(d("bpchar", "S", "", "c  "), json!("c"));
        assert_eq!(d("inet", "I", "", "192.168.0.1"), json!("192.168.0.1/32"));
        assert_eq!(d("inet", "I", "", "::1"), json!("::1/128"));
        assert_eq!(d("inet", "I", "", "10.0.0.0/8"), json!("10.0.0.0/8"));
        assert!(Decode::Int.decode("x").is_err());
    }

    #[test]
    fn arrays_parse_quotes_nulls_dimensions_and_bounds() {
        assert_eq!(d("_int4", "A", "int4", "{1,NULL,3}"), json!([1, null, 3]));
        assert_eq!(d("_int8", "A", "int8", "{{1,2},{3,4}}"), json!([[1, 2], [3, 4]]));
        assert_eq!(d("_int4", "A", "int4", "[0:1]={1,2}"), json!([1, 2]));
        assert_eq!(
            d("_text", "A", "text", r#"{"a b","c\"d",NULL,"NULL",x}"#),
            json!(["a b", "c\"d", null, "NULL", "x"])
        );
        assert_eq!(d("_numeric", "A", "numeric", "{1.10,2,NaN}"), json!(["1.10", "2", "NaN"]));
        assert_eq!(d("_float8", "A", "float8", "{1.5,NaN}"), json!([1.5, null]));
        assert_eq!(d("_bytea", "A", "bytea", r#"{"\\x01ff"}"#), json!(["Af8="]));
        assert_eq!(
            d("_timestamptz", "A", "timestamptz", r#"{"2024-01-01 00:00:00+00",NULL}"#),
            json!(["2024-01-01T00:00:00+00:00", null])
        );
        assert_eq!(d("_bpchar", "A", "bpchar", r#"{"a  "}"#), json!(["a  "]));
        assert_eq!(d("_int4", "A", "int4", "{}"), json!([]));
        let boxes = Decode::of("_box", "A", "box", ';').decode("{(1,1),(0,0);(2,2),(1,1)}").unwrap();
        assert_eq!(boxes, json!(["(1,1),(0,0)", "(2,2),(1,1)"]));
        assert!(Decode::of("_int4", "A", "int4", ',').decode("{1,2").is_err());
    }
}
