//! The `split` and `join` transforms: a delimited string into an array of
//! strings, and an array into one string.

use serde_json::Value;

use super::chain::Transform;
use super::json_text::{Numbers, canonical};
use crate::error::Result;
use crate::page::Record;

/// Splits the string value of `field` on `delimiter` into an array of
/// strings, in place or into `into` (overwriting it). With `trim`, each part
/// loses its surrounding whitespace; empty parts are kept. An empty
/// delimiter makes one part of the whole string. A value that is not a
/// string and a field the record lacks stay as they are.
#[derive(Debug, Clone)]
pub struct Split {
    field: String,
    delimiter: String,
    trim: bool,
    into: Option<String>,
}

impl Split {
    /// Splits `field`.
    pub fn new(field: String, delimiter: String, trim: bool, into: Option<String>) -> Self {
        Split { field, delimiter, trim, into }
    }

    /// The parts of `s`.
    pub fn parts(&self, s: &str) -> Vec<String> {
        let part = |p: &str| if self.trim { p.trim() } else { p }.to_owned();
        if self.delimiter.is_empty() {
            vec![part(s)]
        } else {
            s.split(self.delimiter.as_str()).map(part).collect()
        }
    }
}

impl Transform for Split {
    type Out = Record;
    const CAN_FAIL: bool = false;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        if let Value::Object(map) = &mut record
            && let Some(Value::String(s)) = map.get(&self.field)
        {
            let parts = Value::Array(self.parts(s).into_iter().map(Value::String).collect());
            let target = self.into.as_ref().unwrap_or(&self.field);
            match map.get_mut(target) {
                Some(v) => *v = parts,
                None => {
                    map.insert(target.clone(), parts);
                }
            }
        }
        Ok(Some(record))
    }
}

/// Joins the array value of `field` into one string with `delimiter`, in
/// place or into `into`. Strings are written as they are, null as nothing,
/// anything else as compact JSON (numbers keep their digits). A value that is
/// not an array and a field the record lacks stay as they are.
#[derive(Debug, Clone)]
pub struct Join {
    field: String,
    delimiter: String,
    into: Option<String>,
}

impl Join {
    /// Joins `field`.
    pub fn new(field: String, delimiter: String, into: Option<String>) -> Self {
        Join { field, delimiter, into }
    }

    /// The items of `items` joined.
    pub fn join<'a>(&self, items: impl IntoIterator<Item = &'a Value>) -> String {
        let mut out = String::new();
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                out.push_str(&self.delimiter);
            }
            match item {
                Value::String(s) => out.push_str(s),
                Value::Null => {}
                other => out.push_str(&canonical(other, Numbers::Exact)),
            }
        }
        out
    }
}

impl Transform for Join {
    type Out = Record;
    const CAN_FAIL: bool = false;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        if let Value::Object(map) = &mut record
            && let Some(Value::Array(items)) = map.get(&self.field)
        {
            let joined = Value::String(self.join(items));
            let target = self.into.as_ref().unwrap_or(&self.field);
            match map.get_mut(target) {
                Some(v) => *v = joined,
                None => {
                    map.insert(target.clone(), joined);
                }
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn split(delimiter: &str, trim: bool, into: Option<&str>, record: Value) -> Value {
        Split::new("s".into(), delimiter.into(), trim, into.map(Into::into)).apply(record).unwrap().unwrap()
    }

    #[test]
    fn split_keeps_empty_parts_and_trims_on_request() {
        assert_eq!(split(",", false, None, json!({"s": "a, b,,c "})), json!({"s": ["a", " b", "", "c "]}));
        assert_eq!(split(",", true, None, json!({"s": "a, b,,c "})), json!({"s": ["a", "b", "", "c"]}));
        assert_eq!(split("::", false, None, json!({"s": ""})), json!({"s": [""]}));
        assert_eq!(split("", true, None, json!({"s": " a,b "})), json!({"s": ["a,b"]}));
    }

    #[test]
    fn split_into_keeps_the_source_and_overwrites_the_target() {
        assert_eq!(
            split("|", false, Some("t"), json!({"t": 1, "s": "x|y"})),
            json!({"t": ["x", "y"], "s": "x|y"})
        );
        for v in [json!(null), json!(3), json!(["a"])] {
            assert_eq!(split(",", false, None, json!({"s": v.clone()})), json!({"s": v}));
        }
    }

    #[test]
    fn join_renders_each_item() {
        let mut j = Join::new("a".into(), "; ".into(), None);
        let out = j.apply(json!({"a": ["x", null, 1, true, {"b": 2, "a": 1}, [1]]})).unwrap().unwrap();
        assert_eq!(out, json!({"a": "x; ; 1; true; {\"a\":1,\"b\":2}; [1]"}));
        let mut into = Join::new("a".into(), ",".into(), Some("s".into()));
        assert_eq!(into.apply(json!({"a": []})).unwrap().unwrap(), json!({"a": [], "s": ""}));
        assert_eq!(j.apply(json!({"a": "x"})).unwrap().unwrap(), json!({"a": "x"}));
    }

    #[test]
    fn split_then_join_round_trips() {
        let out = split(",", false, None, json!({"s": "a,,b"}));
        let back = Join::new("s".into(), ",".into(), None).apply(out).unwrap().unwrap();
        assert_eq!(back, json!({"s": "a,,b"}));
    }
}
