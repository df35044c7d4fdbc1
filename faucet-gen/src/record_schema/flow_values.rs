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

use super::flow::{Mapping, Problem, Step};
use super::{FieldDef, FieldType, Origin, RecordSchema};
use crate::diag::{Diagnostic, Loc, help_for};
use crate::ir::Transform;
use crate::ir::values::{FieldName, JsonParseOnError, LookupOnMissing, Reference, ValueCaseMode};

/// A field a value transform names that the schema rules out.
#[derive(Debug, Clone)]
pub(crate) struct FieldProblem {
    loc: Loc,
    message: String,
    help: String,
}

impl PartialEq for FieldProblem {
    fn eq(&self, other: &Self) -> bool {
        (&self.message, &self.help) == (&other.message, &other.help)
    }
}

impl Eq for FieldProblem {}

impl FieldProblem {
    /// The build error, at the field's name.
    pub(crate) fn diagnostic(self) -> Diagnostic {
        Diagnostic::new(self.loc, self.message).with_help(self.help)
    }
}

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
}

/// What value transform `t` makes of records of schema `input`.
pub(crate) fn step(input: &RecordSchema, t: &Transform, origin: Origin) -> Result<Option<Step>, Problem> {
    let kind = super::flow::name(t);
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
                let nested = |ty: &FieldType| matches!(ty, FieldType::Object { .. } | FieldType::Array { .. });
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
fn find(input: &RecordSchema, name: &FieldName, kind: &str) -> Result<Option<usize>, Problem> {
    match input.fields.iter().position(|f| f.name == name.name) {
        Some(i) => Ok(Some(i)),
        None if input.open => Ok(None),
        None => Err(Problem::Field(FieldProblem {
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
    name: &FieldName,
    kind: &str,
    accepts: impl Fn(&FieldType) -> bool,
    (wanted, plural): (&str, &str),
) -> Result<(), Problem> {
    if accepts(&field.ty) {
        return Ok(());
    }
    Err(Problem::Field(FieldProblem {
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
