//! The schema flow: each config transform maps the schema of the records it
//! receives to the schema of the records it returns, exactly as it reshapes
//! each record at run time (`faucet_runtime::transform`). The key rewrites
//! themselves are the runtime's own ([`faucet_keys`]); what is mapped here is
//! which fields exist, of which types, and whether two of them would become
//! one key (a build error at the transform, naming both).

use faucet_keys::rename;

use super::{FieldDef, FieldType, Origin, RecordSchema};
use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::ir::Transform;

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
            Err(c) => {
                let loc = locs.get(i).cloned().unwrap_or(Loc::Unknown);
                let mut d = Diagnostic::new(
                    loc,
                    format!(
                        "`{}` makes two fields one key: `{}` and `{}` both become `{}`",
                        name(t),
                        c.first,
                        c.second,
                        c.key
                    ),
                )
                .with_help(collision_help(t));
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
pub(crate) fn apply(input: Option<&RecordSchema>, t: &Transform) -> Result<Option<RecordSchema>, Collision> {
    if let Transform::Custom { output, .. } = t {
        return Ok(output.clone());
    }
    let Some(input) = input else { return Ok(None) };
    let origin = Origin::Transform { name: name(t).to_owned(), from: Box::new(input.origin.clone()) };
    let mapped = match t {
        Transform::Flatten { separator } => {
            let (fields, json) = flatten(&input.fields, separator)?;
            RecordSchema { fields, open: input.open || json, origin }
        }
        Transform::RenameKeys { pattern, replacement } => {
            // Checked when the config was read; an invalid one leaves the stream untyped.
            let Ok(pattern) = regex::Regex::new(pattern) else { return Ok(None) };
            let fields = rekey(&input.fields, &[], &|key| rename(&pattern, replacement, key))?;
            RecordSchema { fields, open: input.open, origin }
        }
        Transform::KeysCase(mode) => {
            let mode = *mode;
            let fields = rekey(&input.fields, &[], &|key| mode.convert(key))?;
            RecordSchema { fields, open: input.open, origin }
        }
        Transform::CdcUnwrap { after_field, before_field, key_field, marker_field, .. } => {
            let object = |name: &str| match input.field(name).map(|f| &f.ty) {
                Some(FieldType::Object { fields }) => Some(fields.as_slice()),
                _ => None,
            };
            let Some(after) = object(after_field) else { return Ok(None) };
            let before = object(before_field).or_else(|| key_field.as_deref().and_then(object));
            RecordSchema { fields: unwrap_rows(after, before, marker_field), open: input.open, origin }
        }
        Transform::Custom { .. } => return Ok(None),
    };
    Ok(Some(mapped))
}

// ---- flatten ----

/// `flatten`: nested objects become top-level `parent{separator}child` keys,
/// depth first; arrays stay values. A nested object that may be `null`
/// keeps its key (null is a leaf), and its leaves may be absent; a `json`
/// field may hold an object whose keys are unknown, so the result also says
/// whether the output may carry keys not listed (`true`).
fn flatten(fields: &[FieldDef], separator: &str) -> Result<(Vec<FieldDef>, bool), Collision> {
    let mut out: Vec<(FieldDef, String)> = Vec::new();
    let mut open = false;
    for field in fields {
        lift(field, field.name.clone(), field.name.clone(), false, separator, &mut out, &mut open)?;
    }
    Ok((out.into_iter().map(|(f, _)| f).collect(), open))
}

/// Adds the leaves of `field` under `key`; `path` is its dotted path before
/// flattening; `absent`: an enclosing object may be missing or null.
fn lift(
    field: &FieldDef,
    key: String,
    path: String,
    absent: bool,
    separator: &str,
    out: &mut Vec<(FieldDef, String)>,
    open: &mut bool,
) -> Result<(), Collision> {
    let required = field.required && !absent;
    match &field.ty {
        FieldType::Object { fields } => {
            if field.nullable {
                // `null` is a leaf: the key stays, holding null.
                let leaf =
                    FieldDef { name: key.clone(), ty: FieldType::Json, nullable: true, required: false };
                insert(out, leaf, path.clone())?;
            }
            let absent = absent || !field.required || field.nullable;
            for child in fields {
                let child_key = format!("{key}{separator}{}", child.name);
                let child_path = format!("{path}.{}", child.name);
                lift(child, child_key, child_path, absent, separator, out, open)?;
            }
            Ok(())
        }
        FieldType::Json => {
            // An object value is flattened into keys nobody declared; any other stays.
            *open = true;
            let leaf = FieldDef { name: key, ty: FieldType::Json, nullable: field.nullable, required: false };
            insert(out, leaf, path)
        }
        ty => {
            let leaf = FieldDef { name: key, ty: ty.clone(), nullable: field.nullable, required };
            insert(out, leaf, path)
        }
    }
}

/// Adds `field` (from `path`), unless its key is already taken.
fn insert(out: &mut Vec<(FieldDef, String)>, field: FieldDef, path: String) -> Result<(), Collision> {
    if let Some((_, first)) = out.iter().find(|(f, _)| f.name == field.name) {
        return Err(Collision { first: first.clone(), second: path, key: field.name });
    }
    out.push((field, path));
    Ok(())
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
        apply(Some(s), &t).map(|s| s.expect("a schema"))
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
        let out = run(&s, Transform::KeysCase(Mode::Snake)).unwrap();
        assert_eq!(names(&out), ["user_info", "tag_list", "http_server"]);
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

    #[test]
    fn untyped_streams_stay_untyped() {
        assert!(apply(None, &flatten_t("__")).unwrap().is_none());
        assert!(apply(None, &Transform::KeysCase(Mode::Snake)).unwrap().is_none());
    }
}
