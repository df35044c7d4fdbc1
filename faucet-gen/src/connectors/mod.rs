//! The connectors faucet generates: one module per connector, holding its
//! settings (the IR), their validation and their code generation, so adding a
//! connector means adding a file and registering it here.

pub mod csv;
pub mod jsonl;
pub mod kafka;
pub mod mysql;
pub mod object_store;
pub mod postgres;
pub mod postgres_cdc;
pub mod redis;
pub mod rest;
pub mod sqlite;
pub mod sqlite_source;
pub mod stdout;
pub mod write_mode;

use proc_macro2::TokenStream;
use quote::quote;

use crate::codegen::{Gen, usize_lit};
use crate::diag::Diagnostics;
use crate::ir::{Encode, OnParseError, SinkKind, SourceKind, Text};
use crate::load::Node;
use crate::validate::fields::{Field, Fields, Kind, MAX_BATCH_SIZE, Spec, Variant, int_in, one_of, text_in};

/// `batch_size`, shared by most connectors.
pub(crate) const BATCH_SIZE: Field =
    Field::opt("batch_size", Kind::Int(1, MAX_BATCH_SIZE), "Records per page or write.").default("1000");
/// `on_parse_error` of the file sources.
pub(crate) const ON_PARSE_ERROR: Field = Field::opt(
    "on_parse_error",
    Kind::OneOf(&["fail", "dlq", "skip"]),
    "A malformed row or line fails the run, goes to the dead-letter queue, or is skipped.",
)
.default("\"fail\"");
/// `max_record_bytes` of the file and object-store sources.
pub(crate) const MAX_RECORD_BYTES: Field = Field::opt(
    "max_record_bytes",
    Kind::Int(64, 1 << 30),
    "The longest line (jsonl) or row (csv) in bytes; a longer one is malformed (see `on_parse_error`; the DLQ gets its first KiB).",
)
.default("16777216");
/// `max_page_bytes` of the file and object-store sources.
pub(crate) const MAX_PAGE_BYTES: Field = Field::opt(
    "max_page_bytes",
    Kind::Int(1024, 1 << 40),
    "A page ends early once its records reach this many bytes of input.",
)
.default("67108864");
/// A file `path` (a glob for sources).
pub(crate) const PATH: Field = Field::req("path", Kind::Text, "File path (sources: a path or glob).");

/// The source connectors and their config specs, for the JSON Schema. A
/// connector with `None` has not declared its spec yet: its config is any map.
pub(crate) static SOURCE_SPECS: &[Variant] = &[
    Variant { tag: "csv", nested: true, spec: Some(&csv::SOURCE) },
    Variant { tag: "jsonl", nested: true, spec: Some(&jsonl::SOURCE) },
    Variant { tag: "s3", nested: true, spec: Some(&object_store::S3_SOURCE) },
    Variant { tag: "gcs", nested: true, spec: Some(&object_store::GCS_SOURCE) },
    Variant { tag: "azure", nested: true, spec: Some(&object_store::AZURE_SOURCE) },
    Variant { tag: "azure-blob", nested: true, spec: Some(&object_store::AZURE_SOURCE) },
    Variant { tag: "file", nested: true, spec: Some(&object_store::FILE_SOURCE) },
    Variant { tag: "memory", nested: true, spec: Some(&object_store::MEMORY_SOURCE) },
    Variant { tag: "rest", nested: true, spec: Some(&rest::SOURCE) },
    Variant { tag: "postgres", nested: true, spec: Some(&postgres::SOURCE) },
    Variant { tag: "postgres_cdc", nested: true, spec: Some(&postgres_cdc::SOURCE) },
    Variant { tag: "postgres-cdc", nested: true, spec: Some(&postgres_cdc::SOURCE) },
    Variant { tag: "kafka", nested: true, spec: Some(&kafka::SOURCE) },
    Variant { tag: "sqlite", nested: true, spec: Some(&sqlite_source::SOURCE) },
    Variant { tag: "mysql", nested: true, spec: Some(&mysql::SOURCE) },
];

/// The sink connectors and their config specs, like [`SOURCE_SPECS`].
pub(crate) static SINK_SPECS: &[Variant] = &[
    Variant { tag: "jsonl", nested: true, spec: Some(&jsonl::SINK) },
    Variant { tag: "csv", nested: true, spec: Some(&csv::SINK) },
    Variant { tag: "stdout", nested: true, spec: Some(&stdout::SINK) },
    Variant { tag: "sqlite", nested: true, spec: Some(&sqlite::SINK) },
    Variant { tag: "s3", nested: true, spec: Some(&object_store::S3_SINK) },
    Variant { tag: "gcs", nested: true, spec: Some(&object_store::GCS_SINK) },
    Variant { tag: "azure", nested: true, spec: Some(&object_store::AZURE_SINK) },
    Variant { tag: "azure-blob", nested: true, spec: Some(&object_store::AZURE_SINK) },
    Variant { tag: "file", nested: true, spec: Some(&object_store::FILE_SINK) },
    Variant { tag: "memory", nested: true, spec: Some(&object_store::MEMORY_SINK) },
    Variant { tag: "postgres", nested: true, spec: Some(&postgres::SINK) },
    Variant { tag: "kafka", nested: true, spec: Some(&kafka::SINK) },
    Variant { tag: "mysql", nested: true, spec: Some(&mysql::SINK) },
];

/// A `source` block: `{type, config}` (the type picks the config's spec).
pub(crate) static SOURCE_BLOCK: Spec = Spec {
    name: "source",
    doc: "Where records come from: a connector `type` and its `config`.",
    fields: &BLOCK_FIELDS,
    variants: SOURCE_SPECS,
};

/// A sink block (the main sink or the dead-letter queue's).
pub(crate) static SINK_BLOCK: Spec = Spec {
    name: "sink",
    doc: "Where records go: a connector `type` and its `config`.",
    fields: &BLOCK_FIELDS,
    variants: SINK_SPECS,
};

const BLOCK_FIELDS: [Field; 8] = [
    Field::req("type", Kind::Str, "The connector."),
    Field::opt("config", Kind::Json, "The connector's settings."),
    Field::not_yet("transforms"),
    Field::not_yet("inherit_transforms"),
    Field::not_yet("status"),
    Field::not_yet("tags"),
    Field::not_yet("ref"),
    Field::not_yet("complete_for"),
];

/// Source types faucet generates.
pub(crate) const SOURCES: &[&str] = &[
    "csv",
    "jsonl",
    "s3",
    "gcs",
    "azure",
    "azure-blob",
    "file",
    "memory",
    "rest",
    "postgres",
    "postgres_cdc",
    "postgres-cdc",
    "kafka",
    "sqlite",
    "mysql",
];
/// Sink types faucet generates.
pub(crate) const SINKS: &[&str] = &[
    "jsonl",
    "csv",
    "stdout",
    "sqlite",
    "s3",
    "gcs",
    "azure",
    "azure-blob",
    "file",
    "memory",
    "postgres",
    "kafka",
    "mysql",
];
/// faucet-stream source types that faucet will support later.
pub(crate) const LATER_SOURCES: &[&str] = &[];
/// faucet-stream sink types that faucet will support later.
pub(crate) const LATER_SINKS: &[&str] = &[];

/// Validates a source's `config` for source type `kind`: `None` when `kind` is
/// not a source faucet generates, `Some(None)` when the config is invalid.
pub(crate) fn source(kind: &str, config: &Node, diags: &mut Diagnostics) -> Option<Option<SourceKind>> {
    let what = format!("the `{kind}` source config");
    Some(match kind {
        "csv" => csv::source(config, what, diags).map(SourceKind::Csv),
        "jsonl" => jsonl::source(config, what, diags).map(SourceKind::Jsonl),
        "s3" | "gcs" | "azure" | "azure-blob" | "file" | "memory" => {
            object_store::source(kind, config, what, diags).map(SourceKind::Object)
        }
        "kafka" => kafka::source(config, what, diags).map(SourceKind::Kafka),
        "rest" => rest::source(config, what, diags).map(|r| SourceKind::Rest(Box::new(r))),
        "postgres" => postgres::source(config, what, diags).map(|p| SourceKind::Postgres(Box::new(p))),
        "postgres_cdc" | "postgres-cdc" => {
            postgres_cdc::source(config, what, diags).map(|p| SourceKind::PostgresCdc(Box::new(p)))
        }
        "sqlite" => sqlite_source::source(config, what, diags).map(SourceKind::Sqlite),
        "mysql" => mysql::source(config, what, diags).map(|m| SourceKind::MySql(Box::new(m))),
        _ => return None,
    })
}

/// Validates a sink's `config` for sink type `kind`, like [`source`].
pub(crate) fn sink(kind: &str, config: &Node, diags: &mut Diagnostics) -> Option<Option<SinkKind>> {
    let what = format!("the `{kind}` sink config");
    Some(match kind {
        "jsonl" => jsonl::sink(config, what, diags).map(SinkKind::Jsonl),
        "csv" => csv::sink(config, what, diags).map(SinkKind::Csv),
        "stdout" => stdout::sink(config, what, diags).map(SinkKind::Stdout),
        "sqlite" => sqlite::sink(config, what, diags).map(SinkKind::Sqlite),
        "s3" | "gcs" | "azure" | "azure-blob" | "file" | "memory" => {
            object_store::sink(kind, config, what, diags).map(SinkKind::Object)
        }
        "kafka" => kafka::sink(config, what, diags).map(SinkKind::Kafka),
        "postgres" => postgres::sink(config, what, diags).map(|p| SinkKind::Postgres(Box::new(p))),
        "mysql" => mysql::sink(config, what, diags).map(|m| SinkKind::MySql(Box::new(m))),
        _ => return None,
    })
}

/// The constructor of a source, gated by its cargo feature.
pub(crate) fn source_tokens(kind: &SourceKind, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
    match kind {
        SourceKind::Csv(c) => c.tokens(g, loc),
        SourceKind::Jsonl(j) => j.tokens(g, loc),
        SourceKind::Object(o) => o.tokens(g, loc),
        SourceKind::Kafka(k) => k.tokens(g, loc),
        SourceKind::Rest(r) => r.tokens(g, loc),
        SourceKind::Postgres(p) => p.tokens(g, loc),
        SourceKind::PostgresCdc(p) => p.tokens(g, loc),
        SourceKind::Sqlite(s) => s.tokens(g, loc),
        SourceKind::MySql(m) => m.tokens(g, loc),
    }
}

/// The constructor of a sink, gated by its cargo feature.
pub(crate) fn sink_tokens(kind: &SinkKind, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
    match kind {
        SinkKind::Jsonl(s) => s.tokens(g, loc),
        SinkKind::Csv(s) => s.tokens(g, loc),
        SinkKind::Stdout(s) => s.tokens(g),
        SinkKind::Sqlite(s) => s.tokens(g, loc),
        SinkKind::Object(s) => s.tokens(g, loc),
        SinkKind::Kafka(s) => s.tokens(g, loc),
        SinkKind::Postgres(s) => s.tokens(g, loc),
        SinkKind::MySql(s) => s.tokens(g, loc),
    }
}

/// An optional setting: its default when absent, the checked value when present.
pub(crate) fn opt<T>(node: Option<&Node>, default: T, read: impl FnOnce(&Node) -> Option<T>) -> Option<T> {
    match node {
        Some(n) => read(n),
        None => Some(default),
    }
}

/// How much input a file or object-store source holds at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// The longest record (line or row), in bytes.
    pub max_record_bytes: u64,
    /// The input bytes after which a page ends.
    pub max_page_bytes: u64,
}

/// Reads `max_record_bytes` and `max_page_bytes` (defaults 16 MiB and 64 MiB).
pub(crate) fn input_limits(f: &mut Fields<'_>, diags: &mut Diagnostics) -> Option<InputLimits> {
    let record =
        opt(f.get("max_record_bytes"), 16 << 20, |n| int_in(n, "max_record_bytes", 64, 1 << 30, diags));
    let page = opt(f.get("max_page_bytes"), 64 << 20, |n| int_in(n, "max_page_bytes", 1024, 1 << 40, diags));
    Some(InputLimits { max_record_bytes: record? as u64, max_page_bytes: page? as u64 })
}

/// The runtime's `InputLimits` value.
pub(crate) fn input_limits_tokens(limits: InputLimits, g: &Gen) -> TokenStream {
    let rt = g.rt();
    let record = usize_lit(limits.max_record_bytes);
    let page = usize_lit(limits.max_page_bytes);
    quote!(#rt::__private::connectors::files::InputLimits { max_record_bytes: #record, max_page_bytes: #page })
}

/// `on_parse_error: fail | dlq | skip`.
pub(crate) fn on_parse_error(node: &Node, diags: &mut Diagnostics) -> Option<OnParseError> {
    one_of(node, "on_parse_error", &["fail", "dlq", "skip"], diags).map(|v| match v {
        "dlq" => OnParseError::Dlq,
        "skip" => OnParseError::Skip,
        _ => OnParseError::Fail,
    })
}

/// The runtime's `OnParseError` value.
pub(crate) fn on_parse_error_tokens(v: OnParseError, g: &Gen) -> TokenStream {
    let rt = g.rt();
    match v {
        OnParseError::Fail => quote!(#rt::__private::connectors::files::OnParseError::Fail),
        OnParseError::Dlq => quote!(#rt::__private::connectors::files::OnParseError::Dlq),
        OnParseError::Skip => quote!(#rt::__private::connectors::files::OnParseError::Skip),
    }
}

/// A file path or glob: non-empty, no NUL byte, not ending in `/`. Values
/// from a matrix parent's record are substituted as single path segments
/// (`encode`: [`Encode::GlobSegment`] in a source's path, which is a glob).
pub(crate) fn path(node: &Node, encode: Encode, diags: &mut Diagnostics) -> Option<Text> {
    let t = text_in(node, "path", encode, diags)?;
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
