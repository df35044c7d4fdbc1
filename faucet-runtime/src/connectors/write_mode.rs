//! What a database sink's batch does to its table, shared by the `postgres`,
//! `mysql` and `sqlite` sinks (each renders it in its own SQL dialect).

use serde_json::Value;

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
