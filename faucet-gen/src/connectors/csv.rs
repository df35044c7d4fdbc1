//! `csv`: local CSV files, read through object_store (source) and appended to (sink).

use proc_macro2::TokenStream;
use quote::quote;

use super::{
    BATCH_SIZE, InputLimits, MAX_PAGE_BYTES, MAX_RECORD_BYTES, ON_PARSE_ERROR, PATH, input_limits,
    input_limits_tokens, on_parse_error, on_parse_error_tokens, opt, path,
};
use crate::codegen::{Gen, byte_lit, usize_lit};
use crate::diag::{Diagnostics, Loc};
use crate::ir::{Encode, OnParseError, Text};
use crate::load::Node;
use crate::validate::fields::{Field, Fields, Kind, Spec, batch_size, boolean, byte};

/// `delimiter` of CSV readers and writers.
pub(crate) const DELIMITER: Field =
    Field::opt("delimiter", Kind::Byte, "Field delimiter: one ASCII character or its byte value.")
        .default("\",\"");
/// `has_headers` of CSV readers.
pub(crate) const HAS_HEADERS: Field =
    Field::opt("has_headers", Kind::Bool, "The first line names the columns.").default("true");
/// `quote` of CSV readers.
pub(crate) const QUOTE: Field = Field::opt("quote", Kind::Byte, "Quote character.").default("\"\\\"\"");
/// `flexible` of CSV readers.
pub(crate) const FLEXIBLE: Field =
    Field::opt("flexible", Kind::Bool, "Accept rows with fewer or more fields than the header.")
        .default("false");
/// `infer_types` of CSV readers.
pub(crate) const INFER_TYPES: Field =
    Field::opt("infer_types", Kind::Bool, "Emit numbers and booleans instead of strings.").default("false");

/// The `csv` source config.
pub(crate) static SOURCE: Spec = Spec {
    name: "source.csv",
    doc: "Local CSV files: one record per row, values as strings unless `infer_types`.",
    fields: &[
        PATH,
        HAS_HEADERS,
        DELIMITER,
        QUOTE,
        FLEXIBLE,
        BATCH_SIZE,
        INFER_TYPES,
        ON_PARSE_ERROR,
        MAX_RECORD_BYTES,
        MAX_PAGE_BYTES,
        Field::not_yet("compression"),
    ],
    variants: &[],
};

/// The `csv` sink config.
pub(crate) static SINK: Spec = Spec {
    name: "sink.csv",
    doc: "A local CSV file; the header is the first record's keys.",
    fields: &[
        Field::req("path", Kind::Text, "Output file."),
        DELIMITER,
        Field::opt("write_headers", Kind::Bool, "Write a header line.").default("true"),
        Field::opt("append", Kind::Bool, "Keep existing content on a first run.").default("false"),
        BATCH_SIZE,
        Field::not_yet("on_unknown_field"),
        Field::not_yet("compression"),
    ],
    variants: &[],
};

/// `csv` source settings.
#[derive(Debug, Clone)]
pub struct CsvSource {
    /// File path or glob.
    pub path: Text,
    /// First line names the columns.
    pub has_headers: bool,
    /// Field delimiter.
    pub delimiter: u8,
    /// Quote character.
    pub quote: u8,
    /// Accept ragged rows.
    pub flexible: bool,
    /// Records per page.
    pub batch_size: u64,
    /// Emit numbers and booleans.
    pub infer_types: bool,
    /// Malformed-row policy.
    pub on_parse_error: OnParseError,
    /// Longest row, page size in bytes.
    pub limits: InputLimits,
}

/// `csv` sink settings.
#[derive(Debug, Clone)]
pub struct CsvSink {
    /// Output file.
    pub path: Text,
    /// Field delimiter.
    pub delimiter: u8,
    /// Write a header line.
    pub write_headers: bool,
    /// Keep existing content on a first run.
    pub append: bool,
    /// Rows per write.
    pub batch_size: u64,
}

pub(crate) fn source(config: &Node, what: String, diags: &mut Diagnostics) -> Option<CsvSource> {
    let mut f = Fields::with_spec(config, &SOURCE, what, diags)?;
    let path = f.require("path", diags).and_then(|n| path(n, Encode::GlobSegment, diags));
    let has_headers = opt(f.get("has_headers"), true, |n| boolean(n, "has_headers", diags));
    let delimiter = opt(f.get("delimiter"), b',', |n| byte(n, "delimiter", diags));
    let quote = opt(f.get("quote"), b'"', |n| byte(n, "quote", diags));
    let flexible = opt(f.get("flexible"), false, |n| boolean(n, "flexible", diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    let infer_types = opt(f.get("infer_types"), false, |n| boolean(n, "infer_types", diags));
    let on_parse_error = opt(f.get("on_parse_error"), OnParseError::Fail, |n| on_parse_error(n, diags));
    let limits = input_limits(&mut f, diags);
    f.finish(diags);
    Some(CsvSource {
        path: path?,
        has_headers: has_headers?,
        delimiter: delimiter?,
        quote: quote?,
        flexible: flexible?,
        batch_size: batch?,
        infer_types: infer_types?,
        on_parse_error: on_parse_error?,
        limits: limits?,
    })
}

pub(crate) fn sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<CsvSink> {
    let mut f = Fields::with_spec(config, &SINK, what, diags)?;
    let path = f.require("path", diags).and_then(|n| path(n, Encode::PathSegment, diags));
    let delimiter = opt(f.get("delimiter"), b',', |n| byte(n, "delimiter", diags));
    let write_headers = opt(f.get("write_headers"), true, |n| boolean(n, "write_headers", diags));
    let append = opt(f.get("append"), false, |n| boolean(n, "append", diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    f.finish(diags);
    Some(CsvSink {
        path: path?,
        delimiter: delimiter?,
        write_headers: write_headers?,
        append: append?,
        batch_size: batch?,
    })
}

impl CsvSource {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let files = quote!(#rt::__private::connectors::files);
        let path = g.text(&self.path);
        let (has_headers, flexible, infer_types) = (self.has_headers, self.flexible, self.infer_types);
        let (delimiter, quote_char) = (byte_lit(self.delimiter), byte_lit(self.quote));
        let batch = usize_lit(self.batch_size);
        let on_parse_error = on_parse_error_tokens(self.on_parse_error, g);
        let limits = input_limits_tokens(self.limits, g);
        g.gated(
            "files",
            "`csv` source",
            loc,
            quote! {
                #files::CsvSource::new(#files::CsvSourceConfig {
                    path: #path,
                    has_headers: #has_headers,
                    delimiter: #delimiter,
                    quote: #quote_char,
                    flexible: #flexible,
                    batch_size: #batch,
                    infer_types: #infer_types,
                    on_parse_error: #on_parse_error,
                    limits: #limits,
                })
            },
        )
    }
}

impl CsvSink {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let files = quote!(#rt::__private::connectors::files);
        let path = g.text(&self.path);
        let delimiter = byte_lit(self.delimiter);
        let (write_headers, append) = (self.write_headers, self.append);
        let batch = usize_lit(self.batch_size);
        g.gated(
            "files",
            "`csv` sink",
            loc,
            quote! {
                #files::CsvSink::new(#files::CsvSinkConfig {
                    path: #path,
                    delimiter: #delimiter,
                    write_headers: #write_headers,
                    append: #append,
                    batch_size: #batch,
                })
            },
        )
    }
}
