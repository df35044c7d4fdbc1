//! The `stdout` sink. (stub: to be implemented)

use serde_json::Value;

use crate::error::Result;
use crate::page::{CommitToken, Record};
use crate::sink::{OpenContext, Sink, WriteOutcome};

/// Which standard stream the `stdout` sink writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Destination {
    /// Standard output (the default).
    #[default]
    Stdout,
    /// Standard error.
    Stderr,
}

/// How the `stdout` sink prints a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StdoutFormat {
    /// One compact JSON object per line (the default).
    #[default]
    JsonLines,
    /// Indented JSON, one object after another.
    PrettyJson,
}

/// Settings of the `stdout` sink, validated at build time.
#[derive(Debug, Clone)]
pub struct StdoutSinkConfig {
    /// Where to print (default stdout).
    pub destination: Destination,
    /// How to print (default JSON lines).
    pub format: StdoutFormat,
    /// Rows per write (default 1000).
    pub batch_size: usize,
}

impl Default for StdoutSinkConfig {
    fn default() -> Self {
        StdoutSinkConfig {
            destination: Destination::Stdout,
            format: StdoutFormat::JsonLines,
            batch_size: 1000,
        }
    }
}

/// Prints records; a terminal has no checkpoint, so a resumed run may reprint the last page.
#[derive(Debug)]
pub struct StdoutSink {
    config: StdoutSinkConfig,
}

impl StdoutSink {
    /// A sink for `config`.
    pub fn new(config: StdoutSinkConfig) -> Self {
        StdoutSink { config }
    }
}

impl Sink for StdoutSink {
    fn connector_name(&self) -> &'static str {
        "stdout"
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
