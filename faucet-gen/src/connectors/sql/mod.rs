//! The SQL family: the `postgres`, `mysql` and `sqlite` sources and sinks
//! (one module each), and what they share, declared here once: table and
//! column names and how each server checks them, query parameters, the table
//! sinks' `column_mapping` and their shared write keys ([`TableWrite`]:
//! `create_table`, `unmapped_fields`, `batch_size`, `write_mode`, `key`,
//! `delete_marker`), and the checks that their keys agree.
//!
//! Their connection URLs are [`crate::connectors::urls`]; their runtime
//! settings are `rt::config::sql`.
//!
//! A cross-key check runs once the unknown keys are reported, and reads each
//! key it compares on its own (`settings::checks::alone`), so it still runs when an unrelated
//! key is invalid (a missing `connection_url` does not hide a `key` that has
//! no effect), and is skipped when one of its own keys is invalid.

pub mod mysql;
pub mod postgres;
pub mod sqlite;

use std::fmt::Debug;
use std::marker::PhantomData;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, string, vec};
use crate::load::{Entry, Node, Value};
use crate::read::{Fields, plain_string, reads_at_run_time, text};
use crate::settings::checks::alone;
use crate::settings::values::{BatchSize, Int};
use crate::settings::{Nested, Part, Setting, choice, settings};
use crate::spec::Kind;
use crate::text::{Text, TextPart};

// ---- Names ----

/// How a connector checks the names it quotes: tables, schemas, columns.
pub trait Names: Debug + Clone + PartialEq {
    /// Whether `name`, the value of `key`, can be a name; reports why not.
    fn check(node: &Node, key: &str, name: &str, diags: &mut Diagnostics) -> bool;
}

/// PostgreSQL's rule, which the `mysql` connectors follow too: 1 to 63 bytes
/// (NAMEDATALEN - 1) without NUL, used as written.
#[derive(Debug, Clone, PartialEq)]
pub struct PgNames;

/// Longest PostgreSQL identifier (NAMEDATALEN - 1).
const MAX_IDENT: usize = 63;

impl Names for PgNames {
    fn check(node: &Node, key: &str, name: &str, diags: &mut Diagnostics) -> bool {
        let ok = !name.is_empty() && !name.contains('\0') && name.len() <= MAX_IDENT;
        if !ok {
            diags.error_help(
                &node.loc,
                format!("`{key}` must be a name of 1 to {MAX_IDENT} bytes without NUL"),
                "it is used as written (quoted), so case and spaces are kept",
            );
        }
        ok
    }
}

/// SQLite's rule: 1 to 128 bytes without NUL, used as written.
#[derive(Debug, Clone, PartialEq)]
pub struct SqliteNames;

impl Names for SqliteNames {
    fn check(node: &Node, key: &str, name: &str, diags: &mut Diagnostics) -> bool {
        let ok = !name.is_empty() && !name.contains('\0') && name.len() <= 128;
        if !ok {
            diags.error(&node.loc, format!("`{key}` must be a non-empty name of at most 128 characters"));
        }
        ok
    }
}

/// A PostgreSQL identifier, taken as written (it is always quoted).
pub(crate) fn identifier(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<String> {
    let s = plain_string(node, key, diags)?;
    PgNames::check(node, key, &s, diags).then_some(s)
}

/// A name fixed at build time (a column, a replication key, a SQLite table),
/// checked by `N`'s rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Name<N>(pub String, PhantomData<N>);

impl<N: Names> Setting for Name<N> {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let s = plain_string(node, key, diags)?;
        N::check(node, key, &s, diags).then_some(Name(s, PhantomData))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.as_str().into()
    }
}

/// A table or schema name of a `postgres` or `mysql` source or sink: a
/// written name is checked now; one that reads `${env:…}` is resolved when
/// the pipeline is built at run time and checked then by the same rule.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvName<N>(pub Text, PhantomData<N>);

impl<N: Names> Setting for EnvName<N> {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = match &node.value {
            // `text` refuses a parent record's value here: records never choose where rows go.
            Value::Str(s) if reads_at_run_time(s) => text(node, key, diags),
            _ => Name::<N>::read(node, key, diags).map(|n| Text::literal(n.0)),
        };
        t.map(|t| EnvName(t, PhantomData))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// `key`: the columns that identify a row (upsert and delete), one name or a
/// non-empty list; none when absent.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyColumns<N>(pub Vec<String>, PhantomData<N>);

impl<N: Names> Setting for KeyColumns<N> {
    const KIND: Kind = Kind::AnyOf(&[Kind::Str, Kind::List(&Kind::Str)]);
    const REQUIRED: bool = false;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let columns = match &node.value {
            Value::Seq(items) if !items.is_empty() => {
                let columns: Vec<Option<Name<N>>> = items.iter().map(|n| Name::read(n, key, diags)).collect();
                columns.into_iter().map(|c| c.map(|c| c.0)).collect::<Option<Vec<_>>>()?
            }
            Value::Str(_) => vec![Name::<N>::read(node, key, diags)?.0],
            _ => {
                diags.error_help(&node.loc, "`key` must be a non-empty list of columns", "write `key: [id]`");
                return None;
            }
        };
        Some(KeyColumns(columns, PhantomData))
    }

    fn absent() -> Option<Self> {
        Some(KeyColumns(Vec::new(), PhantomData))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        vec(self.0.iter().map(|c| string(c)))
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.clone().into()
    }
}

/// `max_connections`: accepted for faucet-stream compatibility and not passed
/// on (the `postgres` and `mysql` connectors read and write through one
/// connection).
pub type MaxConnections = Option<Int<1, 1000>>;

// ---- Values ----

/// A scalar from the config (a query parameter, a delete-marker value).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
}

impl Scalar {
    fn read(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Scalar> {
        Some(match &node.value {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Int(i) => Scalar::Int(*i),
            Value::Float(f) if f.is_finite() => Scalar::Float(*f),
            Value::Str(s) => match crate::read::parse_text(s) {
                Ok(t) => match t.as_literal() {
                    Some(lit) => Scalar::Str(lit),
                    None => {
                        let what = match t.0.iter().find(|p| !matches!(p, TextPart::Lit(_))) {
                            Some(TextPart::File(_)) => "`${file:…}`",
                            Some(TextPart::Now(_)) => "`${now.…}`",
                            Some(TextPart::Parent { .. }) => "a parent reference",
                            _ => "`${env:…}`",
                        };
                        diags.error_help(
                            &node.loc,
                            format!("{what} in `{key}` is not supported by faucet yet"),
                            "put the value in the URL or the query, or write `$${` for a literal `${`",
                        );
                        return None;
                    }
                },
                Err((message, help)) => {
                    diags.error_help(&node.loc, message, help);
                    return None;
                }
            },
            other => {
                diags
                    .error(&node.loc, format!("`{key}` values must be scalars, found {}", other.kind_name()));
                return None;
            }
        })
    }

    /// The value as a runtime `serde_json::Value` (integers and floats keep
    /// their suffix: `Value::from` takes many types).
    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let json = quote!(#rt::serde_json::Value);
        match self {
            Scalar::Null => quote!(#json::Null),
            Scalar::Bool(b) => quote!(#json::Bool(#b)),
            Scalar::Int(i) => quote!(#json::from(#i)),
            Scalar::Float(f) => quote!(#json::from(#f)),
            Scalar::Str(s) => {
                let s = string(s);
                quote!(#json::String(#s))
            }
        }
    }
}

/// A list of scalars: a query's `params`, a delete marker's `values`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scalars(pub Vec<Scalar>);

impl Setting for Scalars {
    const KIND: Kind = Kind::List(&Kind::Json);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let Value::Seq(items) = &node.value else {
            diags.error(&node.loc, format!("`{key}` must be a list, found {}", node.value.kind_name()));
            return None;
        };
        let all: Vec<Option<Scalar>> = items.iter().map(|n| Scalar::read(n, key, diags)).collect();
        all.into_iter().collect::<Option<Vec<_>>>().map(Scalars)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        vec(self.0.iter().map(|s| s.emit(g)))
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

// ---- A query or a table ----

settings! {
    /// What a `postgres` or `mysql` source reads: a query or a table.
    pub struct InputKeys("source.query_or_table") {
        /// A SELECT to read (or `table`).
        query: Option<String>,
        /// A table to read (or `query`).
        table: Option<EnvName<PgNames>>,
        /// The table's schema (with `table`).
        schema: Option<EnvName<PgNames>>,
        /// Values bound to the query's parameters.
        params: Option<Scalars>,
    }
}

/// What a `postgres` or `mysql` source reads, as the runtime's `SourceInput`:
/// `query` (with `params`) or `table` (with `schema`). Read from [`InputKeys`];
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
    /// `table` and `schema`.
    Table {
        /// The schema.
        schema: Option<EnvName<PgNames>>,
        /// The table.
        name: EnvName<PgNames>,
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
            (None, Some(name)) => Some(Input::Table { schema: keys.schema, name, loc: table_loc }),
            // Both or neither: reported by `check_input` once the unknown keys are.
            _ => None,
        }
    }

    fn emit_part(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let input = quote!(#rt::config::sql::SourceInput);
        match self {
            Input::Query { sql, params, .. } => {
                let (sql, params) = (string(sql), params.emit(g));
                quote!(#input::Query { sql: #sql, params: #params })
            }
            Input::Table { schema, name, .. } => {
                let (schema, name) = (schema.emit(g), name.emit(g));
                quote!(#input::Table { schema: #schema, name: #name })
            }
        }
    }
}

/// Checks that a `postgres` or `mysql` source's input keys make one input:
/// exactly one of `query` and `table`, `schema` only with a table, `params`
/// only with a query; a query must be one SELECT and, with a
/// `replication_key`, one the key can filter. `connector` names the source.
pub(crate) fn check_input(config: &Node, connector: &str, diags: &mut Diagnostics) -> bool {
    let (query, table) = (entry(config, "query"), entry(config, "table"));
    let (schema, params) = (value(config, "schema"), value(config, "params"));
    match (query, table) {
        (Some(_), Some(t)) => {
            diags.error_help(
                &t.key_loc,
                "`query` and `table` are both set",
                "keep one: `table` reads a whole table, `query` any SELECT",
            );
            false
        }
        (None, None) => {
            diags.error_help(
                &config.loc,
                format!("the `{connector}` source needs `query` or `table`"),
                "add `table: orders` or `query: \"SELECT …\"`",
            );
            false
        }
        (Some(q), None) => {
            let mut ok = true;
            if let Some(s) = schema {
                diags.error_help(
                    &s.loc,
                    "`schema` applies to `table`, not to `query`",
                    "qualify the table inside the query instead",
                );
                ok = false;
            }
            let Some(Some(sql)) = alone::<String>(config, "query") else { return false };
            let q = &q.value;
            if sql.trim().trim_end_matches(';').trim().is_empty() {
                diags.error(&q.loc, "`query` is empty");
                return false;
            }
            if let Some(why) = unfilterable(&sql) {
                // The query is read as a subquery: it must be one SELECT, and
                // with a key it must not limit rows before the key's filter.
                let keyed = matches!(alone::<Name<PgNames>>(config, "replication_key"), Some(Some(_)));
                if whole_query(why) {
                    diags.error_help(
                        &q.loc,
                        format!("`query` must be a single SELECT, but {why}"),
                        "the source reads `SELECT … FROM (query) AS q`",
                    );
                    ok = false;
                } else if keyed {
                    diags.error_help(
                        &q.loc,
                        format!("`replication_key` needs a query it can filter, but {why}"),
                        "the source reads `SELECT … FROM (query) WHERE key > bookmark ORDER BY key`; drop LIMIT/OFFSET or use `table`",
                    );
                    ok = false;
                }
            }
            ok
        }
        (None, Some(_)) => {
            if let Some(p) = params {
                diags.error_help(&p.loc, "`params` apply to `query`, not to `table`", "remove `params`");
                return false;
            }
            true
        }
    }
}

/// Whether `why` (from [`unfilterable`]) rules out reading the query at all,
/// not only filtering it by a key.
pub(crate) fn whole_query(why: &str) -> bool {
    why.starts_with("it is not") || why.contains("more than one") || why.contains("modifies")
}

/// Why `sql` cannot be filtered by a replication key, if it cannot.
pub(crate) fn unfilterable(sql: &str) -> Option<&'static str> {
    // Words at parenthesis depth 0, outside quotes and comments.
    let mut words: Vec<String> = Vec::new();
    let (mut depth, mut word) = (0i32, String::new());
    let mut chars = sql.chars().peekable();
    let flush = |word: &mut String, depth: i32, words: &mut Vec<String>| {
        if !word.is_empty() && depth == 0 {
            words.push(word.to_ascii_lowercase());
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                flush(&mut word, depth, &mut words);
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                flush(&mut word, depth, &mut words);
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '(' => {
                flush(&mut word, depth, &mut words);
                depth += 1;
            }
            ')' => {
                flush(&mut word, depth, &mut words);
                depth -= 1;
            }
            ';' => {
                flush(&mut word, depth, &mut words);
                words.push(";".into());
            }
            c if c.is_alphanumeric() || c == '_' => word.push(c),
            _ => flush(&mut word, depth, &mut words),
        }
    }
    flush(&mut word, depth, &mut words);
    while words.last().is_some_and(|w| w == ";") {
        words.pop();
    }
    match words.first().map(String::as_str) {
        Some("select" | "with" | "table" | "values") => {}
        _ => return Some("it is not a SELECT"),
    }
    if words.iter().any(|w| w == ";") {
        return Some("it holds more than one statement");
    }
    for w in &words {
        match w.as_str() {
            "limit" | "offset" | "fetch" => {
                return Some(
                    "it has a top-level LIMIT, OFFSET or FETCH, which would apply before the filter",
                );
            }
            "for" if words.iter().any(|x| x == "update" || x == "share") => {
                return Some("it locks rows (FOR UPDATE/SHARE)");
            }
            "insert" | "update" | "delete" | "merge" => return Some("it modifies data"),
            _ => {}
        }
    }
    None
}

// ---- Table sinks ----

/// How a sink maps records onto its table's columns. As a setting, the
/// `postgres` and `mysql` form: `auto_map` or `{jsonb: {column: name}}`
/// (`json` is accepted as a synonym); `sqlite` has its own.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnMapping {
    /// `auto_map`: record keys are columns.
    AutoMap,
    /// The whole record as JSON in one column.
    Json(String),
}

impl ColumnMapping {
    /// The `postgres` and `mysql` sinks' default: each record in the jsonb column `data`.
    pub fn jsonb_data() -> Self {
        ColumnMapping::Json("data".to_owned())
    }

    /// The runtime's `ColumnMapping`.
    pub(crate) fn emit_value(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        let mapping = quote!(#rt::config::sql::ColumnMapping);
        match self {
            ColumnMapping::AutoMap => quote!(#mapping::AutoMap),
            ColumnMapping::Json(column) => {
                let column = string(column);
                quote!(#mapping::Json { column: #column })
            }
        }
    }
}

settings! {
    /// The column that stores each record.
    pub struct JsonColumn("column_mapping.column") {
        /// The column.
        column: Name<PgNames>,
    }
}

settings! {
    /// Store each record in one jsonb column.
    pub struct JsonbMapping("column_mapping.jsonb") {
        /// The jsonb column.
        jsonb: Option<Nested<JsonColumn>>,
        /// A synonym of `jsonb`.
        json: Option<Nested<JsonColumn>>,
    }
}

impl Setting for ColumnMapping {
    const KIND: Kind = Kind::AnyOf(&[Kind::OneOf(&["auto_map"]), Kind::Object(&JsonbMapping::SPEC)]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match &node.value {
            Value::Str(_) => {
                crate::read::one_of(node, key, &["auto_map"], diags).map(|_| ColumnMapping::AutoMap)
            }
            // Read by hand, not through `JsonbMapping`: one of the two keys, named in messages.
            Value::Map(entries)
                if entries.len() == 1 && (entries[0].key == "jsonb" || entries[0].key == "json") =>
            {
                let what = format!("`column_mapping.{}`", entries[0].key);
                let column = JsonColumn::from_config(&entries[0].value, what, diags)?;
                Some(ColumnMapping::Json(column.column.0))
            }
            _ => {
                diags.error_help(
                    &node.loc,
                    "`column_mapping` must be `auto_map` or `{ jsonb: { column: … } }`",
                    "write `column_mapping: auto_map` or `column_mapping: { jsonb: { column: data } }`",
                );
                None
            }
        }
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        self.emit_value(g)
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            ColumnMapping::AutoMap => "auto_map".into(),
            ColumnMapping::Json(column) => serde_json::json!({ "jsonb": { "column": column } }),
        }
    }
}

choice! {
    /// What a batch does to the table.
    pub enum WriteMode => config::sql::WriteMode {
        /// Insert every record.
        Append = "append",
        /// Insert or update by `key`.
        Upsert = "upsert",
        /// Delete the row of every record's `key`.
        Delete = "delete",
    }
}

/// `write_mode`: faucet-stream's fourth mode, `overwrite`, is refused with a
/// message of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode(pub WriteMode);

impl From<WriteMode> for Mode {
    fn from(mode: WriteMode) -> Self {
        Mode(mode)
    }
}

impl Setting for Mode {
    const KIND: Kind = <WriteMode as Setting>::KIND;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        if matches!(&node.value, Value::Str(s) if s == "overwrite") {
            diags.error_help(
                &node.loc,
                "`write_mode: overwrite` is not supported by faucet yet (database sinks)",
                "use `append`, `upsert` or `delete`",
            );
            return None;
        }
        WriteMode::read(node, key, diags).map(Mode)
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        self.0.emit(g)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

choice! {
    /// What `auto_map` does with a record key that names no column.
    pub enum UnmappedFields => config::sql::UnmappedFields {
        /// Dead-letter the record, naming the key.
        Dlq = "dlq",
        /// Add the column.
        AddColumn = "add_column",
        /// Write the record without the key.
        Drop = "drop",
    }
}

impl UnmappedFields {
    /// The default: `add_column` with `create_table`, `dlq` without.
    pub fn default_for(create_table: bool) -> Self {
        if create_table { UnmappedFields::AddColumn } else { UnmappedFields::Dlq }
    }
}

choice! {
    /// How the `postgres` sink's appends reach the server.
    pub enum WriteMethod => config::sql::WriteMethod {
        /// `COPY … FROM STDIN`.
        Copy = "copy",
        /// Multi-row `INSERT` statements.
        Insert = "insert",
    }
}

/// A choice whose default follows other keys (`unmapped_fields` follows
/// `create_table`, `write_method` follows `write_mode`): absent, the
/// connector's `read` gives it its default with [`Dependent::settle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependent<T>(Option<T>);

impl<T> Dependent<T> {
    /// Gives an absent value its default.
    pub fn settle(&mut self, default: T) {
        self.0.get_or_insert(default);
    }

    /// The value, once settled.
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

impl<T: Setting> Setting for Dependent<T> {
    const KIND: Kind = T::KIND;
    const REQUIRED: bool = false;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        T::read(node, key, diags).map(|v| Dependent(Some(v)))
    }

    fn absent() -> Option<Self> {
        Some(Dependent(None))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        match &self.0 {
            Some(v) => v.emit(g),
            None => unreachable!("a dependent default is settled when the config is read"),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.as_ref().map_or(serde_json::Value::Null, T::to_json)
    }
}

settings! {
    /// `shard: {key}` of a SQL source: the column a sharded run (the top
    /// level's `shard: {count}`) splits the rows by.
    pub struct ShardKey<N: Names>("source.sql.shard") {
        /// An integer column of the query or table. Each shard reads a range
        /// of it; the last one also the rows where it is NULL.
        key: Name<N>,
    }
}

impl<N: Names> ShardKey<N> {
    /// `.with_shard_key("id")` after the source's constructor, when the key is set.
    pub(crate) fn emit_on(key: &Option<Nested<ShardKey<N>>>, source: TokenStream) -> TokenStream {
        match key {
            Some(Nested(shard)) => {
                let key = &shard.key.0;
                quote::quote!(#source.with_shard_key(#key))
            }
            None => source,
        }
    }
}

settings! {
    /// Records whose `field` holds one of `values` delete their row.
    pub struct DeleteMarker("delete_marker") => sql::DeleteMarker {
        /// The record field.
        field: String,
        /// The values that mark a delete.
        values: Scalars,
    }
}

/// `delete_marker: {field, values}`, with at least one value.
impl Setting for DeleteMarker {
    const KIND: Kind = Kind::Object(&DeleteMarker::SPEC);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let mut f = Fields::with_spec(node, &DeleteMarker::SPEC, format!("`{key}`"), diags)?;
        let marker = DeleteMarker::read(&mut f, diags);
        let values = f.get("values");
        f.finish(diags);
        if matches!(values.map(|v| &v.value), Some(Value::Seq(items)) if items.is_empty()) {
            diags.error(&node.loc, format!("`{key}.values` is empty, so no record would ever delete"));
            return None;
        }
        marker
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        self.config(g)
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

settings! {
    /// What a table sink's batches do to its table: the keys the `postgres`,
    /// `mysql` and `sqlite` sinks share, key columns checked by `N`'s rule.
    pub struct TableWrite<N: Names>("sink.sql.table_write") => sql::TableWrite {
        /// Create the table from the first batch.
        create_table: bool = false,
        /// A record key with no column (auto_map): `dlq` the record (default),
        /// `add_column` (default with `create_table`), or `drop` the key. When
        /// the build knows the table and the records' fields, a field with no
        /// column is a build error unless this is `drop` or `add_column`.
        unmapped_fields: Dependent<UnmappedFields>,
        /// Rows per write. `0`: each page in one write, as it comes.
        batch_size: BatchSize = 1000,
        /// How records change the table.
        write_mode: Mode = WriteMode::Append,
        /// Key columns (upsert and delete).
        key: KeyColumns<N>,
        /// Deletes among upserts (`write_mode: upsert`).
        delete_marker: Option<DeleteMarker>,
        /// Not a key: the typed columns `create_table` makes (see [`SchemaColumns`]).
        columns: SchemaColumns,
    }
}

impl<N: Names> TableWrite<N> {
    /// Gives `unmapped_fields` its default, which follows `create_table`, and
    /// says whether the table is made from the records' schema (`create_table`
    /// with `auto_map`, the column mapping `auto_map` says).
    pub fn settle(&mut self, auto_map: bool) {
        self.unmapped_fields.settle(UnmappedFields::default_for(self.create_table));
        self.columns.from_schema = self.create_table && auto_map;
    }
}

/// The columns a table sink creates its table with: the fields of the records
/// it receives, when the pipeline's output schema is known at build time
/// (`Some(SCHEMA.fields)`, the generated module's constant, which
/// `Gen::sink_schema` names); `None` otherwise, and then the runtime types
/// each column from the first batch. Not a config key: it takes none, and
/// lays out no key in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchemaColumns {
    /// Whether the sink creates an `auto_map` table (set by [`TableWrite::settle`]).
    pub from_schema: bool,
}

/// The keys of [`SchemaColumns`]: none.
const NO_KEYS: crate::spec::Spec =
    crate::spec::Spec { name: "sink.sql.schema_columns", doc: "", fields: &[], variants: &[] };

impl Part for SchemaColumns {
    const KIND: Kind = Kind::Flatten(&NO_KEYS);
    const REQUIRED: bool = false;

    fn read_part(_: &mut Fields<'_>, _: &'static str, _: &mut Diagnostics) -> Option<Self> {
        Some(SchemaColumns::default())
    }

    fn emit_part(&self, g: &Gen) -> TokenStream {
        match g.sink_schema() {
            Some(schema) if self.from_schema => quote!(Some(#schema.fields)),
            _ => quote!(None),
        }
    }
}

/// Reports `unmapped_fields` written beside a JSON column mapping
/// (`json_mapping`; `None` when the mapping is invalid): such a mapping
/// stores the whole record in one column, so no key lacks a column.
/// Returns whether the keys agree.
pub(crate) fn check_unmapped(config: &Node, json_mapping: Option<bool>, diags: &mut Diagnostics) -> bool {
    let (Some(json_mapping), Some(_)) = (json_mapping, alone::<bool>(config, "create_table")) else {
        return true;
    };
    match (value(config, "unmapped_fields"), alone::<UnmappedFields>(config, "unmapped_fields")) {
        (Some(node), Some(Some(_))) if json_mapping => {
            diags.error_help(
                &node.loc,
                "`unmapped_fields` needs `column_mapping: auto_map`",
                "a JSON column mapping stores the whole record in one column, so no key lacks a column; remove `unmapped_fields`",
            );
            false
        }
        _ => true,
    }
}

/// Why a `postgres` or `mysql` sink's JSON column mapping only appends.
const JSONB_MAPPING_APPENDS: &str = "the key columns must be columns of the table; the default mapping stores each record in one jsonb column";

/// Finishes reading a `postgres` or `mysql` sink's config (`f`, its declared
/// keys read) with the checks that its keys agree; `copy`: it has
/// `write_method`. Returns whether they agree.
pub(crate) fn finish_server_sink(f: Fields<'_>, config: &Node, copy: bool, diags: &mut Diagnostics) -> bool {
    let json_mapping = alone::<ColumnMapping>(config, "column_mapping")
        .map(|m| m.unwrap_or_else(ColumnMapping::jsonb_data) != ColumnMapping::AutoMap);
    let unmapped = check_unmapped(config, json_mapping, diags);
    f.finish(diags);
    let writes = check_writes::<PgNames>(config, json_mapping, JSONB_MAPPING_APPENDS, copy, diags);
    unmapped && writes
}

/// Checks that a table sink's write keys agree, once its keys are read and
/// the unknown ones reported: `upsert` and `delete` need a `key`, `append`
/// takes none, `delete_marker` needs `upsert`, `write_method: copy` (read
/// when `copy`) only appends, and a JSON column mapping (`json_mapping`,
/// `None` when invalid) only appends (`json_help` says why). Key columns are
/// checked by `N`. Returns whether the keys agree; a check whose keys are
/// invalid is skipped (they were reported).
pub(crate) fn check_writes<N: Names>(
    config: &Node,
    json_mapping: Option<bool>,
    json_help: &str,
    copy: bool,
    diags: &mut Diagnostics,
) -> bool {
    let method = if copy { alone::<WriteMethod>(config, "write_method") } else { Some(None) };
    let (Some(json_mapping), Some(method)) = (json_mapping, method) else { return false };
    let (Some(mode), Some(key), Some(_)) = (
        alone::<Mode>(config, "write_mode"),
        alone::<KeyColumns<N>>(config, "key"),
        alone::<DeleteMarker>(config, "delete_marker"),
    ) else {
        return false;
    };
    // Absent, the mode is `append` (the declared default), reported at the config.
    let mode = mode.map_or(WriteMode::Append, |m| m.0);
    let mode_loc = value(config, "write_mode").map_or(&config.loc, |n| &n.loc);
    let mut ok = true;
    if mode != WriteMode::Append && key.is_none() {
        diags.error_help(
            mode_loc,
            format!("`write_mode: {}` needs a `key`", mode.as_str()),
            "add `key: [id]`: the columns that identify a row (a primary key or unique index)",
        );
        ok = false;
    }
    if let Some(n) = value(config, "key")
        && mode == WriteMode::Append
    {
        diags.error_help(
            &n.loc,
            "`key` has no effect with `write_mode: append`",
            "use `write_mode: upsert` (or `delete`), or remove `key`",
        );
        ok = false;
    }
    if let Some(n) = value(config, "delete_marker")
        && mode != WriteMode::Upsert
    {
        diags.error_help(
            &n.loc,
            format!("`delete_marker` needs `write_mode: upsert`, but the mode is `{}`", mode.as_str()),
            "with `upsert`, marked records delete their row and the others are upserted",
        );
        ok = false;
    }
    if method == Some(WriteMethod::Copy)
        && mode != WriteMode::Append
        && let Some(n) = value(config, "write_method")
    {
        diags.error_help(
            &n.loc,
            format!("`write_method: copy` only appends, but the mode is `{}`", mode.as_str()),
            "remove `write_method` (upserts and deletes use INSERT/DELETE statements)",
        );
        ok = false;
    }
    if json_mapping && mode != WriteMode::Append {
        diags.error_help(
            mode_loc,
            format!("`write_mode: {}` needs `column_mapping: auto_map`", mode.as_str()),
            json_help,
        );
        ok = false;
    }
    ok
}

// ---- Reading keys on their own ----

/// The entry of `key` in the map `config`, unless absent or null.
fn entry<'a>(config: &'a Node, key: &str) -> Option<&'a Entry> {
    match &config.value {
        Value::Map(entries) => {
            entries.iter().find(|e| e.key == key).filter(|e| !matches!(e.value.value, Value::Null))
        }
        _ => None,
    }
}

/// The value of `key` in the map `config`, unless absent or null.
fn value<'a>(config: &'a Node, key: &str) -> Option<&'a Node> {
    entry(config, key).map(|e| &e.value)
}

#[cfg(test)]
mod tests {
    use super::unfilterable;

    #[test]
    fn which_queries_a_replication_key_can_filter() {
        assert_eq!(unfilterable("SELECT * FROM t WHERE a = $1 ORDER BY b;"), None);
        assert_eq!(unfilterable("with x as (select * from t limit 5) select * from x"), None);
        assert_eq!(unfilterable("SELECT 'limit' AS \"offset\" -- limit\n FROM t"), None);
        assert!(unfilterable("SELECT * FROM t LIMIT 10").unwrap().contains("LIMIT"));
        assert!(unfilterable("select 1; select 2").unwrap().contains("more than one"));
        assert!(unfilterable("SHOW search_path").unwrap().contains("not a SELECT"));
        assert!(unfilterable("SELECT * FROM t FOR UPDATE").unwrap().contains("locks"));
    }
}
