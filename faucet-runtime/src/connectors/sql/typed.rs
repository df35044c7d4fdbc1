//! What the SQL sinks need to write typed records (generated structs) field
//! by field: where a table column's value is in a record ([`FieldIndex`],
//! looked up once per batch, not per row), and a batch's plan and shapes
//! read from the records' fields instead of from JSON maps.
//!
//! For JSON records each helper hands over to the untyped code in
//! [`super::sink`], unchanged; for typed ones it does the same from the
//! fields, so both make the same plan of the same records.

use std::collections::HashMap;

use serde_json::{Number, Value};

use super::sink::{Keying, Plan, StoredFailure, missing_key, no_column, unmapped_key};
use crate::config::sql::{UnmappedFields, WriteMode};
use crate::record::{FieldValue, RecordType, json_batch};
use crate::schema::Field;

/// Where a table column's value is in a record of type `R`: the index of its
/// field in `R::SCHEMA`, or, for a record without a schema, a look-up by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldIndex(Option<usize>);

impl FieldIndex {
    /// The field named `name` of records of type `R` (a typed record type
    /// without such a field never holds it).
    pub(crate) fn of<R: RecordType>(name: &str) -> FieldIndex {
        match R::SCHEMA {
            Some(schema) => FieldIndex(schema.fields.iter().position(|f| f.name == name)),
            // Untyped records look the name up; the index is not used.
            None => FieldIndex(Some(0)),
        }
    }

    /// The field's value in `record`; `name` is the field's name.
    #[inline]
    pub(crate) fn get<'r, R: RecordType>(self, record: &'r R, name: &str) -> FieldValue<'r> {
        match self.0 {
            Some(index) => record.field(index, name),
            None => FieldValue::Absent,
        }
    }

    /// The field of `R::SCHEMA`, for a typed record type that has it.
    pub(crate) fn schema_field<R: RecordType>(self) -> Option<&'static Field> {
        Some(&R::SCHEMA?.fields[self.0?])
    }

    /// Whether every record of type `R` holds the field (its schema requires it).
    fn always_held<R: RecordType>(self) -> bool {
        match (R::SCHEMA, self.0) {
            (Some(schema), Some(index)) => schema.fields[index].required,
            _ => false,
        }
    }
}

/// The JSON of field `name`'s `value` in `record`: `null` when absent, and
/// a nested value read from the record's JSON.
pub(crate) fn field_json<R: RecordType>(record: &R, name: &str, value: FieldValue<'_>) -> Value {
    match value {
        FieldValue::Nested => record.to_json().get(name).cloned().unwrap_or(Value::Null),
        value => scalar_json(value),
    }
}

/// The JSON of a field's `value` that is not [`FieldValue::Nested`] (read
/// that with [`field_json`]): `null` when absent.
pub(crate) fn scalar_json(value: FieldValue<'_>) -> Value {
    match value {
        FieldValue::Absent | FieldValue::Null | FieldValue::Nested => Value::Null,
        FieldValue::Bool(b) => Value::Bool(b),
        FieldValue::Int(i) => Value::from(i),
        FieldValue::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        FieldValue::Text(text) => Value::String(text.to_owned()),
        FieldValue::Json(value) => value.clone(),
    }
}

/// Whether records of type `R` may hold a field that names none of
/// `columns` and is not the delete marker's `marker`: one `unmapped_fields:
/// add_column` adds a column for. Always true for records without a schema.
pub(crate) fn may_hold_unmapped<R: RecordType>(columns: &[&str], marker: Option<&str>) -> bool {
    R::SCHEMA.is_none_or(|schema| {
        schema.fields.iter().any(|f| Some(f.name) != marker && !columns.contains(&f.name))
    })
}

/// Sorts `batch` into deletes and writes as [`Keying::plan`] sorts JSON
/// records, reading a typed record's fields: the fields that name no column
/// are found once per batch, and a record is checked for holding one of them.
pub(crate) fn plan<R: RecordType>(
    keying: &Keying<'_>,
    batch: &[R],
    columns: Option<&[&str]>,
    table: &str,
    part: u32,
    failures: &mut Vec<StoredFailure>,
) -> Plan {
    let Some(schema) = R::SCHEMA else {
        return keying.plan(&json_batch(batch), columns, table, part, failures);
    };
    let fields = schema.fields;
    let holds = |record: &R, i: usize| !matches!(record.field(i, fields[i].name), FieldValue::Absent);
    let marker = keying.delete_marker.map(|m| (m, FieldIndex::of::<R>(&m.field)));
    let key: Vec<(FieldIndex, &str)> =
        keying.key.iter().map(|k| (FieldIndex::of::<R>(k), k.as_str())).collect();
    // auto_map: the fields that name a column, and those that name none (a
    // record holding one does not fit, unless they are dropped; the delete
    // marker's field never needs a column).
    let (mut unmapped, mapped): (Vec<usize>, Vec<usize>) = match columns {
        Some(columns) => (0..fields.len()).partition(|&i| !columns.contains(&fields[i].name)),
        None => (Vec::new(), Vec::new()),
    };
    unmapped.retain(|&i| {
        keying.unmapped != UnmappedFields::Drop && marker.is_none_or(|(m, _)| m.field != fields[i].name)
    });
    let failed: Vec<usize> = failures.iter().filter(|f| f.part == part).map(|f| f.index).collect();
    let keyed = keying.mode != WriteMode::Append;
    let mut key_texts: Vec<Option<String>> = if keyed { vec![None; batch.len()] } else { Vec::new() };
    let mut last_by_key: HashMap<String, usize> = HashMap::new();
    let mut plan = Plan::default();
    for (index, record) in batch.iter().enumerate() {
        if failed.contains(&index) {
            continue;
        }
        let is_delete = keying.mode == WriteMode::Delete
            || marker.is_some_and(|(m, field)| {
                m.values.contains(&field_json(record, &m.field, field.get(record, &m.field)))
            });
        if !is_delete && columns.is_some() {
            let misfit = match unmapped.iter().find(|&&i| holds(record, i)) {
                Some(&i) => Some(unmapped_key(fields[i].name, table)),
                None => (!mapped.iter().any(|&i| holds(record, i))).then(|| no_column(table)),
            };
            if let Some(message) = misfit {
                failures.push(StoredFailure::sink(part, index, message));
                continue;
            }
        }
        if keyed {
            let values: Vec<Value> =
                key.iter().map(|(field, name)| field_json(record, name, field.get(record, name))).collect();
            if let Some(((_, missing), _)) = key.iter().zip(&values).find(|(_, v)| v.is_null()) {
                failures.push(StoredFailure::sink(part, index, missing_key(missing)));
                continue;
            }
            let text = Value::Array(values).to_string();
            last_by_key.insert(text.clone(), index);
            key_texts[index] = Some(text);
        }
        if is_delete { plan.deletes.push(index) } else { plan.writes.push(index) }
    }
    if keyed {
        let latest =
            |index: &usize| key_texts[*index].as_ref().and_then(|text| last_by_key.get(text)) == Some(index);
        let before = plan.deletes.len() + plan.writes.len();
        plan.deletes.retain(latest);
        plan.writes.retain(latest);
        plan.superseded = (before - plan.deletes.len() - plan.writes.len()) as u64;
    }
    plan
}

/// `rows` of `batch` grouped by the `columns` each one holds, as
/// [`super::sink::shapes`] groups JSON records: a typed record holds every
/// field its schema requires, so a batch of records without optional fields
/// is one group, found without looking at a row.
pub(crate) fn shapes<R: RecordType>(
    batch: &[R],
    rows: Vec<usize>,
    columns: &[&str],
) -> Vec<(Vec<usize>, Vec<usize>)> {
    if R::SCHEMA.is_none() {
        return super::sink::shapes(&json_batch(batch), rows, columns);
    }
    let fields: Vec<FieldIndex> = columns.iter().map(|c| FieldIndex::of::<R>(c)).collect();
    let shape = |record: &R| -> Vec<usize> {
        (0..columns.len())
            .filter(|&c| {
                fields[c].always_held::<R>()
                    || !matches!(fields[c].get(record, columns[c]), FieldValue::Absent)
            })
            .collect()
    };
    let Some(&first) = rows.first() else { return Vec::new() };
    let optional = |c: usize| fields[c].0.is_some() && !fields[c].always_held::<R>();
    if !(0..columns.len()).any(optional) {
        return vec![(shape(&batch[first]), rows)];
    }
    let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    let mut by_shape: HashMap<Vec<usize>, usize> = HashMap::new();
    for index in rows {
        let shape = shape(&batch[index]);
        let group = *by_shape.entry(shape.clone()).or_insert_with(|| {
            groups.push((shape, Vec::new()));
            groups.len() - 1
        });
        groups[group].1.push(index);
    }
    groups
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde_json::json;

    use super::*;
    use crate::config::sql::DeleteMarker;
    use crate::schema::{FieldType, Schema};

    const SCHEMA: Schema = Schema {
        fields: &[
            Field { name: "id", ty: FieldType::Integer, nullable: true, required: true },
            Field { name: "op", ty: FieldType::String, nullable: false, required: true },
            Field { name: "note", ty: FieldType::String, nullable: true, required: false },
            Field { name: "extra", ty: FieldType::Integer, nullable: false, required: false },
        ],
        open: false,
        origin: "a test",
    };

    /// A record with optional fields, as faucet-gen writes one.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
    struct Change {
        id: Option<i64>,
        op: String,
        #[serde(
            default,
            deserialize_with = "crate::schema::present",
            skip_serializing_if = "Option::is_none"
        )]
        note: Option<Option<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        extra: Option<i64>,
    }

    impl RecordType for Change {
        const SCHEMA: Option<&'static Schema> = Some(&SCHEMA);

        fn field(&self, index: usize, _name: &str) -> FieldValue<'_> {
            match index {
                0 => self.id.map_or(FieldValue::Null, FieldValue::Int),
                1 => FieldValue::Text(&self.op),
                2 => match &self.note {
                    None => FieldValue::Absent,
                    Some(note) => note.as_deref().map_or(FieldValue::Null, FieldValue::Text),
                },
                3 => self.extra.map_or(FieldValue::Absent, FieldValue::Int),
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

    fn batch() -> Vec<Change> {
        let json = [
            json!({"id": 1, "op": "u", "note": "a"}),
            json!({"id": 2, "op": "d"}),
            json!({"id": 1, "op": "u", "note": null}),
            json!({"id": null, "op": "u"}),
            json!({"id": 3, "op": "u", "extra": 7}),
            json!({"id": 4, "op": "u"}),
        ];
        json.into_iter().map(|v| Change::from_json(v).unwrap()).collect()
    }

    /// What a plan decided: writes, deletes, superseded, failures (row and message).
    type Decided = (Vec<usize>, Vec<usize>, u64, Vec<(usize, String)>);

    fn decided(plan: Plan, failures: &[StoredFailure]) -> Decided {
        let failed = failures.iter().map(|f| (f.index, f.message.clone())).collect();
        (plan.writes, plan.deletes, plan.superseded, failed)
    }

    #[test]
    fn a_typed_batch_is_planned_and_grouped_as_its_json() {
        let typed = batch();
        let json: Vec<Value> = typed.iter().map(|r| r.to_json().into_owned()).collect();
        let marker = DeleteMarker { field: "op".into(), values: vec![json!("d")] };
        let key = vec!["id".to_owned()];
        for (mode, unmapped) in [
            (WriteMode::Upsert, UnmappedFields::Dlq),
            (WriteMode::Upsert, UnmappedFields::Drop),
            (WriteMode::Append, UnmappedFields::Dlq),
        ] {
            let keyed = mode != WriteMode::Append;
            let keying = Keying {
                mode,
                key: if keyed { &key } else { &[] },
                delete_marker: keyed.then_some(&marker),
                unmapped,
            };
            for columns in [Some(&["id", "note"][..]), Some(&["id", "note", "extra"][..]), None] {
                let (mut by_fields, mut by_json) = (Vec::new(), Vec::new());
                let typed_plan = plan(&keying, &typed, columns, "t", 0, &mut by_fields);
                let json_plan = keying.plan(&json, columns, "t", 0, &mut by_json);
                assert_eq!(
                    decided(typed_plan, &by_fields),
                    decided(json_plan, &by_json),
                    "{mode:?} {unmapped:?} {columns:?}"
                );
            }
        }
        let columns = ["id", "op", "note", "extra"];
        let rows: Vec<usize> = (0..typed.len()).collect();
        assert_eq!(shapes(&typed, rows.clone(), &columns), super::super::sink::shapes(&json, rows, &columns));
        assert_eq!(shapes(&typed, vec![0, 1], &["id", "op"]), [(vec![0, 1], vec![0, 1])]);
    }
}
