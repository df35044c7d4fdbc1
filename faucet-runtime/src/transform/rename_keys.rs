//! The `rename_keys` transform, and the recursive re-keying walk it shares
//! with `keys_case`.
//!
//! Both transforms rename keys in place, at every depth (objects nested in
//! objects and objects inside arrays). An object none of whose keys changes is
//! left untouched, so a record already in shape costs no allocation.

use std::collections::HashMap;

// What becomes of a key: one implementation with faucet-gen, which maps
// schemas through it at build time.
use faucet_keys::{check_replacement, rename};
use serde_json::map::Entry;
use serde_json::{Map, Value};

use super::chain::Transform;
use crate::error::{FaucetError, Result};
use crate::page::Record;
use crate::reshape;

/// Rewrites every key, recursively, with a regex replacement.
///
/// The pattern is applied with [`regex::Regex::replace_all`], so the
/// replacement may use `$1`, `$name` and `${name}` for capture groups.
///
/// Two keys of one object that end up with the same name are an error rather
/// than one silently overwriting the other: losing a field without a trace is
/// worse than sending the record to the dead-letter queue. So is a key that
/// would become empty.
#[derive(Debug, Clone)]
pub struct RenameKeys {
    pattern: regex::Regex,
    replacement: String,
    memo: KeyMemo,
}

impl RenameKeys {
    /// A rename of every key matching `pattern` with `replacement`.
    ///
    /// Generated code passes patterns and replacements the generator already
    /// checked; a hand-built pipeline gets an
    /// [`ErrorKind::Config`](crate::error::ErrorKind::Config) error naming the
    /// pattern when it is not a valid regex, or the reference when the
    /// replacement refers to a group the pattern lacks.
    pub fn new(pattern: &str, replacement: impl Into<String>) -> Result<Self> {
        let pattern = regex::Regex::new(pattern).map_err(|e| {
            FaucetError::config(format!("rename_keys: pattern {pattern:?} is not a valid regex: {e}"))
        })?;
        let replacement = replacement.into();
        check_replacement(&pattern, &replacement).map_err(|bad| {
            FaucetError::config(format!("rename_keys: replacement {replacement:?}: {bad}; {}", bad.help()))
        })?;
        Ok(RenameKeys { pattern, replacement, memo: KeyMemo::default() })
    }
}

impl RenameKeys {
    /// Renames every key of `value`, recursively: the whole record, or (on a
    /// typed stream, whose own keys were renamed at build time) a `json` field's value.
    pub fn rekey(&mut self, value: &mut Value) -> Result<()> {
        let RenameKeys { pattern, replacement, memo } = self;
        // The first key the replacement empties; it keeps its name meanwhile.
        let mut emptied: Option<String> = None;
        let mut new_name = |key: &str| match memo.get(key, |key| rename(pattern, replacement, key)) {
            Some(new) if new.is_empty() && !key.is_empty() => {
                emptied.get_or_insert_with(|| key.to_owned());
                None
            }
            other => other,
        };
        rekey(value, &mut new_name).map_err(|c| {
            FaucetError::transform(format!(
                "rename_keys: key {:?} becomes {:?}, which another key of the same object ({:?}) already takes",
                c.second, c.key, c.first
            ))
        })?;
        match emptied {
            Some(key) => Err(FaucetError::transform(format!(
                "rename_keys: key {key:?} would become empty (pattern {:?}, replacement {replacement:?})",
                pattern.as_str()
            ))),
            None => Ok(()),
        }
    }
}

impl Transform for RenameKeys {
    type Out = Record;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        self.rekey(&mut record)?;
        Ok(Some(record))
    }
}

/// What a re-keying made of each key it has seen, so records that share their
/// keys (nearly every record of one source) pay for the regex or the case
/// conversion once per distinct key rather than once per key of every record.
///
/// Bounded: it starts over after [`KeyMemo::CAPACITY`] distinct keys, so
/// records with ever-new keys cost what they did without it, and no more memory.
#[derive(Debug, Clone, Default)]
pub(super) struct KeyMemo {
    known: HashMap<String, Option<String>, foldhash::fast::RandomState>,
}

impl KeyMemo {
    /// Distinct keys remembered at most.
    const CAPACITY: usize = 4096;

    /// What `convert` makes of `key` (`None`: the key stays), computed once per key.
    pub(super) fn get(&mut self, key: &str, convert: impl FnOnce(&str) -> Option<String>) -> Option<String> {
        if let Some(known) = self.known.get(key) {
            return known.clone();
        }
        let converted = convert(key);
        if self.known.len() >= Self::CAPACITY {
            self.known.clear();
        }
        self.known.insert(key.to_owned(), converted.clone());
        converted
    }
}

/// Two keys of one object that a re-keying mapped to the same name.
#[derive(Debug)]
pub(super) struct Collision {
    /// The original name of the key that took `key` first.
    pub(super) first: String,
    /// The original name of the key that collided with it.
    pub(super) second: String,
    /// The name both keys map to.
    pub(super) key: String,
}

/// Renames every key of `value`, recursively, with `rename`, which returns
/// `None` for a key that keeps its name.
///
/// Objects whose keys all stay are not rebuilt. On a collision the walk stops
/// and `value` is left partially rebuilt: callers own the record and drop it.
pub(super) fn rekey<F>(value: &mut Value, rename: &mut F) -> Result<(), Collision>
where
    F: FnMut(&str) -> Option<String>,
{
    match value {
        Value::Object(map) => rekey_object(map, rename),
        Value::Array(items) => items.iter_mut().try_for_each(|item| rekey(item, rename)),
        _ => Ok(()),
    }
}

fn rekey_object<F>(map: &mut Map<String, Value>, rename: &mut F) -> Result<(), Collision>
where
    F: FnMut(&str) -> Option<String>,
{
    // Find the first key that changes; until then nothing needs rebuilding.
    let first_change = map.keys().enumerate().find_map(|(i, key)| rename(key).map(|new| (i, new)));
    let Some((first_index, first_name)) = first_change else {
        return map.values_mut().try_for_each(|value| rekey(value, rename));
    };
    let first_name = match rename_in_place(map, first_index, first_name, rename) {
        Ok(()) => return map.values_mut().try_for_each(|value| rekey(value, rename)),
        Err(first_name) => first_name,
    };
    rebuild(map, first_index, first_name, rename)
}

/// Renames the keys of `map` that change without rebuilding it, when few do
/// (a record's usual case: one or two keys of many): each renamed key costs
/// three hash probes instead of one insert per key of the map. `first_name` is
/// the new name of the key at `first_index`, the first key that changes.
///
/// Declines (handing `first_name` back) when rebuilding is cheaper, or when a
/// new name is already a key of the map (a collision, or keys renamed into
/// each other's names), which [`rebuild`] sorts out.
fn rename_in_place<F>(
    map: &mut Map<String, Value>,
    first_index: usize,
    first_name: String,
    rename: &mut F,
) -> Result<(), String>
where
    F: FnMut(&str) -> Option<String>,
{
    let most = reshape::in_place_limit(map.len());
    if most == 0 {
        return Err(first_name);
    }
    let mut renames = Vec::with_capacity(most + 1);
    renames.push((first_index, first_name));
    for (i, key) in map.keys().enumerate().skip(first_index + 1) {
        if let Some(new) = rename(key) {
            renames.push((i, new));
            if renames.len() > most {
                return Err(renames.swap_remove(0).1);
            }
        }
    }
    if !reshape::renames_are_clear(map, &renames) {
        return Err(renames.swap_remove(0).1);
    }
    reshape::rename_at(map, renames);
    Ok(())
}

/// Rebuilds `map` with every key renamed, detecting collisions; `first_name`
/// is the new name of the key at `first_index`, the first key that changes.
fn rebuild<F>(
    map: &mut Map<String, Value>,
    first_index: usize,
    first_name: String,
    rename: &mut F,
) -> Result<(), Collision>
where
    F: FnMut(&str) -> Option<String>,
{
    let old = std::mem::take(map);
    let mut out = Map::with_capacity(old.len());
    // Originals of renamed keys, kept (they are already allocated) only to name
    // the first key of a collision.
    let mut renamed: Vec<String> = Vec::new();
    let mut first_name = Some(first_name);
    for (i, (key, mut value)) in old.into_iter().enumerate() {
        rekey(&mut value, rename)?;
        let new = match i.cmp(&first_index) {
            std::cmp::Ordering::Less => None,
            std::cmp::Ordering::Equal => first_name.take(),
            std::cmp::Ordering::Greater => rename(&key),
        };
        let (name, original) = match new {
            Some(new) => (new, Some(key)),
            None => (key, None),
        };
        match out.entry(name) {
            Entry::Vacant(slot) => {
                slot.insert(value);
            }
            Entry::Occupied(taken) => {
                let name = taken.key().clone();
                // At most one earlier key holds `name`: a renamed one, or else the
                // key that already had that name.
                let first = renamed
                    .iter()
                    .find(|earlier| rename(earlier).as_deref() == Some(name.as_str()))
                    .cloned()
                    .unwrap_or_else(|| name.clone());
                let second = original.unwrap_or_else(|| name.clone());
                return Err(Collision { first, second, key: name });
            }
        }
        if let Some(original) = original {
            renamed.push(original);
        }
    }
    *map = out;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorKind;

    fn run(pattern: &str, replacement: &str, record: Value) -> Result<Value> {
        RenameKeys::new(pattern, replacement)?.apply(record).map(|r| r.expect("never drops"))
    }

    #[test]
    fn invalid_pattern_is_a_config_error_naming_it() {
        let err = RenameKeys::new("^(unclosed", "x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("\"^(unclosed\""), "{err}");
        assert!(err.to_string().contains("unclosed group"), "{err}");
    }

    fn keys(value: &Value) -> Vec<&str> {
        value.as_object().expect("object").keys().map(String::as_str).collect()
    }

    #[test]
    fn replaces_with_numbered_groups() {
        let out = run(r"^(\w+)_id$", "${1}Id", json!({"user_id": 1, "name": "x", "order_id": 2})).unwrap();
        assert_eq!(out, json!({"userId": 1, "name": "x", "orderId": 2}));
        assert_eq!(keys(&out), ["userId", "name", "orderId"]);
    }

    #[test]
    fn replaces_with_dollar_one_and_named_groups() {
        let out = run(r"^col_(\d+)$", "c$1", json!({"col_1": true, "col_22": false})).unwrap();
        assert_eq!(out, json!({"c1": true, "c22": false}));
        let out =
            run(r"^(?P<head>[a-z]+)-(?P<tail>[a-z]+)$", "${tail}_${head}", json!({"ab-cd": 1})).unwrap();
        assert_eq!(out, json!({"cd_ab": 1}));
    }

    #[test]
    fn replaces_every_match_in_a_key() {
        let out = run("-", "_", json!({"a-b-c": 1})).unwrap();
        assert_eq!(out, json!({"a_b_c": 1}));
    }

    #[test]
    fn recurses_into_objects_and_arrays_of_objects() {
        let record = json!({
            "x-a": {"x-b": 1, "keep": [ {"x-c": 2}, 3, [ {"x-d": 4} ] ]},
            "list": [ {"x-e": {"x-f": null}} ]
        });
        let out = run("^x-", "y_", record).unwrap();
        assert_eq!(
            out,
            json!({
                "y_a": {"y_b": 1, "keep": [ {"y_c": 2}, 3, [ {"y_d": 4} ] ]},
                "list": [ {"y_e": {"y_f": null}} ]
            })
        );
    }

    #[test]
    fn leaves_values_alone() {
        let out = run("a", "b", json!({"k": "a", "list": ["a"]})).unwrap();
        assert_eq!(out, json!({"k": "a", "list": ["a"]}));
    }

    #[test]
    fn no_match_leaves_record_unchanged() {
        let record = json!({"one": 1, "two": {"three": [ {"four": 4} ]}});
        let out = run("^zzz", "q", record.clone()).unwrap();
        assert_eq!(out, record);
        assert_eq!(keys(&out), ["one", "two"]);
    }

    #[test]
    fn keeps_key_order_when_renaming() {
        let out = run("^b$", "z", json!({"a": 1, "b": 2, "c": 3})).unwrap();
        assert_eq!(keys(&out), ["a", "z", "c"]);
    }

    #[test]
    fn renames_a_few_keys_of_a_wide_object_in_place_keeping_order() {
        let record =
            json!({"id": 1, "created_at": {"inner_at": 2}, "b": 3, "c": 4, "updated_at": 5, "d": 6, "e": 7});
        let out = run("^(.*)_at$", "${1}Time", record).unwrap();
        assert_eq!(keys(&out), ["id", "createdTime", "b", "c", "updatedTime", "d", "e"]);
        assert_eq!(out["createdTime"], json!({"innerTime": 2}));
        assert_eq!(out["updatedTime"], json!(5));
    }

    #[test]
    fn keys_renamed_into_each_others_names_are_not_collisions() {
        // `a` takes `ax`'s name while `ax` becomes `axx`: one rename after the other.
        let record = json!({"a": 1, "ax": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7});
        let out = run("^(ax?)$", "${1}x", record).unwrap();
        assert_eq!(keys(&out), ["ax", "axx", "c", "d", "e", "f", "g"]);
        assert_eq!((&out["ax"], &out["axx"]), (&json!(1), &json!(2)));
        // In either order.
        let record = json!({"ax": 2, "a": 1, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7});
        let out = run("^(ax?)$", "${1}x", record).unwrap();
        assert_eq!(keys(&out), ["axx", "ax", "c", "d", "e", "f", "g"]);
        assert_eq!((&out["ax"], &out["axx"]), (&json!(1), &json!(2)));
    }

    #[test]
    fn collision_in_a_wide_object_is_an_error() {
        let record = json!({"user_id": 1, "a": 2, "b": 3, "c": 4, "d": 5, "e": 6, "id": 7});
        let err = run("^user_", "", record).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        assert!(err.message().contains("\"user_id\""), "{err}");
    }

    #[test]
    fn a_key_that_would_become_empty_is_an_error_naming_it() {
        let err = run("^user_(id)?", "${1}", json!({"user_id": 1, "x": {"user_": 2}})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        assert!(err.message().contains("\"user_\" would become empty"), "{err}");
        // Every time, not only the first (the rename is remembered per key).
        let mut t = RenameKeys::new("^x$", "").unwrap();
        for _ in 0..2 {
            assert!(t.apply(json!({"x": 1})).is_err());
        }
        assert_eq!(run("^x$", "", json!({"y": 1})).unwrap(), json!({"y": 1}));
        // The empty key itself is not made empty.
        assert_eq!(run("^$", "", json!({"": 1})).unwrap(), json!({"": 1}));
    }

    #[test]
    fn replacement_naming_a_missing_group_is_a_config_error() {
        let err = RenameKeys::new(r"^(\w+)Id$", "$1_id").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("`${1}_id`"), "{err}");
        let err = RenameKeys::new(r"^(\w+)Id$", "$2").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
    }

    #[test]
    fn faucet_stream_escaped_group_after_unescaping() {
        // faucet-stream writes `$${1}_id` and hands the regex `${1}_id`.
        let out = run(r"^(.+)Id$", "${1}_id", json!({"userId": 1})).unwrap();
        assert_eq!(out, json!({"user_id": 1}));
    }

    #[test]
    fn non_objects_pass_through() {
        assert_eq!(run("a", "b", json!("a")).unwrap(), json!("a"));
        assert_eq!(run("a", "b", json!(null)).unwrap(), json!(null));
        assert_eq!(run("a", "b", json!([{"a": 1}])).unwrap(), json!([{"b": 1}]));
    }

    #[test]
    fn collision_with_an_unchanged_key_is_an_error() {
        let err = run("^user_", "", json!({"id": 1, "user_id": 2})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        assert!(err.message().contains("\"id\""), "{err}");
        assert!(err.message().contains("\"user_id\""), "{err}");

        // The renamed key first, the unchanged one second.
        let err = run("^user_", "", json!({"user_id": 2, "id": 1})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        assert!(err.message().contains("\"id\""), "{err}");
        assert!(err.message().contains("\"user_id\""), "{err}");
    }

    #[test]
    fn collision_between_two_renamed_keys_is_an_error() {
        let err = run("[-.]", "_", json!({"a-b": 1, "x": 0, "a.b": 2})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        let message = err.message();
        assert!(message.contains("\"a_b\""), "{message}");
        assert!(message.contains("\"a-b\""), "{message}");
        assert!(message.contains("\"a.b\""), "{message}");
    }

    #[test]
    fn collision_in_a_nested_object_is_an_error() {
        let err = run("^b$", "a", json!({"outer": [ {"a": 1, "b": 2} ]})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transform);
        assert!(err.message().contains("\"a\""), "{err}");
    }

    #[test]
    fn same_names_in_different_objects_do_not_collide() {
        let out = run("^b$", "a", json!({"x": {"b": 1}, "y": {"b": 2}})).unwrap();
        assert_eq!(out, json!({"x": {"a": 1}, "y": {"a": 2}}));
    }
}
