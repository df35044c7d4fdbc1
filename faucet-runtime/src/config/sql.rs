//! Settings of the SQL connectors: the `postgres`, `mysql` and `sqlite`
//! sources and sinks, and what a database sink's batch does to its table
//! (shared by the three sinks, each rendering it in its own SQL dialect).
//!
//! Configs holding a connection URL print it redacted: their `Debug` never
//! shows a password.

use serde_json::Value;

use crate::connectors::dburl;
use crate::schema::Field;

/// What a `postgres` or `mysql` source reads.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceInput {
    /// A query, with parameters bound in order (`$1…` in PostgreSQL, `?` in
    /// MySQL): integers as bigint, floats as double precision, booleans,
    /// strings as text, null.
    Query {
        /// The SQL.
        sql: String,
        /// The bound parameters.
        params: Vec<Value>,
    },
    /// A whole table (PostgreSQL: in primary-key order when it has one).
    Table {
        /// Its schema (MySQL: database); the connection's when `None`.
        schema: Option<String>,
        /// Its name.
        name: String,
    },
}

/// Settings of the `postgres` source, validated at build time.
#[derive(Clone)]
pub struct PostgresSourceConfig {
    /// `postgres://user:password@host:port/db`.
    pub connection_url: String,
    /// The query or table.
    pub input: SourceInput,
    /// A column read incrementally (`WHERE key > bookmark ORDER BY key`).
    pub replication_key: Option<String>,
    /// Rows per page.
    pub batch_size: usize,
}

impl std::fmt::Debug for PostgresSourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSourceConfig")
            .field("connection_url", &dburl::redact(&self.connection_url))
            .field("input", &self.input)
            .field("replication_key", &self.replication_key)
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

/// Settings of the `mysql` source, validated at build time.
#[derive(Clone)]
pub struct MySqlSourceConfig {
    /// `mysql://user:password@host:3306/db`.
    pub connection_url: String,
    /// The query or table.
    pub input: SourceInput,
    /// A column read incrementally.
    pub replication_key: Option<String>,
    /// Rows per page.
    pub batch_size: usize,
}

impl std::fmt::Debug for MySqlSourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySqlSourceConfig")
            .field("connection_url", &dburl::redact(&self.connection_url))
            .field("input", &self.input)
            .field("replication_key", &self.replication_key)
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

/// What the `sqlite` source reads.
#[derive(Debug, Clone, PartialEq)]
pub enum SqliteInput {
    /// A query with `?` parameters bound in order (by JSON type).
    Query {
        /// The SQL.
        sql: String,
        /// The bound parameters.
        params: Vec<Value>,
    },
    /// A whole table, in `rowid` order.
    Table {
        /// Its name.
        name: String,
    },
}

/// Settings of the `sqlite` source, validated at build time.
#[derive(Debug, Clone)]
pub struct SqliteSourceConfig {
    /// `sqlite://path/to.db` (must exist; opened read-only).
    pub database_url: String,
    /// The query or table.
    pub input: SqliteInput,
    /// A column read incrementally.
    pub replication_key: Option<String>,
    /// Rows per page.
    pub batch_size: usize,
}

/// What a batch does to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Insert every record.
    Append,
    /// Insert or update by `key` (PostgreSQL and SQLite `ON CONFLICT … DO UPDATE`, MySQL `ON DUPLICATE KEY UPDATE`).
    Upsert,
    /// Delete the row of every record's `key`.
    Delete,
}

/// In upsert mode, a record whose `field` holds one of `values` deletes its key's row.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteMarker {
    /// The record field to look at.
    pub field: String,
    /// The values that mark a deletion.
    pub values: Vec<Value>,
}

/// What an `auto_map` sink does with a record key that names no column of its
/// table (`unmapped_fields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnmappedFields {
    /// Send the record to the DLQ, naming the key (the default without `create_table`).
    Dlq,
    /// Add the column, typed like `create_table` types it, in the batch's
    /// transaction (the default with `create_table`).
    AddColumn,
    /// Write the record without the key.
    Drop,
}

/// How a sink maps records onto its table's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnMapping {
    /// Insert the record's keys that match the table's columns (read at open).
    AutoMap,
    /// Store the whole record as JSON in one column: `jsonb` in PostgreSQL,
    /// `JSON` in MySQL, JSON text in SQLite.
    Json {
        /// The column that holds the record.
        column: String,
    },
}

/// What a table sink's batches do to its table: the settings the `postgres`,
/// `mysql` and `sqlite` sinks share.
#[derive(Debug, Clone)]
pub struct TableWrite {
    /// Create the table (and a server's schema or database) from the first
    /// batch's shape when missing (default false).
    pub create_table: bool,
    /// What auto_map does with a record key that names no column.
    pub unmapped_fields: UnmappedFields,
    /// Rows per transaction (default 1000); `0`: each page in one transaction, as it comes.
    pub batch_size: usize,
    /// Append (default), upsert or delete.
    pub write_mode: WriteMode,
    /// The key columns of upsert and delete.
    pub key: Vec<String>,
    /// Marks records that delete (upsert mode).
    pub delete_marker: Option<DeleteMarker>,
    /// The fields the records are known to have (a generated pipeline's
    /// `SCHEMA`, with `auto_map` and `create_table`): the table is created
    /// with a column of the field's type for each (numeric with its
    /// precision, timestamps, JSON, binary; `NOT NULL` where every record
    /// has a value). A record key not listed gets a column typed from the
    /// first batch, as without them. `None`: every column is typed from the
    /// first batch.
    pub columns: Option<&'static [Field]>,
}

/// How the `postgres` sink's appends reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMethod {
    /// `COPY … FROM STDIN` (append only), with a row-level fallback for a failing batch.
    Copy,
    /// Multi-row `INSERT` statements.
    Insert,
}

/// Settings of the `postgres` sink, validated at build time.
#[derive(Clone)]
pub struct PostgresSinkConfig {
    /// `postgres://user:password@host:port/db`.
    pub connection_url: String,
    /// The target's schema; the connection's `search_path` when `None`.
    pub schema: Option<String>,
    /// The target table.
    pub table_name: String,
    /// How records map onto columns.
    pub column_mapping: ColumnMapping,
    /// What batches do to the table.
    pub write: TableWrite,
    /// COPY or INSERT for appends.
    pub write_method: WriteMethod,
}

impl std::fmt::Debug for PostgresSinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSinkConfig")
            .field("connection_url", &dburl::redact(&self.connection_url))
            .field("schema", &self.schema)
            .field("table_name", &self.table_name)
            .field("column_mapping", &self.column_mapping)
            .field("write", &self.write)
            .field("write_method", &self.write_method)
            .finish()
    }
}

/// Settings of the `mysql` sink, validated at build time.
#[derive(Clone)]
pub struct MySqlSinkConfig {
    /// `mysql://user:password@host:3306/db`.
    pub connection_url: String,
    /// The target's database; the connection's when `None`.
    pub schema: Option<String>,
    /// The target table.
    pub table_name: String,
    /// How records map onto columns.
    pub column_mapping: ColumnMapping,
    /// What batches do to the table.
    pub write: TableWrite,
}

impl std::fmt::Debug for MySqlSinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySqlSinkConfig")
            .field("connection_url", &dburl::redact(&self.connection_url))
            .field("schema", &self.schema)
            .field("table_name", &self.table_name)
            .field("column_mapping", &self.column_mapping)
            .field("write", &self.write)
            .finish()
    }
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
    /// What batches do to the table.
    pub write: TableWrite,
}
