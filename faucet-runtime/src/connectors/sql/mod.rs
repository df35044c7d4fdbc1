//! The SQL connectors: `postgres`, `mysql` and `sqlite` sources and sinks,
//! each behind its cargo feature, and what they share: the table sinks'
//! exactly-once bookkeeping and batch planning ([`sink`]), keyset paging by a
//! replication key (`keyset`), and their settings ([`crate::config::sql`],
//! re-exported here and by each connector). The `mysql` and `sqlite`
//! connectors also share how a row becomes a record, typed or not
//! (`row_cells`), and how a batch of either is planned and bound (`table_rows`).
//!
//! Identifiers are always quoted and values always bound: nothing from a
//! record is spliced into SQL.

pub use crate::config::sql::{
    ColumnMapping, DeleteMarker, SourceInput, TableWrite, UnmappedFields, WriteMode,
};

#[cfg(any(feature = "mysql", feature = "sqlite"))]
mod keyset;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "mysql", feature = "sqlite"))]
mod row_cells;
pub(crate) mod sink;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(any(feature = "mysql", feature = "sqlite"))]
mod table_rows;
#[cfg(feature = "postgres")]
pub(crate) mod typed;
