//! The JSON Schema files a `record_schema: { file: … }` names: the subset of
//! JSON Schema read for a record's fields and types (the `record_schema`
//! spec's `file` lists it, for the grammar reference). The file is
//! loaded as YAML (JSON is YAML), so every error points at its line and
//! column; a keyword outside the subset is an error naming it, never ignored.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{FieldDef, FieldType, Origin, RecordSchema};
use crate::diag::{Diagnostics, Loc, SourceFile, help_for, list};
use crate::load::{Node, Value};
use crate::read::plain_string;

/// The JSON Schema keywords that carry no type and are ignored.
const ANNOTATIONS: &[&str] = &["title", "description", "$schema", "$id", "$comment", "examples", "default"];

/// The keywords read from a JSON Schema file.
const KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "format",
    "x-precision",
    "x-scale",
    "contentEncoding",
];

/// Reads the JSON Schema file at `path` (written in the config at `node`):
/// relative to the config file's directory, or to the crate root for an
/// inline pipeline. The file is registered as touched, so the build reruns
/// when it changes.
pub(super) fn read_file(path: &str, node: &Node, diags: &mut Diagnostics) -> Option<RecordSchema> {
    let full = resolve_path(path, &node.loc);
    super::context::current(|ctx| {
        if let Some(ctx) = ctx {
            ctx.touched.borrow_mut().push(full.clone());
        }
    });
    let text = crate::load::read_file(&full)
        .map_err(|e| e.to_string())
        .and_then(|bytes| crate::load::decode(&full.display().to_string(), bytes).map_err(|d| d.message));
    let text = match text {
        Ok(text) => text,
        Err(e) => {
            diags.error_help(
                &node.loc,
                format!("cannot read the `record_schema` file `{}`: {e}", full.display()),
                "`file` is relative to the config file's directory (the crate root for an inline pipeline)",
            );
            return None;
        }
    };
    let file = Arc::new(SourceFile { name: display_name(path, &node.loc), text });
    // JSON is YAML: the YAML loader gives every value of the file its line and column.
    let root = match crate::load::load_yaml(&file) {
        Ok(root) => root,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let ty = json_type(&root, true, diags)?;
    let open = matches!(map_get(&root, "additionalProperties").map(|n| &n.value), Some(Value::Bool(true)));
    match ty {
        (FieldType::Object { fields }, _) => {
            Some(RecordSchema { fields, open, origin: Origin::Declared { loc: node.loc.clone() } })
        }
        _ => {
            diags.error_help(
                &root.loc,
                "a `record_schema` file must describe an object and its `properties`",
                "write `{\"type\": \"object\", \"properties\": {\"id\": {\"type\": \"integer\"}}}`",
            );
            None
        }
    }
}

/// Where `path` is: beside the config file (whose name is relative to the
/// crate), or under the crate root for an inline pipeline.
fn resolve_path(path: &str, loc: &Loc) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    let root = super::context::current(|ctx| ctx.and_then(|c| c.manifest_dir.clone())).unwrap_or_default();
    match loc {
        Loc::File { file, .. } => {
            root.join(Path::new(&file.name).parent().unwrap_or(Path::new(""))).join(path)
        }
        _ => root.join(path),
    }
}

/// The file's name as diagnostics show it: relative like the config's.
fn display_name(path: &str, loc: &Loc) -> String {
    match loc {
        Loc::File { file, .. } if !Path::new(path).is_absolute() => {
            Path::new(&file.name).parent().unwrap_or(Path::new("")).join(path).display().to_string()
        }
        _ => path.to_owned(),
    }
}

/// The value of `key` in the map `node`.
fn map_get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.value {
        Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
        _ => None,
    }
}

/// The type a JSON Schema `node` describes, and whether it admits `null`.
/// `top`: the file's root (which may say `additionalProperties: true`).
fn json_type(node: &Node, top: bool, diags: &mut Diagnostics) -> Option<(FieldType, bool)> {
    let Value::Map(entries) = &node.value else {
        match &node.value {
            // `true` admits any value.
            Value::Bool(true) => return Some((FieldType::Json, true)),
            other => {
                diags.error_help(
                    &node.loc,
                    format!("a schema must be a map, found {}", other.kind_name()),
                    "write `{\"type\": \"string\"}`",
                );
                return None;
            }
        }
    };
    let mut ok = true;
    for e in entries {
        if ANNOTATIONS.contains(&e.key.as_str()) || KEYWORDS.contains(&e.key.as_str()) {
            continue;
        }
        let help = match crate::diag::suggest(&e.key, KEYWORDS.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!(
                "a `record_schema` file is read for its types only: {}; put value rules (`enum`, `pattern`, `minimum`, …) in a `contract:`",
                list(KEYWORDS)
            ),
        };
        diags.error_help(
            &e.key_loc,
            format!("JSON Schema keyword `{}` is not supported in a `record_schema` file", e.key),
            help,
        );
        ok = false;
    }
    let (name, nullable) = json_type_name(map_get(node, "type"), diags)?;
    let format = match map_get(node, "format") {
        Some(n) => Some((n, plain_string(n, "format", diags)?)),
        None => None,
    };
    let base64 = match map_get(node, "contentEncoding") {
        Some(Node { value: Value::Str(e), .. }) if e == "base64" => true,
        Some(n) => {
            diags.error_help(
                &n.loc,
                "only `contentEncoding: \"base64\"` is supported",
                "it declares a binary field: `{\"type\": \"string\", \"contentEncoding\": \"base64\"}`",
            );
            return None;
        }
        None => false,
    };
    let ty = match name.as_deref() {
        None => FieldType::Json,
        Some("object") => match map_get(node, "properties") {
            Some(props) => {
                FieldType::Object { fields: json_properties(props, map_get(node, "required"), diags)? }
            }
            None => FieldType::Json,
        },
        Some("array") => match map_get(node, "items") {
            Some(items) => FieldType::Array { items: Box::new(json_type(items, false, diags)?.0) },
            None => FieldType::Array { items: Box::new(FieldType::Json) },
        },
        Some("string") => match format.as_ref().map(|(n, f)| (*n, f.as_str())) {
            None if base64 => FieldType::Binary,
            None => FieldType::String,
            Some((_, "date")) => FieldType::Date,
            Some((_, "time")) => FieldType::Time,
            Some((_, "date-time")) => FieldType::Timestamp { time_zone: true },
            Some((_, "decimal")) => decimal(node, diags)?,
            // Other formats (email, uri, uuid, …) are strings.
            Some(_) => FieldType::String,
        },
        Some("number") => match format.as_ref().map(|(_, f)| f.as_str()) {
            Some("decimal") => decimal(node, diags)?,
            _ => FieldType::Number,
        },
        Some("integer") => FieldType::Integer,
        Some("boolean") => FieldType::Boolean,
        // Only `null`: no value but null.
        Some(_) => FieldType::Json,
    };
    if !top && let Some(n) = map_get(node, "additionalProperties") {
        diags.error_help(
            &n.loc,
            "`additionalProperties` is only read at the file's root",
            "a nested object with unknown fields is `{\"type\": \"object\"}` without `properties`",
        );
        ok = false;
    }
    ok.then_some((ty, nullable))
}

/// `type`: a name, or a list of one name and `"null"`; absent, any value.
fn json_type_name(node: Option<&Node>, diags: &mut Diagnostics) -> Option<(Option<String>, bool)> {
    const JSON_TYPES: &[&str] = &["string", "integer", "number", "boolean", "object", "array", "null"];
    let Some(node) = node else { return Some((None, true)) };
    let names: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut kept = Vec::new();
    let mut nullable = false;
    for n in names {
        let name = plain_string(n, "type", diags)?;
        if !JSON_TYPES.contains(&name.as_str()) {
            diags.error_help(
                &n.loc,
                format!("unknown JSON Schema type `{name}`"),
                help_for(&name, JSON_TYPES),
            );
            return None;
        }
        if name == "null" {
            nullable = true;
        } else {
            kept.push(name);
        }
    }
    match kept.len() {
        0 => Some((Some("null".into()), true)),
        1 => Some((kept.pop(), nullable)),
        _ => {
            diags.error_help(
                &node.loc,
                format!("a field of several types ({}) is not supported", kept.join(", ")),
                "give one type, with `\"null\"` for a nullable field: `[\"string\", \"null\"]`; or leave `type` out for any value",
            );
            None
        }
    }
}

/// `format: decimal` with `x-precision` and `x-scale`.
fn decimal(node: &Node, diags: &mut Diagnostics) -> Option<FieldType> {
    let precision = ("x-precision", map_get(node, "x-precision"));
    super::decimal::read(precision, ("x-scale", map_get(node, "x-scale")), diags)
}

/// `properties` with `required`: the object's fields in the order written.
fn json_properties(props: &Node, required: Option<&Node>, diags: &mut Diagnostics) -> Option<Vec<FieldDef>> {
    let Value::Map(entries) = &props.value else {
        diags.error(&props.loc, format!("`properties` must be a map, found {}", props.value.kind_name()));
        return None;
    };
    let required: Vec<String> = match required.map(|n| &n.value) {
        None => Vec::new(),
        Some(Value::Seq(items)) => {
            let names: Vec<Option<String>> =
                items.iter().map(|i| plain_string(i, "required", diags)).collect();
            let names = names.into_iter().collect::<Option<Vec<_>>>()?;
            let known: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
            for (name, item) in names.iter().zip(items) {
                if !known.contains(&name.as_str()) {
                    diags.error_help(
                        &item.loc,
                        format!("`required` names `{name}`, which is not in `properties`"),
                        help_for(name, &known),
                    );
                }
            }
            names
        }
        Some(other) => {
            let at = required.map_or(&props.loc, |n| &n.loc);
            diags.error(
                at,
                format!("`required` must be a list of property names, found {}", other.kind_name()),
            );
            return None;
        }
    };
    let fields: Vec<Option<FieldDef>> = entries
        .iter()
        .map(|e| {
            let (ty, nullable) = json_type(&e.value, false, diags)?;
            Some(FieldDef { name: e.key.clone(), ty, nullable, required: required.contains(&e.key) })
        })
        .collect();
    fields.into_iter().collect()
}
