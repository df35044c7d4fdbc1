//! The mapping of a config transform whose result depends on the values
//! (`cast`, `coalesce`, `json_parse`, `split`, `lookup`, a `hash` into
//! another field, a `filter` inside an object, `explode`, `unpivot`, …): on a typed stream the
//! runtime transform itself runs on the top-level fields the config names,
//! handed over as a small JSON object (`faucet_runtime::transform::bridge`),
//! and every other field stays in its member.
//!
//! The transform reads and writes only the fields it names, so it makes of
//! them exactly what it makes of them in a whole record; the schema the flow
//! gives its output says which type each one comes back as.

use super::Mapping;
use crate::ir::{Explode, Fill, Named, Transform, Unpivot, UnpivotColumns};
use crate::record_schema::{FieldType, RecordSchema};

/// A transform run on the fields it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bridge {
    /// The top-level fields it reads or writes, each once, in the config's
    /// order: each the records have is handed over (a field it writes may
    /// be new, or keep its value on a record the transform leaves alone).
    pub names: Vec<String>,
    /// Those it may change, taken back from what it returns; the others
    /// stay where they are (only copies were handed over).
    pub writes: Vec<String>,
    /// It may make several records of one (`explode`, `unpivot`): each
    /// gets a copy of the fields it does not write.
    pub expands: bool,
}

/// The bridge for `t`, from `input` to `output` (its schemas): `None` when
/// `t` is not a transform of named fields, when either schema is open, when
/// a field it writes would come back as an object of declared fields (which
/// no struct of the stretch is made for), or when it may add a field the
/// schema has but a record lacks: the record then has that key last, where
/// a struct cannot put it.
pub(crate) fn bridge(input: &RecordSchema, t: &Transform, output: &RecordSchema) -> Option<Mapping> {
    if input.open || output.open {
        return None;
    }
    if added(t).into_iter().any(|name| input.field(name).is_some_and(|f| !f.required)) {
        return None;
    }
    let (reads, writes) = match t {
        Transform::Explode(e) => exploded(input, e, output)?,
        Transform::Unpivot(u) => unpivoted(input, u, output)?,
        _ => named_fields(t)?,
    };
    let once = |names: Vec<&str>| {
        let mut out: Vec<String> = Vec::with_capacity(names.len());
        for name in names {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_owned());
            }
        }
        out
    };
    let writes = once(writes);
    let names = once(reads.into_iter().chain(writes.iter().map(String::as_str)).collect());
    let changed =
        output.fields.iter().filter(|f| writes.contains(&f.name) && input.field(&f.name) != Some(*f));
    for field in changed {
        if declares_object(&field.ty) {
            return None;
        }
    }
    let expands = matches!(t, Transform::Explode(_) | Transform::Unpivot(_));
    Some(Mapping::Bridged(Bridge { names, writes, expands }))
}

/// `explode` of a top-level array: it reads the array and what it carries,
/// and writes the array (gone from each element's record), the elements'
/// fields and the carried ones.
fn exploded<'a>(
    input: &RecordSchema,
    e: &'a Explode,
    output: &'a RecordSchema,
) -> Option<(Vec<&'a str>, Vec<&'a str>)> {
    let [array] = e.path.keys.as_slice() else { return None };
    let mut reads = vec![array.as_str()];
    reads.extend(e.carry.iter().filter_map(|(_, from)| from.keys.first().map(String::as_str)));
    let mut writes = vec![array.as_str()];
    writes.extend(e.carry.iter().map(|(name, _)| name.as_str()));
    writes.extend(output.fields.iter().filter(|f| input.field(&f.name).is_none()).map(|f| f.name.as_str()));
    Some((reads, writes))
}

/// `unpivot` into rows alone (no record may pass through as it came, whose
/// keys would be in another order): it reads the ids and the columns, and
/// writes every field of a row.
fn unpivoted<'a>(
    input: &'a RecordSchema,
    u: &'a Unpivot,
    output: &'a RecordSchema,
) -> Option<(Vec<&'a str>, Vec<&'a str>)> {
    // The flow makes every field optional when a record may pass through: the key is required only in rows.
    if !output.field(&u.key_name).is_some_and(|key| key.required) {
        return None;
    }
    let mut reads: Vec<&str> = u.id_fields.iter().map(String::as_str).collect();
    match &u.columns {
        UnpivotColumns::Listed(columns) => reads.extend(columns.iter().map(String::as_str)),
        UnpivotColumns::AllButIds => reads.extend(input.fields.iter().map(|f| f.name.as_str())),
        UnpivotColumns::From(from) => reads.push(from),
    }
    Some((reads, output.fields.iter().map(|f| f.name.as_str()).collect()))
}

/// The top-level fields `t` reads, and those it writes.
fn named_fields(t: &Transform) -> Option<(Vec<&str>, Vec<&str>)> {
    fn names(fields: &[Named]) -> Vec<&str> {
        fields.iter().map(|f| f.name.as_str()).collect()
    }
    // In place, or into another field.
    fn target<'a>(fields: Vec<&'a str>, into: Option<&'a Named>) -> Vec<&'a str> {
        match into {
            Some(into) => vec![into.name.as_str()],
            None => fields,
        }
    }
    Some(match t {
        Transform::Cast { fields, .. } => {
            let fields: Vec<&str> = fields.iter().map(|(f, _)| f.name.as_str()).collect();
            (fields.clone(), fields)
        }
        Transform::Coalesce { field, fill, .. } => {
            let mut reads = vec![field.name.as_str()];
            if let Fill::From(from) = fill {
                reads.extend(names(from));
            }
            (reads, vec![field.name.as_str()])
        }
        Transform::Redact { fields, .. }
        | Transform::ValueCase { fields, .. }
        | Transform::JsonEncode { fields } => (names(fields), names(fields)),
        Transform::Hash(h) => (names(&h.fields), target(names(&h.fields), h.into.as_ref())),
        Transform::JsonParse(p) => (names(&p.fields), target(names(&p.fields), p.into.as_ref())),
        Transform::Split(s) | Transform::Join(s) => {
            (vec![s.field.name.as_str()], target(vec![s.field.name.as_str()], s.into.as_ref()))
        }
        Transform::Lookup(l) => {
            (vec![l.on_record.name.as_str()], l.add.iter().map(|(column, _)| column.as_str()).collect())
        }
        Transform::Filter(f) => (vec![f.path.keys.first()?.as_str()], Vec::new()),
        _ => return None,
    })
}

/// The fields `t` may add to a record that lacks them (it writes the others
/// only where they are).
fn added(t: &Transform) -> Vec<&str> {
    match t {
        Transform::Coalesce { field, .. } => vec![field.name.as_str()],
        Transform::Hash(h) => h.into.iter().map(|f| f.name.as_str()).collect(),
        Transform::JsonParse(p) => p.into.iter().map(|f| f.name.as_str()).collect(),
        Transform::Split(s) | Transform::Join(s) => s.into.iter().map(|f| f.name.as_str()).collect(),
        Transform::Lookup(l) => l.add.iter().map(|(column, _)| column.as_str()).collect(),
        Transform::Explode(e) => e.carry.iter().map(|(name, _)| name.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// Whether a value of `ty` may be an object of declared fields.
fn declares_object(ty: &FieldType) -> bool {
    match ty {
        FieldType::Object { fields } => !fields.is_empty(),
        FieldType::Array { items } => declares_object(items),
        _ => false,
    }
}
