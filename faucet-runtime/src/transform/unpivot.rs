//! `unpivot`: wide columns, or the entries of a map field, into long
//! key/value rows (1→N).
//!
//! faucet-stream 1.17's semantics: each row is the `id_fields` the record
//! has, then `key_name` (the column's name, or the entry's key), then
//! `value_name` (its value). Columns are `columns` in their order, or every
//! field but the `id_fields` in the record's order; with `from`, the
//! entries of that object. `drop_nulls` skips null values. A record that
//! makes no row (a missing `from`, no column present) passes through
//! unchanged unless `drop_if_empty`; a record that is not an object passes through.

use serde_json::{Map, Value};

use super::chain::{Transform, at_most_one};
use crate::error::Result;
use crate::page::Record;

/// Where `unpivot`'s rows come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Columns {
    /// These columns, in this order.
    Listed(Vec<String>),
    /// Every field but the id fields, in the record's order.
    AllButIds,
    /// The entries of this object field.
    From(String),
}

/// Reshapes one wide record into key/value rows.
#[derive(Debug, Clone)]
pub struct Unpivot {
    id_fields: Vec<String>,
    key_name: String,
    value_name: String,
    columns: Columns,
    drop_nulls: bool,
    drop_if_empty: bool,
}

impl Unpivot {
    /// Rows of `id_fields` plus `key_name` and `value_name`, one per column of `columns`.
    pub fn new(id_fields: Vec<String>, key_name: &str, value_name: &str, columns: Columns) -> Self {
        Unpivot {
            id_fields,
            key_name: key_name.to_owned(),
            value_name: value_name.to_owned(),
            columns,
            drop_nulls: false,
            drop_if_empty: false,
        }
    }

    /// Skips null values (`drop_nulls`).
    pub fn drop_nulls(mut self, drop: bool) -> Self {
        self.drop_nulls = drop;
        self
    }

    /// Returns nothing, rather than the record, for a record that makes no row (`drop_if_empty`).
    pub fn drop_if_empty(mut self, drop: bool) -> Self {
        self.drop_if_empty = drop;
        self
    }

    fn unpivot(&self, record: Record, out: &mut Vec<Record>) {
        let Value::Object(fields) = &record else {
            out.push(record);
            return;
        };
        let mut ids = Map::with_capacity(self.id_fields.len() + 2);
        for name in &self.id_fields {
            if let Some(v) = fields.get(name) {
                ids.insert(name.clone(), v.clone());
            }
        }
        let start = out.len();
        let mut emit = |key: &str, value: &Value| {
            if self.drop_nulls && value.is_null() {
                return;
            }
            let mut row = ids.clone();
            row.insert(self.key_name.clone(), Value::String(key.to_owned()));
            row.insert(self.value_name.clone(), value.clone());
            out.push(Value::Object(row));
        };
        match &self.columns {
            Columns::From(field) => {
                if let Some(Value::Object(entries)) = fields.get(field) {
                    entries.iter().for_each(|(k, v)| emit(k, v));
                }
            }
            Columns::Listed(columns) => {
                for name in columns {
                    if let Some(v) = fields.get(name) {
                        emit(name, v);
                    }
                }
            }
            Columns::AllButIds => {
                for (name, v) in fields {
                    if !self.id_fields.contains(name) {
                        emit(name, v);
                    }
                }
            }
        }
        if out.len() == start && !self.drop_if_empty {
            out.push(record);
        }
    }
}

impl Transform for Unpivot {
    type Out = Record;
    const CAN_FAIL: bool = false;
    const EXPANDS: bool = true;

    fn apply(&mut self, record: Record) -> Result<Option<Record>> {
        let mut out = Vec::new();
        self.unpivot(record, &mut out);
        at_most_one("unpivot", out)
    }

    #[inline]
    fn apply_into(&mut self, record: Record, out: &mut Vec<Record>) -> Result<()> {
        self.unpivot(record, out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(t: &Unpivot, record: Value) -> Vec<Value> {
        let mut out = Vec::new();
        t.clone().apply_into(record, &mut out).unwrap();
        out
    }

    fn ids() -> Vec<String> {
        vec!["id".into()]
    }

    #[test]
    fn listed_columns_become_rows_in_their_order() {
        let t = Unpivot::new(
            ids(),
            "metric",
            "value",
            Columns::Listed(vec!["b".into(), "a".into(), "zz".into()]),
        );
        let out = run(&t, json!({"id": 1, "a": 10, "b": null, "c": 3}));
        assert_eq!(
            out,
            [json!({"id": 1, "metric": "b", "value": null}), json!({"id": 1, "metric": "a", "value": 10})]
        );
        assert_eq!(out[0].as_object().unwrap().keys().collect::<Vec<_>>(), ["id", "metric", "value"]);
        let t = t.drop_nulls(true);
        assert_eq!(
            run(&t, json!({"id": 1, "a": 10, "b": null})),
            [json!({"id": 1, "metric": "a", "value": 10})]
        );
    }

    #[test]
    fn no_columns_means_every_field_but_the_ids() {
        let t = Unpivot::new(ids(), "k", "v", Columns::AllButIds);
        let out = run(&t, json!({"x": 1, "id": "r", "y": {"n": 2}}));
        assert_eq!(out, [json!({"id": "r", "k": "x", "v": 1}), json!({"id": "r", "k": "y", "v": {"n": 2}})]);
        // A missing id field is left out of the rows.
        let out = run(&t, json!({"x": 1}));
        assert_eq!(out, [json!({"k": "x", "v": 1})]);
    }

    #[test]
    fn from_unpivots_a_map_field() {
        let t = Unpivot::new(ids(), "key", "val", Columns::From("attrs".into()));
        let out = run(&t, json!({"id": 3, "attrs": {"color": "red", "size": 4}, "other": 0}));
        assert_eq!(
            out,
            [json!({"id": 3, "key": "color", "val": "red"}), json!({"id": 3, "key": "size", "val": 4})]
        );
    }

    #[test]
    fn a_record_making_no_row_passes_through_unless_drop_if_empty() {
        let t = Unpivot::new(ids(), "key", "val", Columns::From("attrs".into()));
        for record in [
            json!({"id": 3}),
            json!({"id": 3, "attrs": {}}),
            json!({"id": 3, "attrs": [1]}),
            json!([1]),
            json!(5),
        ] {
            assert_eq!(run(&t, record.clone()), std::slice::from_ref(&record));
            assert_eq!(
                run(&t.clone().drop_if_empty(true), record.clone()).len(),
                usize::from(!record.is_object())
            );
        }
        let nulls = Unpivot::new(ids(), "k", "v", Columns::Listed(vec!["a".into()])).drop_nulls(true);
        assert_eq!(run(&nulls, json!({"id": 1, "a": null})), [json!({"id": 1, "a": null})]);
    }

    #[test]
    fn apply_refuses_several_rows() {
        let mut t = Unpivot::new(ids(), "k", "v", Columns::AllButIds);
        assert_eq!(t.apply(json!({"id": 1, "a": 2})).unwrap(), Some(json!({"id": 1, "k": "a", "v": 2})));
        assert!(t.apply(json!({"a": 1, "b": 2})).is_err());
    }
}
