//! The `flatten` transform.
//!
//! `{"a": {"b": 1, "c": {"d": 2}}, "e": [ {"f": 3} ], "g": {}}` becomes
//! `{"a__b": 1, "a__c__d": 2, "e": [ {"f": 3} ], "g": {}}`: nested objects are
//! lifted into top-level keys, arrays are values and stay as they are, and so
//! is an empty object (as faucet-stream 1.17 keeps it).

use serde_json::{Map, Value};

use super::chain::Transform;
use crate::error::{FaucetError, Result};
use crate::page::Record;

/// Lifts nested objects into top-level `parent{sep}child` keys.
///
/// Keys come out depth first, in the record's order. Arrays (even arrays of
/// objects) are kept as values, and so is an empty nested object
/// (`{"a": {"b": {}}}` becomes `{"a__b": {}}`). An object under the empty
/// key is lifted as if it were the record's own level, as faucet-stream
/// does: `{"": {"a": 1}}` becomes `{"a": 1}`. A record that is not an object
/// passes through unchanged.
/// Two paths that flatten to the same key (a literal `a__b` next to
/// `a: {b: …}`) are an error naming the key, never a silent overwrite.
#[derive(Debug, Clone)]
pub struct Flatten {
    separator: String,
}

impl Flatten {
    /// A flatten joining key segments with `separator` (faucet-stream's default is `"__"`).
    pub fn new(separator: impl Into<String>) -> Self {
        Flatten { separator: separator.into() }
    }

    /// Inserts the leaves of `value` under `path` (and its extensions) into `out`.
    ///
    /// `path` is a reused buffer: it is back to its entry length on return.
    fn lift(&self, out: &mut Map<String, Value>, path: &mut String, value: Value) -> Result<()> {
        match value {
            // An empty object is a leaf, but not at the record's own level.
            Value::Object(inner) if !inner.is_empty() || path.is_empty() => {
                let len = path.len();
                for (key, child) in inner {
                    if len > 0 {
                        path.push_str(&self.separator);
                    }
                    path.push_str(&key);
                    self.lift(out, path, child)?;
                    path.truncate(len);
                }
                Ok(())
            }
            leaf => insert(out, path.clone(), leaf),
        }
    }
}

/// Inserts `key`, which must not be there yet.
fn insert(out: &mut Map<String, Value>, key: String, value: Value) -> Result<()> {
    if out.contains_key(&key) {
        return Err(FaucetError::transform(format!(
            "flatten: key {key:?} occurs twice once nested objects are flattened"
        )));
    }
    out.insert(key, value);
    Ok(())
}

impl Transform for Flatten {
    type Out = Record;

    fn apply(&mut self, record: Record) -> Result<Option<Record>> {
        let map = match record {
            Value::Object(map) if map.values().any(Value::is_object) => map,
            // Not an object, or nothing nested: already flat.
            other => return Ok(Some(other)),
        };
        let mut out = Map::with_capacity(map.len());
        let mut path = String::new();
        for (key, value) in map {
            match value {
                Value::Object(ref inner) if !inner.is_empty() || key.is_empty() => {
                    path.clear();
                    path.push_str(&key);
                    self.lift(&mut out, &mut path, value)?;
                }
                leaf => insert(&mut out, key, leaf)?,
            }
        }
        Ok(Some(Value::Object(out)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorKind;

    fn run(record: Value) -> Result<Value> {
        Flatten::new("__").apply(record).map(|r| r.expect("never drops"))
    }

    fn keys(value: &Value) -> Vec<&str> {
        value.as_object().expect("object").keys().map(String::as_str).collect()
    }

    #[test]
    fn lifts_nested_objects() {
        let out = run(json!({"id": 1, "user": {"name": "a", "age": 3}, "z": true})).unwrap();
        assert_eq!(out, json!({"id": 1, "user__name": "a", "user__age": 3, "z": true}));
        assert_eq!(keys(&out), ["id", "user__name", "user__age", "z"]);
    }

    #[test]
    fn lifts_deep_nesting_depth_first() {
        let record = json!({"a": {"b": {"c": {"d": 1}, "e": 2}, "f": 3}, "g": {"h": {"i": null}}});
        let out = run(record).unwrap();
        assert_eq!(out, json!({"a__b__c__d": 1, "a__b__e": 2, "a__f": 3, "g__h__i": null}));
        assert_eq!(keys(&out), ["a__b__c__d", "a__b__e", "a__f", "g__h__i"]);
    }

    #[test]
    fn keeps_arrays_untouched() {
        let record = json!({"tags": ["x", "y"], "o": {"items": [ {"k": {"v": 1}} ], "n": 0}});
        let out = run(record).unwrap();
        assert_eq!(out, json!({"tags": ["x", "y"], "o__items": [ {"k": {"v": 1}} ], "o__n": 0}));
    }

    #[test]
    fn empty_nested_object_stays_under_its_key() {
        // As faucet-cli 1.17.0 writes them.
        let out = run(json!({"a": {}, "b": 1, "c": {"d": {}}, "e": {"f": {}, "g": 2}})).unwrap();
        assert_eq!(out, json!({"a": {}, "b": 1, "c__d": {}, "e__f": {}, "e__g": 2}));
        assert_eq!(keys(&out), ["a", "b", "c__d", "e__f", "e__g"]);
        // Inside arrays nothing changes.
        let out = run(json!({"l": [ {}, {"x": {}} ], "o": {"p": [ {} ]}})).unwrap();
        assert_eq!(out, json!({"l": [ {}, {"x": {}} ], "o__p": [ {} ]}));
        // An empty object collides like any other leaf.
        let err = run(json!({"a": {"b": {}}, "a__b": 1})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
    }

    #[test]
    fn object_under_the_empty_key_is_the_records_own_level() {
        let out = run(json!({"": {"a": 1, "b": {"c": 2}}, "d": 3})).unwrap();
        assert_eq!(out, json!({"a": 1, "b__c": 2, "d": 3}));
        assert_eq!(run(json!({"": {}, "d": 3})).unwrap(), json!({"d": 3}));
        assert_eq!(run(json!({"": {"": {}}})).unwrap(), json!({}));
        // Deeper, the empty key is a segment like any other.
        assert_eq!(run(json!({"a": {"": {"b": 1}}})).unwrap(), json!({"a____b": 1}));
        assert_eq!(run(json!({"a": {"": {}}})).unwrap(), json!({"a__": {}}));
    }

    #[test]
    fn top_level_empty_object_stays() {
        assert_eq!(run(json!({})).unwrap(), json!({}));
    }

    #[test]
    fn flat_record_is_unchanged() {
        let record = json!({"a": 1, "b": [ {"c": 2} ], "d": null});
        assert_eq!(run(record.clone()).unwrap(), record);
    }

    #[test]
    fn non_object_passes_through() {
        for record in [json!(null), json!(1), json!("s"), json!([ {"a": {"b": 1}} ])] {
            assert_eq!(run(record.clone()).unwrap(), record);
        }
    }

    #[test]
    fn custom_separator() {
        let out = Flatten::new(".").apply(json!({"a": {"b": {"c": 1}}, "d": 2})).unwrap().unwrap();
        assert_eq!(out, json!({"a.b.c": 1, "d": 2}));
        let out = Flatten::new("").apply(json!({"a": {"b": 1}})).unwrap().unwrap();
        assert_eq!(out, json!({"ab": 1}));
    }

    #[test]
    fn collision_with_literal_key_after_is_an_error() {
        let err = run(json!({"a": {"b": 1}, "a__b": 2})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        assert!(err.message().contains("\"a__b\""), "{err}");
    }

    #[test]
    fn collision_with_literal_key_before_is_an_error() {
        let err = run(json!({"x__y__z": 0, "x": {"y": {"z": 1}}})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        assert!(err.message().contains("\"x__y__z\""), "{err}");
    }

    #[test]
    fn collision_between_two_nested_paths_is_an_error() {
        let err = run(json!({"a": {"b__c": 1, "b": {"c": 2}}})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        assert!(err.message().contains("\"a__b__c\""), "{err}");
    }
}
