//! The in-process state store.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

use super::store::StateStore;
use crate::error::Result;

/// Keeps bookmarks in memory: lost at exit; for tests and one-shot runs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Value>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl StateStore for MemoryStore {
    fn store_name(&self) -> &'static str {
        "memory"
    }
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        super::store::validate_key(key)?;
        Ok(self.entries.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned())
    }
    async fn put(&self, key: &str, value: &Value) -> Result<()> {
        super::store::validate_key(key)?;
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_owned(), value.clone());
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<()> {
        super::store::validate_key(key)?;
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        Ok(())
    }
    fn outlives_process(&self) -> bool {
        false
    }
    async fn put_if_absent(&self, key: &str, value: &Value) -> Result<Value> {
        super::store::validate_key(key)?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        Ok(entries.entry(key.to_owned()).or_insert_with(|| value.clone()).clone())
    }
}
