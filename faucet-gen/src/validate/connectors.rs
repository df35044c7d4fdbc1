//! Source and sink blocks: `{type, config}` checked against each connector's settings.

use super::fields::{Fields, batch_size, boolean, byte, one_of, plain_string, text};
use crate::diag::{Diagnostics, help_for};
use crate::ir::{self, CsvSource, JsonlSource, OnParseError, SinkKind, SourceKind};
use crate::load::{Node, Value};

/// Source types faucet generates.
const SOURCES: &[&str] = &["csv", "jsonl"];
/// Sink types faucet generates.
const SINKS: &[&str] = &["jsonl", "csv", "stdout", "sqlite"];
/// faucet-stream source types that faucet will support later.
const LATER_SOURCES: &[&str] = &[
    "rest",
    "postgres",
    "postgres-cdc",
    "postgres_cdc",
    "mysql",
    "sqlite",
    "kafka",
    "s3",
    "gcs",
    "azure-blob",
    "file",
];
/// faucet-stream sink types that faucet will support later.
const LATER_SINKS: &[&str] = &["postgres", "mysql", "kafka", "s3", "gcs", "azure-blob", "file"];

/// Reads `{type, config}` and returns the type node and the config node (an empty map when absent).
fn spec<'a>(
    node: &'a Node,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<(&'a Node, String, Option<&'a Node>)> {
    let mut f = Fields::new(node, what.to_owned(), diags)?;
    let kind = f.require("type", diags);
    let config = f.get("config");
    f.not_yet(&["transforms", "inherit_transforms", "status", "tags", "ref", "complete_for"], diags);
    f.finish(diags);
    let kind = kind?;
    let name = plain_string(kind, "type", diags)?;
    Some((kind, name, config))
}

/// The node to read a config from: the given one, or an empty map.
fn config_or_empty(config: Option<&Node>, fallback: &Node) -> Node {
    config.cloned().unwrap_or_else(|| Node { value: Value::Map(Vec::new()), loc: fallback.loc.clone() })
}

/// Validates the `source` block.
pub(crate) fn source(node: &Node, diags: &mut Diagnostics) -> Option<ir::Source> {
    let (kind_node, kind, config) = spec(node, "`source`", diags)?;
    let config = config_or_empty(config, node);
    let what = format!("the `{kind}` source config");
    let kind = match kind.as_str() {
        "csv" => {
            let mut f = Fields::new(&config, what, diags)?;
            let path = f.require("path", diags).and_then(|n| path(n, diags));
            let has_headers = opt(f.get("has_headers"), true, |n| boolean(n, "has_headers", diags));
            let delimiter = opt(f.get("delimiter"), b',', |n| byte(n, "delimiter", diags));
            let quote = opt(f.get("quote"), b'"', |n| byte(n, "quote", diags));
            let flexible = opt(f.get("flexible"), false, |n| boolean(n, "flexible", diags));
            let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
            let infer_types = opt(f.get("infer_types"), false, |n| boolean(n, "infer_types", diags));
            let on_parse_error =
                opt(f.get("on_parse_error"), OnParseError::Fail, |n| on_parse_error(n, diags));
            f.not_yet(&["compression"], diags);
            f.finish(diags);
            SourceKind::Csv(CsvSource {
                path: path?,
                has_headers: has_headers?,
                delimiter: delimiter?,
                quote: quote?,
                flexible: flexible?,
                batch_size: batch?,
                infer_types: infer_types?,
                on_parse_error: on_parse_error?,
            })
        }
        "jsonl" => {
            let mut f = Fields::new(&config, what, diags)?;
            let path = f.require("path", diags).and_then(|n| path(n, diags));
            let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
            let on_parse_error =
                opt(f.get("on_parse_error"), OnParseError::Fail, |n| on_parse_error(n, diags));
            f.not_yet(&["compression"], diags);
            f.finish(diags);
            SourceKind::Jsonl(JsonlSource {
                path: path?,
                batch_size: batch?,
                on_parse_error: on_parse_error?,
            })
        }
        other => {
            unknown_type(kind_node, other, "source", SOURCES, LATER_SOURCES, diags);
            return None;
        }
    };
    Some(ir::Source { loc: kind_node.loc.clone(), kind })
}

/// Validates a sink block (the main sink or the DLQ's), described as `what`.
pub(crate) fn sink(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<ir::Sink> {
    let (kind_node, kind, config) = spec(node, &format!("`{}`", what.trim_start_matches("the ")), diags)?;
    let config = config_or_empty(config, node);
    let cfg_what = format!("the `{kind}` sink config");
    let kind = match kind.as_str() {
        "jsonl" => {
            let mut f = Fields::new(&config, cfg_what, diags)?;
            let path = f.require("path", diags).and_then(|n| path(n, diags));
            let append = opt(f.get("append"), false, |n| boolean(n, "append", diags));
            let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
            f.not_yet(&["pretty", "compression", "encryption"], diags);
            f.finish(diags);
            SinkKind::Jsonl { path: path?, append: append?, batch_size: batch? }
        }
        "csv" => {
            let mut f = Fields::new(&config, cfg_what, diags)?;
            let path = f.require("path", diags).and_then(|n| path(n, diags));
            let delimiter = opt(f.get("delimiter"), b',', |n| byte(n, "delimiter", diags));
            let write_headers = opt(f.get("write_headers"), true, |n| boolean(n, "write_headers", diags));
            let append = opt(f.get("append"), false, |n| boolean(n, "append", diags));
            let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
            f.not_yet(&["on_unknown_field", "compression"], diags);
            f.finish(diags);
            SinkKind::Csv {
                path: path?,
                delimiter: delimiter?,
                write_headers: write_headers?,
                append: append?,
                batch_size: batch?,
            }
        }
        "stdout" => {
            let mut f = Fields::new(&config, cfg_what, diags)?;
            let stderr = opt(f.get("destination"), false, |n| {
                one_of(n, "destination", &["stdout", "stderr"], diags).map(|d| d == "stderr")
            });
            let pretty = opt(f.get("format"), false, |n| {
                if let Value::Str(s) = &n.value
                    && (s == "tsv" || s == "csv")
                {
                    diags.error(
                        &n.loc,
                        format!("the `{s}` format of the stdout sink is not supported by faucet yet"),
                    );
                    return None;
                }
                one_of(n, "format", &["json_lines", "pretty_json"], diags).map(|d| d == "pretty_json")
            });
            let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
            f.not_yet(&["flush_per_record", "max_records"], diags);
            f.finish(diags);
            SinkKind::Stdout { stderr: stderr?, pretty: pretty?, batch_size: batch? }
        }
        "sqlite" => {
            let mut f = Fields::new(&config, cfg_what, diags)?;
            let url = f.require("database_url", diags).and_then(|n| sqlite_url(n, diags));
            let table = f.require("table_name", diags).and_then(|n| identifier(n, "table_name", diags));
            let mapping = f.require("column_mapping", diags).and_then(|n| column_mapping(n, diags));
            let create_table = opt(f.get("create_table"), false, |n| boolean(n, "create_table", diags));
            let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
            if let Some(n) = f.get("write_mode") {
                if let Value::Str(s) = &n.value
                    && (s == "upsert" || s == "delete")
                {
                    diags.error(
                        &n.loc,
                        format!("`write_mode: {s}` is not supported by faucet's sqlite sink yet"),
                    );
                } else {
                    one_of(n, "write_mode", &["append"], diags);
                }
            }
            f.not_yet(&["key", "delete_marker", "max_connections"], diags);
            f.finish(diags);
            SinkKind::Sqlite {
                database_url: url?,
                table_name: table?,
                json_column: mapping?,
                create_table: create_table?,
                batch_size: batch?,
            }
        }
        other => {
            unknown_type(kind_node, other, "sink", SINKS, LATER_SINKS, diags);
            return None;
        }
    };
    Some(ir::Sink { loc: kind_node.loc.clone(), kind })
}

/// An optional setting: its default when absent, the checked value when present.
fn opt<T>(node: Option<&Node>, default: T, read: impl FnOnce(&Node) -> Option<T>) -> Option<T> {
    match node {
        Some(n) => read(n),
        None => Some(default),
    }
}

fn unknown_type(
    node: &Node,
    kind: &str,
    role: &str,
    known: &[&str],
    later: &[&str],
    diags: &mut Diagnostics,
) {
    if later.contains(&kind) {
        diags.error_help(
            &node.loc,
            format!("faucet does not support the `{kind}` {role} yet"),
            format!("supported {role} types: {}", crate::diag::list(known)),
        );
    } else {
        diags.error_help(&node.loc, format!("unknown {role} type `{kind}`"), help_for(kind, known));
    }
}

fn on_parse_error(node: &Node, diags: &mut Diagnostics) -> Option<OnParseError> {
    one_of(node, "on_parse_error", &["fail", "dlq", "skip"], diags).map(|v| match v {
        "dlq" => OnParseError::Dlq,
        "skip" => OnParseError::Skip,
        _ => OnParseError::Fail,
    })
}

/// A file path or glob: non-empty, no NUL byte, and (when literal) not a directory-looking path.
fn path(node: &Node, diags: &mut Diagnostics) -> Option<ir::Text> {
    let t = text(node, "path", diags)?;
    if let Some(lit) = t.as_literal() {
        if lit.trim().is_empty() {
            diags.error(&node.loc, "`path` is empty");
            return None;
        }
        if lit.contains('\0') {
            diags.error(&node.loc, "`path` contains a NUL byte");
            return None;
        }
        if lit.ends_with('/') {
            diags.error_help(
                &node.loc,
                format!("`path` {lit:?} names a directory"),
                "name a file, or a glob such as `dir/*.csv`",
            );
            return None;
        }
    }
    Some(t)
}

/// A `sqlite:` URL (`sqlite://file.db`, `sqlite:file.db`, `sqlite::memory:`).
fn sqlite_url(node: &Node, diags: &mut Diagnostics) -> Option<ir::Text> {
    let t = text(node, "database_url", diags)?;
    if let Some(lit) = t.as_literal()
        && !lit.starts_with("sqlite:")
    {
        diags.error_help(
            &node.loc,
            format!("`database_url` {lit:?} is not a SQLite URL"),
            "write `sqlite://path/to/file.db` (created if missing)",
        );
        return None;
    }
    Some(t)
}

/// A SQL identifier taken as written: non-empty and free of NUL bytes (it is always quoted).
fn identifier(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<String> {
    let s = plain_string(node, key, diags)?;
    if s.is_empty() || s.contains('\0') || s.len() > 128 {
        diags.error(&node.loc, format!("`{key}` must be a non-empty name of at most 128 characters"));
        return None;
    }
    Some(s)
}

/// `auto_map` or `{json: {column: name}}`.
fn column_mapping(node: &Node, diags: &mut Diagnostics) -> Option<Option<String>> {
    match &node.value {
        Value::Str(_) => one_of(node, "column_mapping", &["auto_map"], diags).map(|_| None),
        Value::Map(_) => {
            let mut f = Fields::new(node, "`column_mapping`", diags)?;
            let json = f.require("json", diags);
            f.finish(diags);
            let mut j = Fields::new(json?, "`column_mapping.json`", diags)?;
            let column = j.require("column", diags).and_then(|n| identifier(n, "column", diags));
            j.finish(diags);
            Some(Some(column?))
        }
        other => {
            diags.error_help(
                &node.loc,
                format!("`column_mapping` must be `auto_map` or a map, found {}", other.kind_name()),
                "write `column_mapping: auto_map` or `column_mapping: { json: { column: data } }`",
            );
            None
        }
    }
}
