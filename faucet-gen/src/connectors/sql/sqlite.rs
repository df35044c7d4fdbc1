//! `sqlite`: a query or table of a SQLite database file, read in pages; a
//! sink that appends, upserts or deletes by key in a SQLite table through
//! sqlx, one transaction per batch.

use proc_macro2::TokenStream;
use quote::quote;

use super::{
    ColumnMapping, MaxConnections, Name, Scalars, ShardKey, SqliteNames, TableWrite, check_unmapped,
    check_writes, unfilterable, value, whole_query,
};
use crate::connectors::registry::Connector;
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, string};
use crate::load::{Node, Value};
use crate::read::{Fields, one_of, text_in};
use crate::settings::checks::alone;
use crate::settings::values::PageSize;
use crate::settings::{Flatten, Nested, Part, Setting, settings};
use crate::spec::{Kind, Spec};
use crate::text::{Encode, Text};

settings! {
    /// A SQLite query or table, read in pages (the file is opened read-only).
    pub struct SqliteSource("source.sqlite") {
        /// What the runtime reads.
        source: Flatten<SqliteSourceConfig>,
        /// faucet-stream's pool size; faucet reads through one connection,
        /// all one cursor ever uses, which every size allows.
        max_connections: MaxConnections,
        /// The integer column a sharded run splits the rows by (`shard: {key: id}`).
        shard: Option<Nested<ShardKey<SqliteNames>>>,
    }
    not_yet: ["sandbox"]
}

settings! {
    /// The `sqlite` source's settings the runtime takes.
    pub struct SqliteSourceConfig("source.sqlite.config") => sql::SqliteSourceConfig {
        /// `sqlite://path/to/file.db`.
        database_url: FileUrl,
        /// A query (with `params`) or a table.
        input: Input,
        /// A growing column: each run reads rows past the last bookmark.
        replication_key: Option<Name<SqliteNames>>,
        /// Records per page or write.
        batch_size: PageSize = 1000,
    }
}

settings! {
    /// A SQLite table: appends, upserts or deletes by key, one transaction per batch.
    pub struct SqliteSink("sink.sqlite") {
        /// What the runtime writes.
        sink: Flatten<SqliteSinkConfig>,
        /// faucet-stream's pool size; faucet writes through one connection,
        /// one transaction per batch as SQLite's single writer allows, which
        /// every size allows.
        max_connections: MaxConnections,
    }
    not_yet: ["busy_timeout_secs", "rollback"]
}

settings! {
    /// The `sqlite` sink's settings the runtime takes.
    pub struct SqliteSinkConfig("sink.sqlite.config") => sql::SqliteSinkConfig {
        /// `sqlite://path/to/file.db` (created if missing).
        database_url: DatabaseUrl,
        /// The target table.
        table_name: Name<SqliteNames>,
        /// `auto_map` (record keys are columns) or `{json: {column: data}}`.
        column_mapping: Mapping,
        /// What batches do to the table.
        write: Flatten<TableWrite<SqliteNames>>,
    }
}

/// The sink's `database_url`: `sqlite://file.db`, `sqlite:file.db` or
/// `sqlite::memory:`; the file is created if missing.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseUrl(pub Text);

impl Setting for DatabaseUrl {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text_in(node, key, Encode::FileUrlSegment, diags)?;
        if let Some(lit) = t.as_literal()
            && !lit.starts_with("sqlite:")
        {
            diags.error_help(
                &node.loc,
                format!("`{key}` {lit:?} is not a SQLite URL"),
                "write `sqlite://path/to/file.db` (created if missing)",
            );
            return None;
        }
        Some(DatabaseUrl(t))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// The source's `database_url`: an existing database file (opened read-only),
/// so not `sqlite::memory:`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileUrl(pub Text);

impl Setting for FileUrl {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text_in(node, key, Encode::FileUrlSegment, diags)?;
        if let Some(lit) = t.as_literal()
            && (!lit.starts_with("sqlite:") || lit.contains(":memory:"))
        {
            diags.error_help(
                &node.loc,
                format!("`{key}` {lit:?} is not a SQLite database file URL"),
                "write `sqlite://path/to/file.db` (the file must exist; it is opened read-only)",
            );
            return None;
        }
        Some(FileUrl(t))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

settings! {
    /// What the `sqlite` source reads: a query or a table.
    pub struct InputKeys("source.sqlite.query_or_table") {
        /// A SELECT to read (or `table`).
        query: Option<String>,
        /// A table to read (or `query`).
        table: Option<Name<SqliteNames>>,
        /// Values bound to the query's parameters.
        params: Option<Scalars>,
    }
}

/// What the `sqlite` source reads, as the runtime's `SqliteInput`: `query`
/// (with `params`, bound to `?` in order) or `table`. Read from [`InputKeys`];
/// when they do not make one input, [`check_input`] says why.
#[derive(Debug, Clone)]
pub enum Input {
    /// `query` with `params`.
    Query {
        /// The SQL.
        sql: String,
        /// Bound in order.
        params: Scalars,
        /// Where the query is written (build-time introspection errors point here).
        loc: Loc,
    },
    /// `table`.
    Table {
        /// The table.
        name: String,
        /// Where the table is named (build-time introspection errors point here).
        loc: Loc,
    },
}

impl Part for Input {
    const KIND: Kind = Kind::Flatten(&InputKeys::SPEC);
    const REQUIRED: bool = false;

    fn read_part(f: &mut Fields<'_>, _: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let loc = |n: Option<&Node>| n.map_or(Loc::Unknown, |n| n.loc.clone());
        let (query_loc, table_loc) = (loc(f.get("query")), loc(f.get("table")));
        let keys = InputKeys::read(f, diags)?;
        match (keys.query, keys.table) {
            (Some(sql), None) => {
                Some(Input::Query { sql, params: keys.params.unwrap_or_default(), loc: query_loc })
            }
            (None, Some(name)) => Some(Input::Table { name: name.0, loc: table_loc }),
            // Both or neither: reported by `check_input` once the unknown keys are.
            _ => None,
        }
    }

    fn emit_part(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let input = quote!(#rt::config::sql::SqliteInput);
        match self {
            Input::Query { sql, params, .. } => {
                let (sql, params) = (string(sql), params.emit(g));
                quote!(#input::Query { sql: #sql, params: #params })
            }
            Input::Table { name, .. } => {
                let name = string(name);
                quote!(#input::Table { name: #name })
            }
        }
    }
}

/// Checks that the `sqlite` source's input keys make one input: exactly one
/// of `query` and `table`, `params` only with a query, and a query that is one
/// SELECT which (with a `replication_key`) the key can filter.
fn check_input(config: &Node, diags: &mut Diagnostics) -> bool {
    let (query, table, params) = (value(config, "query"), value(config, "table"), value(config, "params"));
    let mut ok = match (query, table) {
        (Some(_), Some(t)) => {
            diags.error_help(&t.loc, "`query` and `table` are both set", "keep one");
            false
        }
        (None, None) => {
            diags.error_help(
                &config.loc,
                "the `sqlite` source needs `query` or `table`",
                "add `table: orders`",
            );
            false
        }
        (Some(q), None) => match alone::<String>(config, "query") {
            Some(Some(sql)) => match unfilterable(&sql) {
                Some(why)
                    if whole_query(why)
                        || matches!(alone::<Name<SqliteNames>>(config, "replication_key"), Some(Some(_))) =>
                {
                    diags.error_help(
                        &q.loc,
                        format!("`replication_key` needs a query it can filter, but {why}"),
                        "drop LIMIT/OFFSET or use `table`",
                    );
                    false
                }
                _ => true,
            },
            _ => false,
        },
        (None, Some(_)) => match params {
            Some(p) => {
                diags.error(&p.loc, "`params` apply to `query`, not to `table`");
                false
            }
            None => true,
        },
    };
    if let Some(q) = query
        && matches!(&q.value, Value::Str(s) if s.trim().is_empty())
    {
        diags.error(&q.loc, "`query` is empty");
        ok = false;
    }
    ok
}

impl Connector for SqliteSource {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let source = Self::from_config(config, what, diags);
        let input = check_input(config, diags);
        source.filter(|_| input)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "sqlite",
            "`sqlite` source",
            loc,
            self.source.0.config(g),
            ShardKey::emit_on(&self.shard, quote!(#rt::connectors::sql::sqlite::SqliteSource::new(config))),
        )
    }
}

settings! {
    /// The column that stores each record as JSON text.
    pub struct JsonColumn("sqlite.column_mapping.column") {
        /// The column.
        column: Name<SqliteNames>,
    }
}

settings! {
    /// Store each record in one JSON text column.
    pub struct JsonMapping("sqlite.column_mapping") {
        /// The JSON column.
        json: Nested<JsonColumn>,
    }
}

/// The sink's `column_mapping`: `auto_map` or `{json: {column: name}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping(pub ColumnMapping);

impl Setting for Mapping {
    const KIND: Kind = Kind::AnyOf(&[Kind::OneOf(&["auto_map"]), Kind::Object(&JsonMapping::SPEC)]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match &node.value {
            Value::Str(_) => one_of(node, key, &["auto_map"], diags).map(|_| Mapping(ColumnMapping::AutoMap)),
            Value::Map(_) => {
                // Read by hand, not through `JsonMapping`: its keys are
                // checked before the column's, which messages name in full.
                let mut f = Fields::with_spec(node, &JsonMapping::SPEC, format!("`{key}`"), diags)?;
                let json = f.require("json", diags);
                f.finish(diags);
                let column = JsonColumn::from_config(json?, format!("`{key}.json`"), diags)?;
                Some(Mapping(ColumnMapping::Json(column.column.0)))
            }
            other => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` must be `auto_map` or a map, found {}", other.kind_name()),
                    "write `column_mapping: auto_map` or `column_mapping: { json: { column: data } }`",
                );
                None
            }
        }
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        self.0.emit_value(g)
    }

    fn to_json(&self) -> serde_json::Value {
        match &self.0 {
            ColumnMapping::AutoMap => "auto_map".into(),
            ColumnMapping::Json(column) => serde_json::json!({ "json": { "column": column } }),
        }
    }
}

/// Why the sink's JSON column mapping only appends.
const JSON_MAPPING_APPENDS: &str =
    "the key columns must be columns of the table, not fields inside one JSON column";

impl Connector for SqliteSink {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(config, &Self::SPEC, what, diags)?;
        let sink = Self::read(&mut f, diags);
        // Required: absent, it was reported, and the checks that need it are skipped.
        let json_mapping =
            alone::<Mapping>(config, "column_mapping").flatten().map(|m| m.0 != ColumnMapping::AutoMap);
        let unmapped = check_unmapped(config, json_mapping, diags);
        f.finish(diags);
        let writes = check_writes::<SqliteNames>(config, json_mapping, JSON_MAPPING_APPENDS, false, diags);
        let mut sink = sink.filter(|_| unmapped && writes)?;
        let s = &mut sink.sink.0;
        s.write.0.settle(s.column_mapping.0 == ColumnMapping::AutoMap);
        Some(sink)
    }

    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "sqlite",
            "`sqlite` sink",
            loc,
            self.sink.0.config(g),
            quote!(#rt::connectors::sql::sqlite::SqliteSink::new(config)),
        )
    }
}
