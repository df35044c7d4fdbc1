//! The field-list transforms: `select`, `drop`, `set` and `rename_field`.
//!
//! Each touches top-level keys of a record only, as faucet-stream's do, and
//! passes a record that is not an object through unchanged. Keys keep their
//! places: `drop` closes the gap, `set` overwrites a key where it stands and
//! appends a new one, `rename_field` writes the new name in the old one's place.
//! The typed code faucet-gen generates for them moves values the same way.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::chain::Transform;
use crate::error::{FaucetError, Result};
use crate::page::Record;

/// Keeps only the listed top-level fields, in the order listed.
///
/// A listed field the record lacks is skipped (no `null` is added).
#[derive(Debug, Clone)]
pub struct Select {
    fields: Vec<String>,
    set: HashSet<String>,
}

impl Select {
    /// A select of `fields` (a field listed twice is kept once, at its first place).
    pub fn new(fields: &[&str]) -> Self {
        let mut set = HashSet::new();
        let fields = fields.iter().map(|f| (*f).to_owned()).filter(|f| set.insert(f.clone())).collect();
        Select { fields, set }
    }
}

impl Transform for Select {
    type Out = Record;
    const CAN_FAIL: bool = false;

    fn apply(&mut self, record: Record) -> Result<Option<Record>> {
        let Value::Object(mut map) = record else { return Ok(Some(record)) };
        map.retain(|k, _| self.set.contains(k));
        // Already in the listed order (the common case): nothing to move.
        let mut listed = self.fields.iter().filter(|f| map.contains_key(f.as_str()));
        if map.keys().all(|k| listed.next() == Some(k)) {
            return Ok(Some(Value::Object(map)));
        }
        let mut out = Map::with_capacity(map.len());
        for f in &self.fields {
            if let Some((k, v)) = map.remove_entry(f.as_str()) {
                out.insert(k, v);
            }
        }
        Ok(Some(Value::Object(out)))
    }
}

/// Removes the listed top-level fields; the others keep their order.
#[derive(Debug, Clone)]
pub struct DropFields {
    fields: Vec<String>,
}

impl DropFields {
    /// A drop of `fields` (one the record lacks is skipped).
    pub fn new(fields: &[&str]) -> Self {
        DropFields { fields: fields.iter().map(|f| (*f).to_owned()).collect() }
    }
}

impl Transform for DropFields {
    type Out = Record;
    const CAN_FAIL: bool = false;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        if let Value::Object(map) = &mut record {
            for f in &self.fields {
                map.shift_remove(f.as_str());
            }
        }
        Ok(Some(record))
    }
}

/// Sets top-level fields to constants: a field present is overwritten in
/// its place, a new one is added after the others, in the order given.
#[derive(Debug, Clone)]
pub struct Set {
    values: Vec<(String, Value)>,
}

impl Set {
    /// A set of each `(field, value)`.
    pub fn new(values: Vec<(&str, Value)>) -> Self {
        Set { values: values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect() }
    }
}

impl Transform for Set {
    type Out = Record;
    const CAN_FAIL: bool = false;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        if let Value::Object(map) = &mut record {
            for (k, v) in &self.values {
                match map.get_mut(k.as_str()) {
                    Some(slot) => *slot = v.clone(),
                    None => {
                        map.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        Ok(Some(record))
    }
}

/// Renames top-level fields by exact name.
///
/// Every rename reads the record as it came, so chains (`{a: b, b: c}`) and
/// swaps (`{a: b, b: a}`) are well defined; a field the record lacks is
/// skipped. A new name already taken by a field that is not itself renamed
/// away is an error naming both, never a silent overwrite, and so are two
/// fields of one record renamed to the same name.
#[derive(Debug, Clone)]
pub struct RenameField {
    renames: HashMap<String, String>,
}

impl RenameField {
    /// A rename of each `(field, new name)`; a field renamed to itself is no rename.
    pub fn new(renames: &[(&str, &str)]) -> Self {
        let renames =
            renames.iter().filter(|(f, t)| f != t).map(|(f, t)| ((*f).to_owned(), (*t).to_owned())).collect();
        RenameField { renames }
    }

    /// The error for the record `map`, if a rename would lose a field.
    fn collision(&self, map: &Map<String, Value>) -> Option<FaucetError> {
        let mut targets: HashMap<&str, &str> = HashMap::new();
        for (from, to) in self.renames.iter().filter(|(from, _)| map.contains_key(from.as_str())) {
            if let Some(other) = targets.insert(to, from) {
                return Some(FaucetError::transform(format!(
                    "rename_field: fields {other:?} and {from:?} are both renamed to {to:?}"
                )));
            }
            if map.contains_key(to.as_str()) && !self.renames.contains_key(to) {
                return Some(FaucetError::transform(format!(
                    "rename_field: renaming {from:?} to {to:?}, but the record already has a field {to:?}"
                )));
            }
        }
        None
    }
}

impl Transform for RenameField {
    type Out = Record;

    fn apply(&mut self, record: Record) -> Result<Option<Record>> {
        let Value::Object(map) = record else { return Ok(Some(record)) };
        if !map.keys().any(|k| self.renames.contains_key(k)) {
            return Ok(Some(Value::Object(map)));
        }
        if let Some(e) = self.collision(&map) {
            return Err(e);
        }
        let mut out = Map::with_capacity(map.len());
        for (k, v) in map {
            match self.renames.get(&k) {
                Some(to) => out.insert(to.clone(), v),
                None => out.insert(k, v),
            };
        }
        Ok(Some(Value::Object(out)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn select_keeps_listed_fields_in_listed_order_and_skips_missing() {
        let mut t = Select::new(&["c", "a", "missing", "a"]);
        let out = t.apply(json!({"a": 1, "b": 2, "c": {"x": 3}})).unwrap().unwrap();
        assert_eq!(out, json!({"c": {"x": 3}, "a": 1}));
        assert_eq!(keys(&out), ["c", "a"]);
        // Already in order: the same map comes back.
        let out = t.apply(json!({"c": 1, "z": 0, "a": 2})).unwrap().unwrap();
        assert_eq!(keys(&out), ["c", "a"]);
        assert_eq!(t.apply(json!({"b": 1})).unwrap().unwrap(), json!({}));
        assert_eq!(t.apply(json!([1, 2])).unwrap().unwrap(), json!([1, 2]));
    }

    #[test]
    fn drop_removes_fields_and_keeps_the_order_of_the_rest() {
        let mut t = DropFields::new(&["b", "missing"]);
        let out = t.apply(json!({"a": 1, "b": 2, "c": 3, "d": 4})).unwrap().unwrap();
        assert_eq!(keys(&out), ["a", "c", "d"]);
        assert_eq!(t.apply(json!("text")).unwrap().unwrap(), json!("text"));
    }

    #[test]
    fn set_overwrites_in_place_and_appends_new_fields() {
        let mut t = Set::new(vec![("b", json!("x")), ("n", json!(null)), ("o", json!({"k": [1, 2.5]}))]);
        let out = t.apply(json!({"a": 1, "b": 2, "c": 3})).unwrap().unwrap();
        assert_eq!(keys(&out), ["a", "b", "c", "n", "o"]);
        assert_eq!(out, json!({"a": 1, "b": "x", "c": 3, "n": null, "o": {"k": [1, 2.5]}}));
        assert_eq!(t.apply(json!(7)).unwrap().unwrap(), json!(7));
    }

    #[test]
    fn rename_field_keeps_places_and_reads_the_record_as_it_came() {
        let mut t = RenameField::new(&[("a", "x"), ("same", "same")]);
        let out = t.apply(json!({"z": 0, "a": 1, "same": 2})).unwrap().unwrap();
        assert_eq!(keys(&out), ["z", "x", "same"]);
        assert_eq!(t.apply(json!({"z": 0})).unwrap().unwrap(), json!({"z": 0}));
        // A chain and a swap.
        let mut chain = RenameField::new(&[("a", "b"), ("b", "c")]);
        let out = chain.apply(json!({"a": 1, "b": 2})).unwrap().unwrap();
        assert_eq!(keys(&out), ["b", "c"]);
        assert_eq!(out, json!({"b": 1, "c": 2}));
        let mut swap = RenameField::new(&[("a", "b"), ("b", "a")]);
        let out = swap.apply(json!({"a": 1, "b": 2})).unwrap().unwrap();
        assert_eq!(out, json!({"b": 1, "a": 2}));
        assert_eq!(keys(&out), ["b", "a"]);
        // Only `a` present in a chain: `b` is free for it.
        assert_eq!(chain.apply(json!({"a": 1})).unwrap().unwrap(), json!({"b": 1}));
    }

    #[test]
    fn rename_field_onto_a_field_that_stays_is_an_error() {
        let mut t = RenameField::new(&[("a", "b")]);
        let e = t.apply(json!({"a": 1, "b": 2})).unwrap_err();
        assert!(e.message().contains("already has a field \"b\""), "{e}");
        let mut t = RenameField::new(&[("a", "t"), ("b", "t")]);
        let e = t.apply(json!({"a": 1, "b": 2})).unwrap_err();
        assert!(e.message().contains("both renamed to \"t\""), "{e}");
        // Only one of them present: fine.
        assert_eq!(t.apply(json!({"b": 2})).unwrap().unwrap(), json!({"t": 2}));
    }
}
