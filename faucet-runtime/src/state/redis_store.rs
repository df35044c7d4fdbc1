//! The `redis` state store: one string key per bookmark, `{namespace}:{key}`.
//!
//! `SET`, `GET` and `DEL` are atomic per key; a `put` is as durable as the
//! server's persistence settings make it (AOF with `appendfsync always` for
//! power-loss safety). One multiplexed connection is opened on first use; a
//! call that fails drops it, so the next call reconnects once the server is back.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use serde_json::Value;
use tokio::sync::Mutex;

use super::store::StateStore;
use crate::config::state::RedisStoreConfig;
use crate::connectors::dburl;
use crate::error::{FaucetError, Result};

/// Bookmarks in Redis.
pub struct RedisStore {
    client: redis::Client,
    namespace: String,
    redacted: String,
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("url", &self.redacted).field("namespace", &self.namespace).finish()
    }
}

impl RedisStore {
    /// A store for `config`; it connects on first use. Fails on a malformed URL.
    pub fn new(config: RedisStoreConfig) -> Result<Self> {
        dburl::register_password(&config.url);
        let redacted = dburl::redact(&config.url);
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| FaucetError::config(format!("redis state store: invalid url {redacted}: {e}")))?;
        Ok(RedisStore { client, namespace: config.namespace, redacted, conn: Mutex::new(None) })
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    /// Runs `op` on the connection, opening it first if needed; an error drops it.
    async fn with_conn<T, F, Fut>(&self, doing: &str, op: F) -> Result<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let mut guard = self.conn.lock().await;
        let conn = match guard.as_ref() {
            Some(conn) => conn.clone(),
            None => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(5)))
                    .set_response_timeout(Some(Duration::from_secs(10)));
                let conn =
                    self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(|e| {
                        FaucetError::state(format!("redis state store: connecting to {}: {e}", self.redacted))
                    })?;
                *guard = Some(conn.clone());
                conn
            }
        };
        match op(conn).await {
            Ok(v) => Ok(v),
            Err(e) => {
                *guard = None;
                Err(FaucetError::state(format!("redis state store ({}): {doing}: {e}", self.redacted)))
            }
        }
    }
}

impl StateStore for RedisStore {
    fn store_name(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<Value>> {
        super::store::validate_key(key)?;
        let full = self.full_key(key);
        let text: Option<String> =
            self.with_conn("reading a bookmark", |mut c| async move { c.get(full).await }).await?;
        match text {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| FaucetError::state(format!("corrupt bookmark for {key} in redis: {e}"))),
        }
    }

    async fn put(&self, key: &str, value: &Value) -> Result<()> {
        super::store::validate_key(key)?;
        let full = self.full_key(key);
        let text = value.to_string();
        self.with_conn("writing a bookmark", |mut c| async move { c.set::<_, _, ()>(full, text).await }).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        super::store::validate_key(key)?;
        let full = self.full_key(key);
        self.with_conn("deleting a bookmark", |mut c| async move { c.del::<_, ()>(full).await }).await
    }

    async fn put_if_absent(&self, key: &str, value: &Value) -> Result<Value> {
        super::store::validate_key(key)?;
        let full = self.full_key(key);
        let text = value.to_string();
        // `SET NX` is atomic on the server: one creator wins.
        self.with_conn(
            "creating a bookmark",
            |mut c| async move { c.set_nx::<_, _, bool>(full, text).await },
        )
        .await?;
        self.get(key).await?.ok_or_else(|| {
            FaucetError::state(format!("{key} vanished from redis right after it was created"))
        })
    }
}
