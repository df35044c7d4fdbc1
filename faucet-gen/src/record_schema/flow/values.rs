//! The schema flow of the value transforms (`redact`, `value_case`, `hash`,
//! `json_parse`, `json_encode`, `split`, `join`, `lookup`): which fields
//! each one changes to which type, and the fields they name checked against
//! the schema (a field the records do not have, a `value_case` of a number).
//!
//! `redact` with a string mask, `value_case` and in-place `hash` of string
//! fields rewrite values where they stand ([`Rewrite`]), which a typed stream
//! does in generated code; the others give no mapping, and the stretch of a
//! typed stream holding them runs untyped.

use serde_json::Value;

use super::{Invalid, Mapping, Problem, Step};
use crate::diag::help_for;
use crate::ir::values::{JsonParseOnError, LookupOnMissing, Reference, ValueCaseMode};
use crate::ir::{CastOnError, CastType, Named, Transform};
use crate::record_schema::{FieldDef, FieldType, Origin, RecordSchema};

/// How a typed stream rewrites one field in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rewrite {
    /// Unchanged.
    Kept,
    /// `redact`: the value, where present, becomes this string.
    Masked(String),
    /// `value_case` of a string.
    Recased(ValueCaseMode),
    /// `hash` of a string, in place.
    Hashed,
    /// `cast` of an integer, number, boolean or string member to another of those.
    Cast(CastType, CastOnError),
}

/// What value transform `t` makes of records of schema `input`.
pub(crate) fn step(input: &RecordSchema, t: &Transform, origin: Origin) -> Result<Option<Step>, Problem> {
    let kind = super::name(t);
    let mut fields = input.fields.clone();
    let mut rewrites: Option<Vec<Rewrite>> = Some(vec![Rewrite::Kept; fields.len()]);
    match t {
        Transform::Redact { fields: names, mask } => {
            for name in names {
                let Some(i) = find(input, name, kind)? else {
                    rewrite(&mut rewrites, None, None);
                    continue;
                };
                let f = &mut fields[i];
                let (ty, nullable) = match mask {
                    Value::Null => (f.ty.clone(), true),
                    other => (type_of(other), false),
                };
                *f = FieldDef { ty, nullable, ..f.clone() };
                let typed = match mask {
                    Value::String(s) => Some(Rewrite::Masked(s.clone())),
                    _ => None,
                };
                rewrite(&mut rewrites, Some(i), typed);
            }
        }
        Transform::ValueCase { fields: names, mode } => {
            for name in names {
                let Some(i) = find(input, name, kind)? else {
                    rewrite(&mut rewrites, None, None);
                    continue;
                };
                expect(&input.fields[i], name, kind, text, ("a string", "strings"))?;
                let typed = (input.fields[i].ty == FieldType::String).then_some(Rewrite::Recased(*mode));
                rewrite(&mut rewrites, Some(i), typed);
            }
        }
        Transform::Hash(h) => {
            for name in &h.fields {
                let Some(i) = find(input, name, kind)? else {
                    rewrite(&mut rewrites, None, None);
                    continue;
                };
                let src = input.fields[i].clone();
                let digest = FieldDef { ty: FieldType::String, ..src.clone() };
                match &h.into {
                    None => {
                        fields[i] = digest;
                        let typed = (src.ty == FieldType::String).then_some(Rewrite::Hashed);
                        rewrite(&mut rewrites, Some(i), typed);
                    }
                    Some(into) => {
                        let always = src.required && !src.nullable;
                        write_into(&mut fields, &into.name, FieldType::String, false, always);
                        rewrites = None;
                    }
                }
            }
        }
        Transform::JsonParse(p) => {
            rewrites = None;
            for name in &p.fields {
                let Some(i) = find(input, name, kind)? else { continue };
                let src = input.fields[i].clone();
                expect(&src, name, kind, text, ("a string", "strings"))?;
                match &p.into {
                    None => fields[i] = FieldDef { ty: FieldType::Json, nullable: true, ..src },
                    Some(into) => {
                        let always = src.required
                            && !src.nullable
                            && src.ty == FieldType::String
                            && p.on_error != JsonParseOnError::Keep;
                        write_into(&mut fields, &into.name, FieldType::Json, true, always);
                    }
                }
            }
        }
        Transform::JsonEncode { fields: names } => {
            rewrites = None;
            for name in names {
                let Some(i) = find(input, name, kind)? else { continue };
                let src = &input.fields[i];
                let nested =
                    |ty: &FieldType| matches!(ty, FieldType::Object { .. } | FieldType::Array { .. });
                let accepts = |ty: &FieldType| nested(ty) || *ty == FieldType::Json;
                expect(src, name, kind, accepts, ("an object or an array", "objects and arrays"))?;
                if nested(&src.ty) {
                    fields[i] = FieldDef { ty: FieldType::String, ..src.clone() };
                }
            }
        }
        Transform::Split(s) => {
            rewrites = None;
            if let Some(i) = find(input, &s.field, kind)? {
                let src = input.fields[i].clone();
                expect(&src, &s.field, kind, text, ("a string", "strings"))?;
                let parts = FieldType::Array { items: Box::new(FieldType::String) };
                let always = src.ty != FieldType::Json;
                match &s.into {
                    None if always => fields[i] = FieldDef { ty: parts, ..src },
                    None => {}
                    Some(into) => {
                        let always = always && src.required && !src.nullable;
                        write_into(&mut fields, &into.name, parts, false, always);
                    }
                }
            }
        }
        Transform::Join(j) => {
            rewrites = None;
            if let Some(i) = find(input, &j.field, kind)? {
                let src = input.fields[i].clone();
                let array = |ty: &FieldType| matches!(ty, FieldType::Array { .. });
                let accepts = |ty: &FieldType| array(ty) || *ty == FieldType::Json;
                expect(&src, &j.field, kind, accepts, ("an array", "arrays"))?;
                let always = array(&src.ty);
                match &j.into {
                    None if always => fields[i] = FieldDef { ty: FieldType::String, ..src },
                    None => {}
                    Some(into) => {
                        let always = always && src.required && !src.nullable;
                        write_into(&mut fields, &into.name, FieldType::String, false, always);
                    }
                }
            }
        }
        Transform::Lookup(l) => {
            rewrites = None;
            find(input, &l.on_record, kind)?;
            for (column, from) in &l.add {
                let (ty, mut nullable) = match &l.reference {
                    Reference::Rows(rows) => column_type(rows, &l.on_ref.name, &from.name),
                    Reference::File(_) => (FieldType::Json, true),
                };
                nullable |= l.on_missing == LookupOnMissing::Null;
                let always = l.on_missing != LookupOnMissing::Keep;
                write_into(&mut fields, column, ty, nullable, always);
            }
        }
        _ => return Ok(None),
    }
    let mapping = rewrites.map(Mapping::Rewritten);
    Ok(Some(Step { schema: RecordSchema { fields, open: input.open, origin }, mapping }))
}

/// Notes that field `at` is rewritten as `r`; `None` for either: the step has no mapping.
fn rewrite(rewrites: &mut Option<Vec<Rewrite>>, at: Option<usize>, r: Option<Rewrite>) {
    match (at, r, rewrites.as_mut()) {
        (Some(i), Some(r), Some(list)) => list[i] = r,
        _ => *rewrites = None,
    }
}

/// The field `name` of `input`; `None` when a schema open to other fields
/// lacks it; an error when a closed one does.
fn find(input: &RecordSchema, name: &Named, kind: &str) -> Result<Option<usize>, Problem> {
    match input.fields.iter().position(|f| f.name == name.name) {
        Some(i) => Ok(Some(i)),
        None if input.open => Ok(None),
        None => Err(Problem::Invalid(Invalid {
            loc: name.loc.clone(),
            message: format!("`{kind}` names field `{}`, which the records do not have", name.name),
            help: help_for(&name.name, &input.names()),
        })),
    }
}

/// Text in a record: a string, a `json` value that may be one, or a database
/// type that travels as its text.
fn text(ty: &FieldType) -> bool {
    matches!(ty, FieldType::String | FieldType::Json | FieldType::Other { .. })
}

/// The field's type is one `accepts`; otherwise an error naming what it is.
fn expect(
    field: &FieldDef,
    name: &Named,
    kind: &str,
    accepts: impl Fn(&FieldType) -> bool,
    (wanted, plural): (&str, &str),
) -> Result<(), Problem> {
    if accepts(&field.ty) {
        return Ok(());
    }
    Err(Problem::Invalid(Invalid {
        loc: name.loc.clone(),
        message: format!("`{kind}` of field `{}`, which is {}, not {wanted}", name.name, article(&field.ty)),
        help: format!(
            "`{kind}` changes only {plural}: at run time `{}` would pass through unchanged; remove it from the transform, or `cast` it first",
            name.name
        ),
    }))
}

fn article(ty: &FieldType) -> String {
    let d = ty.describe();
    if d.starts_with(['a', 'e', 'i', 'o', 'u']) { format!("an {d}") } else { format!("a {d}") }
}

/// Writes a value of type `ty` to the field `name` (added at the end when
/// the records lack it); `always`: on every record, else only on some (the
/// others keep what they had, or lack it).
fn write_into(fields: &mut Vec<FieldDef>, name: &str, ty: FieldType, nullable: bool, always: bool) {
    match fields.iter_mut().find(|f| f.name == name) {
        Some(old) if always => *old = FieldDef { name: name.to_owned(), ty, nullable, required: true },
        Some(old) => {
            if old.ty != ty {
                old.ty = FieldType::Json;
            }
            old.nullable |= nullable;
        }
        None => fields.push(FieldDef { name: name.to_owned(), ty, nullable, required: always }),
    }
}

/// The type of a JSON value, as a field.
fn type_of(v: &Value) -> FieldType {
    match v {
        Value::String(_) => FieldType::String,
        Value::Bool(_) => FieldType::Boolean,
        Value::Number(n) if fits_integer(n) => FieldType::Integer,
        Value::Number(_) => FieldType::Number,
        _ => FieldType::Json,
    }
}

/// Whether a number is written as an integer that fits 64 bits.
fn fits_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64()
}

/// The type of the reference column `column` over the rows a lookup uses
/// (the first of each key), and whether it may be null or missing.
fn column_type(rows: &[serde_json::Map<String, Value>], on_ref: &str, column: &str) -> (FieldType, bool) {
    let mut seen: Vec<String> = Vec::new();
    let mut ty: Option<FieldType> = None;
    let mut nullable = false;
    for row in rows {
        let Some(key) = row.get(on_ref).filter(|k| !k.is_null()) else { continue };
        let key = key.to_string();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        match row.get(column) {
            None | Some(Value::Null) => nullable = true,
            Some(v) => {
                let t = type_of(v);
                ty = Some(match ty {
                    None => t,
                    Some(prev) if prev == t => prev,
                    Some(_) => FieldType::Json,
                });
            }
        }
    }
    (ty.unwrap_or(FieldType::Json), nullable)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diag::Loc;
    use crate::ir::values::{Hash, HashAlgorithm, HashEncoding, JsonParse, Lookup, SplitJoin};
    use crate::record_schema::flow::bridge::Bridge;

    fn f(name: &str, ty: FieldType) -> FieldDef {
        FieldDef { name: name.into(), ty, nullable: false, required: true }
    }

    fn schema(fields: Vec<FieldDef>) -> RecordSchema {
        RecordSchema { fields, open: false, origin: Origin::Declared { loc: Loc::Unknown } }
    }

    fn name(n: &str) -> Named {
        Named { name: n.into(), loc: Loc::Unknown }
    }

    fn run(s: &RecordSchema, t: &Transform) -> Result<Step, Problem> {
        super::super::step(s, t).map(|s| s.expect("a schema"))
    }

    fn strings() -> FieldType {
        FieldType::Array { items: Box::new(FieldType::String) }
    }

    fn hash(fields: &[&str], into: Option<&str>) -> Transform {
        Transform::Hash(Hash {
            fields: fields.iter().map(|n| name(n)).collect(),
            algorithm: HashAlgorithm::Sha256,
            encoding: HashEncoding::Hex,
            salt: None,
            into: into.map(name),
        })
    }

    #[test]
    fn hash_makes_strings_and_is_typed_in_place_on_strings_only() {
        let mut n = f("n", FieldType::Integer);
        n.nullable = true;
        let s = schema(vec![f("email", FieldType::String), n]);
        let step = run(&s, &hash(&["email"], None)).unwrap();
        assert_eq!(step.mapping, Some(Mapping::Rewritten(vec![Rewrite::Hashed, Rewrite::Kept])));
        let step = run(&s, &hash(&["n"], None)).unwrap();
        assert_eq!(step.schema.field("n").unwrap().ty, FieldType::String);
        assert!(step.schema.field("n").unwrap().nullable, "null stays null");
        // An integer's digest is of its JSON: the runtime's `hash` runs on it.
        let bridged = Bridge { names: vec!["n".into()], writes: vec!["n".into()], expands: false };
        assert_eq!(step.mapping, Some(Mapping::Bridged(bridged)));
        // `into`: a new string field, on every record when the source is never null.
        let step = run(&s, &hash(&["email"], Some("token"))).unwrap();
        assert_eq!(step.schema.field("token"), Some(&f("token", FieldType::String)));
        assert_eq!(step.schema.field("email").unwrap().ty, FieldType::String);
        let step = run(&s, &hash(&["n"], Some("token"))).unwrap();
        assert!(!step.schema.field("token").unwrap().required);
    }

    #[test]
    fn redact_takes_the_mask_type() {
        let s = schema(vec![f("ssn", FieldType::String), f("pin", FieldType::Integer)]);
        let redact = |mask| Transform::Redact { fields: vec![name("ssn"), name("pin")], mask };
        let step = run(&s, &redact(json!("***"))).unwrap();
        assert_eq!(step.schema.field("pin").unwrap().ty, FieldType::String);
        assert_eq!(
            step.mapping,
            Some(Mapping::Rewritten(vec![Rewrite::Masked("***".into()), Rewrite::Masked("***".into())]))
        );
        let step = run(&s, &redact(json!(0))).unwrap();
        assert_eq!(step.schema.field("ssn").unwrap().ty, FieldType::Integer);
        let both = vec!["ssn".to_owned(), "pin".to_owned()];
        let bridged = Bridge { names: both.clone(), writes: both, expands: false };
        assert_eq!(step.mapping, Some(Mapping::Bridged(bridged)));
        let step = run(&s, &redact(serde_json::Value::Null)).unwrap();
        let ssn = step.schema.field("ssn").unwrap();
        assert_eq!((&ssn.ty, ssn.nullable), (&FieldType::String, true));
    }

    #[test]
    fn names_are_checked_against_a_closed_schema_only() {
        let s = schema(vec![f("email", FieldType::String), f("id", FieldType::Integer)]);
        let Err(Problem::Invalid(p)) = run(&s, &hash(&["emial"], None)) else { panic!() };
        assert_eq!(p.message, "`hash` names field `emial`, which the records do not have");
        assert_eq!(p.help, "did you mean `email`?");
        let mut open = s.clone();
        open.open = true;
        assert!(run(&open, &hash(&["emial"], None)).unwrap().mapping.is_none());
        let case = Transform::ValueCase { fields: vec![name("id")], mode: ValueCaseMode::Upper };
        let Err(Problem::Invalid(p)) = run(&s, &case) else { panic!() };
        assert_eq!(p.message, "`value_case` of field `id`, which is an integer, not a string");
    }

    #[test]
    fn split_join_and_json_map_types() {
        let s = schema(vec![
            f("tags", FieldType::String),
            f("list", strings()),
            f("doc", FieldType::Object { fields: vec![f("a", FieldType::Integer)] }),
            f("raw", FieldType::String),
        ]);
        let split = |into: Option<&str>| {
            Transform::Split(SplitJoin {
                field: name("tags"),
                delimiter: ",".into(),
                trim: false,
                into: into.map(name),
            })
        };
        assert_eq!(run(&s, &split(None)).unwrap().schema.field("tags").unwrap().ty, strings());
        let step = run(&s, &split(Some("parts"))).unwrap();
        assert_eq!(step.schema.names(), ["tags", "list", "doc", "raw", "parts"]);
        assert_eq!(step.schema.field("parts"), Some(&f("parts", strings())));
        let join = Transform::Join(SplitJoin {
            field: name("list"),
            delimiter: ",".into(),
            trim: false,
            into: None,
        });
        assert_eq!(run(&s, &join).unwrap().schema.field("list").unwrap().ty, FieldType::String);
        let join_text = Transform::Join(SplitJoin {
            field: name("tags"),
            delimiter: ",".into(),
            trim: false,
            into: None,
        });
        assert!(matches!(run(&s, &join_text), Err(Problem::Invalid(_))));
        let encode = Transform::JsonEncode { fields: vec![name("doc")] };
        assert_eq!(run(&s, &encode).unwrap().schema.field("doc").unwrap().ty, FieldType::String);
        let parse = Transform::JsonParse(JsonParse {
            fields: vec![name("raw")],
            on_error: JsonParseOnError::Keep,
            into: None,
        });
        let raw = run(&s, &parse).unwrap().schema.field("raw").cloned().unwrap();
        assert_eq!((raw.ty, raw.nullable, raw.required), (FieldType::Json, true, true));
    }

    #[test]
    fn lookup_adds_columns_typed_by_the_table() {
        let rows = vec![
            json!({"code": "DE", "name": "Germany", "pop": 83, "eu": true}),
            json!({"code": "CH", "name": "Switzerland", "pop": 9.1}),
            json!({"code": "DE", "name": 1, "eu": "shadowed"}),
        ];
        let rows: Vec<_> = rows.into_iter().map(|r| r.as_object().unwrap().clone()).collect();
        let lookup = |on_missing| {
            Transform::Lookup(Box::new(Lookup {
                reference: Reference::Rows(rows.clone()),
                on_record: name("country"),
                on_ref: name("code"),
                add: vec![
                    ("country_name".into(), name("name")),
                    ("pop".into(), name("pop")),
                    ("in_eu".into(), name("eu")),
                ],
                on_missing,
            }))
        };
        let s = schema(vec![f("country", FieldType::String)]);
        let out = run(&s, &lookup(LookupOnMissing::Error)).unwrap().schema;
        assert_eq!(out.field("country_name"), Some(&f("country_name", FieldType::String)));
        assert_eq!(out.field("pop").unwrap().ty, FieldType::Json, "an integer and a number");
        let eu = out.field("in_eu").unwrap();
        assert_eq!((&eu.ty, eu.nullable), (&FieldType::Boolean, true), "a row without it");
        let out = run(&s, &lookup(LookupOnMissing::Keep)).unwrap().schema;
        assert!(!out.field("country_name").unwrap().required);
        let out = run(&s, &lookup(LookupOnMissing::Null)).unwrap().schema;
        assert!(out.field("country_name").unwrap().nullable);
        let other = schema(vec![f("id", FieldType::Integer)]);
        assert!(matches!(run(&other, &lookup(LookupOnMissing::Null)), Err(Problem::Invalid(_))));
    }
}
