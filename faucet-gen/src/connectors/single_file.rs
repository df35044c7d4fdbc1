//! faucet-stream's `file` source and sink with `path`: one local file (a
//! source may name a glob), its format from `format:` or the path's
//! extension. faucet reads and writes them with its `csv` and `jsonl`
//! connectors, so a config here becomes one of those, options translated;
//! `file` with `root` stays faucet's object store on local disk
//! ([`super::object_store`]).
//!
//! What faucet cannot honour yet (other formats, compressed files, rollover,
//! directories, HTTP paths, encryption, incremental reads) is an error that
//! says so, at the key that asks for it.

use super::common::{CsvOptions, InputLimits, OnParseError, SinkPath, SourcePath};
use super::csv::{CsvSink, CsvSource};
use super::jsonl::{JsonlSink, JsonlSource};
use super::object_store::Concurrency;
use super::object_store::formats::{Codec, ObjectCompression};
use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::{Node, Value};
use crate::read::one_of;
use crate::settings::values::BatchSize;
use crate::settings::{Flatten, Nested, Setting, settings};
use crate::spec::{Kind, Spec};
use crate::text::{Text, TextPart};

use proc_macro2::TokenStream;

settings! {
    /// faucet-stream's `file` source: one local file or glob named by `path`,
    /// CSV or JSON Lines (by `format`, else by extension). With `root`
    /// instead, `file` is faucet's object store on local disk.
    pub struct FileSource("source.file_path") {
        /// File path or glob (`data/*.csv`); a directory or an `http(s)://` URL is not supported yet.
        path: SourcePath,
        /// `auto` (by the path's extension: `.csv`, `.jsonl`, `.ndjson`), `csv` or `json_lines`.
        format: Format = Format::Auto,
        /// `auto` or `none`: compressed files (`.gz`, `.zst`) are not supported here yet.
        compression: ObjectCompression = ObjectCompression::Auto,
        /// The CSV dialect, for CSV files.
        csv: Option<Nested<FileCsv>>,
        /// Records per page.
        batch_size: BatchSize = 1000,
        /// Descend into subdirectories of a directory `path`: not supported yet (`false` only).
        recursive: bool = false,
        /// Refuse a file whose extension names no format; faucet always does, at build time.
        strict: bool = false,
        /// Accepted for faucet-stream compatibility; files are read one at a time.
        concurrency: Option<Concurrency>,
        /// faucet's own: a malformed row or line fails the run, goes to the dead-letter queue, or is skipped.
        on_parse_error: OnParseError = OnParseError::Fail,
        /// faucet's own input limits.
        limits: Flatten<InputLimits>,
    }
    not_yet: [
        "incremental", "stable_for_secs", "max_files", "max_object_bytes", "headers", "http_retries",
        "http_connect_timeout_secs", "http_read_timeout_secs", "excel", "xml", "avro", "orc", "parquet",
        "encryption",
    ]
}

settings! {
    /// faucet-stream's `file` sink: one local file named by `path`, CSV or
    /// JSON Lines (by `format`, else by extension), replaced by each run
    /// unless `if_exists: append`. With `root` instead, `file` is faucet's
    /// object store on local disk.
    pub struct FileSink("sink.file_path") {
        /// Output file; parent directories are created.
        path: SinkPath,
        /// `auto` (by the path's extension: `.csv`, `.jsonl`, `.ndjson`), `csv` or `json_lines`.
        format: Format = Format::Auto,
        /// `auto` or `none`: compressed output (`.gz`, `.zst`) is not supported here yet.
        compression: ObjectCompression = ObjectCompression::Auto,
        /// An existing file is replaced (`replace`, or `overwrite`) or appended to (`append`).
        if_exists: Option<IfExists>,
        /// faucet-stream's other name for `if_exists`.
        mode: Option<IfExists>,
        /// `append` or `overwrite`: for one file both leave exactly this run's output.
        write_mode: WriteMode = WriteMode::Append,
        /// Create missing parent directories (`true` only: faucet always does).
        create_dirs: bool = true,
        /// Rows per write.
        batch_size: BatchSize = 1000,
        /// The CSV dialect, for CSV output.
        csv: Option<Nested<FileCsv>>,
        /// JSON Lines options, for JSON Lines output.
        json_lines: Option<Nested<JsonLines>>,
    }
    not_yet: [
        "max_records_per_file", "max_rows_per_file", "max_bytes_per_file", "excel", "xml", "avro", "parquet",
        "encryption",
    ]
}

settings! {
    /// faucet-stream's `csv:` block of a `file` source or sink.
    pub struct FileCsv("file_path.csv") {
        /// The dialect.
        dialect: Flatten<CsvOptions>,
    }
    not_yet: ["null_values", "on_unknown_field", "write_headers"]
}

settings! {
    /// faucet-stream's `json_lines:` block of a `file` sink.
    pub struct JsonLines("file_path.json_lines") {
        /// Pretty-print each record (`false` only: not supported yet).
        pretty: bool = false,
    }
}

/// The formats faucet-stream's `format` names.
const FORMATS: &[&str] =
    &["auto", "json_lines", "json_array", "csv", "xml", "xlsx", "parquet", "raw_text", "avro", "orc"];

/// A `file` connector's `format`: `auto` picks by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// By extension.
    Auto,
    /// One of [`FORMATS`] (not `auto`).
    Named(&'static str),
}

impl Setting for Format {
    const KIND: Kind = Kind::OneOf(FORMATS);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        Some(match one_of(node, key, FORMATS, diags)? {
            "auto" => Format::Auto,
            named => Format::Named(named),
        })
    }

    /// Nothing: the format picks the connector.
    fn emit(&self, _: &Gen) -> TokenStream {
        TokenStream::new()
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Format::Auto => "auto".into(),
            Format::Named(name) => (*name).into(),
        }
    }
}

/// What the sink does with a file that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfExists {
    /// Replace it (`replace`, `overwrite`): the default.
    Replace,
    /// Append to it.
    Append,
    /// Fail the run (`error`, `error_if_exists`): not supported yet.
    Error,
}

/// `if_exists` values, faucet-stream's other names included.
const IF_EXISTS: &[&str] = &["replace", "overwrite", "append", "error", "error_if_exists"];

impl Setting for IfExists {
    const KIND: Kind = Kind::OneOf(IF_EXISTS);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        Some(match one_of(node, key, IF_EXISTS, diags)? {
            "append" => IfExists::Append,
            "error" | "error_if_exists" => IfExists::Error,
            _ => IfExists::Replace,
        })
    }

    /// Nothing: it becomes the `csv` or `jsonl` sink's `append`.
    fn emit(&self, _: &Gen) -> TokenStream {
        TokenStream::new()
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            IfExists::Replace => "replace".into(),
            IfExists::Append => "append".into(),
            IfExists::Error => "error".into(),
        }
    }
}

/// The sink's `write_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// This run's file; nothing else touched.
    Append,
    /// The destination's whole output set replaced: for one file, the file.
    Overwrite,
}

impl Setting for WriteMode {
    const KIND: Kind = Kind::OneOf(&["append", "overwrite"]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        Some(match one_of(node, key, &["append", "overwrite"], diags)? {
            "overwrite" => WriteMode::Overwrite,
            _ => WriteMode::Append,
        })
    }

    /// Nothing: one file is replaced either way.
    fn emit(&self, _: &Gen) -> TokenStream {
        TokenStream::new()
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            WriteMode::Append => "append".into(),
            WriteMode::Overwrite => "overwrite".into(),
        }
    }
}

/// What a `file` source becomes.
#[derive(Debug)]
pub enum OneFileSource {
    /// A `csv` source.
    Csv(CsvSource),
    /// A `jsonl` source.
    Jsonl(JsonlSource),
}

/// What a `file` sink becomes.
#[derive(Debug)]
pub enum OneFileSink {
    /// A `csv` sink.
    Csv(CsvSink),
    /// A `jsonl` sink.
    Jsonl(JsonlSink),
}

/// Whether a `file` config is faucet-stream's one file rather than faucet's
/// directory playing a bucket (whose keys `objects` declares, this
/// connector's `one_file`): a `path` decides (a stray `root` beside it is
/// reported here); otherwise a key only the object store knows (`root`,
/// `prefix`, `file_format`, …) picks it, and a config with neither is asked
/// for faucet-stream's `path`.
pub(crate) fn names_one_file(config: &Node, objects: &Spec, one_file: &Spec) -> bool {
    let Value::Map(entries) = &config.value else { return true };
    entries.iter().any(|e| e.key == "path")
        || !entries.iter().any(|e| objects.declares(&e.key) && !one_file.declares(&e.key))
}

/// Reads a `file` source with `path`, as the `csv` or `jsonl` source it becomes.
pub(crate) fn read_source(config: &Node, what: String, diags: &mut Diagnostics) -> Option<OneFileSource> {
    if names_directory(config, diags) || has_root(config, "source", diags) {
        return None;
    }
    let c = FileSource::from_config(config, what, diags)?;
    let mut ok = true;
    if c.recursive {
        ok &= not_yet(config, "recursive", "`recursive: true` (reading a directory)", diags);
    }
    let path = c.path.text();
    ok &= plain_file(config, path, c.compression, diags);
    // A recursive `path` names a directory, reported above: its format is no further error.
    let format = if c.recursive { None } else { resolve(config, path, c.format, diags) };
    let csv = dialect(config, c.csv.as_ref(), diags);
    let (format, csv) = (format.filter(|_| ok)?, csv?);
    Some(match format {
        Written::Csv => OneFileSource::Csv(CsvSource {
            path: c.path,
            csv: Flatten(csv),
            batch_size: c.batch_size,
            on_parse_error: c.on_parse_error,
            limits: c.limits,
        }),
        Written::Jsonl => OneFileSource::Jsonl(JsonlSource {
            path: c.path,
            batch_size: c.batch_size,
            on_parse_error: c.on_parse_error,
            limits: c.limits,
        }),
    })
}

/// Reads a `file` sink with `path`, as the `csv` or `jsonl` sink it becomes.
pub(crate) fn read_sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<OneFileSink> {
    if names_directory(config, diags) || has_root(config, "sink", diags) {
        return None;
    }
    let c = FileSink::from_config(config, what, diags)?;
    let mut ok = true;
    if c.if_exists.is_some() && c.mode.is_some() {
        let at = entry(config, "mode").map(|e| e.key_loc.clone()).unwrap_or_else(|| config.loc.clone());
        diags.error_help(&at, "`mode` is another name for `if_exists`: write one of them", "remove `mode`");
        ok = false;
    }
    let (if_exists, key) = match (c.if_exists, c.mode) {
        (Some(i), _) => (i, "if_exists"),
        (None, Some(m)) => (m, "mode"),
        (None, None) => (IfExists::Replace, "if_exists"),
    };
    if if_exists == IfExists::Error {
        ok &= not_yet(config, key, &format!("`{key}: error` (failing when the file exists)"), diags);
    }
    if c.write_mode == WriteMode::Overwrite && if_exists != IfExists::Replace {
        let at = value_loc(config, "write_mode");
        diags.error_help(
            &at,
            format!("`write_mode: overwrite` replaces the output, so `{key}` must be `replace`"),
            format!("remove `{key}`, or use `write_mode: append`"),
        );
        ok = false;
    }
    if !c.create_dirs {
        ok &= not_yet(config, "create_dirs", "`create_dirs: false` (faucet always creates them)", diags);
    }
    let path = c.path.text();
    ok &= plain_file(config, path, c.compression, diags);
    if path.as_literal().is_some_and(|p| p.contains("{part}")) {
        ok &= not_yet_at(value_loc(config, "path"), "`{part}` in the `file` sink's `path` (rollover)", diags);
    }
    let format = resolve(config, path, c.format, diags);
    let csv = dialect(config, c.csv.as_ref(), diags)?;
    if csv.quote.0 != b'"' {
        ok &= not_yet_at(nested_loc(config, "csv", "quote"), "`csv.quote` in the `file` sink", diags);
    }
    if csv.infer_types {
        let at = nested_loc(config, "csv", "infer_types");
        diags.error_help(&at, "`csv.infer_types` applies to a source only", "remove it");
        ok = false;
    }
    let format = format.filter(|_| ok)?;
    let append = if_exists == IfExists::Append;
    Some(match format {
        Written::Csv => OneFileSink::Csv(CsvSink {
            path: c.path,
            delimiter: csv.delimiter,
            write_headers: csv.has_headers,
            append,
            batch_size: c.batch_size,
        }),
        Written::Jsonl => {
            let pretty = c.json_lines.as_ref().is_some_and(|j| j.0.pretty);
            OneFileSink::Jsonl(JsonlSink { path: c.path, append, batch_size: c.batch_size, pretty })
        }
    })
}

/// The formats faucet reads and writes through `file`.
#[derive(Debug, Clone, Copy)]
enum Written {
    Csv,
    Jsonl,
}

/// The format of `path`: `format`'s, or under `auto` the one its extension
/// names (looking through `.gz`/`.zst`, as faucet-stream does).
fn resolve(config: &Node, path: &Text, format: Format, diags: &mut Diagnostics) -> Option<Written> {
    let (name, at) = match format {
        Format::Named(name) => (name, value_loc(config, "format")),
        Format::Auto => {
            let at = value_loc(config, "path");
            let Some(ext) = extension(path) else {
                let shown = path.as_literal().unwrap_or_else(|| "the path".to_owned());
                diags.error_help(
                    &at,
                    format!("`format: auto` cannot tell the format of `{shown}` from its extension"),
                    "name a file with a `.csv`, `.jsonl` or `.ndjson` extension (a directory is not supported by faucet yet), or set `format: csv` or `format: json_lines`",
                );
                return None;
            };
            let name = match ext.as_str() {
                "jsonl" | "ndjson" => "json_lines",
                "json" => "json_array",
                "csv" => "csv",
                "xml" => "xml",
                "xlsx" => "xlsx",
                "parquet" => "parquet",
                "txt" => "raw_text",
                "avro" => "avro",
                "orc" => "orc",
                _ => {
                    let help = if ext == "tsv" {
                        "set `format: csv` with `csv: { delimiter: \"\\t\" }`"
                    } else {
                        "set `format: csv` or `format: json_lines`"
                    };
                    diags.error_help(
                        &at,
                        format!("`format: auto` cannot tell the format of a `.{ext}` file"),
                        help,
                    );
                    return None;
                }
            };
            (name, at)
        }
    };
    match name {
        "csv" => Some(Written::Csv),
        "json_lines" => Some(Written::Jsonl),
        other => {
            diags.error_help(
                &at,
                format!("the `{other}` format of the `file` connector is not supported by faucet yet"),
                "faucet reads and writes `csv` and `json_lines` files",
            );
            None
        }
    }
}

/// The extension of the path's file name (lower case, a `.gz`/`.gzip`/`.zst`/`.zstd`
/// suffix looked through), when the name is literal.
fn extension(path: &Text) -> Option<String> {
    let Some(TextPart::Lit(last)) = path.0.last() else { return None };
    let name = last.rsplit(['/', '\\']).next().unwrap_or(last).to_ascii_lowercase();
    let stem = compressed_stem(&name).unwrap_or(&name);
    let (_, ext) = stem.rsplit_once('.')?;
    (!ext.is_empty() && !ext.contains(['*', '?', '[', ']', '{', '}'])).then(|| ext.to_owned())
}

/// `name` without its compression suffix, when it has one.
fn compressed_stem(name: &str) -> Option<&str> {
    [".gz", ".gzip", ".zst", ".zstd"].iter().find_map(|suffix| name.strip_suffix(suffix))
}

/// Checks that the file is not compressed and not an `http(s)://` URL, both
/// of which faucet does not read or write here yet.
fn plain_file(config: &Node, path: &Text, compression: ObjectCompression, diags: &mut Diagnostics) -> bool {
    let literal = match path.0.first() {
        Some(TextPart::Lit(first)) => first.to_ascii_lowercase(),
        _ => String::new(),
    };
    if literal.starts_with("http://") || literal.starts_with("https://") {
        return not_yet_at(
            value_loc(config, "path"),
            "an `http(s)://` `path` in the `file` connector",
            diags,
        );
    }
    match compression {
        ObjectCompression::Every(codec @ (Codec::Gzip | Codec::Zstd)) => not_yet_at(
            value_loc(config, "compression"),
            &format!("`compression: {}` in the `file` connector with `path`", codec.as_str()),
            diags,
        ),
        ObjectCompression::Auto if matches!(path.0.last(), Some(TextPart::Lit(l)) if compressed_stem(&l.to_ascii_lowercase()).is_some()) =>
        {
            diags.error_help(
                &value_loc(config, "path"),
                "compressed files (`.gz`, `.zst`) in the `file` connector with `path` are not supported by faucet yet",
                "decompress the file, or read it with `type: file` and `root`/`prefix` (faucet's object store decompresses)",
            );
            false
        }
        _ => true,
    }
}

/// The CSV dialect: the `csv:` block's, or the defaults.
fn dialect(config: &Node, csv: Option<&Nested<FileCsv>>, diags: &mut Diagnostics) -> Option<CsvOptions> {
    match csv {
        Some(block) => Some(block.0.dialect.0.clone()),
        None => {
            let empty = Node { value: Value::Map(Vec::new()), loc: config.loc.clone() };
            CsvOptions::from_config(&empty, "the CSV dialect".to_owned(), diags)
        }
    }
}

/// A `path` ending in `/` names a directory, which faucet-stream reads (every
/// file in it) and writes (`part-{part}` files) but faucet does not yet:
/// reported alone, since the rest of the config depends on it.
fn names_directory(config: &Node, diags: &mut Diagnostics) -> bool {
    let Some(Value::Str(path)) = entry(config, "path").map(|e| &e.value.value) else { return false };
    if !(path.ends_with('/') || path.ends_with('\\')) {
        return false;
    }
    diags.error_help(
        &value_loc(config, "path"),
        format!("a directory `path` ({path:?}) in the `file` connector is not supported by faucet yet"),
        "name one file, or for a source a glob such as `dir/*.csv`",
    );
    true
}

/// A `root` beside `path` is a mix of the two `file` connectors: reported
/// alone, since which keys apply depends on it.
fn has_root(config: &Node, role: &str, diags: &mut Diagnostics) -> bool {
    let Some(root) = entry(config, "root") else { return false };
    diags.error_help(
        &root.key_loc,
        format!("the `file` {role} takes `path` or `root`, not both"),
        "with `path` it is faucet-stream's one-file connector; with `root` (and `prefix`), faucet's object store on local disk",
    );
    true
}

/// Reports `what` at `key`'s value as not supported yet; false.
fn not_yet(config: &Node, key: &str, what: &str, diags: &mut Diagnostics) -> bool {
    not_yet_at(value_loc(config, key), what, diags)
}

fn not_yet_at(at: Loc, what: &str, diags: &mut Diagnostics) -> bool {
    diags.error(&at, format!("{what} is not supported by faucet yet"));
    false
}

fn entry<'a>(config: &'a Node, key: &str) -> Option<&'a crate::load::Entry> {
    match &config.value {
        Value::Map(entries) => entries.iter().find(|e| e.key == key),
        _ => None,
    }
}

/// Where `key`'s value was written (the map's location when absent).
fn value_loc(config: &Node, key: &str) -> Loc {
    entry(config, key).map_or_else(|| config.loc.clone(), |e| e.value.loc.clone())
}

/// Where `block.key`'s value was written.
fn nested_loc(config: &Node, block: &str, key: &str) -> Loc {
    match entry(config, block) {
        Some(b) => value_loc(&b.value, key),
        None => config.loc.clone(),
    }
}
