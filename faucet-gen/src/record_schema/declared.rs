//! `record_schema:`: the fields a source's records carry (or a `custom`
//! transform's output), declared in the config for sources that cannot be
//! introspected (files, REST, Kafka, object stores).
//!
//! It sits beside `type` and `config` (not inside `config`: faucet-stream's
//! REST source already has a `schema` key, and `pipeline.schema:` is its
//! schema-drift block), and holds either `fields:` inline or `file:`, a JSON
//! Schema of which a documented subset is read ([`super::json_schema`]):
//!
//! ```yaml
//! source:
//!   type: csv
//!   config: { path: orders.csv }
//!   record_schema:
//!     fields:
//!       id: integer                         # a type name: required, not null
//!       email: { type: string, nullable: true }
//!       note: { type: string, required: false }
//!       amount: { type: decimal, precision: 12, scale: 2 }
//!       placed_at: timestamp                # timestamp (no zone) | timestamptz
//!       address: { type: object, fields: { city: string } }
//!       tags: { type: array, items: string }
//!       payload: json
//!     # or instead of fields:  file: schemas/orders.schema.json
//! ```

use super::{FieldDef, FieldType, Origin, RecordSchema};
use crate::diag::{Diagnostics, Loc, help_for, list};
use crate::load::{Entry, Node, Value};
use crate::read::{Fields, boolean, plain_string};
use crate::spec::{Field, Kind, Spec};

/// The type names a declaration accepts.
pub(crate) const TYPE_NAMES: &[&str] = &[
    "string",
    "integer",
    "number",
    "decimal",
    "boolean",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "json",
    "binary",
    "object",
    "array",
];

/// `record_schema:`.
pub(crate) static RECORD_SCHEMA: Spec = Spec {
    name: "record_schema",
    doc: "The fields of the records, declared beside a source's `type` and `config` (or a `custom` transform's, for its output): `fields` inline, e.g. `record_schema: { fields: { id: integer, email: { type: string, nullable: true }, amount: { type: decimal, precision: 12, scale: 2 } } }`, or `file`, a JSON Schema. The build follows the fields through every transform and checks each field the pipeline names against them (sink keys, delete markers, Kafka paths, matrix `${parent.field}`, table columns).",
    fields: &[
        Field::opt(
            "fields",
            Kind::Map(&FIELD),
            "Each field by name: a type name (`id: integer`: required, never null), or a map `{type, nullable, required, …}`. Types: `string`, `integer`, `number`, `decimal`, `boolean`, `date`, `time`, `timestamp` (no zone), `timestamptz`, `json` (any value), `binary`, `object` (with `fields`), `array` (with `items`).",
        ),
        Field::opt(
            "file",
            Kind::Str,
            "Instead of `fields`: a JSON Schema file, relative to the config file's directory (the crate root for an inline pipeline), read at build time. Read: `type` (a name, or `[name, \"null\"]` for a nullable field), `properties`, `required`, `items`, `additionalProperties` (`true`: records may carry more fields), `format` `date`, `time`, `date-time` (timestamptz) and `decimal` (with `x-precision` and `x-scale`), `contentEncoding: base64` (binary); `title`, `description`, `$schema`, `$id`, `$comment`, `examples` and `default` are ignored. Any other keyword is an error.",
        ),
    ],
    variants: &[],
};

/// One field's declaration: a type name or a map.
static FIELD: Kind = Kind::AnyOf(&[Kind::OneOf(TYPE_NAMES), Kind::Object(&FIELD_SPEC)]);

/// One field's declaration as a map.
static FIELD_SPEC: Spec = Spec {
    name: "record_schema.field",
    doc: "One field: its type and whether it may be null or absent.",
    fields: &[
        Field::req("type", Kind::OneOf(TYPE_NAMES), "The value's type."),
        Field::opt("nullable", Kind::Bool, "The value may be `null`.").default("false"),
        Field::opt("required", Kind::Bool, "Every record carries the field (false: it may be absent).")
            .default("true"),
        Field::opt("precision", Kind::Int(1, 1000), "`decimal`: total digits."),
        Field::opt("scale", Kind::Int(0, 1000), "`decimal`: digits after the point (at most `precision`)."),
        Field::opt("fields", Kind::Map(&FIELD), "`object`: its fields, declared like the record's."),
        Field::opt(
            "items",
            Kind::AnyOf(&[Kind::OneOf(TYPE_NAMES), Kind::Object(&ITEMS_SPEC)]),
            "`array`: the items' type.",
        ),
    ],
    variants: &[],
};

/// An array's items declared as a map: a type without nullability.
static ITEMS_SPEC: Spec = Spec {
    name: "record_schema.items",
    doc: "An array's items: a type (`object` with `fields`, `array` with `items`, `decimal` with `precision` and `scale`).",
    fields: &[
        Field::req("type", Kind::OneOf(TYPE_NAMES), "The items' type."),
        Field::opt("precision", Kind::Int(1, 1000), "`decimal`: total digits."),
        Field::opt("scale", Kind::Int(0, 1000), "`decimal`: digits after the point (at most `precision`)."),
        Field::opt("fields", Kind::Map(&FIELD), "`object`: its fields."),
        Field::opt(
            "items",
            Kind::AnyOf(&[Kind::OneOf(TYPE_NAMES), Kind::Object(&ITEMS_SPEC)]),
            "`array`: the items' type.",
        ),
    ],
    variants: &[],
};

/// Reads a `record_schema:` node (its key at `key_loc`): the declared schema,
/// or `None` when it is invalid (reported).
pub(crate) fn read(node: &Node, key_loc: &Loc, diags: &mut Diagnostics) -> Option<RecordSchema> {
    let mut f = Fields::with_spec(node, &RECORD_SCHEMA, "`record_schema`", diags)?;
    let fields = f.get("fields");
    let file = f.get("file");
    f.finish(diags);
    let origin = Origin::Declared { loc: key_loc.clone() };
    match (fields, file) {
        (Some(fields), None) => Some(RecordSchema { fields: field_map(fields, diags)?, open: false, origin }),
        (None, Some(file)) => {
            let path = plain_string(file, "file", diags)?;
            // Errors inside the file also say which config reads it.
            let mut in_file = Diagnostics::new();
            let schema = super::json_schema::read_file(&path, file, &mut in_file);
            for mut d in in_file {
                if !matches!(&d.loc, Loc::File { file: f, .. } if Some(f.name.as_str()) == file_name(&file.loc))
                {
                    d.notes.push(format!("read as the `record_schema` at {}", file.loc.short()));
                }
                diags.push(d);
            }
            let schema = schema?;
            Some(RecordSchema { origin: Origin::Declared { loc: file.loc.clone() }, ..schema })
        }
        (Some(_), Some(file)) => {
            diags.error_help(
                &file.loc,
                "`fields` and `file` are both set",
                "declare the fields in one place",
            );
            None
        }
        (None, None) => {
            diags.error_help(
                &node.loc,
                "`record_schema` needs `fields` or `file`",
                "write `record_schema: { fields: { id: integer, name: string } }`, or `file: schemas/records.schema.json`",
            );
            None
        }
    }
}

/// The name of the config file at `loc`.
fn file_name(loc: &Loc) -> Option<&str> {
    match loc {
        Loc::File { file, .. } => Some(&file.name),
        _ => None,
    }
}

// ---- Inline declarations ----

/// `fields:`: a map of field names to declarations.
fn field_map(node: &Node, diags: &mut Diagnostics) -> Option<Vec<FieldDef>> {
    let Value::Map(entries) = &node.value else {
        diags.error_help(
            &node.loc,
            format!("`fields` must be a map of field names to types, found {}", node.value.kind_name()),
            "write `fields: { id: integer, name: string }`",
        );
        return None;
    };
    if entries.is_empty() {
        diags.error_help(&node.loc, "`fields` declares no field", "add one per record key: `id: integer`");
        return None;
    }
    let fields: Vec<Option<FieldDef>> = entries.iter().map(|e| field(e, diags)).collect();
    fields.into_iter().collect()
}

/// One `name: declaration` entry.
fn field(entry: &Entry, diags: &mut Diagnostics) -> Option<FieldDef> {
    if entry.key.is_empty() {
        diags.error(&entry.key_loc, "a field name is empty");
        return None;
    }
    let node = &entry.value;
    let (ty, nullable, required) = match &node.value {
        Value::Str(_) => (type_name(node, diags)?, false, true),
        Value::Map(_) => {
            let mut f = Fields::with_spec(node, &FIELD_SPEC, format!("field `{}`", entry.key), diags)?;
            let nullable = f.get("nullable").map_or(Some(false), |n| boolean(n, "nullable", diags));
            let required = f.get("required").map_or(Some(true), |n| boolean(n, "required", diags));
            let ty = typed(&mut f, node, diags);
            f.finish(diags);
            (ty?, nullable?, required?)
        }
        other => {
            diags.error_help(
                &node.loc,
                format!("field `{}` must be a type name or a map, found {}", entry.key, other.kind_name()),
                format!("expected one of {}, or `{{ type: string, nullable: true }}`", list(TYPE_NAMES)),
            );
            return None;
        }
    };
    Some(FieldDef { name: entry.key.clone(), ty, nullable, required })
}

/// A type written as its name alone: every type but `object` and `array`,
/// which need their `fields` and `items`.
fn type_name(node: &Node, diags: &mut Diagnostics) -> Option<FieldType> {
    let name = one_type(node, diags)?;
    match name {
        "object" => {
            diags.error_help(
                &node.loc,
                "an `object` needs its `fields`",
                "write `{ type: object, fields: { city: string } }`, or `json` for an object of any fields",
            );
            None
        }
        "array" => {
            diags.error_help(
                &node.loc,
                "an `array` needs its `items`",
                "write `{ type: array, items: string }`, or `json` for a list of any values",
            );
            None
        }
        other => Some(simple(other)),
    }
}

/// A type name, with a did-you-mean for a near miss.
fn one_type(node: &Node, diags: &mut Diagnostics) -> Option<&'static str> {
    let name = plain_string(node, "type", diags)?;
    match TYPE_NAMES.iter().find(|t| **t == name) {
        Some(t) => Some(t),
        None => {
            diags.error_help(&node.loc, format!("unknown field type `{name}`"), help_for(&name, TYPE_NAMES));
            None
        }
    }
}

/// The type of a map declaration (`f` reads a field's or an array's items'
/// spec): `type` with the keys that belong to it, and no others.
fn typed(f: &mut Fields<'_>, node: &Node, diags: &mut Diagnostics) -> Option<FieldType> {
    let name = f.require("type", diags).and_then(|n| one_type(n, diags));
    let (precision, scale) = (f.get("precision"), f.get("scale"));
    let (fields, items) = (f.get("fields"), f.get("items"));
    let name = name?;
    let mut ok = true;
    for (key, present, owner) in [
        ("precision", precision, "decimal"),
        ("scale", scale, "decimal"),
        ("fields", fields, "object"),
        ("items", items, "array"),
    ] {
        if let Some(n) = present
            && name != owner
        {
            diags.error_help(
                &n.loc,
                format!("`{key}` applies to `{owner}`, but the type is `{name}`"),
                format!("remove `{key}`, or write `type: {owner}`"),
            );
            ok = false;
        }
    }
    let ty = match name {
        "decimal" => super::decimal::read(("precision", precision), ("scale", scale), diags)?,
        "object" => match fields {
            Some(n) => FieldType::Object { fields: field_map(n, diags)? },
            None => {
                diags.error_help(
                    &node.loc,
                    "an `object` needs its `fields`",
                    "add `fields: { city: string }`, or use `json` for an object of any fields",
                );
                return None;
            }
        },
        "array" => match items {
            Some(n) => FieldType::Array { items: Box::new(item_type(n, diags)?) },
            None => {
                diags.error_help(
                    &node.loc,
                    "an `array` needs its `items`",
                    "add `items: string`, or use `json` for a list of any values",
                );
                return None;
            }
        },
        other => simple(other),
    };
    ok.then_some(ty)
}

/// An array's `items`: a type name or a map without nullability.
fn item_type(node: &Node, diags: &mut Diagnostics) -> Option<FieldType> {
    match &node.value {
        Value::Map(_) => {
            let mut f = Fields::with_spec(node, &ITEMS_SPEC, "`items`", diags)?;
            let ty = typed(&mut f, node, diags);
            f.finish(diags);
            ty
        }
        _ => type_name(node, diags),
    }
}

/// A type written by its name alone: every name but `object` and `array`
/// (a `decimal` without precision and scale).
fn simple(name: &str) -> FieldType {
    match name {
        "integer" => FieldType::Integer,
        "number" => FieldType::Number,
        "decimal" => FieldType::Decimal { precision: None, scale: None },
        "boolean" => FieldType::Boolean,
        "date" => FieldType::Date,
        "time" => FieldType::Time,
        "timestamp" => FieldType::Timestamp { time_zone: false },
        "timestamptz" => FieldType::Timestamp { time_zone: true },
        "json" => FieldType::Json,
        "binary" => FieldType::Binary,
        _ => FieldType::String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Definition;

    fn source_schema(name: &str, yaml: &str) -> RecordSchema {
        let Ok(Definition::Single(p)) = crate::check_yaml(name, yaml) else { panic!("valid: {yaml}") };
        p.source.declared.clone().expect("declared")
    }

    fn def(name: &str, ty: FieldType, nullable: bool, required: bool) -> FieldDef {
        FieldDef { name: name.into(), ty, nullable, required }
    }

    #[test]
    fn inline_fields_read_every_type() {
        let yaml = r#"
pipeline:
  source:
    type: csv
    config: { path: orders.csv }
    record_schema:
      fields:
        id: integer
        email: { type: string, nullable: true }
        note: { type: string, required: false }
        amount: { type: decimal, precision: 12, scale: 2 }
        placed_at: timestamp
        seen_at: timestamptz
        address: { type: object, fields: { city: string } }
        tags: { type: array, items: string }
        grid: { type: array, items: { type: array, items: number } }
        payload: json
        on: { type: date }
        at: time
        ok: boolean
        blob: binary
  sink: { type: stdout }
"#;
        let s = source_schema("orders.yaml", yaml);
        assert!(!s.open);
        assert!(matches!(s.origin, Origin::Declared { .. }));
        assert_eq!(
            s.fields,
            [
                def("id", FieldType::Integer, false, true),
                def("email", FieldType::String, true, true),
                def("note", FieldType::String, false, false),
                def("amount", FieldType::Decimal { precision: Some(12), scale: Some(2) }, false, true),
                def("placed_at", FieldType::Timestamp { time_zone: false }, false, true),
                def("seen_at", FieldType::Timestamp { time_zone: true }, false, true),
                def(
                    "address",
                    FieldType::Object { fields: vec![def("city", FieldType::String, false, true)] },
                    false,
                    true
                ),
                def("tags", FieldType::Array { items: Box::new(FieldType::String) }, false, true),
                def(
                    "grid",
                    FieldType::Array {
                        items: Box::new(FieldType::Array { items: Box::new(FieldType::Number) })
                    },
                    false,
                    true
                ),
                def("payload", FieldType::Json, false, true),
                def("on", FieldType::Date, false, true),
                def("at", FieldType::Time, false, true),
                def("ok", FieldType::Boolean, false, true),
                def("blob", FieldType::Binary, false, true),
            ]
        );
    }

    #[test]
    fn a_json_schema_file_reads_its_subset() {
        let yaml = "pipeline:\n  source:\n    type: jsonl\n    config: { path: in.jsonl }\n    record_schema: { file: schemas/orders.schema.json }\n  sink: { type: stdout }\n";
        // Relative to the config file, itself relative to the crate (the test's directory).
        let s = source_schema("tests/diagnostics/orders.yaml", yaml);
        assert!(!s.open);
        let customer = FieldType::Object {
            fields: vec![
                def("id", FieldType::Integer, false, true),
                def("email", FieldType::String, true, false),
            ],
        };
        let line = FieldType::Object { fields: vec![def("sku", FieldType::String, false, false)] };
        assert_eq!(
            s.fields,
            [
                def("order_id", FieldType::Integer, false, true),
                def("customer", customer, false, true),
                def("amount", FieldType::Decimal { precision: Some(12), scale: Some(2) }, false, true),
                def("placed_at", FieldType::Timestamp { time_zone: true }, false, false),
                def("lines", FieldType::Array { items: Box::new(line) }, false, false),
                def("extra", FieldType::Json, true, false),
            ]
        );
    }

    #[test]
    fn the_file_is_registered_for_rebuilds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pipelines")).unwrap();
        std::fs::write(
            dir.path().join("pipelines/users.schema.json"),
            r#"{"type": "object", "properties": {"id": {"type": "integer"}}, "additionalProperties": true}"#,
        )
        .unwrap();
        let yaml = "pipeline:\n  source:\n    type: jsonl\n    config: { path: in.jsonl }\n    record_schema: { file: users.schema.json }\n  sink: { type: stdout }\n";
        let context = crate::record_schema::SchemaContext::for_crate(dir.path());
        let (s, context) = crate::record_schema::context::with_context(context, || {
            source_schema("pipelines/users.yaml", yaml)
        });
        assert!(s.open);
        assert_eq!(s.names(), ["id"]);
        assert_eq!(*context.touched.borrow(), [dir.path().join("pipelines/users.schema.json")]);
    }
}
