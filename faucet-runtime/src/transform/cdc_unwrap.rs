//! `cdc_unwrap`: change records (`{op, before, after, …}`) into plain rows
//! for a keyed sink.
//!
//! `insert`, `update` and `read` (snapshot) records become their `after` row;
//! a delete becomes its `before` row (the old key, or the old row) plus the
//! marker field set to `true`, which the `postgres` sink's `delete_marker:
//! {field: _deleted, values: [true]}` turns into a DELETE. Ops listed in
//! `drop_ops` are dropped. A `truncate` has no row form: unless dropped, it
//! is rejected (to the dead-letter queue when there is one), because a keyed
//! sink cannot express "delete every row" and silently skipping it would
//! leave the replica different from the source.

use serde_json::Value;

use super::chain::Transform;
use crate::error::{FaucetError, Result};
use crate::page::Record;

/// Settings of [`CdcUnwrap`].
#[derive(Debug, Clone, PartialEq)]
pub struct CdcUnwrapConfig {
    /// The field holding the operation (default `op`).
    pub op_field: String,
    /// The field holding the new row (default `after`).
    pub after_field: String,
    /// The field holding the old row or key (default `before`).
    pub before_field: String,
    /// A field holding the key, used for deletes whose `before` is empty.
    pub key_field: Option<String>,
    /// The field set to `true` on delete rows (default `_deleted`).
    pub marker_field: String,
    /// Ops that delete (default `delete`).
    pub delete_ops: Vec<String>,
    /// Ops whose records are dropped (default none).
    pub drop_ops: Vec<String>,
}

impl Default for CdcUnwrapConfig {
    fn default() -> Self {
        CdcUnwrapConfig {
            op_field: "op".into(),
            after_field: "after".into(),
            before_field: "before".into(),
            key_field: None,
            marker_field: "_deleted".into(),
            delete_ops: vec!["delete".into()],
            drop_ops: Vec::new(),
        }
    }
}

/// Turns change records into rows plus a delete marker.
#[derive(Debug, Clone)]
pub struct CdcUnwrap {
    config: CdcUnwrapConfig,
}

impl CdcUnwrap {
    /// A transform with `config`.
    pub fn new(config: CdcUnwrapConfig) -> Self {
        CdcUnwrap { config }
    }
}

/// The ops whose `after` row is the record (faucet's names, then Debezium's letters).
const ROW_OPS: &[&str] = &["insert", "update", "read", "c", "u", "r"];

impl Transform for CdcUnwrap {
    type Out = Record;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        let c = &self.config;
        let fail = |message: String| FaucetError::transform(format!("cdc_unwrap: {message}"));
        let Some(object) = record.as_object_mut() else {
            return Err(fail("the record is not an object".into()));
        };
        let op = match object.get(&c.op_field) {
            Some(Value::String(op)) => op.clone(),
            _ => return Err(fail(format!("the record has no string `{}`", c.op_field))),
        };
        if c.drop_ops.contains(&op) {
            return Ok(None);
        }
        let take_row = |object: &mut serde_json::Map<String, Value>, field: &str| match object.remove(field) {
            Some(Value::Object(row)) => Some(row),
            _ => None,
        };
        if c.delete_ops.contains(&op) {
            let mut row = take_row(object, &c.before_field)
                .or_else(|| c.key_field.as_deref().and_then(|k| take_row(object, k)))
                .ok_or_else(|| fail(format!("a `{op}` record has no `{}` row to delete", c.before_field)))?;
            row.remove("__unchanged_toast__");
            row.insert(c.marker_field.clone(), Value::Bool(true));
            return Ok(Some(Value::Object(row)));
        }
        if ROW_OPS.contains(&op.as_str()) {
            let mut row = take_row(object, &c.after_field)
                .ok_or_else(|| fail(format!("an `{op}` record has no `{}` row", c.after_field)))?;
            // Unchanged TOASTed columns are absent, so an upsert keeps their stored values.
            row.remove("__unchanged_toast__");
            return Ok(Some(Value::Object(row)));
        }
        if op == "truncate" {
            let table = [object.get("schema"), object.get("table")]
                .iter()
                .filter_map(|v| v.and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(".");
            return Err(fail(format!(
                "a truncate of {table} has no row form; truncate the target by hand, or add `drop_ops: [truncate]` to skip truncates"
            )));
        }
        Err(fail(format!("unknown op {op:?} (expected insert, update, read, {})", c.delete_ops.join(", "))))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn unwrap(record: Value) -> Result<Option<Value>> {
        CdcUnwrap::new(CdcUnwrapConfig::default()).apply(record)
    }

    #[test]
    fn rows_deletes_drops_and_truncates() {
        let insert = json!({"op": "insert", "schema": "s", "table": "t", "before": null, "after": {"id": 1, "v": "a"}});
        assert_eq!(unwrap(insert).unwrap(), Some(json!({"id": 1, "v": "a"})));
        let update =
            json!({"op": "update", "before": null, "after": {"id": 1, "__unchanged_toast__": ["big"]}});
        assert_eq!(unwrap(update).unwrap(), Some(json!({"id": 1})));
        let read = json!({"op": "read", "after": {"id": 2}});
        assert_eq!(unwrap(read).unwrap(), Some(json!({"id": 2})));
        let delete = json!({"op": "delete", "before": {"id": 3}, "after": null});
        assert_eq!(unwrap(delete).unwrap(), Some(json!({"id": 3, "_deleted": true})));
        let truncate = json!({"op": "truncate", "schema": "s", "table": "t", "before": null, "after": null});
        let e = unwrap(truncate.clone()).unwrap_err();
        assert!(e.to_string().contains("truncate of s.t"), "{e}");
        let mut dropping =
            CdcUnwrap::new(CdcUnwrapConfig { drop_ops: vec!["truncate".into()], ..Default::default() });
        assert_eq!(dropping.apply(truncate).unwrap(), None);
        assert!(unwrap(json!({"op": "merge"})).unwrap_err().to_string().contains("unknown op"));
        assert!(unwrap(json!({"after": {}})).is_err());
        assert!(unwrap(json!({"op": "delete", "before": null})).is_err());
    }

    #[test]
    fn fields_are_configurable() {
        let mut t = CdcUnwrap::new(CdcUnwrapConfig {
            op_field: "kind".into(),
            before_field: "old".into(),
            key_field: Some("key".into()),
            marker_field: "gone".into(),
            delete_ops: vec!["d".into()],
            ..Default::default()
        });
        let delete = json!({"kind": "d", "old": null, "key": {"id": 9}});
        assert_eq!(t.apply(delete).unwrap(), Some(json!({"id": 9, "gone": true})));
    }
}
