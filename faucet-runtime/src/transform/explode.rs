//! `explode`: one record per element of an array field (1→N).
//!
//! faucet-stream 1.17's semantics: an object element's fields replace the
//! array field in its parent object, each named `{prefix}{separator}{key}`
//! (the prefix defaults to the array field's own name; an empty prefix keeps
//! the keys as they are); any other element (a scalar, null, an array) takes
//! the array field's place. A key an object element would add that the
//! parent already has is an error, never a silent overwrite. When the path
//! holds no non-empty array, `on_missing` decides: pass the record through
//! unchanged (the default), drop it, or reject it. `carry` copies values of
//! the parent record onto every record made.

use serde_json::{Map, Value};

use super::chain::{Transform, at_most_one};
use super::filter::resolve;
use crate::error::{FaucetError, Result};
use crate::page::Record;

/// What `explode` does with a record whose path holds no non-empty array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnMissing {
    /// Returns the record unchanged.
    #[default]
    Passthrough,
    /// Returns no record.
    Drop,
    /// Rejects the record.
    Error,
}

/// Fans a record out into one record per element of the array at a path.
#[derive(Debug, Clone)]
pub struct Explode {
    /// The keys down to the object holding the array.
    parent: Vec<String>,
    /// The array's key in it.
    leaf: String,
    /// `$.a.b`, for messages.
    shown: String,
    /// The prefix and separator of an object element's keys (`None`: none).
    prefix: Option<(String, String)>,
    on_missing: OnMissing,
    /// `(field, keys of the parent record's value)` copied onto every record made.
    carry: Vec<(String, Vec<String>)>,
}

impl Explode {
    /// Explodes the array reached by `path`'s keys (at least one). `prefix`
    /// `None` is the last key; `Some("")` adds no prefix.
    pub fn new<K: Into<String>>(
        path: impl IntoIterator<Item = K>,
        prefix: Option<&str>,
        separator: &str,
        on_missing: OnMissing,
    ) -> Result<Self> {
        let mut parent: Vec<String> = path.into_iter().map(Into::into).collect();
        let Some(leaf) = parent.pop() else {
            return Err(FaucetError::config("explode: the path names no field"));
        };
        let shown = std::iter::once("$").chain(parent.iter().map(String::as_str)).chain([leaf.as_str()]);
        let shown = shown.collect::<Vec<_>>().join(".");
        let prefix = prefix.unwrap_or(&leaf);
        let prefix = (!prefix.is_empty()).then(|| (prefix.to_owned(), separator.to_owned()));
        Ok(Explode { parent, leaf, shown, prefix, on_missing, carry: Vec::new() })
    }

    /// Also sets `field` on every record made to the parent record's value
    /// at `from` (its keys), when it has one.
    pub fn carry<K: Into<String>>(mut self, field: &str, from: impl IntoIterator<Item = K>) -> Self {
        self.carry.push((field.to_owned(), from.into_iter().map(Into::into).collect()));
        self
    }

    /// The records `record` becomes, appended to `out`.
    fn explode(&self, mut record: Record, out: &mut Vec<Record>) -> Result<()> {
        // Carried values are read from the record as it came, before the array leaves it.
        let carried: Vec<(&str, Value)> = self
            .carry
            .iter()
            .filter_map(|(field, from)| Some((field.as_str(), resolve(&record, from)?.clone())))
            .collect();
        let elements = match parent_mut(&mut record, &self.parent).and_then(|p| p.get_mut(&self.leaf)) {
            Some(Value::Array(items)) if !items.is_empty() => std::mem::take(items),
            _ => {
                return match self.on_missing {
                    OnMissing::Passthrough => {
                        out.push(with_carried(record, &carried));
                        Ok(())
                    }
                    OnMissing::Drop => Ok(()),
                    OnMissing::Error => Err(FaucetError::transform(format!(
                        "explode: path '{}' did not yield a non-empty array",
                        self.shown
                    ))),
                };
            }
        };
        let start = out.len();
        out.reserve(elements.len());
        // The array is out of `record`: each child copies the rest only.
        for element in elements {
            let mut child = record.clone();
            let parent = parent_mut(&mut child, &self.parent).expect("resolved above");
            match element {
                Value::Object(fields) => {
                    parent.remove(&self.leaf);
                    for (key, value) in fields {
                        let key = match &self.prefix {
                            Some((prefix, separator)) => format!("{prefix}{separator}{key}"),
                            None => key,
                        };
                        if parent.contains_key(&key) {
                            out.truncate(start);
                            return Err(FaucetError::transform(format!(
                                "explode produced duplicate key '{key}'"
                            )));
                        }
                        parent.insert(key, value);
                    }
                }
                other => {
                    parent.insert(self.leaf.clone(), other);
                }
            }
            out.push(with_carried(child, &carried));
        }
        Ok(())
    }
}

/// `record` with each carried `(field, value)` set (a record that is not an object has no fields).
fn with_carried(mut record: Record, carried: &[(&str, Value)]) -> Record {
    if let Value::Object(map) = &mut record {
        for (field, value) in carried {
            map.insert((*field).to_owned(), value.clone());
        }
    }
    record
}

/// The object at `keys` below `record`, when every value on the way is an object.
fn parent_mut<'a>(record: &'a mut Value, keys: &[String]) -> Option<&'a mut Map<String, Value>> {
    keys.iter().try_fold(record, |value, key| value.as_object_mut()?.get_mut(key))?.as_object_mut()
}

impl Transform for Explode {
    type Out = Record;
    const EXPANDS: bool = true;

    fn apply(&mut self, record: Record) -> Result<Option<Record>> {
        let mut out = Vec::new();
        self.explode(record, &mut out)?;
        at_most_one("explode", out)
    }

    #[inline]
    fn apply_into(&mut self, record: Record, out: &mut Vec<Record>) -> Result<()> {
        self.explode(record, out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(t: &mut Explode, record: Value) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        t.apply_into(record, &mut out).map(|()| out)
    }

    fn explode(path: &[&str], prefix: Option<&str>, on_missing: OnMissing) -> Explode {
        Explode::new(path.iter().copied(), prefix, "_", on_missing).unwrap()
    }

    #[test]
    fn object_elements_replace_the_array_with_prefixed_keys() {
        let mut t = explode(&["items"], None, OnMissing::Passthrough);
        let out =
            run(&mut t, json!({"id": 1, "items": [{"sku": "a", "qty": 2}, {"sku": "b"}], "z": 0})).unwrap();
        assert_eq!(
            out,
            [
                json!({"id": 1, "z": 0, "items_sku": "a", "items_qty": 2}),
                json!({"id": 1, "z": 0, "items_sku": "b"})
            ]
        );
        // Key order: the element's keys come after the parent's remaining keys.
        assert_eq!(
            out[0].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["id", "z", "items_sku", "items_qty"]
        );
        let mut bare = explode(&["items"], Some(""), OnMissing::Passthrough);
        assert_eq!(
            run(&mut bare, json!({"id": 1, "items": [{"sku": "a"}]})).unwrap(),
            [json!({"id": 1, "sku": "a"})]
        );
        let mut custom = Explode::new(["items"], Some("it"), ".", OnMissing::Passthrough).unwrap();
        assert_eq!(run(&mut custom, json!({"items": [{"sku": "a"}]})).unwrap(), [json!({"it.sku": "a"})]);
    }

    #[test]
    fn scalar_elements_take_the_array_fields_place() {
        let mut t = explode(&["tags"], None, OnMissing::Passthrough);
        let out = run(&mut t, json!({"tags": ["x", null, [1]], "id": 7})).unwrap();
        assert_eq!(
            out,
            [json!({"tags": "x", "id": 7}), json!({"tags": null, "id": 7}), json!({"tags": [1], "id": 7})]
        );
        assert_eq!(out[0].as_object().unwrap().keys().next().unwrap(), "tags", "keeps its place");
    }

    #[test]
    fn nested_paths_explode_inside_their_object() {
        let mut t = explode(&["order", "lines"], None, OnMissing::Passthrough);
        let out = run(&mut t, json!({"id": 1, "order": {"no": 5, "lines": [{"sku": "a"}, 3]}})).unwrap();
        assert_eq!(
            out,
            [
                json!({"id": 1, "order": {"no": 5, "lines_sku": "a"}}),
                json!({"id": 1, "order": {"no": 5, "lines": 3}})
            ]
        );
    }

    #[test]
    fn on_missing_decides_for_missing_empty_null_and_non_arrays() {
        let inputs = [
            json!({"id": 1}),
            json!({"id": 1, "a": []}),
            json!({"id": 1, "a": null}),
            json!({"id": 1, "a": "s"}),
        ];
        for input in inputs {
            let mut pass = explode(&["a"], None, OnMissing::Passthrough);
            assert_eq!(run(&mut pass, input.clone()).unwrap(), std::slice::from_ref(&input));
            let mut drop = explode(&["a"], None, OnMissing::Drop);
            assert_eq!(run(&mut drop, input.clone()).unwrap(), Vec::<Value>::new());
            let mut error = explode(&["a"], None, OnMissing::Error);
            let e = run(&mut error, input).unwrap_err();
            assert_eq!(e.message(), "explode: path '$.a' did not yield a non-empty array");
        }
        let mut nested = explode(&["o", "a"], None, OnMissing::Error);
        let e = run(&mut nested, json!({"o": 1})).unwrap_err();
        assert_eq!(e.message(), "explode: path '$.o.a' did not yield a non-empty array");
    }

    #[test]
    fn a_key_collision_rejects_the_whole_record() {
        let mut t = explode(&["items"], Some(""), OnMissing::Passthrough);
        let mut out = vec![json!("earlier")];
        let e = t.apply_into(json!({"id": 1, "items": [{"x": 1}, {"id": 2}]}), &mut out).unwrap_err();
        assert_eq!(e.message(), "explode produced duplicate key 'id'");
        assert_eq!(out, [json!("earlier")], "no child of the rejected record is left behind");
    }

    #[test]
    fn carry_copies_parent_values_onto_every_child() {
        let mut t = explode(&["o", "lines"], None, OnMissing::Passthrough)
            .carry("order_id", ["id"])
            .carry("gone", ["nope"]);
        let out = run(&mut t, json!({"id": 9, "o": {"lines": [1, 2]}})).unwrap();
        assert_eq!(
            out,
            [
                json!({"id": 9, "o": {"lines": 1}, "order_id": 9}),
                json!({"id": 9, "o": {"lines": 2}, "order_id": 9})
            ]
        );
        let out = run(&mut t, json!({"id": 9})).unwrap();
        assert_eq!(out, [json!({"id": 9, "order_id": 9})], "a passed-through record is carried onto too");
        // Carried values come from the record as it came, array included.
        let mut whole = explode(&["a"], None, OnMissing::Passthrough).carry("all", ["a"]);
        let out = run(&mut whole, json!({"a": [1, 2]})).unwrap();
        assert_eq!(out, [json!({"a": 1, "all": [1, 2]}), json!({"a": 2, "all": [1, 2]})]);
    }

    #[test]
    fn apply_yields_one_record_and_refuses_several() {
        let mut t = explode(&["a"], None, OnMissing::Passthrough);
        assert_eq!(t.apply(json!({"a": [1]})).unwrap(), Some(json!({"a": 1})));
        assert!(t.apply(json!({"a": [1, 2]})).is_err());
    }
}
