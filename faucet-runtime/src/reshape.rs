//! Changing the keys of a record's map without rebuilding it.
//!
//! serde_json's `Map` (an insertion-ordered hash map here) cannot rename a key,
//! so the obvious way to rename one is to build a new map: one hash and insert
//! per key, a new allocation, and the old map freed. When only a few keys of a
//! wide record change, which is the usual case both for a key transform and
//! for a source refilling a record whose keys a transform renamed, moving just
//! those entries is cheaper. These helpers do that.

use serde_json::{Map, Value};

/// Keys renamed in place at most; past that (or past a third of the map's
/// keys) rebuilding costs less than moving entries one by one.
const MOST_IN_PLACE: usize = 4;

/// How many of `len` keys may be renamed in place.
pub(crate) fn in_place_limit(len: usize) -> usize {
    (len / 3).min(MOST_IN_PLACE)
}

/// Whether `renames` (index, new name) may be applied by [`rename_at`]: no new
/// name is already a key of `map` and no two are equal.
pub(crate) fn renames_are_clear(map: &Map<String, Value>, renames: &[(usize, String)]) -> bool {
    renames
        .iter()
        .enumerate()
        .all(|(n, (_, new))| !map.contains_key(new) && renames[..n].iter().all(|(_, earlier)| earlier != new))
}

/// Gives the key at each index its new name, keeping every entry where it is.
///
/// The caller checks the renames with [`renames_are_clear`] first: a new name
/// that is already a key would move that entry instead.
pub(crate) fn rename_at(map: &mut Map<String, Value>, renames: Vec<(usize, String)>) {
    for (index, new) in renames {
        let old = map.keys().nth(index).expect("an index of the map").clone();
        let (_, value) = map.shift_remove_entry(&old).expect("a key of the map");
        map.shift_insert(index, new, value);
    }
}

/// A map whose keys are exactly `keys`, in order, made from `spare` (a spent
/// record) when it is a map: its keys are kept where they match, renamed in
/// place where a few differ, and its allocation reused otherwise. The values
/// are whatever `spare` held (or null): the caller overwrites every one.
#[cfg(any(feature = "files", feature = "postgres"))]
#[inline]
pub(crate) fn map_with_keys<'k, K>(spare: Option<Value>, keys: K) -> Map<String, Value>
where
    K: ExactSizeIterator<Item = &'k String> + Clone,
{
    match spare {
        // The usual case, inlined into the caller's per-row loop: the spare already has the keys.
        Some(Value::Object(map))
            if map.len() == keys.len() && map.keys().zip(keys.clone()).all(|(had, key)| had == key) =>
        {
            map
        }
        Some(Value::Object(map)) => reshape_map(map, keys),
        _ => fresh(keys),
    }
}

/// [`map_with_keys`] for a spare map whose keys differ.
#[cfg(any(feature = "files", feature = "postgres"))]
fn reshape_map<'k, K>(mut map: Map<String, Value>, keys: K) -> Map<String, Value>
where
    K: ExactSizeIterator<Item = &'k String> + Clone,
{
    if map.len() == keys.len() {
        let limit = in_place_limit(keys.len());
        let mut renames = Vec::new();
        let mut too_many = false;
        for (index, (had, key)) in map.keys().zip(keys.clone()).enumerate() {
            if had != key {
                if renames.len() == limit {
                    too_many = true;
                    break;
                }
                renames.push((index, key.clone()));
            }
        }
        if !too_many && renames_are_clear(&map, &renames) {
            rename_at(&mut map, renames);
            return map;
        }
    }
    map.clear();
    for key in keys {
        map.insert(key.clone(), Value::Null);
    }
    map
}

/// A new map with `keys`, every value null.
#[cfg(any(feature = "files", feature = "postgres"))]
fn fresh<'k>(keys: impl ExactSizeIterator<Item = &'k String>) -> Map<String, Value> {
    let mut map = Map::with_capacity(keys.len());
    for key in keys {
        map.insert(key.clone(), Value::Null);
    }
    map
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keys(map: &Map<String, Value>) -> Vec<&str> {
        map.keys().map(String::as_str).collect()
    }

    #[cfg(any(feature = "files", feature = "postgres"))]
    fn owned(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    #[cfg(any(feature = "files", feature = "postgres"))]
    fn a_matching_spare_is_kept_as_it_is() {
        let want = owned(&["a", "b", "c"]);
        let map = map_with_keys(Some(json!({"a": 1, "b": "x", "c": null})), want.iter());
        assert_eq!(Value::Object(map), json!({"a": 1, "b": "x", "c": null}));
    }

    #[test]
    #[cfg(any(feature = "files", feature = "postgres"))]
    fn a_few_renamed_keys_are_renamed_back_in_place() {
        let want = owned(&["id", "first_name", "b", "c", "d", "created_at", "e"]);
        let spare = json!({"id": 1, "firstName": "x", "b": 2, "c": 3, "d": 4, "createdTime": "t", "e": 5});
        let map = map_with_keys(Some(spare), want.iter());
        assert_eq!(keys(&map), want);
        assert_eq!(map["first_name"], json!("x"));
        assert_eq!(map["created_at"], json!("t"));
    }

    #[test]
    #[cfg(any(feature = "files", feature = "postgres"))]
    fn anything_else_gets_exactly_the_keys() {
        let want = owned(&["a", "b", "c", "d", "e", "f"]);
        let spares = [
            None,
            Some(json!("not a map")),
            Some(json!({"a": 1})),
            Some(json!({"z": 1, "y": 2, "x": 3, "w": 4, "v": 5, "u": 6})),
            // A swap: renaming in place would need a name the map still holds.
            Some(json!({"b": 1, "a": 2, "c": 3, "d": 4, "e": 5, "f": 6})),
            Some(json!({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7})),
        ];
        for spare in spares {
            let map = map_with_keys(spare.clone(), want.iter());
            assert_eq!(keys(&map), want, "from {spare:?}");
        }
    }

    #[test]
    fn renames_keep_positions() {
        let mut map = json!({"a": 1, "b": 2, "c": 3, "d": 4}).as_object().unwrap().clone();
        let renames = vec![(1, "B".to_owned()), (3, "D".to_owned())];
        assert!(renames_are_clear(&map, &renames));
        rename_at(&mut map, renames);
        assert_eq!(keys(&map), ["a", "B", "c", "D"]);
        assert_eq!(Value::Object(map), json!({"a": 1, "B": 2, "c": 3, "D": 4}));
        let map = json!({"a": 1, "b": 2}).as_object().unwrap().clone();
        assert!(!renames_are_clear(&map, &[(0, "b".to_owned())]));
        assert!(!renames_are_clear(&map, &[(0, "x".to_owned()), (1, "x".to_owned())]));
    }
}
