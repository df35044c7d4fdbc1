//! `jsonl`: local JSON Lines files, read through object_store (source) and appended to (sink).

use proc_macro2::TokenStream;
use quote::quote;

use super::common::{InputLimits, OnParseError, SinkPath, SourcePath};
use super::registry::Connector;
use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::Node;
use crate::settings::values::BatchSize;
use crate::settings::{Flatten, settings};
use crate::spec::Spec;

settings! {
    /// Local JSON Lines files: one record per line.
    pub struct JsonlSource("source.jsonl") => files::JsonlSourceConfig {
        /// File path or glob.
        path: SourcePath,
        /// Records per page. `0`: the whole input in one page (within `max_page_bytes`).
        batch_size: BatchSize = 1000,
        /// A malformed line fails the run, goes to the dead-letter queue, or is skipped.
        on_parse_error: OnParseError = OnParseError::Fail,
        /// Input limits.
        limits: Flatten<InputLimits>,
    }
    not_yet: ["compression"]
}

settings! {
    /// A local JSON Lines file: one record per line.
    pub struct JsonlSink("sink.jsonl") => files::JsonlSinkConfig {
        /// Output file.
        path: SinkPath,
        /// Keep existing content on a first run.
        append: bool = false,
        /// Rows per write. `0`: each page in one write, as it comes.
        batch_size: BatchSize = 1000,
        /// Each record pretty-printed (indented over several lines) instead of on one line.
        pretty: bool = false,
    }
    not_yet: ["compression", "encryption"]
}

impl Connector for JsonlSource {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        Self::from_config(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "files",
            "`jsonl` source",
            loc,
            self.config(g),
            quote!(#rt::connectors::files::JsonlSource::new(config)),
        )
    }
}

impl Connector for JsonlSink {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        Self::from_config(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "files",
            "`jsonl` sink",
            loc,
            self.config(g),
            quote!(#rt::connectors::files::JsonlSink::new(config)),
        )
    }
}
