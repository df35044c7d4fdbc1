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

/// What a change record becomes, as its op says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing: its op is one of `drop_ops`.
    Drop,
    /// Its `before` row (or key), plus the marker set to true.
    Delete,
    /// Its `after` row (an insert, an update, a snapshot read).
    Row,
}

impl CdcUnwrap {
    /// What a record whose op is `op` becomes (`None`: the record has no
    /// string op); `schema` and `table` are the record's, named in the error
    /// of a truncate. Generated code for a typed stream decides with this too.
    pub fn change(&self, op: Option<&str>, schema: Option<&str>, table: Option<&str>) -> Result<Change> {
        let c = &self.config;
        let Some(op) = op else {
            return Err(fail(format!("the record has no string `{}`", c.op_field)));
        };
        if c.drop_ops.iter().any(|d| d == op) {
            return Ok(Change::Drop);
        }
        if c.delete_ops.iter().any(|d| d == op) {
            return Ok(Change::Delete);
        }
        if ROW_OPS.contains(&op) {
            return Ok(Change::Row);
        }
        if op == "truncate" {
            let table = [schema, table].into_iter().flatten().collect::<Vec<_>>().join(".");
            return Err(fail(format!(
                "a truncate of {table} has no row form; truncate the target by hand, or add `drop_ops: [truncate]` to skip truncates"
            )));
        }
        Err(fail(format!("unknown op {op:?} (expected insert, update, read, {})", c.delete_ops.join(", "))))
    }

    /// The error for a record of `op` whose `change` needs a row it lacks.
    pub fn missing_row(&self, op: &str, change: Change) -> FaucetError {
        let c = &self.config;
        match change {
            Change::Delete => fail(format!("a `{op}` record has no `{}` row to delete", c.before_field)),
            _ => fail(format!("an `{op}` record has no `{}` row", c.after_field)),
        }
    }
}

fn fail(message: String) -> FaucetError {
    FaucetError::transform(format!("cdc_unwrap: {message}"))
}

impl Transform for CdcUnwrap {
    type Out = Record;

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>> {
        let Some(object) = record.as_object_mut() else {
            return Err(fail("the record is not an object".into()));
        };
        let change = {
            let text = |key: &str| object.get(key).and_then(Value::as_str);
            self.change(text(&self.config.op_field), text("schema"), text("table"))?
        };
        let c = &self.config;
        let take_row = |object: &mut serde_json::Map<String, Value>, field: &str| match object.remove(field) {
            Some(Value::Object(row)) => Some(row),
            _ => None,
        };
        let row = match change {
            Change::Drop => return Ok(None),
            Change::Delete => take_row(object, &c.before_field)
                .or_else(|| c.key_field.as_deref().and_then(|k| take_row(object, k))),
            Change::Row => take_row(object, &c.after_field),
        };
        let Some(mut row) = row else {
            let op = object.get(&c.op_field).and_then(Value::as_str).unwrap_or_default();
            return Err(self.missing_row(op, change));
        };
        // Unchanged TOASTed columns are absent, so an upsert keeps their stored values.
        row.remove("__unchanged_toast__");
        if change == Change::Delete {
            row.insert(c.marker_field.clone(), Value::Bool(true));
        }
        Ok(Some(Value::Object(row)))
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
