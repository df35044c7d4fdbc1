//! `postgres_cdc` (faucet-stream's `postgres-cdc`): row changes from a
//! pgoutput logical replication slot, read with the SQL slot functions.

use proc_macro2::TokenStream;
use quote::quote;

use super::common::opt;
use super::kafka::seconds;
use super::postgres::{db_url, identifier};
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, int_lit as usize_lit};
use crate::load::{Node, Value};
use crate::read::{Fields, batch_size, boolean, int_in, one_of, plain_string, text};
use crate::spec::{Field, Kind, Spec};
use crate::text::Text;

/// The `postgres_cdc` source config.
pub(crate) const SOURCE: Spec = Spec {
    name: "source.postgres_cdc",
    doc: "Row changes of a publication's tables, from a pgoutput logical replication slot.",
    fields: &[
        Field::req(
            "connection_url",
            Kind::Text,
            "The database URL (a REPLICATION or superuser role); read the password from `${env:…}`.",
        ),
        Field::req(
            "slot_name",
            Kind::Text,
            "The replication slot: lowercase letters, digits and `_`, at most 63.",
        ),
        Field::req("publication_name", Kind::Str, "The publication whose tables are streamed."),
        Field::opt(
            "create_slot_if_missing",
            Kind::Bool,
            "Create the slot (and, with `tables`, the publication) when missing.",
        )
        .default("true"),
        Field::opt(
            "tables",
            Kind::List(&Kind::Str),
            "Only these tables (`name` in `public`, or `schema.name`).",
        ),
        Field::opt(
            "snapshot",
            Kind::Bool,
            "Read the published tables first, then stream (no gap, no duplicate).",
        )
        .default("false"),
        super::common::BATCH_SIZE,
        Field::opt(
            "idle_timeout",
            Kind::Number(0.001, 86400.0),
            "Seconds without a change that end the run.",
        ),
        Field::opt("max_messages", Kind::Int(1, i64::MAX), "Stop after this many records."),
        Field::opt(
            "poll_interval",
            Kind::Number(0.01, 3600.0),
            "Seconds between looks for new changes when caught up.",
        )
        .default("1"),
        Field::opt(
            "slot_acquire_retries",
            Kind::Int(0, 1000),
            "Retries, a second apart, while another session holds the slot.",
        )
        .default("10"),
        Field::opt(
            "slot_type",
            Kind::OneOf(&["permanent", "temporary"]),
            "Only `permanent`: a temporary slot dies with its connection.",
        )
        .default("\"permanent\""),
        Field::opt("proto_version", Kind::Int(1, 1), "pgoutput's protocol version: 1.").default("1"),
        Field::opt(
            "status_update_interval",
            Kind::Number(0.0, 86400.0),
            "Accepted for faucet-stream compatibility; unused (no streaming protocol).",
        ),
        Field::opt(
            "tcp_keepalive",
            Kind::Number(0.0, 86400.0),
            "Accepted for faucet-stream compatibility; unused.",
        ),
        Field::opt(
            "max_staged_records",
            Kind::Int(1, i64::MAX),
            "Accepted for faucet-stream compatibility; memory is bounded by `batch_size`.",
        ),
        Field::not_yet("tls"),
        Field::not_yet("start_lsn"),
    ],
    variants: &[],
};

/// `postgres_cdc` source settings.
#[derive(Debug, Clone)]
pub struct PostgresCdcSource {
    /// `postgres://…`.
    pub connection_url: Text,
    /// The slot (checked when literal).
    pub slot_name: Text,
    /// The publication.
    pub publication_name: String,
    /// Create the slot (and publication) when missing.
    pub create_slot_if_missing: bool,
    /// `(schema, table)` filter.
    pub tables: Vec<(String, String)>,
    /// Initial snapshot.
    pub snapshot: bool,
    /// Records per page.
    pub batch_size: u64,
    /// Idle end, in milliseconds.
    pub idle_timeout_ms: Option<u64>,
    /// Stop after this many records.
    pub max_messages: Option<u64>,
    /// Poll interval, in milliseconds.
    pub poll_interval_ms: u64,
    /// Retries while the slot is busy.
    pub slot_acquire_retries: u64,
}

/// A replication slot name: PostgreSQL accepts lowercase letters, digits and `_`, at most 63 bytes.
fn slot_name(node: &Node, diags: &mut Diagnostics) -> Option<Text> {
    let t = text(node, "slot_name", diags)?;
    if let Some(lit) = t.as_literal() {
        let bad = lit.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'));
        if lit.is_empty() || lit.len() > 63 || bad.is_some() {
            let why = match bad {
                Some(c) => format!("contains {c:?}"),
                None => format!("has {} characters", lit.len()),
            };
            diags.error_help(
                &node.loc,
                format!("invalid replication slot name {lit:?}: it {why}"),
                "slot names have 1 to 63 characters from lowercase letters, digits and `_`",
            );
            return None;
        }
    }
    Some(t)
}

/// `name` (schema `public`) or `schema.name`.
fn table(node: &Node, diags: &mut Diagnostics) -> Option<(String, String)> {
    let s = plain_string(node, "tables", diags)?;
    let (schema, name) = match s.split_once('.') {
        Some((schema, name)) => (schema.to_owned(), name.to_owned()),
        None => ("public".to_owned(), s.clone()),
    };
    let ok = |p: &str| !p.is_empty() && p.len() <= 63 && !p.contains(['\0', '.']);
    if !ok(&schema) || !ok(&name) {
        diags.error_help(
            &node.loc,
            format!("invalid table {s:?} in `tables`"),
            "write `name` (a table of schema `public`) or `schema.name`, each 1 to 63 bytes",
        );
        return None;
    }
    Some((schema, name))
}

pub(crate) fn source(config: &Node, what: String, diags: &mut Diagnostics) -> Option<PostgresCdcSource> {
    let mut f = Fields::with_spec(config, &SOURCE, what, diags)?;
    let url = f.require("connection_url", diags).and_then(|n| {
        db_url(n, "connection_url", &["postgres", "postgresql"], "postgres://user@host:5432/db", diags)
    });
    let slot = f.require("slot_name", diags).and_then(|n| slot_name(n, diags));
    let publication =
        f.require("publication_name", diags).and_then(|n| identifier(n, "publication_name", diags));
    let create = opt(f.get("create_slot_if_missing"), true, |n| boolean(n, "create_slot_if_missing", diags));
    let tables = opt(f.get("tables"), Vec::new(), |n| match &n.value {
        Value::Seq(items) if !items.is_empty() => {
            let tables: Option<Vec<(String, String)>> = items.iter().map(|t| table(t, diags)).collect();
            let tables = tables?;
            if let Some(i) = (1..tables.len()).find(|&i| tables[..i].contains(&tables[i])) {
                diags.error(
                    &items[i].loc,
                    format!("table {}.{} is listed twice in `tables`", tables[i].0, tables[i].1),
                );
                return None;
            }
            Some(tables)
        }
        _ => {
            diags.error_help(
                &n.loc,
                "`tables` must be a non-empty list of tables",
                "write e.g. `tables: [orders, sales.items]`",
            );
            None
        }
    });
    let snapshot = opt(f.get("snapshot"), false, |n| boolean(n, "snapshot", diags));
    let batch = opt(f.get("batch_size"), 1000, |n| batch_size(n, diags));
    let idle = f.get("idle_timeout").map(|n| seconds(n, "idle_timeout", 1, 86_400, diags));
    let max_messages =
        f.get("max_messages").map(|n| int_in(n, "max_messages", 1, i64::MAX, diags).map(|v| v as u64));
    let poll = opt(f.get("poll_interval"), 1000, |n| seconds(n, "poll_interval", 10, 3600, diags));
    let retries = opt(f.get("slot_acquire_retries"), 10, |n| {
        int_in(n, "slot_acquire_retries", 0, 1000, diags).map(|v| v as u64)
    });
    if let Some(n) = f.get("slot_type")
        && one_of(n, "slot_type", &["permanent", "temporary"], diags) == Some("temporary")
    {
        diags.error_help(
            &n.loc,
            "`slot_type: temporary` cannot be resumed: a temporary slot is dropped with its connection",
            "remove `slot_type` (a permanent slot, which faucet advances only past confirmed pages)",
        );
    }
    if let Some(n) = f.get("proto_version") {
        int_in(n, "proto_version", 1, 1, diags);
    }
    // faucet-stream's streaming-protocol settings: accepted, and meaningless over the SQL slot functions.
    for key in ["status_update_interval", "tcp_keepalive"] {
        if let Some(n) = f.get(key) {
            seconds(n, key, 0, 86_400, diags);
        }
    }
    if let Some(n) = f.get("max_staged_records") {
        int_in(n, "max_staged_records", 1, i64::MAX, diags);
    }
    f.finish(diags);
    Some(PostgresCdcSource {
        connection_url: url?,
        slot_name: slot?,
        publication_name: publication?,
        create_slot_if_missing: create?,
        tables: tables?,
        snapshot: snapshot?,
        batch_size: batch?,
        idle_timeout_ms: match idle {
            Some(ms) => Some(ms?),
            None => None,
        },
        max_messages: match max_messages {
            Some(m) => Some(m?),
            None => None,
        },
        poll_interval_ms: poll?,
        slot_acquire_retries: retries?,
    })
}

impl PostgresCdcSource {
    pub(crate) fn tokens(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        let cdc = quote!(#rt::connectors::postgres::cdc);
        let url = g.text(&self.connection_url);
        let slot = g.text(&self.slot_name);
        let publication = &self.publication_name;
        let create = self.create_slot_if_missing;
        let tables = self.tables.iter().map(|(schema, name)| {
            quote!(#cdc::TableName { schema: ::std::string::String::from(#schema), name: ::std::string::String::from(#name) })
        });
        let snapshot = self.snapshot;
        let batch = usize_lit(self.batch_size);
        let duration = |ms: u64| quote!(::std::time::Duration::from_millis(#ms));
        let idle = match self.idle_timeout_ms {
            Some(ms) => {
                let d = duration(ms);
                quote!(::core::option::Option::Some(#d))
            }
            None => quote!(::core::option::Option::None),
        };
        let max = match self.max_messages {
            Some(m) => quote!(::core::option::Option::Some(#m)),
            None => quote!(::core::option::Option::None),
        };
        let poll = duration(self.poll_interval_ms);
        let retries = self.slot_acquire_retries as u32;
        g.gated_whole(
            "postgres-cdc",
            "`postgres_cdc` source",
            loc,
            quote! {
                #cdc::PostgresCdcSource::new(#cdc::PostgresCdcConfig {
                    connection_url: #url,
                    slot_name: #slot,
                    publication_name: ::std::string::String::from(#publication),
                    create_slot_if_missing: #create,
                    tables: ::std::vec![#(#tables),*],
                    snapshot: #snapshot,
                    batch_size: #batch,
                    idle_timeout: #idle,
                    max_messages: #max,
                    poll_interval: #poll,
                    slot_acquire_retries: #retries,
                })
            },
        )
    }
}

// Transitional: this connector's settings are not declared with `settings!` yet.

impl super::registry::Connector for PostgresCdcSource {
    const SPEC: Spec = SOURCE;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        source(config, what, diags)
    }

    fn emit(&self, g: &Gen, loc: &crate::diag::Loc) -> TokenStream {
        self.tokens(g, loc)
    }
}
