//! `sqlite`: rows appended, upserted or deleted by key in a SQLite table
//! through sqlx, one transaction per batch.

use proc_macro2::TokenStream;
use quote::quote;

use super::common::{BATCH_SIZE, opt};
use super::postgres::{DELETE_MARKER, Scalar};
use super::write_mode;
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, int_lit as usize_lit};
use crate::load::{Node, Value};
use crate::read::{Fields, batch_size, boolean, one_of, plain_string, text_in};
use crate::spec::{Field, Kind, Spec};
use crate::text::{Encode, Text};

const JSON_COLUMN: Spec = Spec {
    name: "sqlite.column_mapping.column",
    doc: "The column that stores each record as JSON text.",
    fields: &[Field::req("column", Kind::Str, "The column.")],
    variants: &[],
};

const JSON_MAPPING: Spec = Spec {
    name: "sqlite.column_mapping",
    doc: "Store each record in one JSON text column.",
    fields: &[Field::req("json", Kind::Object(&JSON_COLUMN), "The JSON column.")],
    variants: &[],
};

/// The `sqlite` sink config.
pub(crate) const SINK: Spec = Spec {
    name: "sink.sqlite",
    doc: "A SQLite table: appends, upserts or deletes by key, one transaction per batch.",
    fields: &[
        Field::req("database_url", Kind::Text, "`sqlite://path/to/file.db` (created if missing)."),
        Field::req("table_name", Kind::Str, "The target table."),
        Field::req(
            "column_mapping",
            Kind::AnyOf(&[Kind::OneOf(&["auto_map"]), Kind::Object(&JSON_MAPPING)]),
            "`auto_map` (record keys are columns) or `{json: {column: data}}`.",
        ),
        Field::opt("create_table", Kind::Bool, "Create the table from the first batch.").default("false"),
        write_mode::UNMAPPED_FIELDS,
        BATCH_SIZE,
        Field::opt(
            "write_mode",
            Kind::OneOf(&["append", "upsert", "delete"]),
            "How records change the table.",
        )
        .default("\"append\""),
        Field::opt(
            "key",
            Kind::AnyOf(&[Kind::Str, Kind::List(&Kind::Str)]),
            "Key columns (upsert and delete).",
        ),
        Field::opt(
            "delete_marker",
            Kind::Object(&DELETE_MARKER),
            "Deletes among upserts (`write_mode: upsert`).",
        ),
        Field::not_yet("max_connections"),
    ],
    variants: &[],
};

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
    /// `dlq`, `add_column` or `drop`: a record key with no column (auto_map).
    pub unmapped_fields: &'static str,
    /// Rows per transaction.
    pub batch_size: u64,
    /// `append`, `upsert` or `delete`.
    pub write_mode: &'static str,
    /// Key columns (upsert and delete).
    pub key: Vec<String>,
    /// `delete_marker`: field and values (upsert).
    pub delete_marker: Option<(String, Vec<Scalar>)>,
}

pub(crate) fn sink(config: &Node, what: String, diags: &mut Diagnostics) -> Option<SqliteSink> {
    let mut f = Fields::with_spec(config, &SINK, what, diags)?;
    let url = f.require("database_url", diags).and_then(|n| sqlite_url(n, diags));
    let table = f.require("table_name", diags).and_then(|n| identifier(n, "table_name", diags));
    let mapping = f.require("column_mapping", diags).and_then(|n| column_mapping(n, diags));
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
    let loc = config.loc.clone();
    f.finish(diags);
    let mapping = mapping?;
    let (keyed, mut ok) = keyed.check(&loc, diags)?;
    if mapping.is_some() && keyed.mode != "append" {
        diags.error_help(
            &keyed.mode_loc,
            format!("`write_mode: {}` needs `column_mapping: auto_map`", keyed.mode),
            "the key columns must be columns of the table, not fields inside one JSON column",
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    Some(SqliteSink {
        database_url: url?,
        table_name: table?,
        json_column: mapping,
        create_table: create_table?,
        unmapped_fields: unmapped?,
        batch_size: batch?,
        write_mode: keyed.mode,
        key: keyed.key,
        delete_marker: keyed.delete_marker,
    })
}

impl SqliteSink {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let sqlite = quote!(#rt::connectors::sqlite);
        let url = g.text(&self.database_url);
        let table_name = &self.table_name;
        let mapping = match &self.json_column {
            Some(column) => {
                quote!(#sqlite::ColumnMapping::Json { column: ::std::string::String::from(#column) })
            }
            None => quote!(#sqlite::ColumnMapping::AutoMap),
        };
        let create_table = self.create_table;
        let unmapped = write_mode::unmapped_tokens(self.unmapped_fields, g);
        let batch = usize_lit(self.batch_size);
        let (mode, key, marker) =
            write_mode::tokens(self.write_mode, &self.key, self.delete_marker.as_ref(), g);
        g.gated_whole(
            "sqlite",
            "`sqlite` sink",
            loc,
            quote! {
                #sqlite::SqliteSink::new(#sqlite::SqliteSinkConfig {
                    database_url: #url,
                    table_name: ::std::string::String::from(#table_name),
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

/// A `sqlite:` URL (`sqlite://file.db`, `sqlite:file.db`, `sqlite::memory:`).
fn sqlite_url(node: &Node, diags: &mut Diagnostics) -> Option<Text> {
    let t = text_in(node, "database_url", Encode::FileUrlSegment, diags)?;
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
            let mut f = Fields::with_spec(node, &JSON_MAPPING, "`column_mapping`", diags)?;
            let json = f.require("json", diags);
            f.finish(diags);
            let mut j = Fields::with_spec(json?, &JSON_COLUMN, "`column_mapping.json`", diags)?;
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

// Transitional: this connector's settings are not declared with `settings!` yet.

impl super::registry::Connector for SqliteSink {
    const SPEC: Spec = SINK;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        sink(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}
