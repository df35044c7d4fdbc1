//! The `csv` sink. (stub: to be implemented)

use serde_json::Value;

use crate::error::Result;
use crate::page::{CommitToken, Record};
use crate::sink::{OpenContext, Sink, WriteOutcome};

/// Settings of the `csv` sink, validated at build time.
#[derive(Debug, Clone)]
pub struct CsvSinkConfig {
    /// The output file, relative to the working directory; parent directories are created.
    pub path: String,
    /// Field delimiter byte (default `b','`).
    pub delimiter: u8,
    /// Write a header line from the first batch's keys (default true).
    pub write_headers: bool,
    /// Keep what the file holds on a first run instead of truncating it (default false).
    pub append: bool,
    /// Rows per write (default 1000).
    pub batch_size: usize,
}

impl CsvSinkConfig {
    /// The defaults for `path`.
    pub fn new(path: impl Into<String>) -> Self {
        CsvSinkConfig {
            path: path.into(),
            delimiter: b',',
            write_headers: true,
            append: false,
            batch_size: 1000,
        }
    }
}

/// Writes records as CSV rows under a header fixed by the first batch.
#[derive(Debug)]
pub struct CsvSink {
    config: CsvSinkConfig,
}

impl CsvSink {
    /// A sink for `config`; the file is opened by [`Sink::open`].
    pub fn new(config: CsvSinkConfig) -> Self {
        CsvSink { config }
    }
}

impl Sink for CsvSink {
    fn connector_name(&self) -> &'static str {
        "csv"
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
