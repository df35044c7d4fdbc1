//! `csv`: local CSV files, read through object_store (source) and appended to (sink).

use proc_macro2::TokenStream;
use quote::quote;

use super::common::{CsvOptions, InputLimits, OnParseError, SinkPath, SourcePath};
use super::registry::Connector;
use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::Node;
use crate::settings::values::{BatchSize, Byte};
use crate::settings::{Flatten, settings};
use crate::spec::Spec;

settings! {
    /// Local CSV files: one record per row, values as strings unless `infer_types`.
    pub struct CsvSource("source.csv") => files::CsvSourceConfig {
        /// File path or glob.
        path: SourcePath,
        /// How rows are parsed.
        csv: Flatten<CsvOptions>,
        /// Records per page. `0`: the whole input in one page (within `max_page_bytes`).
        batch_size: BatchSize = 1000,
        /// A malformed row fails the run, goes to the dead-letter queue, or is skipped.
        on_parse_error: OnParseError = OnParseError::Fail,
        /// Input limits.
        limits: Flatten<InputLimits>,
    }
    not_yet: ["compression", "null_values"]
}

settings! {
    /// A local CSV file; the header is the first record's keys.
    pub struct CsvSink("sink.csv") => files::CsvSinkConfig {
        /// Output file.
        path: SinkPath,
        /// Field delimiter: one ASCII character or its byte value.
        delimiter: Byte = b',',
        /// Write a header line.
        write_headers: bool = true,
        /// Keep existing content on a first run.
        append: bool = false,
        /// Rows per write. `0`: each page in one write, as it comes.
        batch_size: BatchSize = 1000,
    }
    not_yet: ["on_unknown_field", "compression"]
}

impl Connector for CsvSource {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        Self::from_config(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "files",
            "`csv` source",
            loc,
            self.config(g),
            quote!(#rt::connectors::files::CsvSource::new(config)),
        )
    }
}

impl Connector for CsvSink {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        Self::from_config(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "files",
            "`csv` sink",
            loc,
            self.config(g),
            quote!(#rt::connectors::files::CsvSink::new(config)),
        )
    }
}
