//! `stdout`: records printed to the terminal (no cargo feature needed).

use proc_macro2::TokenStream;
use quote::quote;

use super::registry::Connector;
use crate::diag::{Diagnostics, Loc};
use crate::emit::Gen;
use crate::load::Node;
use crate::settings::values::{BatchSize, Int};
use crate::settings::{choice, settings};
use crate::spec::Spec;

choice! {
    /// The stream the `stdout` sink prints to.
    pub enum Destination => config::stdout::Destination {
        /// Standard output.
        Stdout = "stdout",
        /// Standard error.
        Stderr = "stderr",
    }
}

choice! {
    /// How the `stdout` sink prints a record.
    pub enum StdoutFormat => config::stdout::StdoutFormat {
        /// One compact JSON object per line.
        JsonLines = "json_lines",
        /// Indented JSON.
        PrettyJson = "pretty_json",
    }
    later: ["tsv", "csv"]
}

settings! {
    /// Records printed as JSON to the terminal.
    pub struct StdoutSink("sink.stdout") => stdout::StdoutSinkConfig {
        /// The stream to print to.
        destination: Destination = Destination::Stdout,
        /// One record per line, or indented.
        format: StdoutFormat = StdoutFormat::JsonLines,
        /// Rows per write. `0`: each page in one write, as it comes.
        batch_size: BatchSize = 1000,
        /// Flush the stream after every record (a live preview) instead of after each write.
        flush_per_record: bool = false,
        /// Print at most this many records in a run; later records are passed over, as in a preview.
        max_records: Option<Int<0, { i64::MAX }>>,
    }
}

impl Connector for StdoutSink {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        Self::from_config(config, what, diags)
    }

    fn emit(&self, g: &Gen, _: &Loc) -> TokenStream {
        let rt = g.rt();
        let config = self.config(g);
        quote!(#rt::connectors::stdout::StdoutSink::new(#config))
    }
}
