//! `filter`: keeps the records whose field at a path satisfies a predicate.
//!
//! The semantics are faucet-stream 1.17's: `eq` and `in` are false for a
//! missing field, `ne` and `not_in` true; `exists` means present and not
//! null; values compare as JSON with one number type (`1` equals `1.0`,
//! `"1"` is not `1`). faucet-gen parses and checks the condition at build
//! time; here the path is a list of keys and the predicate a value built
//! once, when the pipeline starts.

use serde_json::{Number, Value};

use super::chain::Transform;
use crate::error::Result;
use crate::page::Record;

/// What `filter` asks of the value at its path.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// Equal to the value (a missing field is not).
    Eq(Value),
    /// Not equal to the value (a missing field is not equal).
    Ne(Value),
    /// Present and not null.
    Exists,
    /// Equal to one of the values (a missing field is not).
    In(Vec<Value>),
    /// Equal to none of the values (a missing field is equal to none).
    NotIn(Vec<Value>),
}

impl Predicate {
    /// Whether `found`, the value at the path (`None`: missing), satisfies it.
    pub fn holds(&self, found: Option<&Value>) -> bool {
        match (self, found) {
            (Predicate::Eq(want), Some(v)) => json_eq(v, want),
            (Predicate::Ne(want), Some(v)) => !json_eq(v, want),
            (Predicate::Exists, Some(v)) => !v.is_null(),
            (Predicate::In(list), Some(v)) => list.iter().any(|want| json_eq(v, want)),
            (Predicate::NotIn(list), Some(v)) => !list.iter().any(|want| json_eq(v, want)),
            (Predicate::Eq(_) | Predicate::Exists | Predicate::In(_), None) => false,
            (Predicate::Ne(_) | Predicate::NotIn(_), None) => true,
        }
    }
}

/// Keeps a record when the value at `path` satisfies the predicate; drops it otherwise.
#[derive(Debug, Clone)]
pub struct Filter {
    path: Vec<String>,
    predicate: Predicate,
}

impl Filter {
    /// A filter on the value reached by `path`'s keys, one per level
    /// (`["user", "age"]` for faucet-stream's `user.age`).
    pub fn new<K: Into<String>>(path: impl IntoIterator<Item = K>, predicate: Predicate) -> Self {
        Filter { path: path.into_iter().map(Into::into).collect(), predicate }
    }

    /// Whether `record` is kept.
    pub fn keeps(&self, record: &Value) -> bool {
        self.predicate.holds(resolve(record, &self.path))
    }
}

impl Transform for Filter {
    type Out = Record;
    const CAN_FAIL: bool = false;

    #[inline]
    fn apply(&mut self, record: Record) -> Result<Option<Record>> {
        Ok(self.keeps(&record).then_some(record))
    }
}

/// The value at `path` (keys from the record down through objects); `None`
/// when a key is missing or a value on the way is not an object.
pub(crate) fn resolve<'a>(record: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(record, |value, key| value.as_object()?.get(key))
}

/// JSON equality with one number type: numbers are equal when they are the
/// same number, however written (`1`, `1.0`, `1e0`); everything else as JSON.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_eq(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q)))
        }
        _ => a == b,
    }
}

fn number_eq(x: &Number, y: &Number) -> bool {
    if x == y {
        return true;
    }
    let int = |n: &Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    match (int(x), int(y)) {
        (Some(a), Some(b)) => a == b,
        (Some(i), None) => float_is(y.as_f64(), i),
        (None, Some(i)) => float_is(x.as_f64(), i),
        (None, None) => x.as_f64().is_some_and(|a| y.as_f64() == Some(a)),
    }
}

/// Whether `f` is exactly the integer `i`.
fn float_is(f: Option<f64>, i: i128) -> bool {
    f.is_some_and(|f| f.fract() == 0.0 && f.abs() < 2f64.powi(100) && f as i128 == i && i as f64 == f)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keeps(path: &[&str], predicate: Predicate, record: Value) -> bool {
        let mut f = Filter::new(path.iter().copied(), predicate);
        f.apply(record).unwrap().is_some()
    }

    #[test]
    fn eq_and_ne_treat_a_missing_field_as_faucet_stream_does() {
        let eq = || Predicate::Eq(json!("active"));
        assert!(keeps(&["status"], eq(), json!({"status": "active"})));
        assert!(!keeps(&["status"], eq(), json!({"status": "gone"})));
        assert!(!keeps(&["status"], eq(), json!({})));
        let ne = || Predicate::Ne(json!("active"));
        assert!(keeps(&["status"], ne(), json!({})), "missing → kept");
        assert!(keeps(&["status"], ne(), json!({"status": null})));
        assert!(!keeps(&["status"], ne(), json!({"status": "active"})));
    }

    #[test]
    fn numbers_compare_as_numbers_and_never_as_text() {
        let eq = |v: Value| Predicate::Eq(v);
        assert!(keeps(&["n"], eq(json!(1)), json!({"n": 1.0})));
        assert!(keeps(&["n"], eq(json!(1.5)), json!({"n": 1.50})));
        assert!(keeps(&["n"], eq(json!(-3)), json!({"n": -3})));
        assert!(!keeps(&["n"], eq(json!(1)), json!({"n": "1"})));
        assert!(!keeps(&["n"], eq(json!(1)), json!({"n": 1.000001})));
        assert!(keeps(&["n"], eq(json!(u64::MAX)), json!({"n": u64::MAX})));
        assert!(!keeps(&["n"], eq(json!(u64::MAX)), json!({"n": u64::MAX - 1})));
        assert!(keeps(&["o"], eq(json!({"a": [1, 2]})), json!({"o": {"a": [1.0, 2]}})));
        assert!(!keeps(&["o"], eq(json!({"a": [1, 2]})), json!({"o": {"a": [1, 2], "b": 0}})));
    }

    #[test]
    fn exists_in_and_not_in() {
        assert!(keeps(&["a"], Predicate::Exists, json!({"a": 0})));
        assert!(keeps(&["a"], Predicate::Exists, json!({"a": false})));
        assert!(!keeps(&["a"], Predicate::Exists, json!({"a": null})));
        assert!(!keeps(&["a"], Predicate::Exists, json!({})));
        let list = || vec![json!("x"), json!(2)];
        assert!(keeps(&["a"], Predicate::In(list()), json!({"a": 2.0})));
        assert!(!keeps(&["a"], Predicate::In(list()), json!({})));
        assert!(!keeps(&["a"], Predicate::In(list()), json!({"a": "2"})));
        assert!(keeps(&["a"], Predicate::NotIn(list()), json!({})));
        assert!(!keeps(&["a"], Predicate::NotIn(list()), json!({"a": "x"})));
        assert!(keeps(&["a"], Predicate::NotIn(vec![]), json!({"a": 1})));
    }

    #[test]
    fn nested_paths_walk_objects_only() {
        let eq = || Predicate::Eq(json!(30));
        assert!(keeps(&["user", "age"], eq(), json!({"user": {"age": 30}})));
        assert!(!keeps(&["user", "age"], eq(), json!({"user": [{"age": 30}]})));
        assert!(!keeps(&["user", "age"], eq(), json!({"user": null})));
        assert!(keeps(&["a.b"], eq(), json!({"a.b": 30, "a": {"b": 1}})), "one key with a dot");
        assert!(!keeps(&["x"], eq(), json!([1, 2])), "a record that is not an object");
    }
}
