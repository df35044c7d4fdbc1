//! The `postgres` state store: one row per key in a table of JSONB bookmarks.
//!
//! Layout (faucet-stream's): `key TEXT PRIMARY KEY, value JSONB NOT NULL,
//! updated_at TIMESTAMPTZ NOT NULL DEFAULT now()`. A `put` is one
//! `INSERT … ON CONFLICT (key) DO UPDATE` statement, atomic and durable once
//! it returns (with the server's default `synchronous_commit`). Connections
//! come from a small lazy pool: a server that went away fails the call with
//! a state error, and the pool reconnects on the next call once it is back.

use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::OnceCell;

use super::store::StateStore;
use crate::config::state::PostgresStoreConfig;
use crate::connectors::dburl;
use crate::error::{FaucetError, Result};

/// Bookmarks in a PostgreSQL table.
pub struct PostgresStore {
    pool: PgPool,
    table: String,
    ensure_table: bool,
    ensured: OnceCell<()>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("table", &self.table)
            .field("ensure_table", &self.ensure_table)
            .finish()
    }
}

fn state_error(e: &sqlx::Error, doing: &str) -> FaucetError {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default();
            FaucetError::state(format!("postgres state store: {doing}: {}{code}", db.message()))
        }
        other => FaucetError::state(format!("postgres state store: {doing}: {other}")),
    }
}

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

impl PostgresStore {
    /// A store for `config`; it connects on first use. Fails on a malformed URL.
    pub fn new(config: PostgresStoreConfig) -> Result<Self> {
        dburl::register_password(&config.url);
        if !(config.url.starts_with("postgres://") || config.url.starts_with("postgresql://")) {
            return Err(FaucetError::config(format!(
                "postgres state store: url {} is not a postgres:// URL",
                dburl::redact(&config.url)
            )));
        }
        let options = PgConnectOptions::from_str(&config.url).map_err(|e| {
            FaucetError::config(format!(
                "postgres state store: invalid url {}: {e}",
                dburl::redact(&config.url)
            ))
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        let table = format!("\"{}\"", config.table.replace('"', "\"\""));
        Ok(PostgresStore { pool, table, ensure_table: config.ensure_table, ensured: OnceCell::new() })
    }

    /// The pool, for tests that clean up after themselves.
    #[cfg(test)]
    pub(crate) fn pool_for_tests(&self) -> PgPool {
        self.pool.clone()
    }

    async fn ready(&self) -> Result<()> {
        if !self.ensure_table {
            return Ok(());
        }
        self.ensured
            .get_or_try_init(|| async {
                let sql = format!(
                    "CREATE TABLE IF NOT EXISTS {} (key TEXT PRIMARY KEY, value JSONB NOT NULL, \
                     updated_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                    self.table
                );
                match sqlx::raw_sql(AssertSqlSafe(sql)).execute(&self.pool).await {
                    Ok(_) => Ok(()),
                    // Processes starting together (the shards of one run) race to create
                    // the table: PostgreSQL's `IF NOT EXISTS` lets all but one fail on the
                    // catalog's unique index. The table then exists, which is what was asked.
                    Err(e) if matches!(sqlstate(&e).as_deref(), Some("23505" | "42P07")) => Ok(()),
                    Err(e) => Err(state_error(&e, &format!("creating state table {}", self.table))),
                }
            })
            .await
            .map(|_| ())
    }

    fn failed(&self, e: sqlx::Error, doing: &str) -> FaucetError {
        let mut error = state_error(&e, &format!("{doing} in {}", self.table));
        if sqlstate(&e).as_deref() == Some("42P01") {
            error = error.context("the state table does not exist; create it or set `ensure_table: true`");
        }
        error
    }
}

impl StateStore for PostgresStore {
    fn store_name(&self) -> &'static str {
        "postgres"
    }

    async fn get(&self, key: &str) -> Result<Option<Value>> {
        super::store::validate_key(key)?;
        self.ready().await?;
        let sql = format!("SELECT value::text FROM {} WHERE key = $1", self.table);
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.failed(e, "reading a bookmark"))?;
        match row {
            None => Ok(None),
            Some(row) => {
                let text: String = row.try_get(0).map_err(|e| self.failed(e, "reading a bookmark"))?;
                serde_json::from_str(&text).map(Some).map_err(|e| {
                    FaucetError::state(format!("corrupt bookmark for {key} in {}: {e}", self.table))
                })
            }
        }
    }

    async fn put(&self, key: &str, value: &Value) -> Result<()> {
        super::store::validate_key(key)?;
        self.ready().await?;
        let sql = format!(
            "INSERT INTO {} (key, value, updated_at) VALUES ($1, $2::text::jsonb, now()) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
            self.table
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(key)
            .bind(value.to_string())
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| self.failed(e, "writing a bookmark"))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        super::store::validate_key(key)?;
        self.ready().await?;
        let sql = format!("DELETE FROM {} WHERE key = $1", self.table);
        sqlx::query(AssertSqlSafe(sql))
            .bind(key)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| self.failed(e, "deleting a bookmark"))
    }

    async fn put_if_absent(&self, key: &str, value: &Value) -> Result<Value> {
        super::store::validate_key(key)?;
        self.ready().await?;
        let sql = format!(
            "INSERT INTO {} (key, value, updated_at) VALUES ($1, $2::text::jsonb, now()) \
             ON CONFLICT (key) DO NOTHING",
            self.table
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(key)
            .bind(value.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| self.failed(e, "creating a bookmark"))?;
        // Rows are never deleted but by a reset, so the key now holds the winner's value.
        self.get(key).await?.ok_or_else(|| {
            FaucetError::state(format!("{key} vanished from {} right after it was created", self.table))
        })
    }
}
