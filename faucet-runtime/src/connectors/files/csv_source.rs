//! The `csv` source. (stub: to be implemented)

use serde_json::Value;

use super::OnParseError;
use crate::error::Result;
use crate::page::Page;
use crate::source::Source;

/// Settings of the `csv` source, validated at build time.
#[derive(Debug, Clone)]
pub struct CsvSourceConfig {
    /// A local file path or glob (`data/*.csv`), relative to the working directory.
    pub path: String,
    /// Whether the first line of each file names the columns (default true).
    pub has_headers: bool,
    /// Field delimiter byte (default `b','`).
    pub delimiter: u8,
    /// Quote byte (default `b'"'`).
    pub quote: u8,
    /// Accept rows whose field count differs from the header (default false).
    pub flexible: bool,
    /// Records per page (default 1000).
    pub batch_size: usize,
    /// Emit numbers and booleans instead of strings (default false).
    pub infer_types: bool,
    /// What to do with a malformed row (default fail).
    pub on_parse_error: OnParseError,
}

impl CsvSourceConfig {
    /// The defaults for `path`.
    pub fn new(path: impl Into<String>) -> Self {
        CsvSourceConfig {
            path: path.into(),
            has_headers: true,
            delimiter: b',',
            quote: b'"',
            flexible: false,
            batch_size: 1000,
            infer_types: false,
            on_parse_error: OnParseError::Fail,
        }
    }
}

/// Reads CSV files as records of strings (or inferred scalars).
#[derive(Debug)]
pub struct CsvSource {
    config: CsvSourceConfig,
}

impl CsvSource {
    /// A source for `config`; nothing is opened until the first page.
    pub fn new(config: CsvSourceConfig) -> Self {
        CsvSource { config }
    }
}

impl Source for CsvSource {
    fn connector_name(&self) -> &'static str {
        "csv"
    }
    async fn resume(&mut self, _bookmark: Option<Value>) -> Result<()> {
        let _ = &self.config;
        todo!()
    }
    async fn next_page(&mut self) -> Result<Option<Page>> {
        todo!()
    }
}
