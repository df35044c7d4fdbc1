//! The schema flow: each config transform maps the schema of the records it
//! receives to the schema of the records it returns, exactly as it reshapes
//! each record at run time (`faucet_runtime::transform`). The key rewrites
//! themselves are the runtime's own ([`faucet_keys`]); what is mapped here is
//! which fields exist, of which types, and whether two of them would become
//! one key (a build error at the transform, naming both).
//!
//! The same walk also says where each field it returns comes from (a
//! [`Mapping`]): on a typed stream, generated code moves the values exactly
//! that way, so the struct a transform fills and the record the runtime
//! transform would return cannot disagree. Where the walk cannot say exactly
//! (a `cdc_unwrap` whose delete rows may come from either of two fields, say),
//! it gives no mapping and the stream stays untyped there. A transform of
//! named top-level fields whose values cannot simply be moved (`cast`,
//! `json_parse`, `lookup`, …) is [bridged](bridge): the runtime transform
//! runs on those fields alone.
//!
//! The key transforms are mapped here; each other family in a part of its
//! own: [`fields`] (`select`, `drop`, `set`, `rename_field`, `cast`,
//! `coalesce`), [`values`] (`redact`, `value_case`, `hash`, `json_parse`,
//! `json_encode`, `split`, `join`, `lookup`) and [`rows`] (`filter`,
//! `explode`, `unpivot`), which build the [`Step`] this module dispatches to.

pub(crate) mod bridge;
pub(crate) mod fields;
pub(crate) mod rows;
pub(crate) mod values;

use faucet_keys::rename;

use super::{FieldDef, FieldType, Origin, RecordSchema};
use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::ir::Transform;

/// What makes a transform's output schema impossible: each would reject
/// every record at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Two fields become one key.
    Collision(Collision),
    /// A field (its dotted path) becomes the empty key.
    EmptyKey(String),
    /// A setting the schema shows to be wrong (a field the records lack, a
    /// `cast` no value passes, a `filter` value no field can equal), as its error.
    Invalid(Invalid),
}

/// A transform setting the schema shows to be wrong: the error at the key it concerns.
#[derive(Debug, Clone)]
pub(crate) struct Invalid {
    /// Where the config writes it.
    pub loc: Loc,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl Invalid {
    /// The problem, at `loc`.
    pub(crate) fn at(loc: &Loc, message: impl Into<String>, help: impl Into<String>) -> Problem {
        Problem::Invalid(Invalid { loc: loc.clone(), message: message.into(), help: help.into() })
    }
}

/// Two problems are the same one when they say the same (tests compare them).
impl PartialEq for Invalid {
    fn eq(&self, other: &Self) -> bool {
        (&self.message, &self.help) == (&other.message, &other.help)
    }
}

impl Eq for Invalid {}

impl From<Collision> for Problem {
    fn from(c: Collision) -> Self {
        Problem::Collision(c)
    }
}

/// Two fields that a transform makes into one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Collision {
    /// The first field, as a dotted path of its names before the transform.
    pub first: String,
    /// The second field.
    pub second: String,
    /// The key both become.
    pub key: String,
}

/// The schemas after each transform of `transforms`, from `source` (the
/// records the source yields; `None`: untyped). `locs[i]` is where
/// `transforms[i]` is written, for the error of two fields becoming one key
/// (the stream is untyped after such a transform).
pub(crate) fn through(
    source: Option<RecordSchema>,
    transforms: &[Transform],
    locs: &[Loc],
    diags: &mut Diagnostics,
) -> Option<RecordSchema> {
    let mut schema = source;
    for (i, t) in transforms.iter().enumerate() {
        schema = match apply(schema.as_ref(), t) {
            Ok(next) => next,
            Err(problem) => {
                let loc = locs.get(i).cloned().unwrap_or(Loc::Unknown);
                let mut d = match problem {
                    Problem::Collision(c) => Diagnostic::new(
                        loc,
                        format!(
                            "`{}` makes two fields one key: `{}` and `{}` both become `{}`",
                            name(t),
                            c.first,
                            c.second,
                            c.key
                        ),
                    )
                    .with_help(collision_help(t)),
                    Problem::EmptyKey(field) => Diagnostic::new(
                        loc,
                        format!("`{}` makes field `{field}` an empty key", name(t)),
                    )
                    .with_help("at run time every record carrying it would be rejected: a key cannot be empty; change the `replacement`, or narrow the `pattern` so it does not match the whole name"),
                    Problem::Invalid(i) => Diagnostic::new(i.loc, i.message).with_help(i.help),
                };
                if let Some(s) = &schema {
                    d.notes.push(s.origin.note());
                }
                diags.push(d);
                None
            }
        };
    }
    schema
}

/// The transform's name in messages and origins.
pub(crate) fn name(t: &Transform) -> &'static str {
    match t {
        Transform::Flatten { .. } => "flatten",
        Transform::RenameKeys { .. } => "rename_keys",
        Transform::KeysCase(mode) => mode.transform_name(),
        Transform::CdcUnwrap { .. } => "cdc_unwrap",
        Transform::Custom { .. } => "custom",
        Transform::Filter(_) => "filter",
        Transform::Explode(_) => "explode",
        Transform::Unpivot(_) => "unpivot",
        Transform::Select { .. } => "select",
        Transform::Drop { .. } => "drop",
        Transform::Set { .. } => "set",
        Transform::RenameField { .. } => "rename_field",
        Transform::Cast { .. } => "cast",
        Transform::Coalesce { .. } => "coalesce",
        Transform::Redact { .. } => "redact",
        Transform::ValueCase { .. } => "value_case",
        Transform::Hash(_) => "hash",
        Transform::JsonParse(_) => "json_parse",
        Transform::JsonEncode { .. } => "json_encode",
        Transform::Split(_) => "split",
        Transform::Join(_) => "join",
        Transform::Lookup(_) => "lookup",
    }
}

fn collision_help(t: &Transform) -> &'static str {
    match t {
        Transform::Flatten { .. } => {
            "at run time every record carrying both would be rejected: choose a `separator` that no field name contains, or rename one field first (`rename_keys`)"
        }
        Transform::RenameKeys { .. } => {
            "at run time every record carrying both would be rejected: make the pattern match only one of them"
        }
        _ => {
            "at run time every record carrying both would be rejected: rename one of them first, with a `rename_keys` before this transform"
        }
    }
}

/// The schema after `t`, given the schema before it (`None`: untyped);
/// `Ok(None)` when nothing is known after it.
pub(crate) fn apply(input: Option<&RecordSchema>, t: &Transform) -> Result<Option<RecordSchema>, Problem> {
    if let Transform::Custom { output, .. } = t {
        return Ok(output.clone());
    }
    let Some(input) = input else { return Ok(None) };
    Ok(step(input, t)?.map(|s| s.schema))
}

/// What a config transform makes of records of schema `input`.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// The schema of the records it returns.
    pub schema: RecordSchema,
    /// Where each of their fields comes from; `None` when the walk cannot
    /// say exactly (the schema is still right for the checks).
    pub mapping: Option<Mapping>,
}

/// Where the fields a config transform returns come from, in the record it receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mapping {
    /// `rename_keys`, `snake_case`, `keys_case`: every field keeps its place
    /// and its type, at every depth (objects in objects, objects in arrays);
    /// only names change. Keys inside `json` values are the transform's to
    /// rewrite at run time.
    Renamed,
    /// `flatten`: the fields returned, in order, each a leaf of the input.
    Flattened(Vec<Leaf>),
    /// `cdc_unwrap`: rows taken out of a change record.
    Unwrapped(Unwrap),
    /// `filter`: every field kept, the record only when the test holds.
    Filtered(rows::Test),
    /// `select`, `drop`, `set`, `rename_field`: the fields returned, in order,
    /// each a top-level field of the input or a constant.
    Picked(Vec<fields::Pick>),
    /// `redact`, `value_case`, `hash`: values rewritten where they stand, one entry per field.
    Rewritten(Vec<values::Rewrite>),
    /// Any other transform of named fields: the runtime transform, run on those fields alone.
    Bridged(bridge::Bridge),
}

/// One field `flatten` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Leaf {
    /// The value at a path of field indexes, from the record down through
    /// objects; absent when an object on the way is absent or null.
    Value(Vec<usize>),
    /// The key of a nullable object: `null` when the object at the path is
    /// null, absent otherwise (its fields are lifted instead).
    Null(Vec<usize>),
}

/// `cdc_unwrap`'s rows, as field indexes of the change record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unwrap {
    /// The op field (`None`: the records have none, and each is rejected).
    pub op: Option<usize>,
    /// The object field an insert or update row is taken from.
    pub after: usize,
    /// The object field a delete row is taken from (`before`, or the
    /// `key_field` when the records have no `before` object); `None`: none.
    pub before: Option<usize>,
    /// The fields returned, in order.
    pub fields: Vec<RowField>,
}

/// One field `cdc_unwrap` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RowField {
    /// A column: its index among the fields of the `after` row and of the
    /// delete row, where it is one (absent from a row that lacks it).
    Column {
        /// Index in the `after` object.
        after: Option<usize>,
        /// Index in the delete row's object.
        before: Option<usize>,
    },
    /// The delete marker: `true` on a delete row, absent on the others.
    Marker,
}

/// The schema after config transform `t` and where its fields come from;
/// `Ok(None)` when nothing is known after it (or `t` is `custom`). A
/// transform of named fields whose values cannot be moved is [bridged](bridge).
pub(crate) fn step(input: &RecordSchema, t: &Transform) -> Result<Option<Step>, Problem> {
    let Some(mut step) = exact_step(input, t)? else { return Ok(None) };
    if step.mapping.is_none() {
        step.mapping = bridge::bridge(input, t, &step.schema);
    }
    Ok(Some(step))
}

/// [`step`], with a mapping only where the values move (or are rewritten in place).
fn exact_step(input: &RecordSchema, t: &Transform) -> Result<Option<Step>, Problem> {
    let origin = Origin::Transform { name: name(t).to_owned(), from: Box::new(input.origin.clone()) };
    let step = match t {
        Transform::Flatten { separator } => {
            let flat = flatten(&input.fields, separator)?;
            let open = input.open || flat.open;
            let mapping = flat.exact.then_some(Mapping::Flattened(flat.leaves));
            Step { schema: RecordSchema { fields: flat.fields, open, origin }, mapping }
        }
        Transform::RenameKeys { pattern, replacement } => {
            // Checked when the config was read; an invalid one leaves the stream untyped.
            let Ok(pattern) = regex::Regex::new(pattern) else { return Ok(None) };
            let fields = rekey(&input.fields, &[], &|key| rename(&pattern, replacement, key))?;
            if let Some(field) = empty_key(&fields, &input.fields, &[]) {
                return Err(Problem::EmptyKey(field));
            }
            Step {
                schema: RecordSchema { fields, open: input.open, origin },
                mapping: Some(Mapping::Renamed),
            }
        }
        Transform::KeysCase(mode) => {
            let mode = *mode;
            let fields = rekey(&input.fields, &[], &|key| mode.convert(key))?;
            Step {
                schema: RecordSchema { fields, open: input.open, origin },
                mapping: Some(Mapping::Renamed),
            }
        }
        Transform::CdcUnwrap { op_field, after_field, before_field, key_field, marker_field, .. } => {
            let object = |name: &str| match input.field(name).map(|f| &f.ty) {
                Some(FieldType::Object { fields }) => Some(fields.as_slice()),
                _ => None,
            };
            // An `after` of undeclared fields: nothing is known of the rows.
            let Some(after) = object(after_field).filter(|fields| !fields.is_empty()) else {
                return Ok(None);
            };
            let before_name = if object(before_field).is_some() {
                Some(before_field.as_str())
            } else {
                key_field.as_deref().filter(|k| object(k).is_some())
            };
            let before = before_name.and_then(object);
            let fields = unwrap_rows(after, before, marker_field);
            let index = |name: &str| input.fields.iter().position(|f| f.name == name);
            let mapping = exact_unwrap(
                input,
                op_field,
                after,
                before,
                before_field,
                key_field.as_deref(),
                marker_field,
            )
            .then(|| {
                let position = |row: &[FieldDef], name: &str| row.iter().position(|f| f.name == name);
                let fields = fields
                    .iter()
                    .map(|f| match f.name == *marker_field {
                        true => RowField::Marker,
                        false => RowField::Column {
                            after: position(after, &f.name),
                            before: before.and_then(|b| position(b, &f.name)),
                        },
                    })
                    .collect();
                Mapping::Unwrapped(Unwrap {
                    op: index(op_field),
                    after: index(after_field).expect("`after` is a field"),
                    before: before_name.and_then(index),
                    fields,
                })
            });
            Step { schema: RecordSchema { fields, open: input.open, origin }, mapping }
        }
        Transform::Filter(f) => {
            let mapping = rows::filter(input, f)?;
            Step { schema: RecordSchema { fields: input.fields.clone(), open: input.open, origin }, mapping }
        }
        Transform::Explode(e) => match rows::explode(input, e, origin)? {
            Some(schema) => Step { schema, mapping: None },
            None => return Ok(None),
        },
        Transform::Unpivot(u) => match rows::unpivot(input, u, origin)? {
            Some(schema) => Step { schema, mapping: None },
            None => return Ok(None),
        },
        Transform::Custom { .. } => return Ok(None),
        Transform::Select { .. }
        | Transform::Drop { .. }
        | Transform::Set { .. }
        | Transform::RenameField { .. }
        | Transform::Cast { .. }
        | Transform::Coalesce { .. } => return fields::step(input, t, origin),
        Transform::Redact { .. }
        | Transform::ValueCase { .. }
        | Transform::Hash(_)
        | Transform::JsonParse(_)
        | Transform::JsonEncode { .. }
        | Transform::Split(_)
        | Transform::Join(_)
        | Transform::Lookup(_) => return values::step(input, t, origin),
    };
    Ok(Some(step))
}

// ---- flatten ----

/// `flatten`: nested objects become top-level `parent{separator}child` keys,
/// depth first; arrays stay values. A nested object that may be `null`
/// keeps its key (null is a leaf), and so does one that may be empty (`{}`
/// is a leaf, as in faucet-stream 1.17): all its fields optional; its leaves
/// may then be absent. A `json` field (or an object of undeclared fields)
/// may hold an object whose keys are unknown, so the result also says
/// whether the output may carry keys not listed.
fn flatten(fields: &[FieldDef], separator: &str) -> Result<Flat, Collision> {
    let mut out = Lifted { fields: Vec::new(), open: false, exact: true, separator };
    for (i, field) in fields.iter().enumerate() {
        out.lift(field, field.name.clone(), field.name.clone(), vec![i], false)?;
    }
    let (fields, leaves) = out.fields.into_iter().map(|(f, _, leaf)| (f, leaf)).unzip();
    Ok(Flat { fields, leaves, open: out.open, exact: out.exact })
}

/// What `flatten` makes of a schema.
struct Flat {
    /// The fields returned.
    fields: Vec<FieldDef>,
    /// Where each comes from, when `exact`.
    leaves: Vec<Leaf>,
    /// Whether keys not listed may appear.
    open: bool,
    /// Whether `leaves` say what every record becomes: not when an object may
    /// be empty, whose key then holds `{}` (no [`Leaf`] moves that).
    exact: bool,
}

/// The leaves `flatten` has lifted so far.
struct Lifted<'s> {
    /// Each leaf, its dotted path before flattening (for collisions), and where it comes from.
    fields: Vec<(FieldDef, String, Leaf)>,
    /// Whether keys not listed may appear.
    open: bool,
    /// Whether every leaf is a [`Leaf`] (see [`Flat::exact`]).
    exact: bool,
    separator: &'s str,
}

impl Lifted<'_> {
    /// Adds the leaves of `field` under `key`; `path` is its dotted path
    /// before flattening, `at` its field indexes; `absent`: an enclosing
    /// object may be missing or null.
    fn lift(
        &mut self,
        field: &FieldDef,
        key: String,
        path: String,
        at: Vec<usize>,
        absent: bool,
    ) -> Result<(), Collision> {
        let required = field.required && !absent;
        match &field.ty {
            FieldType::Object { fields } if !fields.is_empty() => {
                // As at run time, an object under the empty key is the record's own level.
                let top = key.is_empty();
                let may_be_empty = !top && fields.iter().all(|f| !f.required);
                if field.nullable || may_be_empty {
                    // `null` and `{}` are leaves: the key stays, holding them.
                    let leaf = FieldDef {
                        name: key.clone(),
                        ty: FieldType::Json,
                        nullable: field.nullable,
                        required: false,
                    };
                    self.exact &= !may_be_empty;
                    self.insert(leaf, path.clone(), Leaf::Null(at.clone()))?;
                }
                let absent = absent || !field.required || field.nullable;
                for (i, child) in fields.iter().enumerate() {
                    let child_key = match top {
                        true => child.name.clone(),
                        false => format!("{key}{}{}", self.separator, child.name),
                    };
                    let child_path = format!("{path}.{}", child.name);
                    let mut child_at = at.clone();
                    child_at.push(i);
                    self.lift(child, child_key, child_path, child_at, absent)?;
                }
                Ok(())
            }
            FieldType::Json | FieldType::Object { .. } => {
                // An object value is flattened into keys nobody declared; any other stays.
                self.open = true;
                let leaf =
                    FieldDef { name: key, ty: FieldType::Json, nullable: field.nullable, required: false };
                self.insert(leaf, path, Leaf::Value(at))
            }
            ty => {
                let leaf = FieldDef { name: key, ty: ty.clone(), nullable: field.nullable, required };
                self.insert(leaf, path, Leaf::Value(at))
            }
        }
    }

    /// Adds `field` (from `path`), unless its key is already taken.
    fn insert(&mut self, field: FieldDef, path: String, leaf: Leaf) -> Result<(), Collision> {
        if let Some((_, first, _)) = self.fields.iter().find(|(f, _, _)| f.name == field.name) {
            return Err(Collision { first: first.clone(), second: path, key: field.name });
        }
        self.fields.push((field, path, leaf));
        Ok(())
    }
}

// ---- rename_keys, snake_case, keys_case ----

/// Every key renamed by `new_name` (`None`: it stays), at every depth:
/// objects in objects and objects inside arrays, as the runtime's re-keying
/// walk does. Two keys of one object ending with the same name collide;
/// keys renamed into each other's former names do not.
fn rekey(
    fields: &[FieldDef],
    path: &[&str],
    new_name: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<FieldDef>, Collision> {
    let mut out: Vec<FieldDef> = Vec::with_capacity(fields.len());
    for (i, field) in fields.iter().enumerate() {
        let name = new_name(&field.name).unwrap_or_else(|| field.name.clone());
        let mut inner = path.to_vec();
        inner.push(&field.name);
        let ty = rekey_type(&field.ty, &inner, new_name)?;
        if let Some(j) = out.iter().position(|f| f.name == name) {
            let dotted = |name: &str| {
                let mut parts = path.to_vec();
                parts.push(name);
                parts.join(".")
            };
            return Err(Collision {
                first: dotted(&fields[j].name),
                second: dotted(&fields[i].name),
                key: name,
            });
        }
        out.push(FieldDef { name, ty, ..field.clone() });
    }
    Ok(out)
}

/// The dotted path (names before the rename) of the first field that
/// `renamed` names with the empty key, at any depth.
fn empty_key(renamed: &[FieldDef], original: &[FieldDef], path: &[&str]) -> Option<String> {
    for (new, old) in renamed.iter().zip(original) {
        let mut inner = path.to_vec();
        inner.push(&old.name);
        if new.name.is_empty() && !old.name.is_empty() {
            return Some(inner.join("."));
        }
        let (mut new_ty, mut old_ty) = (&new.ty, &old.ty);
        while let (FieldType::Array { items: n }, FieldType::Array { items: o }) = (new_ty, old_ty) {
            (new_ty, old_ty) = (n, o);
        }
        if let (FieldType::Object { fields: n }, FieldType::Object { fields: o }) = (new_ty, old_ty)
            && let Some(found) = empty_key(n, o, &inner)
        {
            return Some(found);
        }
    }
    None
}

fn rekey_type(
    ty: &FieldType,
    path: &[&str],
    new_name: &dyn Fn(&str) -> Option<String>,
) -> Result<FieldType, Collision> {
    Ok(match ty {
        FieldType::Object { fields } => FieldType::Object { fields: rekey(fields, path, new_name)? },
        FieldType::Array { items } => {
            FieldType::Array { items: Box::new(rekey_type(items, path, new_name)?) }
        }
        other => other.clone(),
    })
}

// ---- cdc_unwrap ----

/// The key the runtime strips from unwrapped rows (unchanged TOASTed columns).
const UNCHANGED_TOAST: &str = "__unchanged_toast__";

/// `cdc_unwrap`'s rows: an insert or update is its `after` row, a delete its
/// `before` row (or key) plus `marker` set to true. `before` unknown: a
/// delete's row holds some of the table's columns (the old key at least), so
/// every field may be absent.
fn unwrap_rows(after: &[FieldDef], before: Option<&[FieldDef]>, marker: &str) -> Vec<FieldDef> {
    let in_before = |name: &str| before.and_then(|b| b.iter().find(|f| f.name == name));
    let mut out: Vec<FieldDef> = after
        .iter()
        .filter(|f| f.name != UNCHANGED_TOAST && f.name != marker)
        .map(|f| {
            let kept = in_before(&f.name).is_some_and(|b| b.required);
            FieldDef { required: f.required && kept, ..f.clone() }
        })
        .collect();
    for f in before.unwrap_or_default() {
        if f.name != UNCHANGED_TOAST && f.name != marker && !out.iter().any(|o| o.name == f.name) {
            out.push(FieldDef { required: false, ..f.clone() });
        }
    }
    out.push(FieldDef { name: marker.to_owned(), ty: FieldType::Boolean, nullable: false, required: false });
    out
}

/// Whether [`unwrap_rows`] says exactly what every record becomes, field by
/// field and key by key, so generated code may move the values:
/// - a delete row comes from one known object field: not from `before` on
///   some records and `key_field` on others, nor from a `json` value of
///   unknown keys;
/// - no row carries the marker itself (the runtime would keep it, or
///   overwrite it where it stands);
/// - a column in both rows has one type, and the delete row lists the
///   columns it shares with `after` first, in `after`'s order, so its keys
///   come out in the order the returned schema lists them.
fn exact_unwrap(
    input: &RecordSchema,
    op_field: &str,
    after: &[FieldDef],
    before: Option<&[FieldDef]>,
    before_field: &str,
    key_field: Option<&str>,
    marker: &str,
) -> bool {
    /// What a field of the change record holds, as far as rows go.
    enum Holds {
        /// Never an object.
        Nothing,
        /// An object of known fields; `always`: on every record.
        Row { always: bool },
        /// Maybe an object of fields nobody declared.
        Unknown,
    }
    let holds = |name: Option<&str>| match name.and_then(|n| input.field(n)) {
        None => Holds::Nothing,
        Some(f) => match &f.ty {
            FieldType::Object { fields } if !fields.is_empty() => {
                Holds::Row { always: f.required && !f.nullable }
            }
            FieldType::Object { .. } | FieldType::Json => Holds::Unknown,
            _ => Holds::Nothing,
        },
    };
    let one_delete_source = match (holds(Some(before_field)), holds(key_field)) {
        (Holds::Unknown, _) | (_, Holds::Unknown) => false,
        (Holds::Row { always: true }, _) => true,
        (Holds::Row { always: false }, key) => matches!(key, Holds::Nothing),
        (Holds::Nothing, _) => true,
    };
    // Text the runtime reads from the record (its op, and a truncate's
    // schema and table): a decimal may be a JSON number there, but is text in a struct.
    let text_fields = [op_field, "schema", "table"];
    let plain_text = text_fields
        .iter()
        .all(|name| input.field(name).is_none_or(|f| !matches!(f.ty, FieldType::Decimal { .. })));
    let marker_free =
        [Some(after), before].into_iter().flatten().all(|row| row.iter().all(|f| f.name != marker));
    let Some(before) = before else { return one_delete_source && marker_free && plain_text };
    let kept: Vec<&FieldDef> = before.iter().filter(|f| f.name != UNCHANGED_TOAST).collect();
    let shared: Vec<&FieldDef> =
        after.iter().filter(|a| a.name != UNCHANGED_TOAST && kept.iter().any(|b| b.name == a.name)).collect();
    let same_types = shared
        .iter()
        .all(|a| kept.iter().any(|b| b.name == a.name && b.ty == a.ty && b.nullable == a.nullable));
    let in_order = kept.iter().take(shared.len()).map(|f| &f.name).eq(shared.iter().map(|f| &f.name));
    one_delete_source && marker_free && plain_text && same_types && in_order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::CaseMode as Mode;

    fn f(name: &str, ty: FieldType) -> FieldDef {
        FieldDef { name: name.into(), ty, nullable: false, required: true }
    }

    fn obj(name: &str, fields: Vec<FieldDef>) -> FieldDef {
        f(name, FieldType::Object { fields })
    }

    fn schema(fields: Vec<FieldDef>) -> RecordSchema {
        RecordSchema { fields, open: false, origin: Origin::Declared { loc: Loc::Unknown } }
    }

    fn names(s: &RecordSchema) -> Vec<&str> {
        s.names()
    }

    fn run(s: &RecordSchema, t: Transform) -> Result<RecordSchema, Collision> {
        apply(Some(s), &t).map(|s| s.expect("a schema")).map_err(|p| match p {
            Problem::Collision(c) => c,
            other => panic!("not a collision: {other:?}"),
        })
    }

    fn optional(mut field: FieldDef) -> FieldDef {
        field.required = false;
        field
    }

    #[test]
    fn flatten_keeps_objects_that_may_be_empty_as_keys() {
        // Every field optional: the object may be `{}`, which stays under its key.
        let s = schema(vec![
            f("id", FieldType::Integer),
            obj(
                "m",
                vec![
                    optional(f("x", FieldType::Integer)),
                    optional(obj("deep", vec![optional(f("y", FieldType::String))])),
                ],
            ),
            obj("r", vec![f("z", FieldType::Integer)]),
        ]);
        let step = step(&s, &flatten_t("__")).unwrap().unwrap();
        assert_eq!(names(&step.schema), ["id", "m", "m__x", "m__deep", "m__deep__y", "r__z"]);
        let m = step.schema.field("m").unwrap();
        assert_eq!((&m.ty, m.nullable, m.required), (&FieldType::Json, false, false));
        assert_eq!(step.schema.field("m__deep").unwrap().ty, FieldType::Json);
        // An object with a required field is never empty: no key of its own.
        assert!(step.schema.field("r").is_none());
        // No leaf moves a `{}`: the stream is untyped at this flatten.
        assert_eq!(step.mapping, None);
        let exact = step_of(&schema(vec![obj("r", vec![f("z", FieldType::Integer)])]), flatten_t("__"));
        assert!(matches!(exact.mapping, Some(Mapping::Flattened(_))));
        // A nullable object that may be empty: one key for both.
        let mut n = obj("n", vec![optional(f("x", FieldType::Integer))]);
        n.nullable = true;
        let out = run(&schema(vec![n]), flatten_t("_")).unwrap();
        assert_eq!(names(&out), ["n", "n_x"]);
        assert!(out.field("n").unwrap().nullable);
    }

    #[test]
    fn flatten_of_an_object_under_the_empty_key_lifts_it_to_the_top() {
        let s = schema(vec![obj(
            "",
            vec![f("a", FieldType::Integer), obj("b", vec![f("c", FieldType::Integer)])],
        )]);
        let out = run(&s, flatten_t("__")).unwrap();
        assert_eq!(names(&out), ["a", "b__c"]);
    }

    fn step_of(s: &RecordSchema, t: Transform) -> Step {
        step(s, &t).unwrap().expect("a schema")
    }

    #[test]
    fn rename_keys_making_a_field_empty_is_a_problem() {
        let t = Transform::RenameKeys { pattern: "^user_(id)?".into(), replacement: "${1}".into() };
        let s =
            schema(vec![f("user_id", FieldType::Integer), obj("o", vec![f("user_", FieldType::Integer)])]);
        assert_eq!(apply(Some(&s), &t).unwrap_err(), Problem::EmptyKey("o.user_".into()));
        let s = schema(vec![f(
            "list",
            FieldType::Array {
                items: Box::new(FieldType::Object { fields: vec![f("user_", FieldType::Integer)] }),
            },
        )]);
        assert_eq!(apply(Some(&s), &t).unwrap_err(), Problem::EmptyKey("list.user_".into()));
        let s = schema(vec![f("user_id", FieldType::Integer)]);
        assert_eq!(names(&run(&s, t).unwrap()), ["id"]);
    }

    fn flatten_t(sep: &str) -> Transform {
        Transform::Flatten { separator: sep.into() }
    }

    #[test]
    fn flatten_lifts_nested_objects_depth_first() {
        let s = schema(vec![
            f("id", FieldType::Integer),
            obj(
                "user",
                vec![f("name", FieldType::String), obj("address", vec![f("city", FieldType::String)])],
            ),
            f("tags", FieldType::Array { items: Box::new(FieldType::String) }),
        ]);
        let out = run(&s, flatten_t("__")).unwrap();
        assert_eq!(names(&out), ["id", "user__name", "user__address__city", "tags"]);
        assert!(!out.open);
        assert!(out.fields.iter().all(|f| f.required));
        assert!(matches!(out.origin, Origin::Transform { ref name, .. } if name == "flatten"));
        let out = run(&s, flatten_t(".")).unwrap();
        assert_eq!(out.field("user.address.city").unwrap().ty, FieldType::String);
    }

    #[test]
    fn flatten_of_optional_and_nullable_objects() {
        let mut maybe = obj("m", vec![f("x", FieldType::Integer)]);
        maybe.required = false;
        let mut nullable = obj("n", vec![f("y", FieldType::Integer)]);
        nullable.nullable = true;
        let out = run(&schema(vec![maybe, nullable]), flatten_t("_")).unwrap();
        assert_eq!(names(&out), ["m_x", "n", "n_y"]);
        assert!(out.fields.iter().all(|f| !f.required));
        assert!(out.field("n").unwrap().nullable);
    }

    #[test]
    fn flatten_of_json_opens_the_schema() {
        let out =
            run(&schema(vec![f("payload", FieldType::Json), f("id", FieldType::Integer)]), flatten_t("__"))
                .unwrap();
        assert!(out.open);
        assert!(!out.field("payload").unwrap().required);
        assert!(out.field("id").unwrap().required);
    }

    #[test]
    fn flatten_collisions_name_both_fields() {
        let s = schema(vec![obj("a", vec![f("b", FieldType::Integer)]), f("a__b", FieldType::Integer)]);
        let c = run(&s, flatten_t("__")).unwrap_err();
        assert_eq!(c, Collision { first: "a.b".into(), second: "a__b".into(), key: "a__b".into() });
        let s = schema(vec![obj(
            "a",
            vec![f("b__c", FieldType::Integer), obj("b", vec![f("c", FieldType::Integer)])],
        )]);
        let c = run(&s, flatten_t("__")).unwrap_err();
        assert_eq!((c.first.as_str(), c.second.as_str(), c.key.as_str()), ("a.b__c", "a.b.c", "a__b__c"));
    }

    #[test]
    fn keys_case_converts_at_every_depth_like_the_runtime() {
        let s = schema(vec![
            obj("userInfo", vec![f("firstName", FieldType::String)]),
            f(
                "tagList",
                FieldType::Array {
                    items: Box::new(FieldType::Object { fields: vec![f("tagName", FieldType::String)] }),
                },
            ),
            f("HTTPServer", FieldType::String),
        ]);
        // faucet-stream's words: an uppercase run is one word.
        let out = run(&s, Transform::KeysCase(Mode::Snake)).unwrap();
        assert_eq!(names(&out), ["user_info", "tag_list", "httpserver"]);
        // faucet's own `snake_case` splits it.
        let own = run(&s, Transform::KeysCase(Mode::SnakeCase)).unwrap();
        assert_eq!(names(&own), ["user_info", "tag_list", "http_server"]);
        let dot = run(&s, Transform::KeysCase(Mode::Dot)).unwrap();
        assert_eq!(names(&dot), ["user.info", "tag.list", "httpserver"]);
        let FieldType::Object { fields } = &out.field("user_info").unwrap().ty else { panic!() };
        assert_eq!(fields[0].name, "first_name");
        let FieldType::Array { items } = &out.field("tag_list").unwrap().ty else { panic!() };
        assert_eq!(**items, FieldType::Object { fields: vec![f("tag_name", FieldType::String)] });
        let out =
            run(&schema(vec![f("first_name", FieldType::String)]), Transform::KeysCase(Mode::Camel)).unwrap();
        assert_eq!(names(&out), ["firstName"]);
    }

    #[test]
    fn keys_case_collisions_name_both_fields() {
        let s = schema(vec![f("first_name", FieldType::String), f("firstName", FieldType::String)]);
        let c = run(&s, Transform::KeysCase(Mode::Snake)).unwrap_err();
        assert_eq!(
            c,
            Collision { first: "first_name".into(), second: "firstName".into(), key: "first_name".into() }
        );
        let s = schema(vec![obj(
            "x",
            vec![f("FirstName", FieldType::String), f("first-name", FieldType::String)],
        )]);
        let c = run(&s, Transform::KeysCase(Mode::Camel)).unwrap_err();
        assert_eq!(
            c,
            Collision { first: "x.FirstName".into(), second: "x.first-name".into(), key: "firstName".into() }
        );
    }

    #[test]
    fn rename_keys_like_the_runtime() {
        let t = || Transform::RenameKeys { pattern: r"^(\w+)_id$".into(), replacement: "${1}Id".into() };
        let s = schema(vec![f("user_id", FieldType::Integer), f("name", FieldType::String)]);
        assert_eq!(names(&run(&s, t()).unwrap()), ["userId", "name"]);
        // Renamed into each other's names: no collision, as at run time.
        let swap = Transform::RenameKeys { pattern: "^(ax?)$".into(), replacement: "${1}x".into() };
        let s = schema(vec![f("a", FieldType::Integer), f("ax", FieldType::String)]);
        let out = run(&s, swap).unwrap();
        assert_eq!(names(&out), ["ax", "axx"]);
        assert_eq!(out.field("ax").unwrap().ty, FieldType::Integer);
        // Onto an unchanged key.
        let strip = Transform::RenameKeys { pattern: "^user_".into(), replacement: "".into() };
        let s = schema(vec![f("id", FieldType::Integer), f("user_id", FieldType::Integer)]);
        assert_eq!(
            run(&s, strip).unwrap_err(),
            Collision { first: "id".into(), second: "user_id".into(), key: "id".into() }
        );
    }

    #[test]
    fn cdc_unwrap_rows_and_marker() {
        let cdc = |key_field: Option<&str>| Transform::CdcUnwrap {
            op_field: "op".into(),
            after_field: "after".into(),
            before_field: "before".into(),
            key_field: key_field.map(Into::into),
            marker_field: "_deleted".into(),
            delete_ops: vec!["delete".into()],
            drop_ops: vec![],
        };
        let mut before = obj("before", vec![f("id", FieldType::Integer)]);
        before.nullable = true;
        let s = schema(vec![
            f("op", FieldType::String),
            before,
            obj(
                "after",
                vec![
                    f("id", FieldType::Integer),
                    f("v", FieldType::String),
                    f(UNCHANGED_TOAST, FieldType::Json),
                ],
            ),
        ]);
        let out = run(&s, cdc(None)).unwrap();
        assert_eq!(names(&out), ["id", "v", "_deleted"]);
        assert!(out.field("id").unwrap().required);
        assert!(!out.field("v").unwrap().required);
        assert_eq!(out.field("_deleted").unwrap().ty, FieldType::Boolean);
        // An untyped `after`: nothing is known of the rows.
        let s = schema(vec![f("op", FieldType::String), f("after", FieldType::Json)]);
        assert!(apply(Some(&s), &cdc(None)).unwrap().is_none());
    }

    #[test]
    fn custom_transforms_declare_their_output_or_untype_the_stream() {
        let s = schema(vec![f("id", FieldType::Integer)]);
        let custom = |output| Transform::Custom { function: "f".into(), loc: Loc::Unknown, output };
        assert!(apply(Some(&s), &custom(None)).unwrap().is_none());
        let declared = schema(vec![f("total", FieldType::Number)]);
        let out = apply(None, &custom(Some(declared))).unwrap().unwrap();
        assert_eq!(names(&out), ["total"]);
    }

    fn mapping(s: &RecordSchema, t: Transform) -> Option<Mapping> {
        step(s, &t).unwrap().expect("a schema").mapping
    }

    #[test]
    fn flatten_says_where_each_field_comes_from() {
        let mut nullable =
            obj("n", vec![f("y", FieldType::Integer), obj("z", vec![f("w", FieldType::String)])]);
        nullable.nullable = true;
        let s = schema(vec![f("id", FieldType::Integer), nullable]);
        let Some(Mapping::Flattened(leaves)) = mapping(&s, flatten_t("_")) else { panic!() };
        assert_eq!(
            leaves,
            [Leaf::Value(vec![0]), Leaf::Null(vec![1]), Leaf::Value(vec![1, 0]), Leaf::Value(vec![1, 1, 0])]
        );
        // An object of undeclared fields is flattened into keys nobody declared.
        let out = run(&schema(vec![obj("o", vec![]), f("id", FieldType::Integer)]), flatten_t("_")).unwrap();
        assert!(out.open);
        assert_eq!(mapping(&s, Transform::KeysCase(Mode::Camel)), Some(Mapping::Renamed));
    }

    #[test]
    fn cdc_unwrap_maps_rows_only_when_exact() {
        let cdc = |key_field: Option<&str>| Transform::CdcUnwrap {
            op_field: "op".into(),
            after_field: "after".into(),
            before_field: "before".into(),
            key_field: key_field.map(Into::into),
            marker_field: "_deleted".into(),
            delete_ops: vec!["delete".into()],
            drop_ops: vec![],
        };
        let nullable = |mut field: FieldDef| {
            field.nullable = true;
            field
        };
        let row = |fields: Vec<FieldDef>| nullable(obj("after", fields));
        let before = |fields: Vec<FieldDef>| nullable(obj("before", fields));
        let (id, v) = (f("id", FieldType::Integer), f("v", FieldType::String));
        let s = schema(vec![
            f("op", FieldType::String),
            before(vec![id.clone()]),
            row(vec![id.clone(), v.clone()]),
        ]);
        let Some(Mapping::Unwrapped(u)) = mapping(&s, cdc(None)) else { panic!() };
        assert_eq!((u.op, u.after, u.before), (Some(0), 2, Some(1)));
        assert_eq!(
            u.fields,
            [
                RowField::Column { after: Some(0), before: Some(0) },
                RowField::Column { after: Some(1), before: None },
                RowField::Marker
            ]
        );
        // A delete row from `before` on some records and from the key on others.
        let mut keyed = s.clone();
        keyed.fields.push(obj("key", vec![id.clone()]));
        assert_eq!(mapping(&keyed, cdc(Some("key"))), None);
        // A row carrying the marker; a delete row listing its columns in another order.
        let marked = schema(vec![
            f("op", FieldType::String),
            row(vec![id.clone(), f("_deleted", FieldType::Boolean)]),
        ]);
        assert_eq!(mapping(&marked, cdc(None)), None);
        let reordered = schema(vec![
            f("op", FieldType::String),
            before(vec![v.clone(), id.clone()]),
            row(vec![id.clone(), v.clone()]),
        ]);
        assert_eq!(mapping(&reordered, cdc(None)), None);
        // An op that may be a JSON number where the struct holds text.
        let decimal_op =
            schema(vec![f("op", FieldType::Decimal { precision: None, scale: None }), row(vec![id.clone()])]);
        assert_eq!(mapping(&decimal_op, cdc(None)), None);
    }

    #[test]
    fn untyped_streams_stay_untyped() {
        assert!(apply(None, &flatten_t("__")).unwrap().is_none());
        assert!(apply(None, &Transform::KeysCase(Mode::Snake)).unwrap().is_none());
    }
}
