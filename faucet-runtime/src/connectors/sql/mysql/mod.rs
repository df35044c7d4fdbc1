//! The `mysql` source and sink (MySQL and MariaDB) through sqlx.
//!
//! Each opens one connection. The password of a connection URL is registered
//! as a secret, so no error message can carry it, and configs print their URL
//! redacted.

mod sink;
mod source;

pub use sink::MySqlSink;
pub use source::MySqlSource;

pub use crate::config::sql::{
    ColumnMapping, DeleteMarker, MySqlSinkConfig, MySqlSourceConfig, SourceInput, TableWrite, UnmappedFields,
    WriteMode,
};
