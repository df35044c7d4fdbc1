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

/// A SQL source's `shard: {key}` and, once narrowed to a shard, the range of
/// the key it reads. The sources wrap their query in [`ShardFilter::wrap`],
/// so paging, bookmarks and typing work on the shard's rows unchanged.
#[derive(Debug, Clone, Default)]
pub(crate) struct ShardFilter {
    /// The integer column the source is split by.
    key: Option<String>,
    /// The rows this shard reads; `None` reads them all.
    range: Option<crate::shard::KeyRange>,
}

impl ShardFilter {
    /// Splits by `key` once narrowed.
    pub(crate) fn by(key: impl Into<String>) -> Self {
        ShardFilter { key: Some(key.into()), range: None }
    }

    /// The key column, or why the source cannot be split without one.
    pub(crate) fn key(&self, connector: &str) -> crate::Result<&str> {
        self.key.as_deref().ok_or_else(|| {
            crate::FaucetError::config(format!(
                "{connector}: a sharded run needs the source's `shard: {{key: <integer column>}}`"
            ))
        })
    }

    /// The probe of the key's bounds over `inner`: one row, the smallest and
    /// the largest key as 64-bit integers (`int` is the dialect's cast type).
    pub(crate) fn bounds_query(
        &self,
        connector: &str,
        inner: &str,
        quote: fn(&str) -> String,
        int: &str,
    ) -> crate::Result<String> {
        let key = quote(self.key(connector)?);
        Ok(format!("SELECT CAST(MIN(b.{key}) AS {int}), CAST(MAX(b.{key}) AS {int}) FROM ({inner}) AS b"))
    }

    /// Keeps the rows of `shard` under `plan`.
    pub(crate) fn narrow(
        &mut self,
        connector: &str,
        shard: crate::shard::ShardId,
        plan: &crate::shard::Plan,
    ) -> crate::Result<()> {
        let key = self.key(connector)?;
        match plan {
            crate::shard::Plan::Range { key: planned, .. } if planned == key => {
                self.range = plan.range(shard.index);
                Ok(())
            }
            other => Err(crate::shard::foreign_plan(connector, other)),
        }
    }

    /// `inner`, narrowed to the shard's range when there is one.
    pub(crate) fn wrap(&self, inner: String, quote: fn(&str) -> String) -> String {
        match (&self.key, &self.range) {
            (Some(key), Some(range)) => {
                let column = format!("s.{}", quote(key));
                format!("SELECT * FROM ({inner}) AS s WHERE {}", range.condition(&column))
            }
            _ => inner,
        }
    }

    /// The condition on the key column of a table read directly, when narrowed.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn condition(&self, quote: fn(&str) -> String) -> Option<String> {
        Some(self.range?.condition(&quote(self.key.as_deref()?)))
    }
}
