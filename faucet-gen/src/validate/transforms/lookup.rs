//! The `lookup` transform's config: its reference table (inline `values`, or
//! a `jsonl` file read at build time when its path is a literal, so the
//! table is compiled into the binary), its match keys and the columns it adds.

use std::path::PathBuf;

use serde_json::Map;

use super::values::field_name;
use crate::diag::{Diagnostics, Loc, help_for};
use crate::ir::values::{Lookup, LookupOnMissing, Reference};
use crate::ir::{Named, Transform};
use crate::load::{Node, Value};
use crate::read::{Fields, plain_string, text};
use crate::settings::Setting;
use crate::spec::{Field, Kind, Spec};

pub(super) static LOOKUP: Spec = Spec {
    name: "transform.lookup",
    doc: "Columns added from a reference table, matched on one field (compared as text: `42` matches `\"42\"`); the first row of a key wins.",
    fields: &[
        Field::opt("values", Kind::List(&Kind::Json), "Inline reference rows (objects); or `jsonl`."),
        Field::opt(
            "jsonl",
            Kind::Text,
            "A JSON Lines file of reference rows, relative to the config; a literal path is read when the pipeline is built.",
        ),
        Field::req("on", Kind::Object(&LOOKUP_ON), "The match keys."),
        Field::req("add", Kind::Map(&Kind::Str), "`{ column written on the record: column of the reference row }`."),
        Field::opt(
            "on_missing",
            Kind::OneOf(LookupOnMissing::VALUES),
            "No row matches: write each added column as `null`, `keep` the record as it is, or reject it (`error`).",
        )
        .default("\"null\""),
    ],
    variants: &[],
};
static LOOKUP_ON: Spec = Spec {
    name: "transform.lookup.on",
    doc: "The match keys.",
    fields: &[
        Field::req("record", Kind::Str, "The record's field."),
        Field::req("ref", Kind::Str, "The reference rows' field."),
    ],
    variants: &[],
};

/// `lookup`.
pub(super) fn lookup(config: &Node, what: String, diags: &mut Diagnostics) -> Option<Transform> {
    let mut c = Fields::with_spec(config, &LOOKUP, what, diags)?;
    let values = c.get("values");
    let jsonl = c.get("jsonl");
    let reference = match (values, jsonl) {
        (Some(_), Some(j)) => {
            diags.error_help(
                &j.loc,
                "`lookup` takes `values` or `jsonl`, not both",
                "keep the one that holds the reference rows",
            );
            None
        }
        (Some(v), None) => inline_rows(v, diags).map(Reference::Rows),
        (None, Some(j)) => text(j, "jsonl", diags).and_then(|path| match path.as_literal() {
            Some(literal) => file_rows(&literal, &j.loc, diags).map(Reference::Rows),
            None => Some(Reference::File(path)),
        }),
        (None, None) => {
            diags.error_help(
                &config.loc,
                "`lookup` needs a reference table",
                "add `values: [{…}, …]` (inline rows) or `jsonl: path/to/rows.jsonl`",
            );
            None
        }
    };
    let on = c.require("on", diags).and_then(|n| {
        let mut on = Fields::with_spec(n, &LOOKUP_ON, "`on`", diags)?;
        let record = on.require("record", diags).and_then(|n| field_name(n, "record", diags));
        let reference = on.require("ref", diags).and_then(|n| field_name(n, "ref", diags));
        on.finish(diags);
        Some((record?, reference?))
    });
    let add = c.require("add", diags).and_then(|n| add(n, diags));
    let on_missing = match c.get("on_missing") {
        Some(n) => LookupOnMissing::read(n, "on_missing", diags),
        None => Some(LookupOnMissing::Null),
    };
    c.finish(diags);
    let (reference, (on_record, on_ref), add, on_missing) = (reference?, on?, add?, on_missing?);
    if let Reference::Rows(rows) = &reference {
        columns_exist(rows, &on_ref, &add, diags)?;
    }
    Some(Transform::Lookup(Box::new(Lookup { reference, on_record, on_ref, add, on_missing })))
}

/// `add`: output column → reference column, at least one.
fn add(node: &Node, diags: &mut Diagnostics) -> Option<Vec<(String, Named)>> {
    let Value::Map(entries) = &node.value else {
        diags.error_help(
            &node.loc,
            format!("`add` must be a map, found {}", node.value.kind_name()),
            "write `add: { country_name: name }`: the column written on the record, and the reference column it comes from",
        );
        return None;
    };
    if entries.is_empty() {
        diags.error_help(
            &node.loc,
            "`add` is empty",
            "name at least one column: `add: { country_name: name }`",
        );
        return None;
    }
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        if e.key.is_empty() {
            diags.error(&e.key_loc, "a column of `add` has an empty name");
            return None;
        }
        let column = plain_string(&e.value, &e.key, diags)?;
        out.push((e.key.clone(), Named { name: column, loc: e.value.loc.clone() }));
    }
    Some(out)
}

/// Inline `values`: a list of objects.
fn inline_rows(node: &Node, diags: &mut Diagnostics) -> Option<Vec<Map<String, serde_json::Value>>> {
    let Value::Seq(items) = &node.value else {
        diags.error_help(
            &node.loc,
            format!("`values` must be a list of rows, found {}", node.value.kind_name()),
            "write `values: [{ code: DE, name: Germany }, …]`",
        );
        return None;
    };
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        match item.to_json() {
            serde_json::Value::Object(row) => rows.push(row),
            _ => {
                diags.error_help(
                    &item.loc,
                    format!("a reference row must be a map, found {}", item.value.kind_name()),
                    "write each row as `{ column: value, … }`",
                );
                return None;
            }
        }
    }
    non_empty(rows, &node.loc, "`values` is empty", diags)
}

/// The rows of the JSON Lines file at `path`, read now (relative to the
/// directory of the config that names it, or, for a definition in Rust
/// source, the crate's); cargo is told to rebuild when it changes.
fn file_rows(path: &str, loc: &Loc, diags: &mut Diagnostics) -> Option<Vec<Map<String, serde_json::Value>>> {
    let manifest = crate::record_schema::context::current(|c| c.and_then(|c| c.manifest_dir.clone()));
    let mut full = PathBuf::from(path);
    if full.is_relative() {
        let config = match loc {
            Loc::File { file, .. } => Some(PathBuf::from(&file.name)),
            _ => None,
        };
        // A config's shown name is relative to the crate where it can be
        // (else to the working directory, or absolute).
        let config = match (config, &manifest) {
            (Some(c), Some(dir)) if c.is_relative() && dir.join(&c).is_file() => Some(dir.join(c)),
            (c, _) => c,
        };
        let base = config.as_deref().and_then(std::path::Path::parent).map(PathBuf::from).or(manifest);
        if let Some(base) = base {
            full = base.join(full);
        }
    }
    let text = match std::fs::read_to_string(&full) {
        Ok(text) => text,
        Err(e) => {
            diags.error_help(
                loc,
                format!("cannot read the lookup table `{path}`: {e}"),
                "a literal `jsonl` path is read when the pipeline is built, relative to the config's directory; to read it when the pipeline starts instead, write the path with `${env:…}`",
            );
            return None;
        }
    };
    crate::record_schema::context::current(|c| {
        if let Some(c) = c {
            c.touch(full.clone());
        }
    });
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(row)) => rows.push(row),
            Ok(other) => {
                let kind = match other {
                    serde_json::Value::Array(_) => "an array",
                    serde_json::Value::String(_) => "a string",
                    serde_json::Value::Number(_) => "a number",
                    serde_json::Value::Bool(_) => "a boolean",
                    _ => "null",
                };
                diags.error_help(
                    loc,
                    format!("line {} of the lookup table `{path}` is {kind}, not an object", i + 1),
                    "each line of a `jsonl` reference file is one row: a JSON object",
                );
                return None;
            }
            Err(e) => {
                // serde_json's "at line 1 column N" counts within the line.
                let message = e.to_string();
                let reason = message.rsplit_once(" at line ").map_or(message.as_str(), |(r, _)| r);
                diags.error_help(
                    loc,
                    format!(
                        "line {} of the lookup table `{path}` is not valid JSON (column {}): {reason}",
                        i + 1,
                        e.column()
                    ),
                    "each line of a `jsonl` reference file is one row: a JSON object",
                );
                return None;
            }
        }
    }
    non_empty(rows, loc, &format!("the lookup table `{path}` has no rows"), diags)
}

fn non_empty<T>(rows: Vec<T>, loc: &Loc, message: &str, diags: &mut Diagnostics) -> Option<Vec<T>> {
    if rows.is_empty() {
        diags.error_help(loc, message, "with no rows every record would miss: add the reference rows");
        return None;
    }
    Some(rows)
}

/// The match column and every added column are in the table.
fn columns_exist(
    rows: &[Map<String, serde_json::Value>],
    on_ref: &Named,
    add: &[(String, Named)],
    diags: &mut Diagnostics,
) -> Option<()> {
    let mut columns: Vec<&str> = Vec::new();
    for row in rows {
        for key in row.keys() {
            if !columns.contains(&key.as_str()) {
                columns.push(key);
            }
        }
    }
    let mut ok = true;
    for (what, column) in std::iter::once(("match", on_ref)).chain(add.iter().map(|(_, c)| ("added", c))) {
        if !columns.contains(&column.name.as_str()) {
            diags.error_help(
                &column.loc,
                format!("no row of the lookup table has the {what} column `{}`", column.name),
                help_for(&column.name, &columns),
            );
            ok = false;
        }
    }
    ok.then_some(())
}
