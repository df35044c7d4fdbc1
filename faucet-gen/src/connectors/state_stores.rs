//! The state stores that take settings: `state: {type: postgres, config}`
//! (a table of JSONB bookmarks) and `state: {type: redis, config}` (one
//! string key per bookmark). `memory` and `file` are read by the validator.

use proc_macro2::TokenStream;
use quote::quote;

use super::urls::{PostgresUrl, RedisUrl};
use crate::diag::{Diagnostics, Loc};
use crate::emit::{Gen, string};
use crate::load::{Node, Value};
use crate::read::plain_string;
use crate::settings::values::Int;
use crate::settings::{Flatten, Setting, settings};
use crate::spec::Kind;

settings! {
    /// The settings the `postgres` state store runs with.
    pub struct PostgresStoreSettings("state.postgres.settings") => state::PostgresStoreConfig {
        /// The database URL.
        url: PostgresUrl,
        /// The state table.
        table: StateTable = "faucet_state",
        /// Create the table if missing.
        ensure_table: bool = false,
    }
}

settings! {
    /// Bookmarks in a PostgreSQL table (one JSONB row per key).
    pub struct PostgresState("state.postgres") {
        /// The settings the store runs with.
        store: Flatten<PostgresStoreSettings>,
        /// Accepted for faucet-stream compatibility; the store keeps a pool of two connections.
        max_connections: Option<Int<1, 1000>>,
    }
}

settings! {
    /// Bookmarks as Redis string keys `<namespace>:<key>`.
    pub struct RedisState("state.redis") => state::RedisStoreConfig {
        /// `redis://host:port/db`.
        url: RedisUrl,
        /// Key prefix: 1 to 128 characters from [A-Za-z0-9_.-].
        namespace: Namespace = "faucet",
    }
}

/// A state store's settings, and where its `type:` was written (a
/// feature-gate error points there).
#[derive(Debug, Clone)]
pub struct Store<T> {
    /// The settings.
    pub settings: T,
    /// Where `type:` was written.
    pub loc: Loc,
}

/// Reads `state: {type: postgres, config}` (`node` is the `state` block).
pub(crate) fn postgres(
    node: &Node,
    config: Option<&Node>,
    diags: &mut Diagnostics,
) -> Option<Store<PostgresState>> {
    let help = "add `config: { url: \"postgres://user@host/db\", ensure_table: true }`";
    let config = required_config(node, config, "postgres", help, diags)?;
    let settings = PostgresState::from_config(config, "the `postgres` state config".to_owned(), diags)?;
    Some(Store { settings, loc: type_loc(node) })
}

/// Reads `state: {type: redis, config}` (`node` is the `state` block).
pub(crate) fn redis(
    node: &Node,
    config: Option<&Node>,
    diags: &mut Diagnostics,
) -> Option<Store<RedisState>> {
    let help = "add `config: { url: \"redis://127.0.0.1:6379\" }`";
    let config = required_config(node, config, "redis", help, diags)?;
    let settings = RedisState::from_config(config, "the `redis` state config".to_owned(), diags)?;
    Some(Store { settings, loc: type_loc(node) })
}

impl Store<PostgresState> {
    /// The expression that builds the store, gated by `state-postgres`.
    pub(crate) fn tokens(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "state-postgres",
            "`postgres` state store",
            &self.loc,
            self.settings.store.0.config(g),
            quote!(#rt::state::PostgresStore::new(config)?),
        )
    }
}

impl Store<RedisState> {
    /// The expression that builds the store, gated by `state-redis`.
    pub(crate) fn tokens(&self, g: &Gen) -> TokenStream {
        let rt = g.rt();
        g.gated(
            "state-redis",
            "`redis` state store",
            &self.loc,
            self.settings.config(g),
            quote!(#rt::state::RedisStore::new(config)?),
        )
    }
}

/// A store's `config`, which must be there (it holds the required `url`).
fn required_config<'a>(
    node: &Node,
    config: Option<&'a Node>,
    store: &str,
    help: &str,
    diags: &mut Diagnostics,
) -> Option<&'a Node> {
    if config.is_none() {
        diags.error_help(&node.loc, format!("the `{store}` state store needs a `config` with `url`"), help);
    }
    config
}

/// Where a `{type, config}` block's `type:` value was written (the block when absent).
fn type_loc(node: &Node) -> Loc {
    match &node.value {
        Value::Map(entries) => {
            entries.iter().find(|e| e.key == "type").map_or(node.loc.clone(), |e| e.value.loc.clone())
        }
        _ => node.loc.clone(),
    }
}

/// The `postgres` store's table: 1 to 63 characters from `[A-Za-z0-9_]`
/// (it is written into SQL unquoted).
#[derive(Debug, Clone, PartialEq)]
pub struct StateTable(pub String);

impl From<&str> for StateTable {
    fn from(s: &str) -> Self {
        StateTable(s.to_owned())
    }
}

impl Setting for StateTable {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let t = plain_string(node, key, diags)?;
        let valid =
            !t.is_empty() && t.len() <= 63 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            diags.error_help(
                &node.loc,
                format!("invalid state table name {t:?}"),
                "use 1 to 63 characters from [A-Za-z0-9_]",
            );
            return None;
        }
        Some(StateTable(t))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.as_str().into()
    }
}

/// The `redis` store's key prefix: 1 to 128 characters from `[A-Za-z0-9_.-]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Namespace(pub String);

impl From<&str> for Namespace {
    fn from(s: &str) -> Self {
        Namespace(s.to_owned())
    }
}

impl Setting for Namespace {
    const KIND: Kind = Kind::Str;

    fn read(node: &Node, key: &'static str, diags: &mut Diagnostics) -> Option<Self> {
        let ns = plain_string(node, key, diags)?;
        let valid = !ns.is_empty()
            && ns.len() <= 128
            && ns.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !valid {
            diags.error_help(
                &node.loc,
                format!("invalid namespace {ns:?}"),
                "use 1 to 128 characters from [A-Za-z0-9_.-]",
            );
            return None;
        }
        Some(Namespace(ns))
    }

    fn emit(&self, _: &Gen) -> TokenStream {
        string(&self.0)
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.as_str().into()
    }
}
