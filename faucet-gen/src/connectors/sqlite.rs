//! `sqlite`: rows inserted into a SQLite table through sqlx, one transaction per batch.

use proc_macro2::TokenStream;
use quote::quote;

use super::opt;
use crate::codegen::{Gen, usize_lit};
use crate::diag::{Diagnostics, Loc};
use crate::ir::Text;
use crate::load::{Node, Value};
use crate::validate::fields::{Fields, batch_size, boolean, one_of, plain_string, text};

/// `sqlite` sink settings.
#[derive(Debug, Clone)]
pub struct SqliteSink {
    /// `sqlite://…` URL.
    pub database_url: Text,
    /// Target table.
    pub table_name: String,
    /// `None` = auto_map; `Some(column)` = whole record as JSON in `column`.
    pub json_column: Option<String>,
    /// Create the table from the first batch.
    pub create_table: bool,
    /// Rows per transaction.
    pub batch_size: u64,
}

pub(crate) fn sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<SqliteSink> {
    let mut f = Fields::new(config, what, diags)?;
    let url = f.require("database_url", diags).and_then(|n| sqlite_url(n, diags));
    let table = f.require("table_name", diags).and_then(|n| identifier(n, "table_name", diags));
    let mapping = f.require("column_mapping", diags).and_then(|n| column_mapping(n, diags));
    let create_table = opt(f.get("create_table"), false, |n| boolean(n, "create_table", diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    if let Some(n) = f.get("write_mode") {
        if let Value::Str(s) = &n.value
            && (s == "upsert" || s == "delete")
        {
            diags.error(&n.loc, format!("`write_mode: {s}` is not supported by faucet's sqlite sink yet"));
        } else {
            one_of(n, "write_mode", &["append"], diags);
        }
    }
    f.not_yet(&["key", "delete_marker", "max_connections"], diags);
    f.finish(diags);
    Some(SqliteSink {
        database_url: url?,
        table_name: table?,
        json_column: mapping?,
        create_table: create_table?,
        batch_size: batch?,
    })
}

impl SqliteSink {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let sqlite = quote!(#rt::__private::connectors::sqlite);
        let url = g.text(&self.database_url);
        let table_name = &self.table_name;
        let mapping = match &self.json_column {
            Some(column) => {
                quote!(#sqlite::ColumnMapping::Json { column: ::std::string::String::from(#column) })
            }
            None => quote!(#sqlite::ColumnMapping::AutoMap),
        };
        let create_table = self.create_table;
        let batch = usize_lit(self.batch_size);
        g.gated(
            "sqlite",
            "`sqlite` sink",
            loc,
            quote! {
                #sqlite::SqliteSink::new(#sqlite::SqliteSinkConfig {
                    database_url: #url,
                    table_name: ::std::string::String::from(#table_name),
                    column_mapping: #mapping,
                    create_table: #create_table,
                    batch_size: #batch,
                })
            },
        )
    }
}

/// A `sqlite:` URL (`sqlite://file.db`, `sqlite:file.db`, `sqlite::memory:`).
fn sqlite_url(node: &Node, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, "database_url", diags)?.encoded_as(crate::ir::Encode::PathSegment);
    if let Some(lit) = t.as_literal()
        && !lit.starts_with("sqlite:")
    {
        diags.error_help(
            &node.loc,
            format!("`database_url` {lit:?} is not a SQLite URL"),
            "write `sqlite://path/to/file.db` (created if missing)",
        );
        return None;
    }
    Some(t)
}

/// A SQL identifier taken as written: non-empty and free of NUL bytes (it is always quoted).
pub(crate) fn identifier(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<String> {
    let s = plain_string(node, key, diags)?;
    if s.is_empty() || s.contains('\0') || s.len() > 128 {
        diags.error(&node.loc, format!("`{key}` must be a non-empty name of at most 128 characters"));
        return None;
    }
    Some(s)
}

/// `auto_map` or `{json: {column: name}}`.
fn column_mapping(node: &Node, diags: &mut Diagnostics) -> Option<Option<String>> {
    match &node.value {
        Value::Str(_) => one_of(node, "column_mapping", &["auto_map"], diags).map(|_| None),
        Value::Map(_) => {
            let mut f = Fields::new(node, "`column_mapping`", diags)?;
            let json = f.require("json", diags);
            f.finish(diags);
            let mut j = Fields::new(json?, "`column_mapping.json`", diags)?;
            let column = j.require("column", diags).and_then(|n| identifier(n, "column", diags));
            j.finish(diags);
            Some(Some(column?))
        }
        other => {
            diags.error_help(
                &node.loc,
                format!("`column_mapping` must be `auto_map` or a map, found {}", other.kind_name()),
                "write `column_mapping: auto_map` or `column_mapping: { json: { column: data } }`",
            );
            None
        }
    }
}
