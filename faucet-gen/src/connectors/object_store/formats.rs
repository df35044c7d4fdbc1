//! How objects are encoded: a source's `file_format` (with the CSV parser's
//! keys) and `compression`, a sink's `format` and `compression`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::connectors::common::CsvOptions;
use crate::diag::Diagnostics;
use crate::emit::{Gen, option};
use crate::load::Node;
use crate::read::{Fields, one_of};
use crate::settings::checks::{Checks, peek};
use crate::settings::{Declared, Flatten, Setting, choice, settings};
use crate::spec::Kind;

/// A source's `file_format`: how its objects are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `json_lines` (or `jsonl`): one JSON value per line.
    JsonLines,
    /// `csv`: one record per row.
    Csv,
}

impl Setting for FileFormat {
    const KIND: Kind = Kind::OneOf(&["json_lines", "jsonl", "csv"]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        // faucet-stream's other formats are named in the help of a typo, and
        // reported as not supported yet.
        let choices = &[
            "json_lines",
            "jsonl",
            "csv",
            "json_array",
            "raw_text",
            "parquet",
            "xml",
            "xlsx",
            "avro",
            "orc",
        ];
        match one_of(node, key, choices, diags)? {
            "json_lines" | "jsonl" => Some(FileFormat::JsonLines),
            "csv" => Some(FileFormat::Csv),
            later => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}: {later}` is not supported by faucet yet"),
                    "use `json_lines` or `csv`",
                );
                None
            }
        }
    }

    /// The runtime's `ObjectFormat` variant, which holds the format's source config.
    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        match self {
            FileFormat::JsonLines => quote!(#rt::config::objects::ObjectFormat::Jsonl),
            FileFormat::Csv => quote!(#rt::config::objects::ObjectFormat::Csv),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            FileFormat::JsonLines => "json_lines".into(),
            FileFormat::Csv => "csv".into(),
        }
    }
}

settings! {
    /// How a source decodes its objects.
    pub struct SourceFormat("objects.source_format") {
        /// How objects are decoded.
        file_format: FileFormat,
        /// The CSV parser's settings, for `file_format: csv` only.
        csv: Flatten<CsvOptions>,
    }
}

impl Checks for SourceFormat {
    /// The CSV keys with `file_format: json_lines` are mistakes (the value stands).
    fn check(f: &mut Fields<'_>, diags: &mut Diagnostics) -> bool {
        if let Some((_, FileFormat::JsonLines)) = peek::<FileFormat>(f, "file_format") {
            for field in <CsvOptions as Declared>::spec().keys() {
                if let Some(entry) = f.entry(field.key) {
                    diags.error_help(
                        &entry.key_loc,
                        format!("`{}` applies to `file_format: csv` only", field.key),
                        "remove it",
                    );
                }
            }
        }
        true
    }
}

choice! {
    /// How a sink compresses the objects it writes.
    pub enum Codec => config::objects::Codec {
        /// Plain.
        None = "none",
        /// gzip (`.gz`).
        Gzip = "gzip",
        /// Zstandard (`.zst`).
        Zstd = "zstd",
    }
}

/// A `compression`: every object's, or `auto` to pick it by the object's
/// name, as faucet-stream does: a source by each object's extension, a sink
/// by its `file_extension` (`.gz` gzip, `.zst` zstd, else none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectCompression {
    /// By extension: `.gz` gzip, `.zst` zstd, else plain.
    Auto,
    /// Every object's.
    Every(Codec),
}

impl ObjectCompression {
    /// The values, as written in a config.
    const VALUES: &'static [&'static str] = &["auto", "none", "gzip", "zstd"];

    /// The codec a sink writes objects named `…{extension}` with
    /// (faucet-stream's `CompressionConfig::resolve`).
    pub(crate) fn for_extension(self, extension: Option<&str>) -> Codec {
        match self {
            ObjectCompression::Every(codec) => codec,
            ObjectCompression::Auto => {
                let name = extension.unwrap_or(".jsonl").to_ascii_lowercase();
                if name.ends_with(".gz") {
                    Codec::Gzip
                } else if name.ends_with(".zst") {
                    Codec::Zstd
                } else {
                    Codec::None
                }
            }
        }
    }
}

impl Setting for ObjectCompression {
    const KIND: Kind = Kind::OneOf(Self::VALUES);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        Some(match one_of(node, key, Self::VALUES, diags)? {
            "none" => ObjectCompression::Every(Codec::None),
            "gzip" => ObjectCompression::Every(Codec::Gzip),
            "zstd" => ObjectCompression::Every(Codec::Zstd),
            _ => ObjectCompression::Auto,
        })
    }

    /// The runtime's `Option<Codec>`: `None` picks by extension.
    fn emit(&self, g: &Gen) -> TokenStream {
        match self {
            ObjectCompression::Auto => option(None),
            ObjectCompression::Every(codec) => option(Some(codec.emit(g))),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            ObjectCompression::Auto => "auto".into(),
            ObjectCompression::Every(codec) => codec.to_json(),
        }
    }
}

/// A sink's `format`: the sinks write JSON Lines only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkFormat {
    /// `json_lines` (or `jsonl`).
    JsonLines,
}

impl Setting for SinkFormat {
    const KIND: Kind = Kind::OneOf(&["json_lines", "jsonl"]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        // faucet-stream's other sink formats are named in the help of a typo,
        // and reported as not supported yet.
        let choices = &[
            "json_lines",
            "jsonl",
            "parquet",
            "json_array",
            "csv",
            "xml",
            "xlsx",
            "avro",
            "raw_text",
            "auto",
        ];
        match one_of(node, key, choices, diags)? {
            "json_lines" | "jsonl" => Some(SinkFormat::JsonLines),
            later => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}: {later}` is not supported by faucet yet"),
                    "use `json_lines`",
                );
                None
            }
        }
    }

    /// Nothing to pass on: the runtime sink writes JSON Lines.
    fn emit(&self, _: &Gen) -> TokenStream {
        TokenStream::new()
    }

    fn to_json(&self) -> serde_json::Value {
        "json_lines".into()
    }
}
