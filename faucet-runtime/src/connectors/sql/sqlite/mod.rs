//! The `sqlite` source and sink through sqlx (bundled SQLite).

mod sink;
mod source;

pub use sink::SqliteSink;
pub use source::SqliteSource;

pub use crate::config::sql::{
    ColumnMapping, DeleteMarker, SqliteInput, SqliteSinkConfig, SqliteSourceConfig, TableWrite,
    UnmappedFields, WriteMode,
};
