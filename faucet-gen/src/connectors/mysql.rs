//! `mysql`: a query or table of MySQL or MariaDB, read in pages.

use proc_macro2::TokenStream;
use quote::quote;

use super::postgres::{
    Input, PostgresSink, PostgresSource, opt_text, query_source, scalar_tokens, table_sink,
};
use super::write_mode;
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, int_lit as usize_lit};
use crate::load::Node;
use crate::spec::Spec;

/// The `mysql` source config (the `postgres` source's keys).
pub(crate) const SOURCE: Spec = Spec {
    name: "source.mysql",
    doc: "A MySQL or MariaDB query or table, read in pages in one snapshot.",
    fields: &super::postgres::QUERY_SOURCE_FIELDS,
    variants: &[],
};
pub(crate) use super::postgres::MYSQL_SINK as SINK;

/// `mysql` source settings: the same as the `postgres` source's.
#[derive(Debug, Clone)]
pub struct MySqlSource(pub PostgresSource);

pub(crate) fn source(config: &Node, what: String, diags: &mut Diagnostics) -> Option<MySqlSource> {
    query_source(config, &SOURCE, what, "mysql", &["mysql"], "mysql://user@host:3306/db", diags)
        .map(MySqlSource)
}

impl MySqlSource {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let m = quote!(#rt::connectors::mysql);
        let s = &self.0;
        let url = g.text(&s.connection_url);
        let input = match &s.input {
            Input::Query { sql, params } => {
                let params = params.iter().map(|p| scalar_tokens(p, g));
                quote!(#m::MySqlInput::Query { sql: ::std::string::String::from(#sql), params: ::std::vec![#(#params),*] })
            }
            Input::Table { schema, name } => {
                let schema = opt_text(schema, g);
                let name = g.text(name);
                quote!(#m::MySqlInput::Table { schema: #schema, name: #name })
            }
        };
        let key = match &s.replication_key {
            Some(k) => quote!(::core::option::Option::Some(::std::string::String::from(#k))),
            None => quote!(::core::option::Option::None),
        };
        let batch = usize_lit(s.batch_size);
        g.gated_whole(
            "mysql",
            "`mysql` source",
            loc,
            quote! {
                #m::MySqlSource::new(#m::MySqlSourceConfig {
                    connection_url: #url,
                    input: #input,
                    replication_key: #key,
                    batch_size: #batch,
                })
            },
        )
    }
}

/// `mysql` sink settings: the `postgres` sink's, without `write_method` (there is no COPY).
#[derive(Debug, Clone)]
pub struct MySqlSink(pub PostgresSink);

pub(crate) fn sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<MySqlSink> {
    table_sink(config, &SINK, what, false, &["mysql"], "mysql://user@host:3306/db", diags).map(MySqlSink)
}

impl MySqlSink {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let m = quote!(#rt::connectors::mysql_sink);
        let s = &self.0;
        let url = g.text(&s.connection_url);
        let schema = opt_text(&s.schema, g);
        let table = g.text(&s.table_name);
        let mapping = match &s.jsonb_column {
            Some(c) => quote!(#m::ColumnMapping::Json { column: ::std::string::String::from(#c) }),
            None => quote!(#m::ColumnMapping::AutoMap),
        };
        let create_table = s.create_table;
        let unmapped = write_mode::unmapped_tokens(s.unmapped_fields, g);
        let batch = usize_lit(s.batch_size);
        let (mode, key, marker) = write_mode::tokens(s.write_mode, &s.key, s.delete_marker.as_ref(), g);
        g.gated_whole(
            "mysql",
            "`mysql` sink",
            loc,
            quote! {
                #m::MySqlSink::new(#m::MySqlSinkConfig {
                    connection_url: #url,
                    schema: #schema,
                    table_name: #table,
                    column_mapping: #mapping,
                    create_table: #create_table,
                    unmapped_fields: #unmapped,
                    batch_size: #batch,
                    write_mode: #mode,
                    key: #key,
                    delete_marker: #marker,
                })
            },
        )
    }
}

// Transitional: this connector's settings are not declared with `settings!` yet.

impl super::registry::Connector for MySqlSource {
    const SPEC: Spec = SOURCE;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        source(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}

impl super::registry::Connector for MySqlSink {
    const SPEC: Spec = super::postgres::MYSQL_SINK;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        sink(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}
