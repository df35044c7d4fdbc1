//! The schema flow of the transforms that name top-level fields: `select`,
//! `drop`, `set`, `rename_field`, `cast` and `coalesce`.
//!
//! Each maps the schema as its runtime transform maps records
//! (`faucet_runtime::transform::{Select, DropFields, Set, RenameField, Cast,
//! Coalesce}`): fields keep their places, a field added goes after the
//! others. Where the schema is closed, a field the config names that the
//! records lack is an error at that name, with the nearest field the records
//! have; so is a `rename_field` onto a field that stays, and a `cast` that
//! can never succeed (of an object or an array, or of a number to a timestamp).
//!
//! `select`, `drop`, `set` and `rename_field` say where every field comes
//! from ([`Pick`]): on a typed stream they are moves and constants in
//! generated code. `cast` between integers, numbers, booleans and strings is
//! a conversion of the member in place ([`Rewrite::Cast`]); any other `cast`,
//! and `coalesce`, run as runtime transforms on the fields they name.

use super::values::Rewrite;
use super::{Invalid, Mapping, Problem, Step};
use crate::diag::suggest;
use crate::ir::{CastOnError, CastType, Fill, Named, Transform};
use crate::record_schema::{FieldDef, FieldType, Origin, RecordSchema};

/// Where one field a field transform returns comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pick {
    /// The input's field at this index, moved as it is (under its new name).
    Field(usize),
    /// A constant.
    Constant(serde_json::Value),
}

/// What field transform `t` makes of records of schema `input`.
pub(crate) fn step(input: &RecordSchema, t: &Transform, origin: Origin) -> Result<Option<Step>, Problem> {
    let schema = |fields: Vec<FieldDef>, open: bool| RecordSchema { fields, open, origin: origin.clone() };
    let step = match t {
        Transform::Select { fields } => {
            let mut out = Vec::with_capacity(fields.len());
            let mut picks = Vec::with_capacity(fields.len());
            for f in fields {
                match index(input, f, "select")? {
                    Some(i) => {
                        out.push(input.fields[i].clone());
                        picks.push(Pick::Field(i));
                    }
                    // An open schema may carry it: of any type, maybe absent.
                    None => out.push(FieldDef {
                        name: f.name.clone(),
                        ty: FieldType::Json,
                        nullable: true,
                        required: false,
                    }),
                }
            }
            // Only the listed fields remain: nothing unknown passes.
            let mapping = (!input.open).then_some(Mapping::Picked(picks));
            Step { schema: schema(out, false), mapping }
        }
        Transform::Drop { fields } => {
            for f in fields {
                index(input, f, "drop")?;
            }
            let kept: Vec<usize> = (0..input.fields.len())
                .filter(|&i| !fields.iter().any(|f| f.name == input.fields[i].name))
                .collect();
            if kept.is_empty()
                && !input.open
                && let Some(first) = fields.first()
            {
                return Err(Problem::Invalid(Invalid {
                    loc: first.loc.clone(),
                    message: "`drop` removes every field the records have: each would be `{}`".into(),
                    help: "keep at least one field, or remove this `drop`".into(),
                }));
            }
            let out = kept.iter().map(|&i| input.fields[i].clone()).collect();
            let mapping = Mapping::Picked(kept.into_iter().map(Pick::Field).collect());
            Step { schema: schema(out, input.open), mapping: Some(mapping) }
        }
        Transform::Set { values } => {
            let mut out = input.fields.clone();
            let mut picks: Vec<Pick> = (0..out.len()).map(Pick::Field).collect();
            let mut exact = true;
            for (f, value) in values {
                let field = constant_field(&f.name, value);
                match out.iter().position(|o| o.name == f.name) {
                    Some(i) => {
                        // Set where it is, added last where a record lacks it: no one place in a struct.
                        exact &= input.fields[i].required;
                        out[i] = field;
                        picks[i] = Pick::Constant(value.clone());
                    }
                    None => {
                        out.push(field);
                        picks.push(Pick::Constant(value.clone()));
                    }
                }
            }
            Step { schema: schema(out, input.open), mapping: exact.then_some(Mapping::Picked(picks)) }
        }
        Transform::RenameField { renames } => {
            let mut out = input.fields.clone();
            for (from, to) in renames {
                let Some(i) = index(input, from, "rename_field")? else { continue };
                let renamed_away = |name: &str| renames.iter().any(|(f, _)| f.name == name);
                if input.field(&to.name).is_some() && !renamed_away(&to.name) {
                    return Err(Problem::Invalid(Invalid {
                        loc: to.loc.clone(),
                        message: format!(
                            "`rename_field` renames `{}` to `{}`, a field the records already have",
                            from.name, to.name
                        ),
                        help: format!(
                            "every record with both would be rejected: choose another name, or `drop` `{}` first",
                            to.name
                        ),
                    }));
                }
                out[i].name = to.name.clone();
            }
            let picks = (0..out.len()).map(Pick::Field).collect();
            Step { schema: schema(out, input.open), mapping: Some(Mapping::Picked(picks)) }
        }
        Transform::Cast { fields, on_error } => {
            let mut out = input.fields.clone();
            let mut rewrites = Some(vec![Rewrite::Kept; out.len()]);
            for (f, to) in fields {
                let Some(i) = index(input, f, "cast")? else {
                    rewrites = None;
                    continue;
                };
                out[i] = cast_field(&input.fields[i], f, *to, *on_error)?;
                // A conversion between members' own types is generated code; any other is bridged.
                let scalar = matches!(
                    input.fields[i].ty,
                    FieldType::Integer | FieldType::Number | FieldType::Boolean | FieldType::String
                );
                let kept_as_json =
                    *on_error == CastOnError::Skip && !always_converts(&input.fields[i].ty, *to);
                match rewrites.as_mut() {
                    Some(r) if scalar && !kept_as_json => r[i] = Rewrite::Cast(*to, *on_error),
                    _ => rewrites = None,
                }
            }
            Step { schema: schema(out, input.open), mapping: rewrites.map(Mapping::Rewritten) }
        }
        Transform::Coalesce { field, fill, treat_empty_string_as_null } => {
            let filled = coalesced(input, field, fill, *treat_empty_string_as_null)?;
            let mut out = input.fields.clone();
            match out.iter().position(|o| o.name == field.name) {
                Some(i) => out[i] = filled,
                None => out.push(filled),
            }
            Step { schema: schema(out, input.open), mapping: None }
        }
        _ => return Ok(None),
    };
    Ok(Some(step))
}

/// The index of the field `f` names; `None` when the schema is open and
/// does not list it; an error when it is closed and lacks it.
fn index(input: &RecordSchema, f: &Named, transform: &str) -> Result<Option<usize>, Problem> {
    if let Some(i) = input.fields.iter().position(|field| field.name == f.name) {
        return Ok(Some(i));
    }
    if input.open {
        return Ok(None);
    }
    let names = input.names();
    let help = match suggest(&f.name, names.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => {
            const SHOWN: usize = 12;
            let mut shown: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
            if names.len() > SHOWN {
                shown.push(format!("and {} more", names.len() - SHOWN));
            }
            format!("the records have {}", shown.join(", "))
        }
    };
    Err(Problem::Invalid(Invalid {
        loc: f.loc.clone(),
        message: format!("`{transform}` names field `{}`, which the records do not have", f.name),
        help,
    }))
}

/// The field `set` (or a `coalesce` default) writes: the constant's type, always present.
fn constant_field(name: &str, value: &serde_json::Value) -> FieldDef {
    use serde_json::Value as J;
    let ty = match value {
        J::String(_) => FieldType::String,
        J::Number(n) if n.is_i64() => FieldType::Integer,
        J::Number(_) => FieldType::Number,
        J::Bool(_) => FieldType::Boolean,
        J::Null | J::Array(_) | J::Object(_) => FieldType::Json,
    };
    FieldDef { name: name.to_owned(), ty, nullable: value.is_null(), required: true }
}

/// `field` after `cast` to `to`: an error where no value of its type converts.
fn cast_field(field: &FieldDef, f: &Named, to: CastType, on_error: CastOnError) -> Result<FieldDef, Problem> {
    let what = match &field.ty {
        FieldType::Object { .. } => Some("an object"),
        FieldType::Array { .. } => Some("an array"),
        FieldType::Integer | FieldType::Number if to == CastType::Timestamp => Some("a number"),
        FieldType::Boolean if to == CastType::Timestamp => Some("a boolean"),
        _ => None,
    };
    if let Some(what) = what {
        return Err(Problem::Invalid(Invalid {
            loc: f.loc.clone(),
            message: format!(
                "`cast` of field `{}`, {what}, to {}: no such value converts",
                f.name,
                to.as_str()
            ),
            help: match to {
                CastType::Timestamp => {
                    "a timestamp is cast from RFC 3339 text; remove this field from `cast`".into()
                }
                _ => "`cast` converts text, numbers and booleans; remove this field from `cast`".into(),
            },
        }));
    }
    let ty = match to {
        CastType::Int => FieldType::Integer,
        CastType::Float => FieldType::Number,
        CastType::Bool => FieldType::Boolean,
        CastType::String => FieldType::String,
        CastType::Timestamp => FieldType::Timestamp { time_zone: true },
    };
    // What a value that does not convert leaves: an error, null, or the value as it was.
    let always = always_converts(&field.ty, to);
    let (ty, nullable) = match on_error {
        CastOnError::Error => (ty, false),
        CastOnError::Null => (ty, true),
        CastOnError::Skip if always => (ty, field.nullable),
        CastOnError::Skip => (FieldType::Json, field.nullable),
    };
    Ok(FieldDef { name: field.name.clone(), ty, nullable, required: field.required })
}

/// Whether every non-null value of type `from` converts to `to`.
fn always_converts(from: &FieldType, to: CastType) -> bool {
    matches!(
        (from, to),
        (FieldType::String, CastType::String)
            | (FieldType::Boolean, CastType::Int | CastType::Float | CastType::Bool | CastType::String)
            | (FieldType::Integer, CastType::Int | CastType::Float | CastType::String)
            | (FieldType::Number, CastType::String)
    )
}

/// The field `coalesce` fills: of the type its candidates share (else
/// `json`); present when it was, or when a default or an always-valued
/// field fills it; null only when it was null and every candidate may lack a value.
fn coalesced(
    input: &RecordSchema,
    field: &Named,
    fill: &Fill,
    empty_is_null: bool,
) -> Result<FieldDef, Problem> {
    let target = input.field(&field.name);
    // Whether a field's value may be nullish to `coalesce`.
    let may_lack = |f: &FieldDef| {
        !f.required || f.nullable || (empty_is_null && matches!(f.ty, FieldType::String | FieldType::Json))
    };
    let mut candidates: Vec<FieldDef> = target.into_iter().cloned().collect();
    let always = match fill {
        Fill::Default(value) => {
            candidates.push(constant_field(&field.name, value));
            true
        }
        Fill::From(from) => {
            let mut always = false;
            for f in from {
                match index(input, f, "coalesce")? {
                    Some(i) => {
                        always |= !may_lack(&input.fields[i]);
                        candidates.push(input.fields[i].clone());
                    }
                    None => candidates.push(FieldDef {
                        name: f.name.clone(),
                        ty: FieldType::Json,
                        nullable: true,
                        required: false,
                    }),
                }
            }
            always
        }
    };
    let ty = match candidates.split_first() {
        Some((first, rest)) if rest.iter().all(|c| c.ty == first.ty) => first.ty.clone(),
        _ => FieldType::Json,
    };
    let target_required = target.is_some_and(|t| t.required);
    let target_nullable = target.is_some_and(|t| t.nullable);
    Ok(FieldDef {
        name: field.name.clone(),
        ty,
        nullable: target_nullable && !always,
        required: target_required || always,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diag::Loc;
    use crate::record_schema::flow::apply;
    use crate::record_schema::flow::bridge::Bridge;

    fn f(name: &str, ty: FieldType) -> FieldDef {
        FieldDef { name: name.into(), ty, nullable: false, required: true }
    }

    fn named(name: &str) -> Named {
        Named { name: name.into(), loc: Loc::Unknown }
    }

    fn schema(fields: Vec<FieldDef>) -> RecordSchema {
        RecordSchema { fields, open: false, origin: Origin::Declared { loc: Loc::Unknown } }
    }

    fn base() -> RecordSchema {
        schema(vec![
            f("id", FieldType::Integer),
            f("name", FieldType::String),
            FieldDef { nullable: true, ..f("note", FieldType::String) },
            f("tags", FieldType::Array { items: Box::new(FieldType::String) }),
        ])
    }

    fn run(s: &RecordSchema, t: Transform) -> (RecordSchema, Option<Mapping>) {
        let step = super::super::step(s, &t).unwrap().unwrap();
        (step.schema, step.mapping)
    }

    fn problem(s: &RecordSchema, t: Transform) -> (String, String) {
        match apply(Some(s), &t) {
            Err(Problem::Invalid(p)) => (p.message, p.help),
            other => panic!("not a field problem: {other:?}"),
        }
    }

    /// Whether the chain of `transforms` over a declared schema is typed.
    fn typed(transforms: &str) -> bool {
        let yaml = format!(
            "pipeline:\n  source: {{ type: jsonl, config: {{ path: in.jsonl }}, record_schema: {{ fields: {{ id: integer, name: string }} }} }}\n  transforms: {transforms}\n  sink: {{ type: jsonl, config: {{ path: out.jsonl }} }}\n"
        );
        let definition = crate::check_yaml("case.yaml", &yaml).unwrap_or_else(|d| panic!("{d}"));
        let crate::ir::Definition::Single(p) = definition else { panic!("one pipeline") };
        let typing = crate::typing::plan(&p, false);
        typing.points.iter().all(|point| point.record != crate::typing::Record::Untyped)
    }

    #[test]
    fn every_field_transform_is_typed() {
        assert!(typed(
            "[{ type: set, config: { values: { v: 1 } } }, { type: rename_field, config: { fields: { id: key } } }, { type: drop, config: { fields: [name] } }, { type: select, config: { fields: [v, key] } }]"
        ));
        // Bridged: the runtime transform runs on the fields it names.
        assert!(typed("[{ type: cast, config: { fields: { id: string } } }]"));
        assert!(typed("[{ type: coalesce, config: { field: name, default: x } }]"));
    }

    #[test]
    fn select_and_drop_pick_fields() {
        let select = Transform::Select { fields: vec![named("name"), named("id")] };
        let (out, mapping) = run(&base(), select);
        assert_eq!(out.names(), ["name", "id"]);
        assert_eq!(mapping, Some(Mapping::Picked(vec![Pick::Field(1), Pick::Field(0)])));
        let drop = Transform::Drop { fields: vec![named("note"), named("id")] };
        let (out, mapping) = run(&base(), drop);
        assert_eq!(out.names(), ["name", "tags"]);
        assert_eq!(mapping, Some(Mapping::Picked(vec![Pick::Field(1), Pick::Field(3)])));
    }

    #[test]
    fn a_field_the_records_lack_is_an_error_with_the_nearest_name() {
        let (message, help) = problem(&base(), Transform::Select { fields: vec![named("nmae")] });
        assert_eq!(message, "`select` names field `nmae`, which the records do not have");
        assert_eq!(help, "did you mean `name`?");
        let (_, help) = problem(&base(), Transform::Drop { fields: vec![named("zzzz")] });
        assert_eq!(help, "the records have `id`, `name`, `note`, `tags`");
        let all = ["tags", "note", "name", "id"].map(named).to_vec();
        let (message, _) = problem(&base(), Transform::Drop { fields: all });
        assert_eq!(message, "`drop` removes every field the records have: each would be `{}`");
        // Open: it may be there.
        let open = RecordSchema { open: true, ..base() };
        let (out, mapping) = run(&open, Transform::Select { fields: vec![named("id"), named("extra")] });
        assert!(!out.open);
        assert_eq!(out.field("extra").unwrap().ty, FieldType::Json);
        assert_eq!(mapping, None);
    }

    #[test]
    fn set_overwrites_in_place_and_appends() {
        let set = Transform::Set {
            values: vec![(named("name"), json!(7)), (named("src"), json!("crm")), (named("n"), json!(null))],
        };
        let (out, mapping) = run(&base(), set);
        assert_eq!(out.names(), ["id", "name", "note", "tags", "src", "n"]);
        assert_eq!(out.field("name").unwrap().ty, FieldType::Integer);
        assert_eq!(out.field("src").unwrap().ty, FieldType::String);
        assert!(out.field("n").unwrap().nullable);
        let Some(Mapping::Picked(picks)) = mapping else { panic!() };
        assert_eq!(picks[1], Pick::Constant(json!(7)));
        assert_eq!(picks[0], Pick::Field(0));
    }

    #[test]
    fn a_field_a_record_may_lack_is_added_last_so_no_struct_holds_its_place() {
        let mut s = base();
        s.fields[2].required = false;
        let (_, mapping) = run(&s, Transform::Set { values: vec![(named("note"), json!("x"))] });
        assert_eq!(mapping, None);
        let fill = |field: &str| Transform::Coalesce {
            field: named(field),
            fill: Fill::Default(json!("x")),
            treat_empty_string_as_null: false,
        };
        assert_eq!(run(&s, fill("note")).1, None);
        let names = vec!["name".to_owned()];
        assert_eq!(
            run(&s, fill("name")).1,
            Some(Mapping::Bridged(Bridge { names: names.clone(), writes: names, expands: false }))
        );
    }

    #[test]
    fn rename_field_renames_in_place_and_refuses_a_taken_name() {
        let t = |pairs: &[(&str, &str)]| Transform::RenameField {
            renames: pairs.iter().map(|(a, b)| (named(a), named(b))).collect(),
        };
        let (out, _) = run(&base(), t(&[("id", "key")]));
        assert_eq!(out.names(), ["key", "name", "note", "tags"]);
        // A swap: each name is freed by the other rename.
        let (out, _) = run(&base(), t(&[("id", "name"), ("name", "id")]));
        assert_eq!(out.names(), ["name", "id", "note", "tags"]);
        assert_eq!(out.field("id").unwrap().ty, FieldType::String);
        let (message, _) = problem(&base(), t(&[("id", "name")]));
        assert_eq!(message, "`rename_field` renames `id` to `name`, a field the records already have");
        let (_, help) = problem(&base(), t(&[("ids", "key")]));
        assert_eq!(help, "did you mean `id`?");
    }

    #[test]
    fn cast_types_and_impossible_casts() {
        let cast = |field: &str, to, on_error| Transform::Cast { fields: vec![(named(field), to)], on_error };
        let (out, mapping) = run(&base(), cast("id", CastType::String, CastOnError::Error));
        assert_eq!(out.field("id").unwrap().ty, FieldType::String);
        // Between members' own types: converted in place by generated code.
        let rewrites = vec![
            Rewrite::Cast(CastType::String, CastOnError::Error),
            Rewrite::Kept,
            Rewrite::Kept,
            Rewrite::Kept,
        ];
        assert_eq!(mapping, Some(Mapping::Rewritten(rewrites)));
        // A value kept as it was where it does not convert is JSON: the runtime's `cast` runs on it.
        let (_, mapping) = run(&base(), cast("name", CastType::Int, CastOnError::Skip));
        let name = vec!["name".to_owned()];
        assert_eq!(
            mapping,
            Some(Mapping::Bridged(Bridge { names: name.clone(), writes: name, expands: false }))
        );
        let (out, _) = run(&base(), cast("name", CastType::Int, CastOnError::Null));
        assert_eq!(
            (&out.field("name").unwrap().ty, out.field("name").unwrap().nullable),
            (&FieldType::Integer, true)
        );
        let (out, _) = run(&base(), cast("name", CastType::Int, CastOnError::Skip));
        assert_eq!(out.field("name").unwrap().ty, FieldType::Json);
        let (out, _) = run(&base(), cast("id", CastType::Float, CastOnError::Skip));
        assert_eq!(out.field("id").unwrap().ty, FieldType::Number);
        let (message, _) = problem(&base(), cast("tags", CastType::String, CastOnError::Null));
        assert_eq!(message, "`cast` of field `tags`, an array, to string: no such value converts");
        let (message, _) = problem(&base(), cast("id", CastType::Timestamp, CastOnError::Error));
        assert!(message.contains("a number, to timestamp"), "{message}");
    }

    #[test]
    fn coalesce_fills_the_field() {
        let from = |names: &[&str]| Fill::From(names.iter().map(|n| named(n)).collect());
        let t = |fill| Transform::Coalesce { field: named("note"), fill, treat_empty_string_as_null: false };
        let (out, _) = run(&base(), t(Fill::Default(json!("none"))));
        let note = out.field("note").unwrap();
        assert_eq!((&note.ty, note.nullable, note.required), (&FieldType::String, false, true));
        let (out, _) = run(&base(), t(from(&["name"])));
        assert!(!out.field("note").unwrap().nullable);
        let (out, _) = run(&base(), t(from(&["id"])));
        assert_eq!(out.field("note").unwrap().ty, FieldType::Json);
        let (_, help) = problem(&base(), t(from(&["nam"])));
        assert_eq!(help, "did you mean `name`?");
        // A new field: appended, present only when a candidate has a value.
        let new = Transform::Coalesce {
            field: named("label"),
            fill: from(&["note"]),
            treat_empty_string_as_null: false,
        };
        let (out, _) = run(&base(), new);
        let label = out.fields.last().unwrap();
        assert_eq!((label.name.as_str(), label.required, label.nullable), ("label", false, false));
    }
}
