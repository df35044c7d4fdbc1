//! The `jsonl` source. (stub: to be implemented)

use serde_json::Value;

use super::OnParseError;
use crate::error::Result;
use crate::page::Page;
use crate::source::Source;

/// Settings of the `jsonl` source, validated at build time.
#[derive(Debug, Clone)]
pub struct JsonlSourceConfig {
    /// A local file path or glob, relative to the working directory.
    pub path: String,
    /// Records per page (default 1000).
    pub batch_size: usize,
    /// What to do with a malformed line (default fail).
    pub on_parse_error: OnParseError,
}

impl JsonlSourceConfig {
    /// The defaults for `path`.
    pub fn new(path: impl Into<String>) -> Self {
        JsonlSourceConfig { path: path.into(), batch_size: 1000, on_parse_error: OnParseError::Fail }
    }
}

/// Reads JSON Lines files, one record per non-blank line.
#[derive(Debug)]
pub struct JsonlSource {
    config: JsonlSourceConfig,
}

impl JsonlSource {
    /// A source for `config`; nothing is opened until the first page.
    pub fn new(config: JsonlSourceConfig) -> Self {
        JsonlSource { config }
    }
}

impl Source for JsonlSource {
    fn connector_name(&self) -> &'static str {
        "jsonl"
    }
    async fn resume(&mut self, _bookmark: Option<Value>) -> Result<()> {
        let _ = &self.config;
        todo!()
    }
    async fn next_page(&mut self) -> Result<Option<Page>> {
        todo!()
    }
}
