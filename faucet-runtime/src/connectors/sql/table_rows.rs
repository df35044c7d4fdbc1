//! A batch as the `mysql` and `sqlite` sinks write it: JSON records, or typed
//! records whose fields are read by index, with no JSON in between.
//!
//! A sink plans a batch (deletes and writes by key, rows that do not fit the
//! table), groups its rows by the columns they carry, and binds each row's
//! values in column order; [`TableRows`] answers those questions for either
//! kind of record, the same way. JSON records keep the shared planner of
//! [`super::sink`]; typed records answer from their schema: a required field
//! is always present, so the usual batch has one shape and each row costs one
//! field read per column.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Number, Value};

use super::sink::{Keying, Plan, StoredFailure, missing_key, no_column, shapes, unmapped_key};
use crate::config::sql::{UnmappedFields, WriteMode};
use crate::record::{FieldValue, RecordType};
use crate::schema::Schema;

/// A batch of records a table sink writes.
pub(crate) trait TableRows {
    /// The records' type.
    type Record: RecordType;

    /// The records.
    fn records(&self) -> &[Self::Record];

    /// Where column `name`'s value is in a record: the index of the schema
    /// field of that name (`None`: no record has it); any index for JSON
    /// records, which look the name up.
    fn field_index(&self, name: &str) -> Option<usize>;

    /// Row `row`'s value for column `name`, found at `index` ([`TableRows::field_index`]).
    fn value(&self, row: usize, index: Option<usize>, name: &str) -> FieldValue<'_>;

    /// Sorts the batch into deletes and writes (see [`Keying::plan`]).
    fn plan(
        &self,
        keying: &Keying<'_>,
        columns: Option<&[&str]>,
        table: &str,
        part: u32,
        failures: &mut Vec<StoredFailure>,
    ) -> Plan;

    /// `rows` grouped by the set of `columns` each carries (see [`shapes`]).
    fn shapes(&self, rows: Vec<usize>, columns: &[&str]) -> Vec<(Vec<usize>, Vec<usize>)>;

    /// Whether a record may carry a key that names none of `columns`, so
    /// `unmapped_fields: add_column` may have a column to add.
    fn may_need_columns(&self, columns: &[String], keying: &Keying<'_>) -> bool;

    /// The batch as JSON records: for creating the table, or adding columns to it.
    fn json(&self) -> Cow<'_, [Value]>;
}

/// JSON records, planned by the shared planner.
pub(crate) struct JsonRows<'a>(pub(crate) &'a [Value]);

impl TableRows for JsonRows<'_> {
    type Record = Value;

    #[inline]
    fn records(&self) -> &[Value] {
        self.0
    }

    #[inline]
    fn field_index(&self, _name: &str) -> Option<usize> {
        Some(0)
    }

    #[inline]
    fn value(&self, row: usize, _index: Option<usize>, name: &str) -> FieldValue<'_> {
        self.0[row].field(0, name)
    }

    fn plan(
        &self,
        keying: &Keying<'_>,
        columns: Option<&[&str]>,
        table: &str,
        part: u32,
        failures: &mut Vec<StoredFailure>,
    ) -> Plan {
        keying.plan(self.0, columns, table, part, failures)
    }

    fn shapes(&self, rows: Vec<usize>, columns: &[&str]) -> Vec<(Vec<usize>, Vec<usize>)> {
        shapes(self.0, rows, columns)
    }

    fn may_need_columns(&self, _columns: &[String], _keying: &Keying<'_>) -> bool {
        true
    }

    fn json(&self) -> Cow<'_, [Value]> {
        Cow::Borrowed(self.0)
    }
}

/// Typed records with their schema, planned by field index.
pub(crate) struct TypedRows<'a, R> {
    records: &'a [R],
    schema: &'static Schema,
}

impl<'a, R: RecordType> TypedRows<'a, R> {
    /// `records`, whose fields `schema` lists ([`RecordType::SCHEMA`]).
    pub(crate) fn new(records: &'a [R], schema: &'static Schema) -> Self {
        TypedRows { records, schema }
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.schema.fields.iter().position(|f| f.name == name)
    }

    /// Whether `record` has field `index`: a required one always does.
    fn has(&self, record: &R, index: usize) -> bool {
        let field = &self.schema.fields[index];
        field.required || !matches!(record.field(index, field.name), FieldValue::Absent)
    }

    /// `record`'s field `index` (named `name`) as JSON; `None` when it is absent.
    fn json_field<'r>(&self, record: &'r R, index: Option<usize>, name: &str) -> Option<Cow<'r, Value>> {
        field_json(record, record.field(index?, name), name)
    }

    /// The text that tells keys apart: the key fields' JSON (`None` when one
    /// is missing or null, with its position in `keying.key`).
    fn key_text(&self, record: &R, keys: &[Option<usize>], keying: &Keying<'_>) -> Result<String, usize> {
        let mut values = Vec::with_capacity(keys.len());
        for (at, (index, name)) in keys.iter().zip(keying.key).enumerate() {
            match self.json_field(record, *index, name) {
                Some(value) if !value.is_null() => values.push(value),
                _ => return Err(at),
            }
        }
        Ok(serde_json::to_string(&values).unwrap_or_default())
    }
}

impl<R: RecordType> TableRows for TypedRows<'_, R> {
    type Record = R;

    #[inline]
    fn records(&self) -> &[R] {
        self.records
    }

    fn field_index(&self, name: &str) -> Option<usize> {
        self.index(name)
    }

    #[inline]
    fn value(&self, row: usize, index: Option<usize>, name: &str) -> FieldValue<'_> {
        match index {
            Some(index) => self.records[row].field(index, name),
            None => FieldValue::Absent,
        }
    }

    /// As [`Keying::plan`] plans the records' JSON: the same rows deleted,
    /// written, superseded and failed, with the same messages.
    fn plan(
        &self,
        keying: &Keying<'_>,
        columns: Option<&[&str]>,
        table: &str,
        part: u32,
        failures: &mut Vec<StoredFailure>,
    ) -> Plan {
        let fields = self.schema.fields;
        let keyed = keying.mode != WriteMode::Append;
        let mut failed = vec![false; self.records.len()];
        for failure in failures.iter().filter(|f| f.part == part) {
            if let Some(failed) = failed.get_mut(failure.index) {
                *failed = true;
            }
        }
        let marker = keying.delete_marker.map(|m| (m, self.index(&m.field)));
        // auto_map: the fields that name a column, and those that name none (the marker needs none).
        let (mut mapped, mut unmapped) = (Vec::new(), Vec::new());
        if let Some(columns) = columns {
            for (index, field) in fields.iter().enumerate() {
                if columns.contains(&field.name) {
                    mapped.push(index);
                } else if marker.is_none_or(|(m, _)| m.field != field.name) {
                    unmapped.push(index);
                }
            }
        }
        let keys: Vec<Option<usize>> = keying.key.iter().map(|k| self.index(k)).collect();
        let mut key_texts: Vec<String> =
            if keyed { vec![String::new(); self.records.len()] } else { Vec::new() };
        let mut last_by_key: HashMap<String, usize> = HashMap::new();
        let mut plan = Plan::default();
        for (index, record) in self.records.iter().enumerate() {
            if failed[index] {
                continue;
            }
            let is_delete = keying.mode == WriteMode::Delete
                || marker.is_some_and(|(m, field)| {
                    self.json_field(record, field, &m.field).is_some_and(|v| m.values.contains(&v))
                });
            if !is_delete && columns.is_some() {
                let unmapped_field = match keying.unmapped {
                    UnmappedFields::Drop => None,
                    _ => unmapped.iter().find(|&&f| self.has(record, f)),
                };
                let message = match unmapped_field {
                    Some(&f) => Some(unmapped_key(fields[f].name, table)),
                    None => (!mapped.iter().any(|&f| self.has(record, f))).then(|| no_column(table)),
                };
                if let Some(message) = message {
                    failures.push(StoredFailure::sink(part, index, message));
                    continue;
                }
            }
            if keyed {
                match self.key_text(record, &keys, keying) {
                    Ok(text) => {
                        last_by_key.insert(text.clone(), index);
                        key_texts[index] = text;
                    }
                    Err(at) => {
                        failures.push(StoredFailure::sink(part, index, missing_key(&keying.key[at])));
                        continue;
                    }
                }
            }
            if is_delete { plan.deletes.push(index) } else { plan.writes.push(index) }
        }
        if keyed {
            let latest = |index: &usize| last_by_key.get(&key_texts[*index]) == Some(index);
            let before = plan.deletes.len() + plan.writes.len();
            plan.deletes.retain(latest);
            plan.writes.retain(latest);
            plan.superseded = (before - plan.deletes.len() - plan.writes.len()) as u64;
        }
        plan
    }

    /// As [`shapes`] groups the records' JSON. Required fields are in every
    /// record: when the columns' fields all are, the rows form one group.
    fn shapes(&self, rows: Vec<usize>, columns: &[&str]) -> Vec<(Vec<usize>, Vec<usize>)> {
        if rows.is_empty() {
            return Vec::new();
        }
        // (column position, field index) of each column a record may carry.
        let located: Vec<(usize, usize)> =
            columns.iter().enumerate().filter_map(|(c, name)| Some((c, self.index(name)?))).collect();
        if located.iter().all(|&(_, f)| self.schema.fields[f].required) {
            return vec![(located.into_iter().map(|(c, _)| c).collect(), rows)];
        }
        let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
        let mut by_shape: HashMap<Vec<usize>, usize> = HashMap::new();
        for row in rows {
            let record = &self.records[row];
            let shape: Vec<usize> =
                located.iter().filter(|&&(_, f)| self.has(record, f)).map(|&(c, _)| c).collect();
            let group = *by_shape.entry(shape).or_insert_with_key(|shape| {
                groups.push((shape.clone(), Vec::new()));
                groups.len() - 1
            });
            groups[group].1.push(row);
        }
        groups
    }

    fn may_need_columns(&self, columns: &[String], keying: &Keying<'_>) -> bool {
        let marker = keying.delete_marker.map(|m| m.field.as_str());
        self.schema.fields.iter().any(|f| Some(f.name) != marker && !columns.iter().any(|c| c == f.name))
    }

    fn json(&self) -> Cow<'_, [Value]> {
        crate::record::json_batch(self.records)
    }
}

/// A field's `value` as the record's JSON holds it (`None`: absent): what a
/// sink's JSON path would bind, for the values a typed path does not bind
/// directly. `name` finds a nested field in [`RecordType::to_json`].
pub(crate) fn field_json<'r, R: RecordType>(
    record: &'r R,
    value: FieldValue<'r>,
    name: &str,
) -> Option<Cow<'r, Value>> {
    Some(match value {
        FieldValue::Absent => return None,
        FieldValue::Null => Cow::Owned(Value::Null),
        FieldValue::Bool(b) => Cow::Owned(Value::Bool(b)),
        FieldValue::Int(i) => Cow::Owned(Value::from(i)),
        FieldValue::Float(f) => Cow::Owned(Number::from_f64(f).map_or(Value::Null, Value::Number)),
        FieldValue::Text(text) => Cow::Owned(Value::String(text.to_owned())),
        FieldValue::Json(value) => Cow::Borrowed(value),
        FieldValue::Nested => Cow::Owned(record.to_json().get(name)?.clone()),
    })
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;
    use crate::config::sql::DeleteMarker;
    use crate::schema::{Field, FieldType};

    /// A record as faucet-gen writes one, with an optional field.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct Row {
        id: Option<i64>,
        v: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        extra: Option<f64>,
        op: String,
    }

    static SCHEMA: Schema = Schema {
        fields: &[
            Field { name: "id", ty: FieldType::Integer, nullable: true, required: true },
            Field { name: "v", ty: FieldType::String, nullable: false, required: true },
            Field { name: "extra", ty: FieldType::Number, nullable: false, required: false },
            Field { name: "op", ty: FieldType::String, nullable: false, required: true },
        ],
        open: false,
        origin: "a test",
    };

    impl RecordType for Row {
        const SCHEMA: Option<&'static Schema> = Some(&SCHEMA);

        fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
            match index {
                0 => self.id.map_or(FieldValue::Null, FieldValue::Int),
                1 => FieldValue::Text(&self.v),
                2 => self.extra.map_or(FieldValue::Absent, FieldValue::Float),
                3 => FieldValue::Text(&self.op),
                _ => FieldValue::Absent,
            }
        }

        fn to_json(&self) -> Cow<'_, Value> {
            crate::record::json_of(self)
        }

        fn from_json(value: Value) -> crate::Result<Self> {
            crate::record::from_json_value(value)
        }
    }

    fn row(id: Option<i64>, v: &str, extra: Option<f64>, op: &str) -> Row {
        Row { id, v: v.into(), extra, op: op.into() }
    }

    /// Plans and groups `batch` both ways; the outcomes must be the same.
    fn same_both_ways(batch: &[Row], keying: &Keying<'_>, columns: &[&str]) -> (Plan, Vec<String>) {
        let json = crate::record::json_batch(batch);
        let (typed, untyped) = (TypedRows::new(batch, &SCHEMA), JsonRows(&json));
        let (mut typed_failures, mut json_failures) = (Vec::new(), Vec::new());
        let typed_plan = typed.plan(keying, Some(columns), "t", 0, &mut typed_failures);
        let json_plan = untyped.plan(keying, Some(columns), "t", 0, &mut json_failures);
        assert_eq!(
            (&typed_plan.deletes, &typed_plan.writes, typed_plan.superseded),
            (&json_plan.deletes, &json_plan.writes, json_plan.superseded)
        );
        let messages =
            |f: &[StoredFailure]| f.iter().map(|f| format!("{}: {}", f.index, f.message)).collect();
        let typed_messages: Vec<String> = messages(&typed_failures);
        assert_eq!(typed_messages, messages(&json_failures));
        let writes = typed_plan.writes.clone();
        assert_eq!(typed.shapes(writes.clone(), columns), untyped.shapes(writes, columns));
        (typed_plan, typed_messages)
    }

    #[test]
    fn typed_batches_plan_and_group_as_their_json_does() {
        let batch = vec![
            row(Some(1), "a", None, "u"),
            row(Some(2), "b", Some(0.5), "d"),
            row(Some(1), "c", Some(1.5), "u"),
            row(None, "d", None, "u"),
            row(Some(3), "e", Some(2.5), "u"),
        ];
        let key = vec!["id".to_owned()];
        let marker = DeleteMarker { field: "op".into(), values: vec![json!("d")] };
        let mut keying = Keying {
            mode: WriteMode::Upsert,
            key: &key,
            delete_marker: Some(&marker),
            unmapped: UnmappedFields::Dlq,
        };
        let (plan, failures) = same_both_ways(&batch, &keying, &["id", "v", "extra"]);
        assert_eq!((plan.writes, plan.deletes, plan.superseded), (vec![2, 4], vec![1], 1));
        assert_eq!(failures, ["3: key field `id` is missing or null"]);
        // Without a column for `extra`, the rows holding it fail by name, or drop it.
        let (_, failures) = same_both_ways(&batch, &keying, &["id", "v"]);
        assert!(
            failures[0].starts_with("2: record key \"extra\" names no column of table t"),
            "{failures:?}"
        );
        keying.unmapped = UnmappedFields::Drop;
        let (plan, _) = same_both_ways(&batch, &keying, &["id", "v"]);
        assert_eq!(plan.writes, [2, 4]);
        let (_, failures) = same_both_ways(&batch, &keying, &["other"]);
        assert!(failures[0].ends_with("record has no key matching a column of table t"), "{failures:?}");
        keying.mode = WriteMode::Append;
        let (plan, _) = same_both_ways(&batch, &keying, &["v", "extra"]);
        assert_eq!(plan.writes, [0, 2, 3, 4]);
        assert!(TypedRows::new(&batch, &SCHEMA).may_need_columns(&["id".into(), "v".into()], &keying));
        let all = ["id", "v", "extra"].map(String::from);
        assert!(!TypedRows::new(&batch, &SCHEMA).may_need_columns(&all, &keying));
    }
}
