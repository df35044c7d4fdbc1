//! The `jsonl` sink. (stub: to be implemented)

use serde_json::Value;

use crate::error::Result;
use crate::page::{CommitToken, Record};
use crate::sink::{OpenContext, Sink, WriteOutcome};

/// Settings of the `jsonl` sink, validated at build time.
#[derive(Debug, Clone)]
pub struct JsonlSinkConfig {
    /// The output file, relative to the working directory; parent directories are created.
    pub path: String,
    /// Keep what the file holds on a first run instead of truncating it (default false).
    pub append: bool,
    /// Rows per write (default 1000).
    pub batch_size: usize,
}

impl JsonlSinkConfig {
    /// The defaults for `path`.
    pub fn new(path: impl Into<String>) -> Self {
        JsonlSinkConfig { path: path.into(), append: false, batch_size: 1000 }
    }
}

/// Writes one compact JSON object per line.
#[derive(Debug)]
pub struct JsonlSink {
    config: JsonlSinkConfig,
}

impl JsonlSink {
    /// A sink for `config`; the file is opened by [`Sink::open`].
    pub fn new(config: JsonlSinkConfig) -> Self {
        JsonlSink { config }
    }
}

impl Sink for JsonlSink {
    fn connector_name(&self) -> &'static str {
        "jsonl"
    }
    fn batch_size(&self) -> usize {
        self.config.batch_size
    }
    async fn open(&mut self, _ctx: OpenContext<'_>) -> Result<()> {
        todo!()
    }
    async fn write_batch(&mut self, _batch: &[Record], _token: CommitToken) -> Result<WriteOutcome> {
        todo!()
    }
    async fn flush(&mut self) -> Result<Option<Value>> {
        todo!()
    }
}
