//! `jsonl`: local JSON Lines files, read through object_store (source) and appended to (sink).

use proc_macro2::TokenStream;
use quote::quote;

use super::{on_parse_error, on_parse_error_tokens, opt, path};
use crate::codegen::{Gen, usize_lit};
use crate::diag::{Diagnostics, Loc};
use crate::ir::{OnParseError, Text};
use crate::load::Node;
use crate::validate::fields::{Fields, batch_size, boolean};

/// `jsonl` source settings.
#[derive(Debug, Clone)]
pub struct JsonlSource {
    /// File path or glob.
    pub path: Text,
    /// Records per page.
    pub batch_size: u64,
    /// Malformed-line policy.
    pub on_parse_error: OnParseError,
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
    let mut f = Fields::new(config, what, diags)?;
    let path = f.require("path", diags).and_then(|n| path(n, diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    let on_parse_error = opt(f.get("on_parse_error"), OnParseError::Fail, |n| on_parse_error(n, diags));
    f.not_yet(&["compression"], diags);
    f.finish(diags);
    Some(JsonlSource { path: path?, batch_size: batch?, on_parse_error: on_parse_error? })
}

pub(crate) fn sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<JsonlSink> {
    let mut f = Fields::new(config, what, diags)?;
    let path = f.require("path", diags).and_then(|n| path(n, diags));
    let append = opt(f.get("append"), false, |n| boolean(n, "append", diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    f.not_yet(&["pretty", "compression", "encryption"], diags);
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
        g.gated(
            "files",
            "`jsonl` source",
            loc,
            quote! {
                #files::JsonlSource::new(#files::JsonlSourceConfig {
                    path: #path,
                    batch_size: #batch,
                    on_parse_error: #on_parse_error,
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
