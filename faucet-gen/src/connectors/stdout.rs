//! `stdout`: records printed to the terminal (no cargo feature needed).

use proc_macro2::TokenStream;
use quote::quote;

use super::{BATCH_SIZE, opt};
use crate::codegen::{Gen, usize_lit};
use crate::diag::Diagnostics;
use crate::load::{Node, Value};
use crate::validate::fields::{Field, Fields, Kind, Spec, batch_size, one_of};

/// The `stdout` sink config.
pub(crate) static SINK: Spec = Spec {
    name: "sink.stdout",
    doc: "Records printed as JSON to the terminal.",
    fields: &[
        Field::opt("destination", Kind::OneOf(&["stdout", "stderr"]), "The stream to print to.")
            .default("\"stdout\""),
        Field::opt(
            "format",
            Kind::OneOf(&["json_lines", "pretty_json"]),
            "One record per line, or indented.",
        )
        .default("\"json_lines\""),
        BATCH_SIZE,
        Field::not_yet("flush_per_record"),
        Field::not_yet("max_records"),
    ],
    variants: &[],
};

/// `stdout` sink settings.
#[derive(Debug, Clone)]
pub struct StdoutSink {
    /// Print to stderr instead of stdout.
    pub stderr: bool,
    /// Indented JSON instead of JSON lines.
    pub pretty: bool,
    /// Rows per write.
    pub batch_size: u64,
}

pub(crate) fn sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<StdoutSink> {
    let mut f = Fields::with_spec(config, &SINK, what, diags)?;
    let stderr = opt(f.get("destination"), false, |n| {
        one_of(n, "destination", &["stdout", "stderr"], diags).map(|d| d == "stderr")
    });
    let pretty = opt(f.get("format"), false, |n| {
        if let Value::Str(s) = &n.value
            && (s == "tsv" || s == "csv")
        {
            diags
                .error(&n.loc, format!("the `{s}` format of the stdout sink is not supported by faucet yet"));
            return None;
        }
        one_of(n, "format", &["json_lines", "pretty_json"], diags).map(|d| d == "pretty_json")
    });
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    f.finish(diags);
    Some(StdoutSink { stderr: stderr?, pretty: pretty?, batch_size: batch? })
}

impl StdoutSink {
    pub(crate) fn tokens(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let stdout = quote!(#rt::__private::connectors::stdout);
        let destination = if self.stderr {
            quote!(#stdout::Destination::Stderr)
        } else {
            quote!(#stdout::Destination::Stdout)
        };
        let format = if self.pretty {
            quote!(#stdout::StdoutFormat::PrettyJson)
        } else {
            quote!(#stdout::StdoutFormat::JsonLines)
        };
        let batch = usize_lit(self.batch_size);
        quote! {
            #stdout::StdoutSink::new(#stdout::StdoutSinkConfig {
                destination: #destination,
                format: #format,
                batch_size: #batch,
            })
        }
    }
}
