//! `postgres_cdc` (faucet-stream's `postgres-cdc`): row changes from a
//! pgoutput logical replication slot, read with the SQL slot functions.

use proc_macro2::TokenStream;
use quote::quote;

use super::registry::Connector;
use super::sql::identifier;
use super::urls::PostgresUrl;
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, string, vec};
use crate::load::{Node, Value};
use crate::read::{one_of, plain_string, text};
use crate::settings::values::{Int, PageSize, Seconds};
use crate::settings::{Flatten, Setting, settings};
use crate::spec::{Kind, Spec};
use crate::text::Text;

settings! {
    /// The settings the `postgres_cdc` source runs with.
    pub struct CdcSettings("source.postgres_cdc.settings") => postgres_cdc::PostgresCdcConfig {
        /// The database URL (a REPLICATION or superuser role); read the password from `${env:…}`.
        connection_url: PostgresUrl,
        /// The replication slot: lowercase letters, digits and `_`, at most 63.
        slot_name: SlotName,
        /// The publication whose tables are streamed.
        publication_name: Identifier,
        /// Create the slot (and, with `tables`, the publication) when missing.
        create_slot_if_missing: bool = true,
        /// Only these tables (`name` in `public`, or `schema.name`).
        tables: Tables,
        /// Read the published tables first, then stream (no gap, no duplicate).
        snapshot: bool = false,
        /// Records per page.
        batch_size: PageSize = 1000,
        /// Seconds without a change that end the run.
        idle_timeout: Option<Seconds<1, 86_400>>,
        /// Stop after this many records.
        max_messages: Option<Int<1, { i64::MAX }>>,
        /// Seconds between looks for new changes when caught up.
        poll_interval: Seconds<10, 3600> = Seconds::secs(1),
        /// Retries, a second apart, while another session holds the slot.
        slot_acquire_retries: Int<0, 1000> = 10,
    }
}

settings! {
    /// Row changes of a publication's tables, from a pgoutput logical replication slot.
    pub struct PostgresCdcSource("source.postgres_cdc") {
        /// The settings the source runs with.
        settings: Flatten<CdcSettings>,
        /// Only `permanent`: a temporary slot dies with its connection.
        slot_type: SlotType = SlotType::Permanent,
        /// pgoutput's protocol version: 1.
        proto_version: Int<1, 1> = 1,
        /// Accepted for faucet-stream compatibility; unused (no streaming protocol).
        status_update_interval: Option<Seconds<0, 86_400>>,
        /// Accepted for faucet-stream compatibility; unused.
        tcp_keepalive: Option<Seconds<0, 86_400>>,
        /// Accepted for faucet-stream compatibility; memory is bounded by `batch_size`.
        max_staged_records: Option<Int<1, { i64::MAX }>>,
    }
    not_yet: ["tls", "start_lsn", "max_cycle_duration", "max_buffered_events", "max_buffered_bytes"]
}

impl Connector for PostgresCdcSource {
    const SPEC: Spec = Self::SPEC;

    fn read(_: &str, config: &Node, what: String, diags: &mut Diagnostics) -> Option<Self> {
        Self::from_config(config, what, diags)
    }

    /// Only the settings the source runs with reach its config; the
    /// compatibility settings were checked and have no use.
    fn emit(&self, g: &Gen, loc: &Loc) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "postgres-cdc",
            "`postgres_cdc` source",
            loc,
            self.settings.0.config(g),
            quote!(#rt::connectors::postgres::cdc::PostgresCdcSource::new(config)),
        )
    }
}

/// A replication slot name: PostgreSQL accepts lowercase letters, digits and
/// `_`, at most 63 bytes (checked when literal).
#[derive(Debug, Clone, PartialEq)]
pub struct SlotName(pub Text);

impl Setting for SlotName {
    const KIND: Kind = Kind::Text;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = text(node, key, diags)?;
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
        Some(SlotName(t))
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        g.text(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

/// A PostgreSQL identifier (the publication), taken as written: it is always quoted.
#[derive(Debug, Clone, PartialEq)]
pub struct Identifier(pub String);

impl Setting for Identifier {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        identifier(node, key, diags).map(Identifier)
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.as_str().into()
    }
}

/// `tables`: a non-empty list of `name` (schema `public`) or `schema.name`,
/// each once; absent, every table of the publication.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tables(pub Vec<(String, String)>);

/// `name` (schema `public`) or `schema.name`, as `(schema, name)`.
fn table(node: &Node, key: &str, diags: &mut Diagnostics) -> Option<(String, String)> {
    let s = plain_string(node, key, diags)?;
    let (schema, name) = match s.split_once('.') {
        Some((schema, name)) => (schema.to_owned(), name.to_owned()),
        None => ("public".to_owned(), s.clone()),
    };
    let ok = |p: &str| !p.is_empty() && p.len() <= 63 && !p.contains(['\0', '.']);
    if !ok(&schema) || !ok(&name) {
        diags.error_help(
            &node.loc,
            format!("invalid table {s:?} in `{key}`"),
            "write `name` (a table of schema `public`) or `schema.name`, each 1 to 63 bytes",
        );
        return None;
    }
    Some((schema, name))
}

impl Setting for Tables {
    const KIND: Kind = Kind::List(&Kind::Str);
    const REQUIRED: bool = false;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let items = match &node.value {
            Value::Seq(items) if !items.is_empty() => items,
            _ => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}` must be a non-empty list of tables"),
                    format!("write e.g. `{key}: [orders, sales.items]`"),
                );
                return None;
            }
        };
        let tables: Vec<(String, String)> =
            items.iter().map(|t| table(t, key, diags)).collect::<Option<_>>()?;
        if let Some(i) = (1..tables.len()).find(|&i| tables[..i].contains(&tables[i])) {
            diags.error(
                &items[i].loc,
                format!("table {}.{} is listed twice in `{key}`", tables[i].0, tables[i].1),
            );
            return None;
        }
        Some(Tables(tables))
    }

    /// Absent, every table of the publication.
    fn absent() -> Option<Self> {
        Some(Tables::default())
    }

    fn emit(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        vec(self.0.iter().map(|(schema, name)| {
            let (schema, name) = (string(schema), string(name));
            quote!(#rt::config::postgres_cdc::TableName { schema: #schema, name: #name })
        }))
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.iter().map(|(schema, name)| format!("{schema}.{name}")).collect()
    }
}

/// `slot_type`: only `permanent`, the slot faucet advances past confirmed
/// pages; `temporary` is refused. Not part of the runtime config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotType {
    /// A slot that outlives its connection.
    Permanent,
}

impl Setting for SlotType {
    const KIND: Kind = Kind::OneOf(&["permanent", "temporary"]);

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        match one_of(node, key, &["permanent", "temporary"], diags)? {
            "permanent" => Some(SlotType::Permanent),
            _ => {
                diags.error_help(
                    &node.loc,
                    format!("`{key}: temporary` cannot be resumed: a temporary slot is dropped with its connection"),
                    format!(
                        "remove `{key}` (a permanent slot, which faucet advances only past confirmed pages)"
                    ),
                );
                None
            }
        }
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string("permanent")
    }

    fn to_json(&self) -> serde_json::Value {
        "permanent".into()
    }
}
