//! Taking the records out of a response, and the incremental filter.

use std::cmp::Ordering;

use serde_json::Value;
use serde_json_path::JsonPath;

/// The records of a parsed response, moved out of it (no deep copies).
///
/// Without a path an array body is the records, `null` is none and any other
/// value is one record. With a path, the selected nodes are the records; a
/// single selected array stands for its elements, so `$.data` and `$.data[*]`
/// agree.
pub(super) fn extract(path: Option<&JsonPath>, body: &mut Value) -> Vec<Value> {
    let Some(path) = path else {
        return spread(body.take());
    };
    let located = path.query_located(body);
    if located.is_empty() {
        return Vec::new();
    }
    if let Some(only) = located.first().filter(|_| located.len() == 1) {
        let pointer = only.location().to_json_pointer();
        // An array element selected alone is one record even when it is an array.
        let element = only.location().last().is_some_and(|e| e.is_index());
        drop(located);
        return match body.pointer_mut(&pointer) {
            Some(node) if element => vec![node.take()],
            Some(node) => spread(node.take()),
            None => Vec::new(),
        };
    }
    // The common case, `$.data[*]`: every element of one array, in order. Take
    // the array whole.
    let nodes: Vec<_> = located.iter().collect();
    let first = nodes[0].location();
    let parent_len = first.len().saturating_sub(1);
    let whole_array = nodes.iter().enumerate().all(|(i, n)| {
        let loc = n.location();
        loc.len() == first.len()
            && loc.last().and_then(|e| e.as_index()) == Some(i)
            && (0..parent_len).all(|j| loc.get(j) == first.get(j))
    });
    if whole_array {
        let mut parent = first.to_json_pointer();
        let cut = parent.rfind('/').unwrap_or(0);
        parent.truncate(cut);
        let count = nodes.len();
        drop(nodes);
        drop(located);
        if let Some(Value::Array(items)) = body.pointer_mut(&parent)
            && items.len() == count
        {
            return std::mem::take(items);
        }
        return path.query(body).all().into_iter().cloned().collect();
    }
    // Scattered nodes: move each out by its pointer, unless one lies inside
    // another (`$..x`), where moving the outer one would lose the inner.
    let mut pointers: Vec<String> = nodes.iter().map(|n| n.location().to_json_pointer()).collect();
    drop(nodes);
    drop(located);
    let mut sorted: Vec<&String> = pointers.iter().collect();
    sorted.sort();
    let nested =
        sorted.windows(2).any(|w| w[1].starts_with(w[0].as_str()) && w[1][w[0].len()..].starts_with('/'));
    if nested {
        return path.query(body).all().into_iter().cloned().collect();
    }
    pointers.iter_mut().filter_map(|p| body.pointer_mut(p).map(Value::take)).collect()
}

fn spread(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Incremental replication: keeps records whose key is at or above the value
/// this run sent, and tracks the largest key seen.
#[derive(Debug)]
pub(super) struct Filter {
    key: String,
    sent: Option<Value>,
    max: Option<Value>,
}

impl Filter {
    pub(super) fn new(key: String, sent: Option<Value>, max: Option<Value>) -> Self {
        Filter { key, sent, max }
    }

    /// The value this run sends and filters by.
    pub(super) fn sent(&self) -> Option<&Value> {
        self.sent.as_ref()
    }

    /// The largest key seen so far.
    pub(super) fn max(&self) -> Option<&Value> {
        self.max.as_ref()
    }

    /// Drops the records below the sent value, and those without the key;
    /// keeps those equal to it, as faucet-stream 1.17 does: a record sharing
    /// the previous run's largest value but written after that run read it
    /// would otherwise never be read (the cost: such records are read again).
    /// records whose key cannot be compared (a string against a number) are
    /// kept, with a warning.
    pub(super) fn apply(&mut self, records: &mut Vec<Value>) {
        let (mut missing, mut mismatched, before) = (0usize, 0usize, records.len());
        let key = self.key.as_str();
        let sent = self.sent.as_ref();
        records.retain(|record| {
            let Some(value) = record.get(key).filter(|v| !v.is_null()) else {
                missing += 1;
                return false;
            };
            match sent.map(|s| compare(value, s)) {
                None | Some(Some(Ordering::Greater | Ordering::Equal)) => true,
                Some(Some(_)) => false,
                Some(None) => {
                    mismatched += 1;
                    true
                }
            }
        });
        let mut best = self.max.as_ref();
        let mut improved = None;
        for record in records.iter() {
            let Some(value) = record.get(key) else { continue };
            if best.is_none_or(|b| compare(value, b) == Some(Ordering::Greater)) {
                best = Some(value);
                improved = Some(value);
            }
        }
        if let Some(value) = improved {
            self.max = Some(value.clone());
        }
        if missing > 0 {
            tracing::warn!(
                key,
                count = missing,
                "rest: dropped records without the replication key ({} of {before})",
                missing
            );
        }
        if mismatched > 0 {
            tracing::warn!(
                key,
                count = mismatched,
                "rest: kept records whose replication key has another type than the bookmark"
            );
        }
    }
}

/// Orders two replication values: numbers by their exact value, strings
/// lexicographically, anything else not at all.
pub(super) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Some(crate::number::cmp(x, y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod unit {
    use serde_json::json;

    use super::*;

    fn path(p: &str) -> JsonPath {
        JsonPath::parse(p).unwrap()
    }

    #[test]
    fn extracts_without_copies_where_it_can() {
        let mut body = json!({"data": [{"id": 1}, {"id": 2}], "next": "x"});
        assert_eq!(extract(Some(&path("$.data[*]")), &mut body), [json!({"id": 1}), json!({"id": 2})]);
        assert_eq!(body, json!({"data": [], "next": "x"}));
        let mut body = json!({"data": [{"id": 1}, {"id": 2}]});
        assert_eq!(extract(Some(&path("$.data")), &mut body).len(), 2);
        let mut body = json!({"data": [{"id": 1}, {"id": 2}, {"id": 3}]});
        assert_eq!(extract(Some(&path("$.data[1:]")), &mut body), [json!({"id": 2}), json!({"id": 3})]);
        let mut body = json!({"a": {"x": {"x": 1}}});
        assert_eq!(extract(Some(&path("$..x")), &mut body), [json!({"x": 1}), json!(1)]);
        let mut body = json!([1, 2]);
        assert_eq!(extract(None, &mut body), [json!(1), json!(2)]);
        let mut body = json!({"one": true});
        assert_eq!(extract(None, &mut body), [json!({"one": true})]);
        let mut body = json!({"data": [[1, 2]]});
        assert_eq!(extract(Some(&path("$.data[*]")), &mut body), [json!([1, 2])]);
        let mut body = json!({"data": []});
        assert!(extract(Some(&path("$.missing[*]")), &mut body).is_empty());
    }

    #[test]
    fn filter_keeps_records_at_or_above_the_bookmark() {
        let mut f = Filter::new("k".into(), Some(json!(5)), Some(json!(5)));
        let mut records =
            vec![json!({"k": 4}), json!({"k": 5}), json!({"k": 9}), json!({"x": 1}), json!({"k": 7})];
        f.apply(&mut records);
        // 5 equals the bookmark: kept, as faucet-stream 1.17 keeps it.
        assert_eq!(records, [json!({"k": 5}), json!({"k": 9}), json!({"k": 7})]);
        assert_eq!(f.max(), Some(&json!(9)));
        let mut f = Filter::new("k".into(), Some(json!("2024-01-02")), None);
        let mut records = vec![json!({"k": "2024-01-01"}), json!({"k": "2024-01-02"})];
        f.apply(&mut records);
        assert_eq!(records, [json!({"k": "2024-01-02"})]);
        let mut f = Filter::new("k".into(), None, None);
        let mut records = vec![json!({"k": "2024-01-02"}), json!({"k": "2024-01-10"})];
        f.apply(&mut records);
        assert_eq!(records.len(), 2);
        assert_eq!(f.max(), Some(&json!("2024-01-10")));
        assert_eq!(compare(&json!(1.5), &json!(1)), Some(Ordering::Greater));
        assert_eq!(compare(&json!("1"), &json!(1)), None);
    }
}
