//! `postgres`: a query or table read through a cursor; a sink that appends
//! (COPY), upserts or deletes by key, one transaction per batch.

use proc_macro2::TokenStream;
use quote::quote;

use super::common::{BATCH_SIZE, opt};
use super::write_mode;
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, int_lit as usize_lit};
use crate::load::{Node, Value};
use crate::read::{Fields, batch_size, boolean, env_reference, int_in, one_of, plain_string, text};
use crate::spec::{Field, Kind, Spec};
use crate::text::Text;

const MAX_CONNECTIONS: Field = Field::opt(
    "max_connections",
    Kind::Int(1, 1000),
    "Accepted for faucet-stream compatibility; one connection is used.",
);
const SCALARS: Kind = Kind::List(&Kind::Json);

/// The keys of a query-or-table source (`postgres`, `mysql`).
pub(crate) const QUERY_SOURCE_FIELDS: [Field; 9] = [
    Field::req("connection_url", Kind::Text, "The database URL; read the password from `${env:…}`."),
    Field::opt("query", Kind::Str, "A SELECT to read (or `table`)."),
    Field::opt("table", Kind::Str, "A table to read (or `query`)."),
    Field::opt("schema", Kind::Str, "The table's schema (with `table`)."),
    Field::opt("params", SCALARS, "Values bound to the query's parameters."),
    Field::opt("replication_key", Kind::Str, "A growing column: each run reads rows past the last bookmark."),
    BATCH_SIZE,
    MAX_CONNECTIONS,
    Field::not_yet("shard"),
];

/// The `postgres` source config.
pub(crate) const SOURCE: Spec = Spec {
    name: "source.postgres",
    doc: "A PostgreSQL query or table, read through a cursor in one snapshot.",
    fields: &QUERY_SOURCE_FIELDS,
    variants: &[],
};

/// `{jsonb: {column}}`: the whole record in one column.
const JSON_COLUMN: Spec = Spec {
    name: "column_mapping.column",
    doc: "The column that stores each record.",
    fields: &[Field::req("column", Kind::Str, "The column.")],
    variants: &[],
};

/// `column_mapping` as a map (checked by hand, so only its shape is declared).
pub(crate) const JSONB_MAPPING: Spec = Spec {
    name: "column_mapping.jsonb",
    doc: "Store each record in one jsonb column.",
    fields: &[
        Field::opt("jsonb", Kind::Object(&JSON_COLUMN), "The jsonb column."),
        Field::opt("json", Kind::Object(&JSON_COLUMN), "A synonym of `jsonb`."),
    ],
    variants: &[],
};

/// `delete_marker: {field, values}` (the database sinks' `write_mode`).
pub(crate) const DELETE_MARKER: Spec = Spec {
    name: "delete_marker",
    doc: "Records whose `field` holds one of `values` delete their row.",
    fields: &[
        Field::req("field", Kind::Str, "The record field."),
        Field::req("values", SCALARS, "The values that mark a delete."),
    ],
    variants: &[],
};

/// The keys of a table sink (`postgres` adds `write_method`).
macro_rules! table_sink_fields {
    ($($extra:expr),*) => {
        [
            Field::req("connection_url", Kind::Text, "The database URL; read the password from `${env:…}`."),
            Field::req("table_name", Kind::Str, "The target table."),
            Field::opt("schema", Kind::Str, "The target schema (MySQL: database)."),
            Field::opt(
                "column_mapping",
                Kind::AnyOf(&[Kind::OneOf(&["auto_map"]), Kind::Object(&JSONB_MAPPING)]),
                "`auto_map` (record keys are columns) or `{jsonb: {column: data}}`.",
            )
            .default("{\"jsonb\":{\"column\":\"data\"}}"),
            Field::opt("create_table", Kind::Bool, "Create the table from the first batch.").default("false"),
            write_mode::UNMAPPED_FIELDS,
            BATCH_SIZE,
            Field::opt("write_mode", Kind::OneOf(&["append", "upsert", "delete"]), "How records change the table.")
                .default("\"append\""),
            Field::opt("key", Kind::AnyOf(&[Kind::Str, Kind::List(&Kind::Str)]), "Key columns (upsert and delete)."),
            Field::opt("delete_marker", Kind::Object(&DELETE_MARKER), "Deletes among upserts (`write_mode: upsert`)."),
            $($extra,)*
            MAX_CONNECTIONS,
            Field::not_yet("scope"),
        ]
    };
}

/// The `postgres` sink config.
pub(crate) const SINK: Spec = Spec {
    name: "sink.postgres",
    doc: "A PostgreSQL table: COPY appends, upserts or deletes by key, one transaction per batch.",
    fields: &table_sink_fields!(Field::opt(
        "write_method",
        Kind::OneOf(&["copy", "insert"]),
        "`copy` (append only, the default there) or multi-row `insert`."
    )),
    variants: &[],
};

/// The `mysql` sink config: the `postgres` keys without `write_method`.
pub(crate) const MYSQL_SINK: Spec = Spec {
    name: "sink.mysql",
    doc: "A MySQL or MariaDB table: appends, upserts or deletes by key, one transaction per batch.",
    fields: &table_sink_fields!(),
    variants: &[],
};

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

/// What the source reads.
#[derive(Debug, Clone)]
pub enum Input {
    /// `query` with `params`.
    Query {
        /// The SQL.
        sql: String,
        /// Bound as `$1…`.
        params: Vec<Scalar>,
    },
    /// `table` (and `schema`); either may read `${env:…}`, checked at run time.
    Table {
        /// The schema.
        schema: Option<Text>,
        /// The table.
        name: Text,
    },
}

/// `postgres` source settings.
#[derive(Debug, Clone)]
pub struct PostgresSource {
    /// `postgres://…`.
    pub connection_url: Text,
    /// Query or table.
    pub input: Input,
    /// Incremental column.
    pub replication_key: Option<String>,
    /// Rows per page.
    pub batch_size: u64,
}

/// `postgres` sink settings.
#[derive(Debug, Clone)]
pub struct PostgresSink {
    /// `postgres://…`.
    pub connection_url: Text,
    /// Target schema (may read `${env:…}`, checked at run time).
    pub schema: Option<Text>,
    /// Target table (may read `${env:…}`, checked at run time).
    pub table_name: Text,
    /// `None` = auto_map; `Some(column)` = the whole record in a jsonb column.
    pub jsonb_column: Option<String>,
    /// Create the table from the first batch.
    pub create_table: bool,
    /// `dlq`, `add_column` or `drop`: a record key with no column (auto_map).
    pub unmapped_fields: &'static str,
    /// Rows per transaction.
    pub batch_size: u64,
    /// `append`, `upsert` or `delete`.
    pub write_mode: &'static str,
    /// Key columns.
    pub key: Vec<String>,
    /// `delete_marker`: field and values.
    pub delete_marker: Option<(String, Vec<Scalar>)>,
    /// `copy` or `insert`.
    pub write_method: &'static str,
}

/// Longest PostgreSQL identifier (NAMEDATALEN - 1).
const MAX_IDENT: usize = 63;

/// A PostgreSQL identifier, taken as written (it is always quoted).
pub(crate) fn identifier(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<String> {
    let s = plain_string(node, key, diags)?;
    if s.is_empty() || s.contains('\0') || s.len() > MAX_IDENT {
        diags.error_help(
            &node.loc,
            format!("`{key}` must be a name of 1 to {MAX_IDENT} bytes without NUL"),
            "it is used as written (quoted), so case and spaces are kept",
        );
        return None;
    }
    Some(s)
}

/// A sink's table or schema name: a written name is checked now; one that
/// reads `${env:…}` is resolved when the pipeline is built at run time and
/// checked then by the same rule (1 to 63 bytes, no NUL).
fn run_time_identifier(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Text> {
    match &node.value {
        // `text` refuses a parent record's value here: records never choose where rows go.
        Value::Str(s) if env_reference(s).is_some() => text(node, key, diags),
        _ => identifier(node, key, diags).map(Text::literal),
    }
}

/// A connection URL: no credential may be written in it, and a literal is
/// parsed now and its scheme must be one of `schemes`.
pub(crate) fn db_url(
    node: &Node,
    key: &str,
    schemes: &[&str],
    example: &str,
    diags: &mut Diagnostics,
) -> Option<Text> {
    let t = text(node, key, diags)?;
    if !crate::secrets::check(node, &t, key, crate::secrets::Position::Url, diags) {
        return None;
    }
    if let Some(lit) = t.as_literal() {
        match url::Url::parse(&lit) {
            Err(e) => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` {lit:?} is not a valid URL: {e}"),
                    format!("write `{example}`"),
                );
                return None;
            }
            Ok(u) if !schemes.contains(&u.scheme()) => {
                diags.error_help(
                    &node.loc,
                    format!(
                        "`{key}` has scheme `{}`, but this connector needs {}",
                        u.scheme(),
                        crate::diag::list(schemes)
                    ),
                    format!("write `{example}`"),
                );
                return None;
            }
            Ok(_) => {}
        }
    }
    Some(t)
}

fn scalar(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Scalar> {
    Some(match &node.value {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Int(i) => Scalar::Int(*i),
        Value::Float(f) if f.is_finite() => Scalar::Float(*f),
        Value::Str(s) => match crate::read::parse_text(s) {
            Ok(t) => match t.as_literal() {
                Some(lit) => Scalar::Str(lit),
                None => {
                    diags.error_help(
                        &node.loc,
                        format!("`${{env:…}}` in `{key}` is not supported by faucet yet"),
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
            diags.error(&node.loc, format!("`{key}` values must be scalars, found {}", other.kind_name()));
            return None;
        }
    })
}

pub(crate) fn scalars(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<Vec<Scalar>> {
    let Value::Seq(items) = &node.value else {
        diags.error(&node.loc, format!("`{key}` must be a list, found {}", node.value.kind_name()));
        return None;
    };
    let all: Vec<Option<Scalar>> = items.iter().map(|n| scalar(n, key, diags)).collect();
    all.into_iter().collect()
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

pub(crate) fn source(config: &Node, what: String, diags: &mut Diagnostics) -> Option<PostgresSource> {
    query_source(
        config,
        &SOURCE,
        what,
        "postgres",
        &["postgres", "postgresql"],
        "postgres://user@host:5432/db",
        diags,
    )
}

/// A query-or-table source of a SQL server (`postgres`, `mysql`): the settings they share.
pub(crate) fn query_source(
    config: &Node,
    spec: &'static Spec,
    what: String,
    connector: &str,
    schemes: &[&str],
    example: &str,
    diags: &mut Diagnostics,
) -> Option<PostgresSource> {
    let mut f = Fields::with_spec(config, spec, what, diags)?;
    let url =
        f.require("connection_url", diags).and_then(|n| db_url(n, "connection_url", schemes, example, diags));
    let query = f.entry("query").filter(|e| !matches!(e.value.value, Value::Null));
    let table = f.entry("table").filter(|e| !matches!(e.value.value, Value::Null));
    let schema = f.get("schema");
    let params = f.get("params");
    let replication_key = f.get("replication_key").map(|n| identifier(n, "replication_key", diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    if let Some(n) = f.get("max_connections") {
        // Accepted for faucet-stream compatibility: the source reads through one connection.
        int_in(n, "max_connections", 1, 1000, diags);
    }
    let loc = config.loc.clone();
    f.finish(diags);
    let input = match (query, table) {
        (Some(q), Some(t)) => {
            diags.error_help(
                &t.key_loc,
                "`query` and `table` are both set",
                "keep one: `table` reads a whole table, `query` any SELECT",
            );
            let _ = q;
            None
        }
        (None, None) => {
            diags.error_help(
                &loc,
                format!("the `{connector}` source needs `query` or `table`"),
                "add `table: orders` or `query: \"SELECT …\"`",
            );
            None
        }
        (Some(q), None) => {
            if let Some(s) = schema {
                diags.error_help(
                    &s.loc,
                    "`schema` applies to `table`, not to `query`",
                    "qualify the table inside the query instead",
                );
            }
            let sql = plain_string(&q.value, "query", diags).filter(|s| {
                let empty = s.trim().trim_end_matches(';').trim().is_empty();
                if empty {
                    diags.error(&q.value.loc, "`query` is empty");
                }
                !empty
            });
            let params = match params {
                Some(p) => scalars(p, "params", diags),
                None => Some(Vec::new()),
            };
            let keyed = matches!(replication_key, Some(Some(_)));
            if let Some(sql) = &sql
                && let Some(why) = unfilterable(sql)
            {
                // The query is read as a subquery: it must be one SELECT, and
                // with a key it must not limit rows before the key's filter.
                let whole =
                    why.starts_with("it is not") || why.contains("more than one") || why.contains("modifies");
                if whole {
                    diags.error_help(
                        &q.value.loc,
                        format!("`query` must be a single SELECT, but {why}"),
                        "the source reads `SELECT … FROM (query) AS q`",
                    );
                } else if keyed {
                    diags.error_help(
                        &q.value.loc,
                        format!("`replication_key` needs a query it can filter, but {why}"),
                        "the source reads `SELECT … FROM (query) WHERE key > bookmark ORDER BY key`; drop LIMIT/OFFSET or use `table`",
                    );
                }
            }
            Some(Input::Query { sql: sql?, params: params? })
        }
        (None, Some(t)) => {
            if let Some(p) = params {
                diags.error_help(&p.loc, "`params` apply to `query`, not to `table`", "remove `params`");
            }
            let name = run_time_identifier(&t.value, "table", diags);
            let schema = match schema {
                Some(s) => run_time_identifier(s, "schema", diags).map(Some),
                None => Some(None),
            };
            Some(Input::Table { schema: schema?, name: name? })
        }
    };
    Some(PostgresSource {
        connection_url: url?,
        input: input?,
        replication_key: match replication_key {
            Some(k) => Some(k?),
            None => None,
        },
        batch_size: batch?,
    })
}

pub(crate) fn sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<PostgresSink> {
    table_sink(config, &SINK, what, true, &["postgres", "postgresql"], "postgres://user@host:5432/db", diags)
}

/// A table sink of a SQL server (`postgres`, `mysql`): the settings they share;
/// `write_method` (COPY) exists only where `copy` is true.
pub(crate) fn table_sink(
    config: &Node,
    spec: &'static Spec,
    what: String,
    copy: bool,
    schemes: &[&str],
    example: &str,
    diags: &mut Diagnostics,
) -> Option<PostgresSink> {
    let mut f = Fields::with_spec(config, spec, what, diags)?;
    let url =
        f.require("connection_url", diags).and_then(|n| db_url(n, "connection_url", schemes, example, diags));
    let table = f.require("table_name", diags).and_then(|n| run_time_identifier(n, "table_name", diags));
    let schema = match f.get("schema") {
        Some(n) => run_time_identifier(n, "schema", diags).map(Some),
        None => Some(None),
    };
    let mapping = match f.get("column_mapping") {
        Some(n) => column_mapping(n, diags),
        None => Some(Some("data".to_owned())),
    };
    let create_table = opt(f.get("create_table"), false, |n| boolean(n, "create_table", diags));
    let unmapped_node = f.get("unmapped_fields");
    let unmapped = match (&mapping, create_table) {
        (Some(mapping), Some(create)) => {
            write_mode::unmapped_fields(unmapped_node, create, mapping.is_some(), diags)
        }
        _ => None,
    };
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    let keyed = write_mode::read(&mut f, identifier, diags);
    let method_node = if copy { f.get("write_method") } else { None };
    let method = match method_node {
        Some(n) => one_of(n, "write_method", &["copy", "insert"], diags).map(Some),
        None => Some(None),
    };
    if let Some(n) = f.get("max_connections") {
        // Accepted for faucet-stream compatibility: the sink writes through one connection.
        int_in(n, "max_connections", 1, 1000, diags);
    }
    let loc = config.loc.clone();
    f.finish(diags);

    let (mapping, method) = (mapping?, method?);
    let (keyed, mut ok) = keyed.check(&loc, diags)?;
    let mode = keyed.mode;
    if method == Some("copy") && mode != "append" {
        diags.error_help(
            &method_node.expect("method is set").loc,
            format!("`write_method: copy` only appends, but the mode is `{mode}`"),
            "remove `write_method` (upserts and deletes use INSERT/DELETE statements)",
        );
        ok = false;
    }
    if mapping.is_some() && mode != "append" {
        diags.error_help(
            &keyed.mode_loc,
            format!("`write_mode: {mode}` needs `column_mapping: auto_map`"),
            "the key columns must be columns of the table; the default mapping stores each record in one jsonb column",
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    let method = method.unwrap_or(if mode == "append" && copy { "copy" } else { "insert" });
    Some(PostgresSink {
        connection_url: url?,
        schema: schema?,
        table_name: table?,
        jsonb_column: mapping,
        create_table: create_table?,
        unmapped_fields: unmapped?,
        batch_size: batch?,
        write_mode: mode,
        key: keyed.key,
        delete_marker: keyed.delete_marker,
        write_method: method,
    })
}

/// `auto_map` or `{jsonb: {column: name}}` (`json` is accepted as a synonym).
fn column_mapping(node: &Node, diags: &mut Diagnostics) -> Option<Option<String>> {
    match &node.value {
        Value::Str(_) => one_of(node, "column_mapping", &["auto_map"], diags).map(|_| None),
        Value::Map(entries)
            if entries.len() == 1 && (entries[0].key == "jsonb" || entries[0].key == "json") =>
        {
            let inner = &entries[0].value;
            let mut j = Fields::with_spec(
                inner,
                &JSON_COLUMN,
                format!("`column_mapping.{}`", entries[0].key),
                diags,
            )?;
            let column = j.require("column", diags).and_then(|n| identifier(n, "column", diags));
            j.finish(diags);
            Some(Some(column?))
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

pub(crate) fn scalar_tokens(s: &Scalar, g: &Gen) -> TokenStream {
    let rt = g.rt();
    let json = quote!(#rt::serde_json::Value);
    match s {
        Scalar::Null => quote!(#json::Null),
        Scalar::Bool(b) => quote!(#json::Bool(#b)),
        Scalar::Int(i) => quote!(#json::from(#i)),
        Scalar::Float(f) => quote!(#json::from(#f)),
        Scalar::Str(s) => quote!(#json::String(::std::string::String::from(#s))),
    }
}

/// An optional config string, resolved at run time.
pub(crate) fn opt_text(t: &Option<Text>, g: &Gen) -> TokenStream {
    match t {
        Some(t) => {
            let t = g.text(t);
            quote!(::core::option::Option::Some(#t))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn opt_string(s: &Option<String>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(::std::string::String::from(#s))),
        None => quote!(::core::option::Option::None),
    }
}

impl PostgresSource {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let pg = quote!(#rt::connectors::postgres);
        let url = g.text(&self.connection_url);
        let input = match &self.input {
            Input::Query { sql, params } => {
                let params = params.iter().map(|p| scalar_tokens(p, g));
                quote!(#pg::SourceInput::Query { sql: ::std::string::String::from(#sql), params: ::std::vec![#(#params),*] })
            }
            Input::Table { schema, name } => {
                let schema = opt_text(schema, g);
                let name = g.text(name);
                quote!(#pg::SourceInput::Table { schema: #schema, name: #name })
            }
        };
        let key = opt_string(&self.replication_key);
        let batch = usize_lit(self.batch_size);
        g.gated_whole(
            "postgres",
            "`postgres` source",
            loc,
            quote! {
                #pg::PostgresSource::new(#pg::PostgresSourceConfig {
                    connection_url: #url,
                    input: #input,
                    replication_key: #key,
                    batch_size: #batch,
                })
            },
        )
    }
}

impl PostgresSink {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let pg = quote!(#rt::connectors::postgres);
        let url = g.text(&self.connection_url);
        let schema = opt_text(&self.schema, g);
        let table = g.text(&self.table_name);
        let mapping = match &self.jsonb_column {
            Some(c) => quote!(#pg::ColumnMapping::Jsonb { column: ::std::string::String::from(#c) }),
            None => quote!(#pg::ColumnMapping::AutoMap),
        };
        let create_table = self.create_table;
        let unmapped = write_mode::unmapped_tokens(self.unmapped_fields, g);
        let batch = usize_lit(self.batch_size);
        let (mode, key, marker) =
            write_mode::tokens(self.write_mode, &self.key, self.delete_marker.as_ref(), g);
        let method = match self.write_method {
            "copy" => quote!(#pg::WriteMethod::Copy),
            _ => quote!(#pg::WriteMethod::Insert),
        };
        g.gated_whole(
            "postgres",
            "`postgres` sink",
            loc,
            quote! {
                #pg::PostgresSink::new(#pg::PostgresSinkConfig {
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
                    write_method: #method,
                })
            },
        )
    }
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

// Transitional: this connector's settings are not declared with `settings!` yet.

impl super::registry::Connector for PostgresSource {
    const SPEC: Spec = SOURCE;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        source(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}

impl super::registry::Connector for PostgresSink {
    const SPEC: Spec = SINK;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        sink(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}
