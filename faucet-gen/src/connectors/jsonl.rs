//! `jsonl`: local JSON Lines files, read through object_store (source) and appended to (sink).

use proc_macro2::TokenStream;
use quote::quote;

use super::{
    BATCH_SIZE, InputLimits, MAX_PAGE_BYTES, MAX_RECORD_BYTES, ON_PARSE_ERROR, PATH, input_limits,
    input_limits_tokens, on_parse_error, on_parse_error_tokens, opt, path,
};
use crate::codegen::{Gen, usize_lit};
use crate::diag::{Diagnostics, Loc};
use crate::ir::{Encode, OnParseError, Text};
use crate::load::Node;
use crate::validate::fields::{Field, Fields, Kind, Spec, batch_size, boolean};

/// The `jsonl` source config.
pub(crate) static SOURCE: Spec = Spec {
    name: "source.jsonl",
    doc: "Local JSON Lines files: one record per line.",
    fields: &[
        PATH,
        BATCH_SIZE,
        ON_PARSE_ERROR,
        MAX_RECORD_BYTES,
        MAX_PAGE_BYTES,
        Field::not_yet("compression"),
    ],
    variants: &[],
};

/// The `jsonl` sink config.
pub(crate) static SINK: Spec = Spec {
    name: "sink.jsonl",
    doc: "A local JSON Lines file: one record per line.",
    fields: &[
        Field::req("path", Kind::Text, "Output file."),
        Field::opt("append", Kind::Bool, "Keep existing content on a first run.").default("false"),
        BATCH_SIZE,
        Field::not_yet("pretty"),
        Field::not_yet("compression"),
        Field::not_yet("encryption"),
    ],
    variants: &[],
};

/// `jsonl` source settings.
#[derive(Debug, Clone)]
pub struct JsonlSource {
    /// File path or glob.
    pub path: Text,
    /// Records per page.
    pub batch_size: u64,
    /// Malformed-line policy.
    pub on_parse_error: OnParseError,
    /// Longest line, page size in bytes.
    pub limits: InputLimits,
}

/// `jsonl` sink settings.
#[derive(Debug, Clone)]
pub struct JsonlSink {
    /// Output file.
    pub path: Text,
    /// Keep existing content on a first run.
    pub append: bool,
    /// Rows per write.
    pub batch_size: u64,
}

pub(crate) fn source(config: &Node, what: String, diags: &mut Diagnostics) -> Option<JsonlSource> {
    let mut f = Fields::with_spec(config, &SOURCE, what, diags)?;
    let path = f.require("path", diags).and_then(|n| path(n, Encode::GlobSegment, diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    let on_parse_error = opt(f.get("on_parse_error"), OnParseError::Fail, |n| on_parse_error(n, diags));
    let limits = input_limits(&mut f, diags);
    f.finish(diags);
    Some(JsonlSource { path: path?, batch_size: batch?, on_parse_error: on_parse_error?, limits: limits? })
}

pub(crate) fn sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<JsonlSink> {
    let mut f = Fields::with_spec(config, &SINK, what, diags)?;
    let path = f.require("path", diags).and_then(|n| path(n, Encode::PathSegment, diags));
    let append = opt(f.get("append"), false, |n| boolean(n, "append", diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    f.finish(diags);
    Some(JsonlSink { path: path?, append: append?, batch_size: batch? })
}

impl JsonlSource {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let files = quote!(#rt::__private::connectors::files);
        let path = g.text(&self.path);
        let batch = usize_lit(self.batch_size);
        let on_parse_error = on_parse_error_tokens(self.on_parse_error, g);
        let limits = input_limits_tokens(self.limits, g);
        g.gated(
            "files",
            "`jsonl` source",
            loc,
            quote! {
                #files::JsonlSource::new(#files::JsonlSourceConfig {
                    path: #path,
                    batch_size: #batch,
                    on_parse_error: #on_parse_error,
                    limits: #limits,
                })
            },
        )
    }
}

impl JsonlSink {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let files = quote!(#rt::__private::connectors::files);
        let path = g.text(&self.path);
        let append = self.append;
        let batch = usize_lit(self.batch_size);
        g.gated(
            "files",
            "`jsonl` sink",
            loc,
            quote! {
                #files::JsonlSink::new(#files::JsonlSinkConfig { path: #path, append: #append, batch_size: #batch })
            },
        )
    }
}
