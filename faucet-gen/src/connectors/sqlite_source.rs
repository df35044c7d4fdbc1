//! `sqlite` source: a query or table of a SQLite database, read in pages.

use proc_macro2::TokenStream;
use quote::quote;

use super::common::{BATCH_SIZE, opt};
use super::postgres::{Scalar, scalar_tokens, scalars, unfilterable};
use super::sqlite::identifier;
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, int_lit as usize_lit};
use crate::load::{Node, Value};
use crate::read::{Fields, batch_size, plain_string, text_in};
use crate::spec::{Field, Kind, Spec};
use crate::text::{Encode, Text};

/// The `sqlite` source config.
pub(crate) const SOURCE: Spec = Spec {
    name: "source.sqlite",
    doc: "A SQLite query or table, read in pages (the file is opened read-only).",
    fields: &[
        Field::req("database_url", Kind::Text, "`sqlite://path/to/file.db`."),
        Field::opt("query", Kind::Str, "A SELECT to read (or `table`)."),
        Field::opt("table", Kind::Str, "A table to read (or `query`)."),
        Field::opt("params", Kind::List(&Kind::Json), "Values bound to the query's parameters."),
        Field::opt(
            "replication_key",
            Kind::Str,
            "A growing column: each run reads rows past the last bookmark.",
        ),
        BATCH_SIZE,
        Field::not_yet("max_connections"),
    ],
    variants: &[],
};

/// What the source reads.
#[derive(Debug, Clone)]
pub enum SqliteInput {
    /// `query` with `params` (bound to `?` in order).
    Query {
        /// The SQL.
        sql: String,
        /// The parameters.
        params: Vec<Scalar>,
    },
    /// `table`.
    Table {
        /// The table.
        name: String,
    },
}

/// `sqlite` source settings.
#[derive(Debug, Clone)]
pub struct SqliteSource {
    /// `sqlite://…`.
    pub database_url: Text,
    /// Query or table.
    pub input: SqliteInput,
    /// Incremental column.
    pub replication_key: Option<String>,
    /// Rows per page.
    pub batch_size: u64,
}

pub(crate) fn source(config: &Node, what: String, diags: &mut Diagnostics) -> Option<SqliteSource> {
    let mut f = Fields::with_spec(config, &SOURCE, what, diags)?;
    let url = f.require("database_url", diags).and_then(|n| {
        let t = text_in(n, "database_url", Encode::FileUrlSegment, diags)?;
        if let Some(lit) = t.as_literal()
            && (!lit.starts_with("sqlite:") || lit.contains(":memory:"))
        {
            diags.error_help(
                &n.loc,
                format!("`database_url` {lit:?} is not a SQLite database file URL"),
                "write `sqlite://path/to/file.db` (the file must exist; it is opened read-only)",
            );
            return None;
        }
        Some(t)
    });
    let query = f.get("query");
    let table = f.get("table");
    let params = f.get("params");
    let replication_key = f.get("replication_key").map(|n| identifier(n, "replication_key", diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    let loc = config.loc.clone();
    f.finish(diags);
    let input = match (query, table) {
        (Some(_), Some(t)) => {
            diags.error_help(&t.loc, "`query` and `table` are both set", "keep one");
            None
        }
        (None, None) => {
            diags.error_help(&loc, "the `sqlite` source needs `query` or `table`", "add `table: orders`");
            None
        }
        (Some(q), None) => {
            let sql = plain_string(q, "query", diags);
            if let Some(sql) = &sql
                && let Some(why) = unfilterable(sql)
                && (matches!(replication_key, Some(Some(_)))
                    || why.starts_with("it is not")
                    || why.contains("more than one")
                    || why.contains("modifies"))
            {
                diags.error_help(
                    &q.loc,
                    format!("`replication_key` needs a query it can filter, but {why}"),
                    "drop LIMIT/OFFSET or use `table`",
                );
            }
            let params = match params {
                Some(p) => scalars(p, "params", diags),
                None => Some(Vec::new()),
            };
            Some(SqliteInput::Query { sql: sql?, params: params? })
        }
        (None, Some(t)) => {
            if let Some(p) = params {
                diags.error(&p.loc, "`params` apply to `query`, not to `table`");
            }
            identifier(t, "table", diags).map(|name| SqliteInput::Table { name })
        }
    };
    if let Some(n) = query
        && matches!(&n.value, Value::Str(s) if s.trim().is_empty())
    {
        diags.error(&n.loc, "`query` is empty");
        return None;
    }
    Some(SqliteSource {
        database_url: url?,
        input: input?,
        replication_key: match replication_key {
            Some(k) => Some(k?),
            None => None,
        },
        batch_size: batch?,
    })
}

impl SqliteSource {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let m = quote!(#rt::connectors::sqlite_source);
        let url = g.text(&self.database_url);
        let input = match &self.input {
            SqliteInput::Query { sql, params } => {
                let params = params.iter().map(|p| scalar_tokens(p, g));
                quote!(#m::SqliteInput::Query { sql: ::std::string::String::from(#sql), params: ::std::vec![#(#params),*] })
            }
            SqliteInput::Table { name } => {
                quote!(#m::SqliteInput::Table { name: ::std::string::String::from(#name) })
            }
        };
        let key = match &self.replication_key {
            Some(k) => quote!(::core::option::Option::Some(::std::string::String::from(#k))),
            None => quote!(::core::option::Option::None),
        };
        let batch = usize_lit(self.batch_size);
        g.gated_whole(
            "sqlite",
            "`sqlite` source",
            loc,
            quote! {
                #m::SqliteSource::new(#m::SqliteSourceConfig {
                    database_url: #url,
                    input: #input,
                    replication_key: #key,
                    batch_size: #batch,
                })
            },
        )
    }
}

// Transitional: this connector's settings are not declared with `settings!` yet.

impl super::registry::Connector for SqliteSource {
    const SPEC: Spec = SOURCE;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        source(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}
