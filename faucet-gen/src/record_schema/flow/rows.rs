//! The schema flow of the row transforms: `filter` keeps the schema (and
//! checks its path and value against it), `explode` turns an array field
//! into its element's fields, `unpivot` turns columns into key/value fields.
//!
//! Each check that fails is an error at the config key it concerns: a path
//! the records do not have, a value the field can never equal, a field that
//! is not an array. Only `filter` of a top-level text, number or boolean
//! field says where its fields come from (a [`Test`]), so a typed stream
//! compiles it into a comparison; `explode` and `unpivot` return several
//! records per record, which the runtime transforms make on untyped records.

use super::{Invalid, Mapping, Problem};
use crate::diag::{Loc, suggest};
use crate::ir::{Explode, FieldPath, Filter, FilterOp, OnMissing, Unpivot, UnpivotColumns};
use crate::record_schema::{FieldDef, FieldType, Origin, RecordSchema};

fn invalid(loc: &Loc, message: String, help: impl Into<String>) -> Problem {
    Invalid::at(loc, message, help)
}

/// A `filter` compiled on a typed stream: on a top-level field, or on one
/// inside objects that are always there and never null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Test {
    /// The top-level field's index.
    pub field: usize,
    /// The member indexes below it, down to the value tested (empty: the field itself).
    pub inside: Vec<usize>,
    /// The test.
    pub op: FilterOp,
    /// The values compared with (one for `eq`/`ne`, none for `exists`).
    pub values: Vec<serde_json::Value>,
}

/// What a path finds in a schema.
enum Found<'a> {
    /// The field, and the indexes of the fields on the way.
    Field(&'a FieldDef, Vec<usize>),
    /// Nothing can be said (an open schema, a `json` value on the way).
    Unknown,
}

/// The field at `path`, or the error of a path the records cannot have.
fn find<'a>(schema: &'a RecordSchema, path: &FieldPath, what: &str) -> Result<Found<'a>, Problem> {
    let mut fields = schema.fields.as_slice();
    let mut open = schema.open;
    let mut at = Vec::new();
    let mut found: Option<&FieldDef> = None;
    for (depth, key) in path.keys.iter().enumerate() {
        if let Some(parent) = found {
            match &parent.ty {
                FieldType::Object { fields: inner } if !inner.is_empty() => {
                    fields = inner;
                    open = false;
                }
                FieldType::Object { .. } | FieldType::Json => return Ok(Found::Unknown),
                other => {
                    let walked = path.keys[..depth].join(".");
                    return Err(invalid(
                        &path.loc,
                        format!(
                            "{what} `{}`: `{walked}` is {}, not an object, so it has no `{key}`",
                            path.text,
                            a(&other.describe())
                        ),
                        format!("name a field of the records, e.g. `{walked}`"),
                    ));
                }
            }
        }
        match fields.iter().position(|f| &f.name == key) {
            Some(i) => {
                at.push(i);
                found = Some(&fields[i]);
            }
            None if open => return Ok(Found::Unknown),
            None => {
                let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                let help = match suggest(key, names.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("the fields there are {}", list(&names)),
                };
                return Err(invalid(
                    &path.loc,
                    format!("{what} `{}`: the records have no field `{key}`", path.text),
                    help,
                ));
            }
        }
    }
    Ok(found.map_or(Found::Unknown, |f| Found::Field(f, at)))
}

fn a(what: &str) -> String {
    let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {what}")
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

// ---- filter ----

/// `filter`: the schema is unchanged; the path must exist and the value be
/// one the field can equal.
pub(crate) fn filter(input: &RecordSchema, f: &Filter) -> Result<Option<Mapping>, Problem> {
    let Found::Field(field, at) = find(input, &f.path, "`filter` path")? else { return Ok(None) };
    let values: Vec<serde_json::Value> = match &f.value {
        Some(serde_json::Value::Array(items)) if matches!(f.op, FilterOp::In | FilterOp::NotIn) => {
            items.clone()
        }
        Some(v) => vec![v.clone()],
        None => Vec::new(),
    };
    for v in &values {
        if let Some(why) = never_equal(field, v) {
            let always =
                if matches!(f.op, FilterOp::Eq | FilterOp::In) { "never true" } else { "always true" };
            return Err(invalid(
                &f.value_loc,
                format!(
                    "`filter` compares `{}`, {}, with {v}: {why}, so `op: {}` is {always}",
                    f.path.text,
                    describe(field),
                    f.op.name()
                ),
                if v.is_null() {
                    "the schema says the field is never null: take `null` out of the value".to_owned()
                } else {
                    help(field)
                },
            ));
        }
    }
    let testable =
        matches!(field.ty, FieldType::String | FieldType::Integer | FieldType::Number | FieldType::Boolean);
    // Every object on the way is always there and never null: the value is a member's member.
    let mut on_the_way = input.fields.get(at[0]);
    let mut reachable = true;
    for &i in &at[1..] {
        let object = on_the_way.filter(|o| o.required && !o.nullable);
        on_the_way = match object.map(|o| &o.ty) {
            Some(FieldType::Object { fields }) => fields.get(i),
            _ => None,
        };
        reachable &= on_the_way.is_some();
    }
    let mapping = (reachable && testable && values.iter().all(|v| !v.is_null()))
        .then(|| Mapping::Filtered(Test { field: at[0], inside: at[1..].to_vec(), op: f.op, values }));
    Ok(mapping)
}

/// `a string field`, `a nullable integer field`.
fn describe(field: &FieldDef) -> String {
    let nullable = if field.nullable { "nullable " } else { "" };
    a(&format!("{nullable}{} field", field.ty.describe()))
}

/// Why `field` never equals `v`, if it never does.
fn never_equal(field: &FieldDef, v: &serde_json::Value) -> Option<String> {
    use serde_json::Value as J;
    if v.is_null() {
        return (!field.nullable && !matches!(field.ty, FieldType::Json))
            .then(|| "the field is never null".to_owned());
    }
    let kind = match v {
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "a list",
        J::Object(_) => "an object",
        J::Null => unreachable!("handled above"),
    };
    let fits = match &field.ty {
        FieldType::Json | FieldType::Decimal { .. } | FieldType::Other { .. } => true,
        FieldType::String
        | FieldType::Date
        | FieldType::Time
        | FieldType::Timestamp { .. }
        | FieldType::Binary => v.is_string(),
        FieldType::Integer => match v {
            J::Number(n) => {
                if n.as_i64().is_some()
                    || n.as_u64().is_some()
                    || n.as_f64().is_some_and(|x| x.fract() == 0.0)
                {
                    true
                } else {
                    return Some(format!("an integer is never {v}"));
                }
            }
            _ => false,
        },
        FieldType::Number => v.is_number(),
        FieldType::Boolean => v.is_boolean(),
        FieldType::Object { .. } => v.is_object(),
        FieldType::Array { .. } => v.is_array(),
    };
    (!fits).then(|| format!("{} field never equals {kind}", a(&field.ty.describe())))
}

fn help(field: &FieldDef) -> String {
    match &field.ty {
        FieldType::String | FieldType::Date | FieldType::Time | FieldType::Timestamp { .. } => {
            "quote the value to compare text (`value: \"42\"`), or test another field".to_owned()
        }
        FieldType::Integer | FieldType::Number => {
            "compare with a number (`value: 42`), or test another field".to_owned()
        }
        FieldType::Boolean => "compare with `true` or `false`".to_owned(),
        _ => "compare with a value of the field's type, or test another field".to_owned(),
    }
}

// ---- explode ----

/// `explode`: the array field becomes its element's type (an object
/// element's fields, prefixed, in its place's object); a record without a
/// non-empty array may pass through unchanged, so under `on_missing:
/// passthrough` the array field stays, optional, and what replaces it is optional too.
pub(crate) fn explode(
    input: &RecordSchema,
    e: &Explode,
    origin: Origin,
) -> Result<Option<RecordSchema>, Problem> {
    let Found::Field(field, at) = find(input, &e.path, "`explode` path")? else { return Ok(None) };
    let items = match &field.ty {
        FieldType::Array { items } => (**items).clone(),
        FieldType::Json => FieldType::Json,
        other => {
            let outcome = match e.on_missing {
                OnMissing::Passthrough => "passed through unchanged",
                OnMissing::Drop => "dropped",
                OnMissing::Error => "rejected",
            };
            return Err(invalid(
                &e.path.loc,
                format!(
                    "`explode` path `{}` is {} field, not an array: every record would be {outcome}",
                    e.path.text,
                    a(&other.describe())
                ),
                "name an array field of the records",
            ));
        }
    };
    let passthrough = e.on_missing == OnMissing::Passthrough;
    let leaf = e.path.keys.last().expect("a path names a field").clone();
    let prefix = e.prefix.clone().unwrap_or_else(|| leaf.clone());
    // Object elements of undeclared keys add keys nobody declared.
    let open = input.open
        || matches!(&items, FieldType::Json)
        || matches!(&items, FieldType::Object { fields } if fields.is_empty());
    let replace = |siblings: &[FieldDef], i: usize| -> Result<Vec<FieldDef>, Problem> {
        let array = &siblings[i];
        let mut out: Vec<FieldDef> = Vec::with_capacity(siblings.len());
        match &items {
            FieldType::Object { fields } if !fields.is_empty() => {
                for (j, s) in siblings.iter().enumerate() {
                    if j != i {
                        out.push(s.clone());
                    } else if passthrough {
                        out.push(FieldDef { required: false, ..s.clone() });
                    }
                }
                for f in fields {
                    let key = if prefix.is_empty() {
                        f.name.clone()
                    } else {
                        format!("{prefix}{}{}", e.separator, f.name)
                    };
                    if let Some(clash) = siblings.iter().enumerate().find(|(j, s)| *j != i && s.name == key) {
                        return Err(invalid(
                            &e.path.loc,
                            format!(
                                "`explode` makes element field `{}` the key `{key}`, which the record already has (`{}`): every record with elements would be rejected",
                                f.name, clash.1.name
                            ),
                            "set a `prefix` (or another `separator`) that no field of the record starts with",
                        ));
                    }
                    out.push(FieldDef { name: key, required: f.required && !passthrough, ..f.clone() });
                }
            }
            item => {
                let object_like = matches!(item, FieldType::Json | FieldType::Object { .. });
                for (j, s) in siblings.iter().enumerate() {
                    if j != i {
                        out.push(s.clone());
                        continue;
                    }
                    // An element (or, passed through, the array, null or nothing) in its place.
                    let (ty, nullable, required) = match (passthrough, object_like) {
                        (false, false) => (item.clone(), matches!(item, FieldType::Json), true),
                        _ => (FieldType::Json, true, false),
                    };
                    out.push(FieldDef { name: array.name.clone(), ty, nullable, required });
                }
            }
        }
        Ok(out)
    };
    let mut fields = at_path(&input.fields, &at, &replace)?;
    for (name, from) in &e.carry {
        let carried = match find(input, from, "`explode` carry path")? {
            Found::Field(f, _) => FieldDef { name: name.clone(), required: false, ..f.clone() },
            Found::Unknown => {
                FieldDef { name: name.clone(), ty: FieldType::Json, nullable: true, required: false }
            }
        };
        match fields.iter_mut().find(|f| f.name == *name) {
            Some(existing) => *existing = carried,
            None => fields.push(carried),
        }
    }
    Ok(Some(RecordSchema { fields, open, origin }))
}

/// `fields` with the object holding the field at `at` (indexes down
/// through objects) rebuilt by `replace(siblings, index)`.
fn at_path<F>(fields: &[FieldDef], at: &[usize], replace: &F) -> Result<Vec<FieldDef>, Problem>
where
    F: Fn(&[FieldDef], usize) -> Result<Vec<FieldDef>, Problem>,
{
    match at {
        [i] => replace(fields, *i),
        [i, rest @ ..] => {
            let mut out = fields.to_vec();
            let FieldType::Object { fields: inner } = &fields[*i].ty else {
                unreachable!("found through objects")
            };
            out[*i].ty = FieldType::Object { fields: at_path(inner, rest, replace)? };
            Ok(out)
        }
        [] => Ok(fields.to_vec()),
    }
}

// ---- unpivot ----

/// `unpivot`: rows of the id fields, `key_name` (text) and `value_name` (the
/// columns' type when they share one, else `json`). When a record may make
/// no row and `drop_if_empty` is off, it may pass through as it is: every
/// field of both shapes is then optional.
pub(crate) fn unpivot(
    input: &RecordSchema,
    u: &Unpivot,
    origin: Origin,
) -> Result<Option<RecordSchema>, Problem> {
    let named = |name: &str, loc: Option<&Loc>, what: &str| -> Result<Option<&FieldDef>, Problem> {
        if let Some(f) = input.field(name) {
            return Ok(Some(f));
        }
        if input.open {
            return Ok(None);
        }
        let names = input.names();
        let help = match suggest(name, names.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("the records' fields are {}", list(&names)),
        };
        Err(invalid(
            loc.unwrap_or(&Loc::Unknown),
            format!("`unpivot` {what} `{name}`: the records have no such field"),
            help,
        ))
    };
    let mut fields = Vec::new();
    for (i, id) in u.id_fields.iter().enumerate() {
        let f = named(id, u.locs.id_fields.get(i), "id field")?;
        fields.push(f.cloned().unwrap_or(FieldDef {
            name: id.clone(),
            ty: FieldType::Json,
            nullable: true,
            required: false,
        }));
    }
    // The values' fields (`None`: unknown), and whether a record always makes a row.
    let (values, always): (Option<Vec<FieldDef>>, bool) = match &u.columns {
        UnpivotColumns::Listed(columns) => {
            let mut found = Some(Vec::new());
            for (i, c) in columns.iter().enumerate() {
                match (named(c, u.locs.columns.get(i), "column")?, found.as_mut()) {
                    (Some(f), Some(known)) => known.push(f.clone()),
                    _ => found = None,
                }
            }
            let always = found.as_ref().is_some_and(|v| v.iter().any(|f| makes_row(f, u.drop_nulls)));
            (found, always)
        }
        UnpivotColumns::AllButIds if input.open => (None, false),
        UnpivotColumns::AllButIds => {
            let rest: Vec<FieldDef> =
                input.fields.iter().filter(|f| !u.id_fields.contains(&f.name)).cloned().collect();
            let always = rest.iter().any(|f| makes_row(f, u.drop_nulls));
            (Some(rest), always)
        }
        UnpivotColumns::From(from) => match named(from, u.locs.columns.first(), "`from` field")? {
            None => (None, false),
            Some(f) => match &f.ty {
                FieldType::Object { fields } if !fields.is_empty() => {
                    let always =
                        !f.nullable && f.required && fields.iter().any(|g| makes_row(g, u.drop_nulls));
                    (Some(fields.clone()), always)
                }
                FieldType::Object { .. } | FieldType::Json => (None, false),
                other => {
                    return Err(invalid(
                        u.locs.columns.first().unwrap_or(&Loc::Unknown),
                        format!(
                            "`unpivot` `from` field `{from}` is {} field, not an object: every record would pass through unchanged",
                            a(&other.describe())
                        ),
                        "name an object field, whose entries become the rows, or list `columns` instead",
                    ));
                }
            },
        },
    };
    let value = match values.as_deref() {
        Some([first, rest @ ..]) if rest.iter().all(|f| f.ty == first.ty) => FieldDef {
            name: u.value_name.clone(),
            ty: first.ty.clone(),
            nullable: !u.drop_nulls && values.iter().flatten().any(|f| f.nullable),
            required: true,
        },
        _ => FieldDef { name: u.value_name.clone(), ty: FieldType::Json, nullable: true, required: true },
    };
    fields.push(FieldDef {
        name: u.key_name.clone(),
        ty: FieldType::String,
        nullable: false,
        required: true,
    });
    fields.push(value);
    if !always && !u.drop_if_empty {
        // Either a row or the record as it came.
        for f in &mut fields {
            f.required = false;
        }
        for f in &input.fields {
            match fields.iter_mut().find(|g| g.name == f.name) {
                Some(g) if g.ty == f.ty => g.nullable |= f.nullable,
                Some(g) => {
                    *g = FieldDef {
                        name: f.name.clone(),
                        ty: FieldType::Json,
                        nullable: true,
                        required: false,
                    }
                }
                None => fields.push(FieldDef { required: false, ..f.clone() }),
            }
        }
        return Ok(Some(RecordSchema { fields, open: input.open, origin }));
    }
    Ok(Some(RecordSchema { fields, open: false, origin }))
}

/// Whether every record makes a row of column `f`: it is always present, and not null where nulls are dropped.
fn makes_row(f: &FieldDef, drop_nulls: bool) -> bool {
    f.required && !(drop_nulls && f.nullable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{FieldPath, Transform};
    use crate::record_schema::flow::apply;

    fn f(name: &str, ty: FieldType) -> FieldDef {
        FieldDef { name: name.into(), ty, nullable: false, required: true }
    }

    fn schema(fields: Vec<FieldDef>) -> RecordSchema {
        RecordSchema { fields, open: false, origin: Origin::Declared { loc: Loc::Unknown } }
    }

    fn path(keys: &[&str]) -> FieldPath {
        FieldPath {
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            text: keys.join("."),
            loc: Loc::Unknown,
        }
    }

    fn explode(on_missing: OnMissing, prefix: Option<&str>) -> Transform {
        Transform::Explode(Explode {
            path: path(&["items"]),
            prefix: prefix.map(Into::into),
            separator: "_".into(),
            on_missing,
            carry: vec![("order".into(), path(&["id"]))],
        })
    }

    fn items() -> FieldDef {
        let element = FieldType::Object {
            fields: vec![
                f("sku", FieldType::String),
                FieldDef { required: false, ..f("qty", FieldType::Integer) },
            ],
        };
        f("items", FieldType::Array { items: Box::new(element) })
    }

    fn shape(s: &RecordSchema) -> Vec<(String, String, bool)> {
        s.fields.iter().map(|f| (f.name.clone(), f.ty.describe(), f.required)).collect()
    }

    fn row(name: &str, ty: &str, required: bool) -> (String, String, bool) {
        (name.to_owned(), ty.to_owned(), required)
    }

    #[test]
    fn explode_replaces_the_array_with_its_elements_fields() {
        let s = schema(vec![f("id", FieldType::Integer), items(), f("z", FieldType::Boolean)]);
        let out = apply(Some(&s), &explode(OnMissing::Drop, None)).unwrap().unwrap();
        assert_eq!(
            shape(&out),
            [
                row("id", "integer", true),
                row("z", "boolean", true),
                row("items_sku", "string", true),
                row("items_qty", "integer", false),
                row("order", "integer", false),
            ]
        );
        // Passed through, a record keeps its array and has no element fields.
        let out = apply(Some(&s), &explode(OnMissing::Passthrough, Some("it"))).unwrap().unwrap();
        assert_eq!(
            shape(&out),
            [
                row("id", "integer", true),
                row("items", "array of object", false),
                row("z", "boolean", true),
                row("it_sku", "string", false),
                row("it_qty", "integer", false),
                row("order", "integer", false),
            ]
        );
        // Scalar elements take the array's place.
        let tags = f("tags", FieldType::Array { items: Box::new(FieldType::String) });
        let t = Transform::Explode(Explode {
            path: path(&["tags"]),
            prefix: None,
            separator: "_".into(),
            on_missing: OnMissing::Error,
            carry: vec![],
        });
        let out = apply(Some(&schema(vec![tags, f("id", FieldType::Integer)])), &t).unwrap().unwrap();
        assert_eq!(shape(&out), [row("tags", "string", true), row("id", "integer", true)]);
    }

    fn unpivot(columns: UnpivotColumns, drop_if_empty: bool) -> Transform {
        Transform::Unpivot(Unpivot {
            id_fields: vec!["id".into()],
            key_name: "k".into(),
            value_name: "v".into(),
            columns,
            drop_nulls: false,
            drop_if_empty,
            locs: Default::default(),
        })
    }

    #[test]
    fn unpivot_makes_key_and_value_fields() {
        let s =
            schema(vec![f("id", FieldType::Integer), f("a", FieldType::Number), f("b", FieldType::Number)]);
        let out = apply(Some(&s), &unpivot(UnpivotColumns::AllButIds, false)).unwrap().unwrap();
        assert_eq!(
            shape(&out),
            [row("id", "integer", true), row("k", "string", true), row("v", "number", true)]
        );
        assert!(!out.open);
        // Mixed types: the value is JSON.
        let mixed =
            schema(vec![f("id", FieldType::Integer), f("a", FieldType::Number), f("s", FieldType::String)]);
        let out = apply(Some(&mixed), &unpivot(UnpivotColumns::AllButIds, false)).unwrap().unwrap();
        assert_eq!(out.field("v").unwrap().ty, FieldType::Json);
        // A map that may be empty: a record may pass through as it came.
        let map = schema(vec![f("id", FieldType::Integer), f("m", FieldType::Json)]);
        let out = apply(Some(&map), &unpivot(UnpivotColumns::From("m".into()), false)).unwrap().unwrap();
        assert_eq!(
            shape(&out),
            [
                row("id", "integer", false),
                row("k", "string", false),
                row("v", "json", false),
                row("m", "json", false)
            ]
        );
        let out = apply(Some(&map), &unpivot(UnpivotColumns::From("m".into()), true)).unwrap().unwrap();
        assert_eq!(
            shape(&out),
            [row("id", "integer", true), row("k", "string", true), row("v", "json", true)]
        );
    }

    #[test]
    fn filter_compiles_scalars_in_objects_always_there_and_bridges_the_rest() {
        let mut maybe = f("p", FieldType::Object { fields: vec![f("x", FieldType::String)] });
        maybe.nullable = true;
        let s = schema(vec![
            f("id", FieldType::Integer),
            f("o", FieldType::Object { fields: vec![f("x", FieldType::String)] }),
            maybe,
        ]);
        let filter = |keys: &[&str], value: serde_json::Value| {
            Transform::Filter(Filter {
                path: path(keys),
                op: FilterOp::Eq,
                value: Some(value),
                value_loc: Loc::Unknown,
            })
        };
        let step = |t: &Transform| super::super::step(&s, t).unwrap().unwrap();
        assert_eq!(
            step(&filter(&["id"], serde_json::json!(3))).mapping,
            Some(Mapping::Filtered(Test {
                field: 0,
                inside: Vec::new(),
                op: FilterOp::Eq,
                values: vec![serde_json::json!(3)]
            }))
        );
        // A value inside an object that is always there: a member's member.
        assert_eq!(
            step(&filter(&["o", "x"], serde_json::json!("a"))).mapping,
            Some(Mapping::Filtered(Test {
                field: 1,
                inside: vec![0],
                op: FilterOp::Eq,
                values: vec![serde_json::json!("a")]
            }))
        );
        // Inside an object that may be null: the runtime's `filter` tests a copy of the object.
        let bridged =
            super::super::bridge::Bridge { names: vec!["p".into()], writes: Vec::new(), expands: false };
        assert_eq!(
            step(&filter(&["p", "x"], serde_json::json!("a"))).mapping,
            Some(Mapping::Bridged(bridged))
        );
        assert!(apply(Some(&s), &filter(&["o", "y"], serde_json::json!("a"))).is_err());
        assert!(apply(Some(&s), &filter(&["id"], serde_json::json!("3"))).is_err());
    }
}
