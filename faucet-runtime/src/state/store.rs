//! The contract of a state store, and the rule for its keys; the stores in
//! the sibling modules implement it.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::error::{FaucetError, Result};

/// Persists bookmarks by key.
pub trait StateStore: Send + Sync {
    /// Short name (`memory`, `file`), for metrics and errors.
    fn store_name(&self) -> &'static str;

    /// The value stored under `key`, if any.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Value>>> + Send;

    /// Stores `value` under `key`, durably, before returning.
    fn put(&self, key: &str, value: &Value) -> impl Future<Output = Result<()>> + Send;

    /// Removes `key`; a missing key is not an error.
    fn delete(&self, key: &str) -> impl Future<Output = Result<()>> + Send;

    /// Stores `value` under `key` unless `key` already holds a value, and
    /// returns the value `key` holds afterwards: of processes racing to create
    /// one key, the first wins and every one gets its value. Sharded runs
    /// agree on their shard boundaries this way.
    fn put_if_absent(&self, key: &str, value: &Value) -> impl Future<Output = Result<Value>> + Send;

    /// Whether what the store holds outlives this process, so that other
    /// processes (the sibling shards of a run) can read it. False for the
    /// in-process store.
    fn outlives_process(&self) -> bool {
        true
    }

    /// Moves a store that keeps its bookmarks in a local directory to `dir`
    /// (the generated `main`'s `--state-path`); false for a store without one.
    fn relocate(&mut self, dir: &Path) -> bool {
        let _ = dir;
        false
    }
}

impl<T: StateStore + ?Sized> StateStore for Arc<T> {
    fn store_name(&self) -> &'static str {
        (**self).store_name()
    }

    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Value>>> + Send {
        (**self).get(key)
    }

    fn put(&self, key: &str, value: &Value) -> impl Future<Output = Result<()>> + Send {
        (**self).put(key, value)
    }

    fn delete(&self, key: &str) -> impl Future<Output = Result<()>> + Send {
        (**self).delete(key)
    }

    fn put_if_absent(&self, key: &str, value: &Value) -> impl Future<Output = Result<Value>> + Send {
        (**self).put_if_absent(key, value)
    }

    fn outlives_process(&self) -> bool {
        (**self).outlives_process()
    }
}

/// Checks a state key: 1 to 256 characters from `[A-Za-z0-9_:.-]`, not starting with `.`.
///
/// Keys become file names and Redis keys, so the alphabet is kept safe for both.
pub fn validate_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 256
        && !key.starts_with('.')
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(FaucetError::state(format!(
            "invalid state key {key:?}: use 1 to 256 characters from [A-Za-z0-9_:.-], not starting with '.'"
        )))
    }
}
