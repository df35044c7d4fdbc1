//! Settings of the `postgres` and `redis` state stores.

use crate::connectors::dburl;

/// Settings of the `postgres` state store.
#[derive(Clone)]
pub struct PostgresStoreConfig {
    /// `postgres://user:password@host:port/db`.
    pub url: String,
    /// The table (default `faucet_state`).
    pub table: String,
    /// Create the table when missing (default false).
    pub ensure_table: bool,
}

impl std::fmt::Debug for PostgresStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStoreConfig")
            .field("url", &dburl::redact(&self.url))
            .field("table", &self.table)
            .field("ensure_table", &self.ensure_table)
            .finish()
    }
}

/// Settings of the `redis` state store.
#[derive(Clone)]
pub struct RedisStoreConfig {
    /// `redis://[:password@]host:port[/db]` or `rediss://…`.
    pub url: String,
    /// Prefix of every key (default `faucet`).
    pub namespace: String,
}

impl std::fmt::Debug for RedisStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStoreConfig")
            .field("url", &dburl::redact(&self.url))
            .field("namespace", &self.namespace)
            .finish()
    }
}
