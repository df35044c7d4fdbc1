//! Fixture files: a case's `input` read at build time, so the records are
//! part of the test binary and a missing or malformed file is a build error.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics, Loc, SourceFile};

/// The extensions a fixture file may have.
const EXTENSIONS: &[&str] = &["jsonl", "ndjson", "json", "yaml", "yml"];

/// The records of fixture file `full` (shown as `display`; `loc` is the
/// `input` value naming it): one JSON record per line (`.jsonl`, `.ndjson`;
/// blank lines skipped), or a list (`.json`, `.yaml`, `.yml`).
pub(crate) fn load(full: &Path, display: &str, loc: &Loc, diags: &mut Diagnostics) -> Option<Vec<Value>> {
    let extension =
        full.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    if !EXTENSIONS.contains(&extension.as_str()) {
        diags.error_help(
            loc,
            format!("fixture file `{display}` is not JSON Lines, JSON or YAML"),
            "name a `.jsonl`, `.ndjson`, `.json`, `.yaml` or `.yml` file",
        );
        return None;
    }
    let text = match crate::load::read_file(full).map(|bytes| crate::load::decode(display, bytes)) {
        Ok(Ok(text)) => text,
        Ok(Err(d)) => {
            diags.push(d);
            return None;
        }
        Err(e) => {
            diags.error_help(
                loc,
                format!("cannot read fixture file `{display}`: {e}"),
                "fixture paths are relative to the spec file",
            );
            return None;
        }
    };
    let file = Arc::new(SourceFile { name: display.to_owned(), text });
    let at = |line: usize, col: usize| Loc::File { file: file.clone(), line, col, len: 1 };
    match extension.as_str() {
        "jsonl" | "ndjson" => {
            let mut records = Vec::new();
            for (i, line) in file.text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                match serde_json::from_str(line) {
                    Ok(record) => records.push(record),
                    Err(e) => {
                        diags.error(
                            &at(i + 1, e.column().max(1)),
                            format!("this line is not a JSON record: {e}"),
                        );
                        return None;
                    }
                }
            }
            Some(records)
        }
        "json" => match serde_json::from_str::<Value>(&file.text) {
            Ok(Value::Array(records)) => Some(records),
            Ok(other) => {
                diags.push(not_a_list(at(1, 1), json_kind(&other)));
                None
            }
            Err(e) => {
                diags.error(&at(e.line().max(1), e.column().max(1)), format!("the file is not JSON: {e}"));
                None
            }
        },
        _ => {
            let root = crate::load::load_yaml(&file).map_err(|d| diags.push(d)).ok()?;
            match &root.value {
                crate::load::Value::Seq(items) => {
                    Some(items.iter().map(crate::load::Node::to_json).collect())
                }
                other => {
                    diags.push(not_a_list(root.loc.clone(), other.kind_name()));
                    None
                }
            }
        }
    }
}

fn not_a_list(loc: Loc, found: &str) -> Diagnostic {
    Diagnostic::new(loc, format!("a fixture file holds a list of records, found {found}"))
        .with_help("write the records as a list (`[ {…}, {…} ]`), or one per line in a `.jsonl` file")
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}
