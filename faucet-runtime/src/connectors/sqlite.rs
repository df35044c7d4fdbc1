//! The `sqlite` sink through sqlx. (stub: to be implemented)

use serde_json::Value;

use crate::error::Result;
use crate::page::{CommitToken, Record};
use crate::sink::{OpenContext, Sink, WriteOutcome};

/// How records map onto the table's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnMapping {
    /// Insert the record's keys that match the table's columns.
    AutoMap,
    /// Store the whole record as JSON text in one column.
    Json {
        /// The column that holds the record.
        column: String,
    },
}

/// Settings of the `sqlite` sink, validated at build time.
#[derive(Debug, Clone)]
pub struct SqliteSinkConfig {
    /// `sqlite://path/to.db` (created if missing) or `sqlite::memory:`.
    pub database_url: String,
    /// The target table.
    pub table_name: String,
    /// How records map onto columns.
    pub column_mapping: ColumnMapping,
    /// Create the table from the first batch's shape when it does not exist (default false).
    pub create_table: bool,
    /// Rows per transaction (default 1000).
    pub batch_size: usize,
}

/// Inserts records into a SQLite table, one transaction per batch.
#[derive(Debug)]
pub struct SqliteSink {
    config: SqliteSinkConfig,
}

impl SqliteSink {
    /// A sink for `config`; the database is opened by [`Sink::open`].
    pub fn new(config: SqliteSinkConfig) -> Self {
        SqliteSink { config }
    }
}

impl Sink for SqliteSink {
    fn connector_name(&self) -> &'static str {
        "sqlite"
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
