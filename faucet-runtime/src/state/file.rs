//! The file state store. (stub: to be implemented)

use std::path::PathBuf;

use serde_json::Value;

use super::StateStore;
use crate::error::Result;

/// One JSON file per key under a directory, written atomically.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store under `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileStore { dir: dir.into() }
    }
}

impl StateStore for FileStore {
    fn store_name(&self) -> &'static str {
        "file"
    }
    async fn get(&self, _key: &str) -> Result<Option<Value>> {
        let _ = &self.dir;
        todo!()
    }
    async fn put(&self, _key: &str, _value: &Value) -> Result<()> {
        todo!()
    }
    async fn delete(&self, _key: &str) -> Result<()> {
        todo!()
    }
}
